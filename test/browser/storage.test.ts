/**
 * Weights that fit the browser, in headless Chromium with the mock hub (test/helpers/mock-hub.ts):
 *   - a model that cannot fit the quota navigator.storage.estimate() gives is refused before its weights are
 *     downloaded, with the numbers (a StorageQuotaError);
 *   - where the browser refuses a write the estimate allowed (a real quota, set with the DevTools protocol's
 *     Storage.overrideQuotaForOrigin, which Chromium enforces but does not show in estimate()), the download stops
 *     with the numbers — from a worker, as the page's own StorageQuotaError — keeps what it stored, and resumes
 *     from there once there is room;
 *   - a download cut off by a reload resumes: the file is cached in parts (cachePartBytes), the reloaded page's load
 *     asks only for the rest (a Range request from the first missing part), and the model gives Node's numbers;
 *   - before that large download the worker asked its page for persistent storage (only a window can);
 *   - listCachedFiles shows the partial download, then the whole file; deleteCachedFiles removes the model.
 * Run alone: npx vitest run test/browser/storage.test.ts
 */
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES } from '../helpers/fixtures.js';
import { startMockHub, type MockHub } from '../helpers/mock-hub.js';
import { LABELS, nodeCatsScores, useBrowserEnv, type BrowserEnv } from './harness.js';

type Lib = typeof import('../../src/index.js');
type WorkerLib = typeof import('../../src/worker.js');
interface PageWindow {
  siglip: Lib;
  siglipWorker: WorkerLib;
  progressLog: { file?: string; loaded: number; total: number; phase: string }[];
  persistCalls: number;
}

const WEIGHTS_BYTES = 1_010_000;
const PART = 100_000;

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

/** A page with the library and worker mode, navigator.storage.persist() counted (and granted), and, when given, the
 *  numbers its navigator.storage.estimate() gives. */
async function page(estimate?: { quota: number; usage: number }): Promise<Page> {
  const p = await env.newPage();
  await p.addInitScript((estimate) => {
    const w = window as unknown as PageWindow;
    w.persistCalls = 0;
    StorageManager.prototype.persist = async () => {
      w.persistCalls++;
      return true;
    };
    if (estimate) StorageManager.prototype.estimate = async () => estimate;
  }, estimate);
  await p.goto(env.url + 'dist/blank.html');
  await withLibrary(p);
  return p;
}

/** The library as window.siglip and worker mode as window.siglipWorker (again after a reload). */
async function withLibrary(p: Page): Promise<void> {
  await p.addScriptTag({ type: 'module', content: "import * as lib from '/dist/siglip-webgpu.browser.js'; import * as w from '/dist/worker.js'; window.siglip = lib; window.siglipWorker = w;" });
  await p.waitForFunction(() => 'siglip' in window && 'siglipWorker' in window, undefined, { timeout: 60_000 });
}

const weightGets = () => hub.requests.filter((r) => r.method === 'GET' && r.url.includes('model.safetensors'));

