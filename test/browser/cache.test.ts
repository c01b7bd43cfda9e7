/**
 * The browser's weights cache (CachedUrlSource on the Cache API) in a real browser: a hub id loads from the mock hub
 * (test/helpers/mock-hub.ts: the hub's URL layout, LFS files redirected to a "CDN" on another host, so every request
 * from the page is cross-origin and needs CORS); loading it again in a new tab of the same browser profile sends no
 * weight request, and with the hub gone it still loads (the second visit works offline). Two tabs loading one model
 * at the same time download each file once (a Web Lock per file; the other tab waits and reads it from the cache).
 * Run alone: npx vitest run test/browser
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { FIXTURES } from '../helpers/fixtures.js';
import { startMockHub, type MockHub } from '../helpers/mock-hub.js';
import { useBrowserEnv, type BrowserEnv } from './harness.js';

type Lib = typeof import('../../src/index.js');

let env: BrowserEnv;
let hub: MockHub;

useBrowserEnv(async (e) => {
  env = e;
});

beforeAll(async () => {
  hub = await startMockHub({ models: { 'org/tiny': join(FIXTURES, 'siglip-tiny') } });
});

afterAll(async () => {
  await hub?.close();
});

/** In a new tab: load a model (org/tiny) from the mock hub and classify the sample image; the load's download events
 *  too. */
async function loadInNewTab(endpoint: string, repo = 'org/tiny') {
  const page = await env.libraryPage();
  try {
    return await page.evaluate(async ([endpoint, repo]) => {
      const { SiglipModel } = (window as unknown as { siglip: Lib }).siglip;
      const downloads: string[] = [];
      const t0 = performance.now();
      const model = await SiglipModel.load(repo, {
        endpoint,
        onProgress: (p) => {
          if (p.phase === 'download' && !downloads.includes(p.file!)) downloads.push(p.file!);
        },
      });
      const loadMs = performance.now() - t0;
      try {
        const image = await (await fetch('/fixtures/images/cats.png')).blob();
        const scores = await model.classify(image, ['2 cats', '2 dogs']);
        const cached = (await (await caches.open('siglip-webgpu-v1')).keys()).map((r) => r.url.replace(endpoint, ''));
        return { scores, downloads, loadMs, cached, description: model.source.description };
      } finally {
        await model.dispose();
      }
    }, [endpoint, repo] as const);
  } catch (e) {
    if (e instanceof Error) e.message += `\n--- browser log ---\n${env.log.slice(-20).join('\n')}`;
    throw e;
  } finally {
    await page.close();
  }
}

describe('weights cache (Cache API) with a hub id', () => {
  it('the second load of org/tiny sends no weight request; with the hub down it still loads', async () => {
    const first = await loadInNewTab(hub.endpoint);
    expect(first.description).toBe(`${hub.endpoint}/org/tiny/resolve/main/`);
    expect(first.downloads).toContain('model.safetensors');
    const weightUrls = (reqs: typeof hub.requests) => reqs.filter((r) => r.url.includes('model.safetensors') || r.url.startsWith('/cdn/'));
    expect(weightUrls(hub.requests).length, JSON.stringify(hub.requests)).toBeGreaterThan(0);
    expect(first.cached).toContain('/org/tiny/resolve/main/model.safetensors');
    const firstRequests = hub.requests.length;

    hub.requests.length = 0;
    const second = await loadInNewTab(hub.endpoint);
    expect(weightUrls(hub.requests), 'weight requests on the second load').toEqual([]);
    expect(hub.requests, 'no request at all: config, tokenizer and preprocessor come from the cache too').toEqual([]);
    expect(second.downloads).toEqual([]);
    expect(second.scores).toEqual(first.scores);

    const secondRequests = hub.requests.length;
    await hub.close();
    const offline = await loadInNewTab(hub.endpoint);
    expect(offline.scores).toEqual(first.scores);
    console.log(
      `[browser cache] first load ${first.loadMs.toFixed(0)} ms, ${firstRequests} requests (downloads: ${first.downloads.join(', ')}); ` +
        `second ${second.loadMs.toFixed(0)} ms, ${secondRequests} requests; hub down: ${offline.loadMs.toFixed(0)} ms`,
    );
  });
});

describe('two tabs loading one model at the same time', () => {
  it('each file is downloaded once; both tabs give the same scores', async () => {
    // Slow answers, so that the two tabs' downloads overlap in time.
    const slowHub = await startMockHub({
      models: { 'org/tiny-twice': join(FIXTURES, 'siglip-tiny') },
      faults: { 'model.safetensors': { chunkBytes: 64 << 10, chunkDelayMs: 40 }, 'spiece.model': { chunkBytes: 16 << 10, chunkDelayMs: 40 } },
    });
    try {
      const [a, b] = await Promise.all([loadInNewTab(slowHub.endpoint, 'org/tiny-twice'), loadInNewTab(slowHub.endpoint, 'org/tiny-twice')]);
      expect(a.scores).toEqual(b.scores);
      const gets = new Map<string, number>();
      for (const r of slowHub.requests.filter((x) => x.method === 'GET')) gets.set(r.url, (gets.get(r.url) ?? 0) + 1);
      expect([...gets.keys()].some((u) => u.startsWith('/cdn/')), JSON.stringify([...gets])).toBe(true);
      expect([...gets.values()].every((n) => n === 1), JSON.stringify([...gets])).toBe(true);
      // One tab downloaded the weights; the other found them in the cache.
      expect([a.downloads, b.downloads].filter((d) => d.includes('model.safetensors'))).toHaveLength(1);
    } finally {
      await slowHub.close();
    }
  });
});
