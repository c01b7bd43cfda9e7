/**
 * The demo's photo search in headless Chromium (SwiftShader), served with the demo's strict Content-Security-Policy
 * (DEMO_CSP: no eval, workers from the page's origin only), the model (siglip-tiny) in a Web Worker:
 *   - a folder of 26 photos in 8 formats, in subfolders, with a corrupt JPEG, a text file and a hidden file, picked
 *     with <input webkitdirectory>: every photo is embedded (progress bar, thumbnails), the corrupt file and the
 *     text file are listed with their reasons, nothing else stops;
 *   - a text query ranks the collection as Node does over the same files (embedImages / embedTexts and the dot
 *     product of the embeddings; test/helpers/photo-search.ts), and "more like this" ranks by a photo's embedding;
 *   - after a reload the index is still there (IndexedDB): searchable at once, and picking the folder again embeds
 *     nothing;
 *   - a folder from the File System Access API (a real directory handle, from the origin-private file system, handed
 *     out by a stand-in for showDirectoryPicker) indexes, and "scan again" after a reload embeds nothing; dropped
 *     files index too;
 *   - the storage panel lists the model's files and the photo index, and deletes them;
 *   - no CSP violation anywhere.
 * Saves test-results/photo-search.png and test-results/photo-search-more-like-this.png.
 * Run alone: npx vitest run test/browser/photo-search.test.ts
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_CSP, startDemoServer, type DemoServer } from '../../scripts/serve-demo.mjs';
import { SiglipModel } from '../../src/model/siglip-model.js';
import { FIXTURES } from '../helpers/fixtures.js';
import { embedFolder, rankBy, rankByText, searchRanking, type Ranked } from '../helpers/photo-search.js';
import { useBrowserEnv, type BrowserEnv } from './harness.js';

const FORMATS = join(FIXTURES, 'formats', 'inputs');
/** The folder: subfolder → fixture files. */
const PHOTOS: Record<string, string[]> = {
  '2019': ['images/cats.png', 'images/cats_crop_500x300.png', 'images/noise_80x60.png', 'jpeg_arith_420.jpg', 'jpeg_arith_422_odd.jpg', 'jpeg_arith_444_restart.jpg', 'jpeg_arith_grey.jpg', 'jpeg_arith_prog.jpg'],
  '2020': ['bmp_24_23x17.bmp', 'bmp_8_palette.bmp', 'bmp_rle8.bmp', 'gif_8colours.gif', 'gif_interlaced.gif', 'gif_anim.gif', 'tiff_lzw.tif', 'tiff_jpeg.tif', 'tiff_palette.tif'],
  misc: ['webp_lossy_61x47.webp', 'webp_lossless_alpha.webp', 'webp_exif_6.webp', 'avif_420_61x47.avif', 'avif_444_32x24.avif', 'heic_61x47.heic', 'heic_alpha_33x21.heic', 'tiff_rgba.tif', 'bmp_16_565.bmp'],
};
const QUERY = 'two cats lying on a pink blanket';
const TOP_K = 24;
const SHOT_DIR = 'test-results';

let env: BrowserEnv;
let server: DemoServer;
let tmp: string;
let folder: string;
/** Every file of the folder as the page names it ("photos/2019/cats.png") and where it is. */
const files: { path: string; file: string }[] = [];
let index: Map<string, Float32Array>;
let nodeModel: SiglipModel;

useBrowserEnv(async (e) => {
  env = e;
  // The same build, served with the demo's Content-Security-Policy on every answer (pages, scripts, the worker).
  server = await startDemoServer({ port: 0, dist: e.dist, headers: { 'Content-Security-Policy': DEMO_CSP } });
});

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'siglip-photos-'));
  folder = join(tmp, 'photos');
  for (const [sub, list] of Object.entries(PHOTOS)) {
    mkdirSync(join(folder, sub), { recursive: true });
    for (const f of list) {
      const name = f.split('/').pop()!;
      copyFileSync(f.includes('/') ? join(FIXTURES, f) : join(FORMATS, f), join(folder, sub, name));
      files.push({ path: `photos/${sub}/${name}`, file: join(folder, sub, name) });
    }
  }
  // A JPEG cut off after 200 bytes, a text file, and a hidden file the page skips.
  writeFileSync(join(folder, 'misc', 'broken.jpg'), readFileSync(join(FORMATS, 'jpeg_arith_420.jpg')).subarray(0, 200));
  writeFileSync(join(folder, 'misc', 'notes.txt'), 'not a photo\n');
  writeFileSync(join(folder, '.DS_Store'), 'hidden');
  nodeModel = await SiglipModel.load(join(FIXTURES, 'siglip-tiny'));
  index = await embedFolder(nodeModel, [...files, { path: 'photos/misc/broken.jpg', file: join(folder, 'misc', 'broken.jpg') }]);
});