describe('a model that cannot fit the quota', () => {
  it('is refused before its weights are downloaded, with the numbers the browser gives', async () => {
    // The numbers navigator.storage.estimate() gives in this page: a quota that the weights do not fit.
    const p = await page({ quota: 600_000, usage: 150_000 });
    try {
      hub.requests.length = 0;
      const r = await p.evaluate(async (endpoint) => {
        const { SiglipModel, StorageQuotaError } = (window as unknown as PageWindow).siglip;
        return SiglipModel.load('org/tiny', { endpoint }).then(
          () => null,
          (e: InstanceType<typeof StorageQuotaError>) => ({ isQuota: e instanceof StorageQuotaError, name: e.name, message: e.message, needed: e.needed, available: e.available, quota: e.quota, usage: e.usage, persisted: e.persisted }),
        );
      }, hub.endpoint);
      console.log(`[storage] ${r?.message}`);
      expect(r).toMatchObject({ isQuota: true, name: 'StorageQuotaError', needed: WEIGHTS_BYTES, available: 450_000, quota: 600_000, usage: 150_000 });
      expect(r!.message).toMatch(/model\.safetensors: the download needs 1\.01 MB \(1010000 bytes\) but this site may store only 450 kB more in this browser \(quota 600 kB, 150 kB used/);
      expect(weightGets(), 'no GET of the weights: refused from the size a HEAD announced').toEqual([]);
      expect(await p.evaluate(async () => (await (window as unknown as PageWindow).siglip.listCachedFiles()).filter((f) => f.url.endsWith('model.safetensors')))).toEqual([]);
    } finally {
      await p.close();
    }
  });

  it('a write the browser refuses (its real quota, smaller than it estimates) stops the download with the numbers; it resumes once there is room', async () => {
    const p = await page();
    const cdp = await env.context.newCDPSession(p);
    const origin = new URL(env.url).origin;
    // A quota the browser enforces on writes (estimate() does not show it in Chromium 156).
    await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: 600_000 });
    try {
      hub.requests.length = 0;
      const r = await p.evaluate(async (endpoint) => {
        const w = window as unknown as PageWindow;
        const { StorageQuotaError } = w.siglip;
        const e = await w.siglipWorker.SiglipWorkerModel.load('org/tiny', { endpoint, cachePartBytes: 100_000 }).then(
          (m) => m.dispose().then(() => null),
          (err: InstanceType<typeof StorageQuotaError>) => err,
        );
        const files = await w.siglip.listCachedFiles();
        return { isQuota: e instanceof StorageQuotaError, name: e?.name, message: e?.message, needed: e?.needed, files };
      }, hub.endpoint);
      console.log(`[storage] ${r.message}`);
      // From the worker, as the page's own class.
      expect(r).toMatchObject({ isQuota: true, name: 'StorageQuotaError' });
      expect(r.message).toMatch(/model\.safetensors: the browser refused to store more of this file after (\d+)00000 of 1010000 bytes \(QuotaExceededError\) \(it reports [\d.]+ k?B used of a [\d.]+ GB quota\); [\d.]+ kB more are needed\. What was stored is kept, and the download resumes from byte \d+ once there is room/);
      const partial = r.files.find((f) => f.url.endsWith('model.safetensors'))!;
      expect(partial.state).toBe('partial');
      expect(partial.bytes).toBe(WEIGHTS_BYTES - r.needed!);

      // Room again: the next load asks only for the rest.
      await cdp.send('Storage.overrideQuotaForOrigin', { origin });
      hub.requests.length = 0;
      const scores = await p.evaluate(async ([endpoint, labels]) => {
        const w = window as unknown as PageWindow;
        const model = await w.siglipWorker.SiglipWorkerModel.load('org/tiny', { endpoint, cachePartBytes: 100_000 });
        try {
          return await model.classify(await (await fetch('/fixtures/images/cats.png')).blob(), labels as string[]);
        } finally {
          await model.dispose();
        }
      }, [hub.endpoint, LABELS] as const);
      expect(weightGets().map((x) => x.range)).toEqual([`bytes=${partial.bytes}-`]);
      const node = await nodeCatsScores();
      scores.forEach((s, i) => expect(Math.abs(s.score - node[i]!.score)).toBeLessThanOrEqual(1e-5));
      await p.evaluate(async (base) => (window as unknown as PageWindow).siglip.deleteCachedFiles(base), partial.base);
    } finally {
      await cdp.send('Storage.overrideQuotaForOrigin', { origin }).catch(() => {});
      await p.close();
    }
  });
});

