/**
 * Drives the demo page (demo/index.html + demo/main.ts, as `npm run demo` serves them) in headless Chromium on
 * SwiftShader: ?model=/fixtures/siglip-tiny/ loads the tiny model, the sample image and a picked file become
 * thumbnails, Classify shows one bar per label with the scores Node computes (to the displayed precision), and
 * errors land in the page. Saves test-results/demo.png. Run alone: npx vitest run test/browser
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES } from '../helpers/fixtures.js';
import { LABELS, nodeCatsScores, useBrowserEnv, type BrowserEnv } from './harness.js';

const SCREENSHOT = join('test-results', 'demo.png');

let env: BrowserEnv;
let page: Page;
let nodeScores: { label: string; score: number }[];

useBrowserEnv(async (e) => {
  env = e;
});

beforeAll(async () => {
  nodeScores = await nodeCatsScores();
});

/** What the page says about errors (the banner), for assertion messages. */
async function pageError(p: Page): Promise<string> {
  const banner = p.locator('#error');
  return (await banner.isVisible()) ? `page error: ${await banner.innerText()}` : '';
}

/** The displayed scores of one result card: [label, text, data-score]. */
async function displayed(card: ReturnType<Page['locator']>) {
  return card.locator('.score-row').evaluateAll((rows) =>
    rows.map((r) => ({
      label: r.querySelector('.label')!.textContent!,
      text: r.querySelector('.score')!.textContent!,
      width: (r.querySelector('.fill') as HTMLElement).style.width,
    })),
  );
}

/** The displayed text equals `value` to its precision: 4 decimals ("0.3703"), or 2 significant digits ("3.1e-6"). */
function expectShown(text: string, value: number, what: string) {
  const shown = Number(text);
  expect(Number.isFinite(shown), `${what}: "${text}" is not a number`).toBe(true);
  const unit = /e/i.test(text) ? 0.1 * 10 ** Math.floor(Math.log10(Math.abs(shown))) : 1e-4;
  // Half a unit of the last shown digit for rounding, plus 1e-5 for browser (SwiftShader) vs Node (lavapipe).
  expect(Math.abs(shown - value), `${what}: shown "${text}", Node computes ${value}`).toBeLessThanOrEqual(unit / 2 + 1e-5);
}