afterAll(async () => {
  await nodeModel?.dispose();
  await server?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** A page of the CSP server that records CSP violations and the progress line's texts. */
async function demoPage(query = '?model=/fixtures/siglip-tiny/&view=search'): Promise<Page> {
  const page = await env.newPage();
  await page.addInitScript(() => {
    const w = window as unknown as { cspViolations: string[]; indexProgress: string[] };
    w.cspViolations = [];
    w.indexProgress = [];
    document.addEventListener('securitypolicyviolation', (e) => w.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
    new MutationObserver(() => {
      const t = document.getElementById('index-progress-text')?.textContent;
      if (t && w.indexProgress[w.indexProgress.length - 1] !== t) w.indexProgress.push(t);
    }).observe(document, { subtree: true, childList: true, characterData: true });
  });
  await page.goto(server.url + query);
  await page.locator('#model-status[data-state="ready"], #model-status[data-state="error"]').waitFor({ timeout: 240_000 });
  expect(await page.locator('#model-status').getAttribute('data-state'), await page.locator('#error').innerText().catch(() => '')).toBe('ready');
  return page;
}

/** Runs `action` (a pick, a drop) and waits for the indexing run it starts to finish; the status's figures. */
async function indexed(page: Page, action: () => Promise<unknown>): Promise<Record<string, string | undefined>> {
  const status = page.locator('#index-status');
  const run = Number((await status.getAttribute('data-run')) ?? 0) + 1;
  await action();
  await page.locator(`#index-status[data-run="${run}"]`).waitFor({ timeout: 240_000 });
  expect(await status.getAttribute('data-state'), await status.innerText()).toBe('ready');
  return status.evaluate((e) => ({ ...(e as HTMLElement).dataset, text: e.textContent ?? '' }));
}

/** The results the page shows: path and score. */
async function shown(page: Page): Promise<Ranked[]> {
  await page.locator('#search-results[data-state="done"], #search-results[data-state="error"]').waitFor({ timeout: 120_000 });
  expect(await page.locator('#search-results').getAttribute('data-state')).toBe('done');
  return page.locator('#search-results .photo').evaluateAll((figs) => figs.map((f) => ({ path: (f as HTMLElement).dataset.path!, score: Number((f as HTMLElement).dataset.score) })));
}

/** The page's ranking is Node's: the same best `k`, in the same order (photos whose Node scores are within 1e-5 of
 *  each other may come in either order), each score within 1e-5 (SwiftShader vs lavapipe). */
function expectNodeRanking(page: Ranked[], node: Ranked[], what: string): void {
  const byPath = new Map(node.map((r) => [r.path, r.score]));
  expect(page.length, what).toBe(Math.min(TOP_K, node.length));
  page.forEach((r, i) => {
    expect(byPath.has(r.path), `${what}: ${r.path} is not among Node's photos`).toBe(true);
    expect(Math.abs(r.score - byPath.get(r.path)!), `${what}: ${r.path} scores ${r.score} here, ${byPath.get(r.path)} in Node`).toBeLessThanOrEqual(1e-5);
    expect(Math.abs(byPath.get(r.path)! - node[i]!.score), `${what}: place ${i + 1} is ${r.path} here, ${node[i]!.path} in Node`).toBeLessThanOrEqual(1e-5);
  });
}

describe('photo search in the demo (strict CSP, the model in a worker)', () => {
  let page: Page;

  it('indexes a folder of 26 photos with a corrupt file and a text file; a query ranks them as Node does', async () => {
    page = await demoPage();
    expect(await page.locator('#view-search').isVisible()).toBe(true);
    expect(await page.locator('#search-btn').isDisabled()).toBe(true); // nothing indexed yet
    const st = await indexed(page, () => page.locator('#photo-folder').setInputFiles(folder));
    console.log(`[photo search] ${st.text}`);
    expect(st).toMatchObject({ embedded: '26', cached: '0', failed: '1', unsupported: '1' });
    expect(Number(await page.locator('#collection').getAttribute('data-count'))).toBe(26);
    expect(await page.locator('#collection .photo img').count()).toBe(26); // a thumbnail each
    // Thumbnails are decoded JPEGs the worker made.
    expect(await page.locator('#collection .photo img').first().evaluate((i: HTMLImageElement) => i.decode().then(() => i.naturalWidth > 0))).toBe(true);
    // The progress bar went through the batches.
    const progress = await page.evaluate(() => (window as unknown as { indexProgress: string[] }).indexProgress);
    expect(progress).toContain('Embedding photos in the worker: 8 of 27');
    expect(progress.at(-1)).toBe('Embedding photos in the worker: 27 of 27');
    // The corrupt JPEG and the text file are listed, with why; the hidden file is not there at all.
    const skipped = await page.locator('#skipped-list li').evaluateAll((lis) => lis.map((l) => [(l as HTMLElement).dataset.path, l.querySelector('.role')!.textContent]));
    expect(skipped.map((s) => s[0])).toEqual(['photos/misc/broken.jpg', 'photos/misc/notes.txt']);
    expect(skipped[0]![1]).toMatch(/^ImageDecodeError: .*broken\.jpg: jpeg: file is truncated/);
    expect(skipped[1]![1]).toMatch(/not a photo this demo reads/);
    expect(await page.locator('#skipped-summary').innerText()).toBe('2 files not indexed');

    await page.locator('#query').fill(QUERY);
    await page.locator('#search-btn').click();
    const got = await shown(page);
    const node = await rankByText(nodeModel, index, QUERY);
    console.log(`[photo search] "${QUERY}": page ${JSON.stringify(got.slice(0, 5))}…; Node ${JSON.stringify(node.slice(0, 5))}…`);
    expect(index.size).toBe(26); // Node could not read broken.jpg either
    expectNodeRanking(got, node, 'text query');
    expect(got.map((r) => r.path)).toEqual(node.slice(0, TOP_K).map((r) => r.path)); // no near-ties here: the very order
    // And Node's `search` (siglip-webgpu/apps, scoring on the GPU) over the same folder ranks them the same.
    const searched = await searchRanking(nodeModel, folder, QUERY);
    expectNodeRanking(got, searched, 'text query vs search');
    expect(await page.locator('#query-info').innerText()).toMatch(/26 photos ranked in \d+ ms, the best 24 shown/);
    mkdirSync(SHOT_DIR, { recursive: true });
    await page.screenshot({ path: join(SHOT_DIR, 'photo-search.png'), fullPage: true });
  });

  it('"more like this" ranks by a photo\'s own embedding, as Node does', async () => {
    await page.locator('#collection .photo[data-path="photos/2019/cats.png"]').hover();
    await page.locator('#collection .photo[data-path="photos/2019/cats.png"] .more').click();
    await expect.poll(() => page.locator('#search-results').getAttribute('data-query')).toBe('like:photos/2019/cats.png');
    const got = await shown(page);
    const node = rankBy(index.get('photos/2019/cats.png')!, index, 'photos/2019/cats.png');
    expectNodeRanking(got, node, 'more like cats.png');
    expect(got.map((r) => r.path)).toEqual(node.slice(0, TOP_K).map((r) => r.path));
    expect(got.some((r) => r.path === 'photos/2019/cats.png')).toBe(false); // the query itself is left out
    await page.screenshot({ path: join(SHOT_DIR, 'photo-search-more-like-this.png'), fullPage: true });
    expect(await page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations)).toEqual([]);
  });

  it('after a reload the index is still there: searchable at once, and the same folder embeds nothing', async () => {
    await page.reload();
    await page.locator('#model-status[data-state="ready"]').waitFor({ timeout: 240_000 });
    await expect.poll(() => page.locator('#collection').getAttribute('data-count')).toBe('26');
    expect(await page.locator('#skipped-list li').count()).toBe(1); // broken.jpg is remembered (notes.txt was never a photo)
    await page.locator('#query').fill(QUERY);
    await page.locator('#search-btn').click();
    expectNodeRanking(await shown(page), await rankByText(nodeModel, index, QUERY), 'text query after a reload');

    const st = await indexed(page, () => page.locator('#photo-folder').setInputFiles(folder));
    expect(st).toMatchObject({ embedded: '0', cached: '27', failed: '0', unsupported: '1' });
    expect(await page.locator('#index-progress').isHidden()).toBe(true);
    expect(await page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations)).toEqual([]);
  });

  it('a folder from the File System Access API (a real handle) indexes; "scan again" after a reload embeds nothing; drops index', async () => {
    // A folder in the origin-private file system: a real FileSystemDirectoryHandle, as showDirectoryPicker gives.
    const sample = ['images/cats.png', 'images/noise_80x60.png'].map((f) => ({ name: f.split('/')[1]!, b64: readFileSync(join(FIXTURES, f)).toString('base64') }));
    await page.evaluate(async (sample) => {
      const root = await navigator.storage.getDirectory();
      const dir = await (await root.getDirectoryHandle('trip', { create: true })).getDirectoryHandle('day1', { create: true });
      for (const s of sample) {
        const w = await (await dir.getFileHandle(s.name, { create: true })).createWritable();
        await w.write(Uint8Array.from(atob(s.b64), (c) => c.charCodeAt(0)));
        await w.close();
      }
    }, sample);
    const standIn = () => {
      (window as unknown as { showDirectoryPicker: () => Promise<FileSystemDirectoryHandle> }).showDirectoryPicker = async () => (await navigator.storage.getDirectory()).getDirectoryHandle('trip');
    };
    await page.evaluate(standIn);
    const picked = await indexed(page, () => page.locator('#pick-folder-btn').click());
    expect(picked).toMatchObject({ embedded: '2', cached: '0' });
    expect(picked.text).toMatch(/^folder “trip”: 2 image files/);
    expect(await page.locator('#collection .photo[data-path="trip/day1/cats.png"]').count()).toBe(1);

    await page.reload();
    await page.locator('#model-status[data-state="ready"]').waitFor({ timeout: 240_000 });
    await page.locator('#rescan-btn:not([hidden])').waitFor();
    expect(await page.locator('#rescan-btn').innerText()).toBe('Scan “trip” again');
    expect(await indexed(page, () => page.locator('#rescan-btn').click())).toMatchObject({ embedded: '0', cached: '2' });

    // Dropped files (a DataTransfer with two files).
    const drop = await page.evaluateHandle((s) => {
      const dt = new DataTransfer();
      for (const x of s) dt.items.add(new File([Uint8Array.from(atob(x.b64), (c) => c.charCodeAt(0))], `dropped-${x.name}`, { type: 'image/png', lastModified: 1 }));
      return dt;
    }, sample);
    expect(await indexed(page, () => page.locator('#photo-drop').dispatchEvent('drop', { dataTransfer: drop }))).toMatchObject({ embedded: '2' });
    expect(await page.locator('#collection .photo[data-path="dropped-cats.png"]').count()).toBe(1);
    expect(Number(await page.locator('#collection').getAttribute('data-count'))).toBe(30);
  });

  it('the storage panel lists the model files and the photo index, and deletes them', async () => {
    await page.locator('#storage-list li[data-kind="index"]').waitFor();
    const rows = await page.locator('#storage-list li').evaluateAll((lis) => lis.map((l) => [(l as HTMLElement).dataset.kind, l.textContent]));
    const model = rows.find((r) => r[0] === 'model')!;
    expect(model[1]).toMatch(/fixtures\/siglip-tiny\/.*6 files, 1\.\d+ MB/);
    expect(rows.find((r) => r[0] === 'index')![1]).toMatch(/\/fixtures\/siglip-tiny\/ \(f32\).*30 photos \(\+1 unreadable files remembered\)/);
    expect(await page.locator('#storage-usage').innerText()).toMatch(/This site stores [\d.]+ (KB|MB) of the [\d.]+ (MB|GB)/);

    await page.locator('#storage-list li[data-kind="index"] .delete').click();
    await expect.poll(() => page.locator('#storage-list li[data-kind="index"]').count()).toBe(0);
    expect(await page.locator('#collection').getAttribute('data-count')).toBe('0'); // the view follows
    await page.locator('#storage-list li[data-kind="model"] .delete').click();
    await expect.poll(() => page.locator('#storage-list li[data-kind="model"]').count()).toBe(0);
    expect(await page.evaluate(async () => (await (await caches.open('siglip-webgpu-v1')).keys()).length)).toBe(0);
    await page.close();
  });
});

describe('the demo under the strictest policy (no WebAssembly either)', () => {
  it("script-src 'self' only: the labels view classifies the sample image in its worker, with no violation", async () => {
    const strict = await startDemoServer({
      port: 0,
      dist: env.dist,
      headers: { 'Content-Security-Policy': "default-src 'self'; script-src 'self'; worker-src 'self'; img-src 'self' blob: data:; style-src 'self'; object-src 'none'; base-uri 'none'" },
    });
    const page = await env.newPage();
    try {
      await page.addInitScript(() => {
        const w = window as unknown as { cspViolations: string[] };
        w.cspViolations = [];
        document.addEventListener('securitypolicyviolation', (e) => w.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
      });
      const workers: string[] = [];
      page.on('worker', (w) => workers.push(new URL(w.url()).pathname));
      await page.goto(strict.url + '?model=/fixtures/siglip-tiny/');
      await page.locator('#model-status[data-state="ready"]').waitFor({ timeout: 240_000 });
      await page.locator('#sample-btn').click();
      await page.locator('#classify-btn:not([disabled])').waitFor();
      await page.locator('#classify-btn').click();
      await page.locator('.result[data-state="done"]').waitFor({ timeout: 240_000 });
      const best = await page.locator('.result .score-row .label').first().innerText();
      expect(best).toBe('2 cats');
      expect(workers).toEqual(['/siglip-webgpu.worker.js']);
      expect(await page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations)).toEqual([]);
    } finally {
      await page.close();
      await strict.close();
    }
  });
});