describe('a download cut off by a reload', () => {
  it('resumes from the first missing part; the worker asked its page for persistent storage first', async () => {
    // Slow weights, so that the reload comes mid-download.
    hub.setFault('model.safetensors', { chunkBytes: 32 << 10, chunkDelayMs: 50 });
    const p = await page();
    try {
      hub.requests.length = 0;
      await p.evaluate((endpoint) => {
        const w = window as unknown as PageWindow;
        w.progressLog = [];
        void w.siglipWorker.SiglipWorkerModel.load('org/tiny', { endpoint, cachePartBytes: 100_000, onProgress: (pr) => w.progressLog.push({ ...pr }) });
      }, hub.endpoint);
      await p.waitForFunction(() => (window as unknown as PageWindow).progressLog.some((x) => x.phase === 'download' && x.file === 'model.safetensors' && x.loaded >= 350_000), undefined, { timeout: 60_000 });
      expect(await p.evaluate(() => (window as unknown as PageWindow).persistCalls)).toBe(1);
      await p.reload(); // the worker goes with the page, mid-download
      await withLibrary(p);
      const partial = await p.evaluate(async () => (await (window as unknown as PageWindow).siglip.listCachedFiles()).filter((f) => f.url.endsWith('model.safetensors')));
      expect(partial).toHaveLength(1);
      expect(partial[0]).toMatchObject({ state: 'partial', size: WEIGHTS_BYTES });
      const kept = partial[0]!.bytes;
      expect(kept % PART).toBe(0);
      expect(kept).toBeGreaterThanOrEqual(300_000);

      hub.setFault('model.safetensors', undefined);
      hub.requests.length = 0;
      const r = await p.evaluate(async ([endpoint, labels]) => {
        const w = window as unknown as PageWindow;
        const progress: { loaded: number; total: number }[] = [];
        const model = await w.siglipWorker.SiglipWorkerModel.load('org/tiny', {
          endpoint,
          cachePartBytes: 100_000,
          onProgress: (pr) => void (pr.phase === 'download' && pr.file === 'model.safetensors' && progress.push({ loaded: pr.loaded, total: pr.total })),
        });
        const image = await (await fetch('/fixtures/images/cats.png')).blob();
        const scores = await model.classify(image, labels as string[]);
        await model.dispose();
        const files = await w.siglip.listCachedFiles();
        return { progress, scores, files };
      }, [hub.endpoint, LABELS] as const);
      expect(weightGets().map((x) => x.range)).toEqual([`bytes=${kept}-`]);
      expect(r.progress[0]!.loaded).toBe(kept); // progress starts at the bytes already there
      expect(r.progress.at(-1)).toEqual({ loaded: WEIGHTS_BYTES, total: WEIGHTS_BYTES });
      const node = await nodeCatsScores();
      expect(r.scores.map((s) => s.label)).toEqual(node.map((s) => s.label));
      r.scores.forEach((s, i) => expect(Math.abs(s.score - node[i]!.score)).toBeLessThanOrEqual(1e-5));
      const weights = r.files.find((f) => f.url.endsWith('model.safetensors'))!;
      expect(weights).toMatchObject({ state: 'complete', size: WEIGHTS_BYTES, bytes: WEIGHTS_BYTES });
      console.log(`[storage] reload at ${kept} of ${WEIGHTS_BYTES} bytes; the next load asked for bytes=${kept}- only`);

      // Deleting the model: every entry under its base URL, parts included.
      const left = await p.evaluate(async (base) => {
        const lib = (window as unknown as PageWindow).siglip;
        const entries = (await (await caches.open(lib.BROWSER_CACHE_NAME)).keys()).filter((r) => r.url.startsWith(base)).length;
        const removed = await lib.deleteCachedFiles(base);
        return { entries, removed, left: (await lib.listCachedFiles()).length, keys: (await (await caches.open(lib.BROWSER_CACHE_NAME)).keys()).length };
      }, weights.base);
      // 11 parts and the marker of the weights, the small files, the known-absent markers: all of them.
      expect(left.entries).toBeGreaterThanOrEqual(Math.ceil(WEIGHTS_BYTES / PART) + 1 + 4);
      expect(left).toEqual({ entries: left.entries, removed: left.entries, left: 0, keys: 0 });
    } finally {
      hub.setFault('model.safetensors', undefined);
      await p.close();
    }
  });
});