describe('demo page', () => {
  it('?model=/fixtures/siglip-tiny/ loads the model, shows the adapter, classifies the sample image like Node', async () => {
    page = await env.newPage();
    // Record every text the progress line shows (it is gone by the time the tiny model has loaded).
    await page.addInitScript(() => {
      const log: string[] = ((window as unknown as { progressLog: string[] }).progressLog = []);
      new MutationObserver(() => {
        const t = document.getElementById('progress-text')?.textContent;
        if (t && log[log.length - 1] !== t) log.push(t);
      }).observe(document, { subtree: true, childList: true, characterData: true });
    });
    await page.goto(env.url + '?model=/fixtures/siglip-tiny/');
    // The adapter badge: the engine's adapter name.
    await expect.poll(() => page.locator('#gpu').getAttribute('data-state'), { timeout: 120_000 }).not.toBe('pending');
    expect(await page.locator('#gpu').getAttribute('data-state'), await pageError(page)).toBe('ok');
    expect(await page.locator('#gpu-text').innerText()).toMatch(/swiftshader/i);
    expect(await page.locator('#model-ref').inputValue()).toBe('/fixtures/siglip-tiny/');

    await page.locator('#model-status[data-state="ready"], #model-status[data-state="error"]').waitFor({ timeout: 240_000 });
    expect(await page.locator('#model-status').getAttribute('data-state'), await pageError(page)).toBe('ready');
    const status = await page.locator('#model-status').innerText();
    expect(status).toContain('/fixtures/siglip-tiny/');
    expect(status).toMatch(/loaded in \d/);
    const loadMs = Number(await page.locator('#model-status').getAttribute('data-load-ms'));
    const progress = await page.evaluate(() => (window as unknown as { progressLog: string[] }).progressLog);
    expect(progress.join('\n')).toMatch(/(Downloading \S+|Uploading weights to the GPU): [\d.]+ (B|KB|MB) of [\d.]+ (KB|MB) \([\d.]+%\)/);
    expect(await page.locator('#progress').isHidden()).toBe(true);

    // Buttons: Classify waits for an image.
    expect(await page.locator('#classify-btn').isDisabled()).toBe(true);
    await page.locator('#sample-btn').click();
    await page.locator('.thumb img').first().waitFor();
    expect(await page.locator('.thumb img').first().evaluate((i: HTMLImageElement) => i.complete && i.naturalWidth)).toBe(640);
    expect(await page.locator('#classify-btn').isEnabled()).toBe(true);

    expect(await page.locator('#labels').inputValue()).toBe(LABELS.join(', '));
    expect(await page.locator('#template').inputValue()).toBe('This is a photo of {}.');
    await page.locator('#classify-btn').click();
    const card = page.locator('.result').first();
    await page.locator('.result[data-state="done"], .result[data-state="error"]').first().waitFor({ timeout: 240_000 });
    expect(await card.getAttribute('data-state'), (await card.innerText()) + (await pageError(page))).toBe('done');
    const ms = Number(await card.getAttribute('data-ms'));
    const rows = await displayed(card);
    console.log(`[demo] progress ${JSON.stringify(progress)}\n[demo] load ${loadMs.toFixed(0)} ms, classify ${ms.toFixed(0)} ms; shown ${JSON.stringify(rows)}\n[node] ${JSON.stringify(nodeScores)}`);

    // Three bars, best first, the same labels and numbers as Node's classify().
    expect(rows.map((r) => r.label)).toEqual(nodeScores.map((s) => s.label));
    rows.forEach((r, i) => {
      expectShown(r.text, nodeScores[i]!.score, r.label);
      expect(parseFloat(r.width)).toBeCloseTo(nodeScores[i]!.score * 100, 2);
    });
    expect(await card.locator('.time').innerText()).toMatch(/\d+(\.\d+)? (ms|s)$/);
    expect(await page.locator('#classify-btn').isEnabled()).toBe(true);

    mkdirSync('test-results', { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  });

  it('a picked image file is classified too; errors show in the page', async () => {
    await page.locator('#image-files').setInputFiles(join(FIXTURES, 'images', 'cats_crop_500x300.png'));
    await expect.poll(() => page.locator('.thumb').count()).toBe(2);
    // A label list with nothing in it: an error in the page, not a crash.
    await page.locator('#labels').fill(' , ');
    await page.locator('#classify-btn').click();
    await page.locator('#error').waitFor({ state: 'visible' });
    expect(await page.locator('#error').innerText()).toMatch(/at least one label/);
    expect(await page.locator('#classify-btn').isEnabled()).toBe(true);

    await page.locator('#labels').fill(' 2 cats,2 dogs , a remote,, '); // spaces and empty items are dropped
    await page.locator('#classify-btn').click();
    await expect.poll(() => page.locator('.result[data-state="done"]').count(), { timeout: 240_000 }).toBe(2);
    expect(await page.locator('#error').isVisible()).toBe(false);
    const first = await displayed(page.locator('.result').first());
    first.forEach((r, i) => expectShown(r.text, nodeScores[i]!.score, r.label));
    const second = await displayed(page.locator('.result').nth(1));
    expect(second.map((r) => r.label).sort()).toEqual([...LABELS].sort());
    expect(await page.locator('#results-summary').innerText()).toMatch(/2 images in/);

    // A model that does not exist: the status and the banner say so; the loaded model is gone, buttons come back.
    await page.locator('#model-ref').fill('/fixtures/no-such-model/');
    await page.locator('#load-btn').click();
    await page.locator('#model-status[data-state="error"]').waitFor({ timeout: 120_000 });
    expect(await page.locator('#error').innerText()).toMatch(/config\.json/);
    expect(await page.locator('#load-btn').isEnabled()).toBe(true);
  });

  it('the picker lists SigLIP and SigLIP 2 checkpoints; a NaFlex model classifies with a patch budget like Node', async () => {
    const p = await env.newPage();
    await p.goto(env.url);
    await p.locator('#gpu[data-state="ok"]').waitFor({ timeout: 120_000 });
    const options = await p.locator('#model-picker option').evaluateAll((os) => os.map((o) => [(o as HTMLOptionElement).value, o.textContent ?? '']));
    const values = options.map(([v]) => v);
    for (const id of ['google/siglip2-base-patch16-224', 'google/siglip2-so400m-patch14-384', 'google/siglip2-giant-opt-patch16-256', 'google/siglip2-so400m-patch16-naflex', 'google/siglip-large-patch16-384']) expect(values).toContain(id);
    // Sizes are computed from the presets: so400m SigLIP 2 is 1137M parameters.
    expect(options.find(([v]) => v === 'google/siglip2-so400m-patch14-384')![1]).toMatch(/siglip2-so400m-patch14-384 · 113\dM parameters · 4\.5 GB in f32/);
    await p.locator('#model-picker').selectOption('/fixtures/siglip2-naflex-tiny/');
    expect(await p.locator('#model-ref').inputValue()).toBe('/fixtures/siglip2-naflex-tiny/');
    expect(await p.locator('#model-status').getAttribute('data-state')).toBe('none'); // picking does not load by itself
    expect(await p.locator('#max-patches-label').isHidden()).toBe(true);
    await p.locator('#load-btn').click();
    await p.locator('#model-status[data-state="ready"], #model-status[data-state="error"]').waitFor({ timeout: 240_000 });
    expect(await p.locator('#model-status').getAttribute('data-state'), await pageError(p)).toBe('ready');
    expect(await p.locator('#model-status').innerText()).toMatch(/NaFlex: any aspect ratio, 64 patches of 8px by default/);
    expect(await p.locator('#max-patches-label').isVisible()).toBe(true);
    await p.locator('#max-patches').selectOption('256');
    await p.locator('#sample-btn').click();
    await p.locator('#classify-btn').click();
    await p.locator('.result[data-state="done"], .result[data-state="error"]').first().waitFor({ timeout: 240_000 });
    const card = p.locator('.result').first();
    expect(await card.getAttribute('data-state'), (await card.innerText()) + (await pageError(p))).toBe('done');
    const want = await nodeCatsScores('siglip2-naflex-tiny', { maxNumPatches: 256 });
    const rows = await displayed(card);
    expect(rows.map((r) => r.label)).toEqual(want.map((s) => s.label));
    rows.forEach((r, i) => expectShown(r.text, want[i]!.score, r.label));
    await p.close();
  });

  it('without navigator.gpu the page says so and offers no model loading', async () => {
    const p = await env.newPage();
    await p.addInitScript(() => {
      delete (Navigator.prototype as { gpu?: unknown }).gpu;
    });
    await p.goto(env.url + '?model=/fixtures/siglip-tiny/');
    await p.locator('#gpu[data-state="error"]').waitFor({ timeout: 120_000 });
    expect(await p.locator('#gpu-text').innerText()).toBe('WebGPU unavailable');
    expect(await p.locator('#gpu-notice').innerText()).toMatch(/navigator\.gpu is missing.*--enable-unsafe-webgpu/s);
    expect(await p.locator('#load-btn').isDisabled()).toBe(true);
    expect(await p.locator('#model-status').getAttribute('data-state')).toBe('none'); // ?model= did not try to load
    // Images can still be added (nothing else to do without a model).
    await p.locator('#sample-btn').click();
    await p.locator('.thumb').waitFor();
    expect(await p.locator('#classify-btn').isDisabled()).toBe(true);
    expect(await p.locator('#gpu-notice').isVisible()).toBe(true); // still there after another action
    await p.screenshot({ path: join('test-results', 'demo-no-webgpu.png') });
    await p.close();
  });

  it('local model files (picked) load and classify', async () => {
    const p = await env.newPage();
    await p.goto(env.url);
    await p.locator('#gpu[data-state="ok"]').waitFor({ timeout: 120_000 });
    expect(await p.locator('#model-status').getAttribute('data-state')).toBe('none'); // no ?model=: nothing loads by itself
    await p.locator('#tab-files').click();
    const dir = join(FIXTURES, 'siglip-tiny');
    await p.locator('#model-files').setInputFiles(['config.json', 'model.safetensors', 'spiece.model', 'preprocessor_config.json', 'reference.json'].map((f) => join(dir, f)));
    const list = await p.locator('#model-file-list li').allInnerTexts();
    expect(list.join('\n')).toMatch(/reference\.json\s+not used/);
    expect(await p.locator('#load-files-btn').isEnabled()).toBe(true);
    await p.locator('#load-files-btn').click();
    await p.locator('#model-status[data-state="ready"], #model-status[data-state="error"]').waitFor({ timeout: 240_000 });
    expect(await p.locator('#model-status').getAttribute('data-state'), await pageError(p)).toBe('ready');
    expect(await p.locator('#model-status').innerText()).toContain('from local files');
    await p.locator('#sample-btn').click();
    await p.locator('#classify-btn').click();
    await p.locator('.result[data-state="done"]').waitFor({ timeout: 240_000 });
    const rows = await displayed(p.locator('.result').first());
    rows.forEach((r, i) => expectShown(r.text, nodeScores[i]!.score, r.label));
    await p.close();
  });
});
