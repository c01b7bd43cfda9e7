/**
 * Worker mode in a real browser (headless Chromium, WebGPU on SwiftShader; harness.ts), through the built bundles
 * as a page loads them (/dist/worker.js starts /dist/siglip-webgpu.worker.js):
 *   - SiglipWorkerModel gives the main-thread SiglipModel's numbers: embeddings, zero-shot scores, the whole forward
 *     pass with hidden states, token ids and pixel values, for every kind of image input;
 *   - images cross once at most (ArrayBuffers transferred, views of part of a buffer copied), results come back;
 *   - load progress arrives as events; errors arrive as the same classes with the same messages and fields
 *     (CheckpointError, InputError, ImageDecodeError, a failed download, a lost device);
 *   - dispose frees the model in the worker and ends the worker.
 * The main thread's responsiveness is measured on its own, in a browser of its own: responsive.test.ts.
 * Run alone: npx vitest run test/browser/worker.test.ts
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { FIXTURES } from '../helpers/fixtures.js';
import { startMockHub, type MockHub } from '../helpers/mock-hub.js';
import { useBrowserEnv, type BrowserEnv, withBrowserLog } from './harness.js';

type Lib = typeof import('../../src/index.js');
type WorkerLib = typeof import('../../src/worker.js');
interface PageWindow {
  siglip: Lib;
  siglipWorker: WorkerLib;
}

let env: BrowserEnv;
let page: Page;
let hub: MockHub;

/** A page with the library (window.siglip) and worker mode (window.siglipWorker). */
async function workerPage(): Promise<Page> {
  const p = await env.libraryPage();
  await p.addScriptTag({ type: 'module', content: "import * as w from '/dist/worker.js'; window.siglipWorker = w;" });
  await p.waitForFunction(() => 'siglipWorker' in window, undefined, { timeout: 60_000 });
  return p;
}

useBrowserEnv(async (e) => {
  env = e;
  page = await workerPage();
});

beforeAll(async () => {
  hub = await startMockHub({ models: { 'org/tiny': join(FIXTURES, 'siglip-tiny') } });
});

afterAll(async () => {
  await hub?.close();
});

const withLog = <T>(fn: () => Promise<T>): Promise<T> => withBrowserLog(env, fn);

/** max |a − b| over two equally long lists of numbers (Infinity when the lengths differ). */
function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('SiglipWorkerModel gives the main-thread numbers', () => {
  it('embeddings, scores, forward (hidden states), tokens and pixels equal SiglipModel\'s, for every image input', async () => {
    const r = await withLog(() =>
      page.evaluate(async () => {
        const w = window as unknown as PageWindow;
        const { SiglipModel, UrlSource, readSafetensorsFile } = w.siglip;
        const { SiglipWorkerModel } = w.siglipWorker;
        const base = '/fixtures/siglip-tiny/';
        const main = await SiglipModel.load(base);
        const progress: string[] = [];
        const worker = await SiglipWorkerModel.load(base, { onProgress: (p) => progress.push(`${p.phase}:${p.file ?? ''}:${p.loaded}/${p.total}`) });
        const catsBlob = await (await fetch('/fixtures/images/cats.png')).blob();
        const cropBytes = new Uint8Array(await (await fetch('/fixtures/images/cats_crop_500x300.png')).arrayBuffer());
        const noise = await (await fetch('/fixtures/images/noise_80x60.png')).arrayBuffer();
        const img = new Image();
        img.src = '/fixtures/images/cats_crop_500x300.png';
        await img.decode();
        const canvas = document.createElement('canvas');
        canvas.width = 40;
        canvas.height = 30;
        const ctx = canvas.getContext('2d')!;
        ctx.fillStyle = '#3a7';
        ctx.fillRect(0, 0, 40, 30);
        ctx.fillStyle = '#c21';
        ctx.fillRect(5, 5, 20, 10);
        const imageData = ctx.getImageData(0, 0, 40, 30);
        const rgb = { width: 2, height: 2, data: new Uint8Array([255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9]) };
        const list = () => [catsBlob, cropBytes.slice(), noise.slice(0), '/fixtures/images/cats.png', img, canvas, imageData, { ...rgb, data: rgb.data.slice() }];
        const a = Array.from(await main.embedImages(list()));
        const b = Array.from(await worker.embedImages(list()));
        // An ImageBitmap made in the page crosses (transferred) and gives the <img>'s pixels.
        const bitmapA = Array.from(await main.embedImages([await createImageBitmap(img)]));
        const bitmapB = Array.from(await worker.embedImages([await createImageBitmap(img)]));
        const texts = ['a photo of 2 cats', 'a remote', ''];
        const ta = Array.from(await main.embedTexts(texts));
        const tb = Array.from(await worker.embedTexts(texts));
        const labels = ['2 cats', '2 dogs', 'a remote'];
        const ca = await main.classify(catsBlob, labels);
        const cb = await worker.classify(catsBlob, labels);
        const ref = await readSafetensorsFile(new UrlSource(new URL(base, location.href).href), 'reference.safetensors');
        const pv = ref.get('pixel_values')!;
        const ids = ref.get('input_ids')!;
        const inputs = () => ({ pixelValues: { data: (pv.data as Float32Array).slice(), shape: pv.shape }, inputIds: { data: (ids.data as Int32Array).slice(), shape: ids.shape } });
        const fa = await main.forward(inputs(), { hiddenStates: true });
        const fb = await worker.forward(inputs(), { hiddenStates: true });
        const forwardDiff: Record<string, number> = {};
        for (const k of Object.keys(fa)) {
          const x = fa[k]!;
          const y = fb[k];
          let m = y && y.shape.join() === x.shape.join() ? 0 : Infinity;
          if (y) for (let i = 0; i < x.data.length; i++) m = Math.max(m, Math.abs(x.data[i]! - y.data[i]!));
          forwardDiff[k] = m;
        }
        const tokA = main.tokenize(texts);
        const tokB = await worker.tokenize(texts);
        const ppA = await main.preprocess([catsBlob]);
        const ppB = await worker.preprocess([catsBlob]);
        const info = {
          adapter: worker.adapter.name,
          mainAdapter: main.engine.info.name,
          embedDim: [worker.embedDim, main.embedDim],
          weightBytes: [worker.weightBytes, main.weightBytes],
          towers: worker.towers,
          dtype: worker.dtype,
          source: worker.source.description,
          config: JSON.stringify(worker.config) === JSON.stringify(main.config),
        };
        await main.dispose();
        await worker.dispose();
        return {
          a, b, bitmapA, bitmapB, ta, tb, ca, cb, forwardDiff, info, progress,
          tokens: [Array.from(tokA.inputIds), Array.from(tokB.inputIds), tokA.shape, tokB.shape],
          pixels: [ppA.shape, ppB.shape, ppA.pixelValues.length === ppB.pixelValues.length && ppA.pixelValues.every((v, i) => v === ppB.pixelValues[i])],
        };
      }),
    );
    console.log(`[worker] adapter ${r.info.adapter}; embeddings max |Δ| ${maxDiff(r.a, r.b)}; forward max |Δ| ${Math.max(...Object.values(r.forwardDiff))} over ${Object.keys(r.forwardDiff).length} outputs; progress events ${r.progress.length}`);
    expect(r.a.length).toBe(8 * 64);
    expect(maxDiff(r.a, r.b)).toBeLessThanOrEqual(1e-6);
    expect(maxDiff(r.bitmapA, r.bitmapB)).toBeLessThanOrEqual(1e-6);
    expect(maxDiff(r.ta, r.tb)).toBeLessThanOrEqual(1e-6);
    expect(r.cb.map((s) => s.label)).toEqual(r.ca.map((s) => s.label));
    expect(maxDiff(r.cb.map((s) => s.score), r.ca.map((s) => s.score))).toBeLessThanOrEqual(1e-6);
    expect(Object.keys(r.forwardDiff)).toContain('vision.hidden_states.2');
    expect(Object.keys(r.forwardDiff)).toContain('logits_per_image');
    for (const [k, d] of Object.entries(r.forwardDiff)) expect(d, k).toBeLessThanOrEqual(1e-6);
    expect(r.tokens[0]).toEqual(r.tokens[1]);
    expect(r.tokens[2]).toEqual(r.tokens[3]);
    expect(r.pixels).toEqual([[1, 3, 32, 32], [1, 3, 32, 32], true]);
    expect(r.info).toMatchObject({ embedDim: [64, 64], towers: ['vision', 'text'], dtype: 'f32', config: true });
    expect(r.info.adapter).toBe(r.info.mainAdapter);
    expect(r.info.weightBytes[0]).toBe(r.info.weightBytes[1]);
    expect(r.info.source).toBe(new URL('/fixtures/siglip-tiny/', env.url).href);
    // Progress: the weights' upload to the GPU, ending at its total.
    const loads = r.progress.filter((p) => p.startsWith('load:'));
    expect(loads.length).toBeGreaterThan(0);
    const [, , last] = loads.at(-1)!.split(':');
    const [done, total] = last!.split('/').map(Number);
    expect(done).toBe(total);
  });

  it('ArrayBuffers are handed over (detached in the page), a view of part of a buffer is copied; results are whole arrays', async () => {
    const r = await page.evaluate(async () => {
      const { SiglipWorkerModel } = (window as unknown as PageWindow).siglipWorker;
      const worker = await SiglipWorkerModel.load('/fixtures/siglip-tiny/');
      try {
        const bytes = new Uint8Array(await (await fetch('/fixtures/images/noise_80x60.png')).arrayBuffer());
        const whole = bytes.slice();
        const big = new Uint8Array(bytes.length + 16);
        big.set(bytes, 8);
        const view = big.subarray(8, 8 + bytes.length);
        const e1 = await worker.embedImages([whole]);
        const e2 = await worker.embedImages([view]);
        return { wholeAfter: whole.byteLength, bigAfter: big.byteLength - bytes.length, same: e1.every((v, i) => v === e2[i]), isF32: e1 instanceof Float32Array, len: e1.length, own: e1.byteOffset === 0 && e1.buffer.byteLength === e1.byteLength };
      } finally {
        await worker.dispose();
      }
    });
    // The whole buffer went to the worker; the big buffer stayed (16 bytes more than the image), its view copied.
    expect(r).toEqual({ wholeAfter: 0, bigAfter: 16, same: true, isF32: true, len: 64, own: true });
  });
});

describe('errors cross as the same classes, with the same messages and fields', () => {
  it('CheckpointError, InputError, ImageDecodeError, a missing model: as on the main thread', async () => {
    const r = await withLog(() =>
      page.evaluate(async () => {
        const w = window as unknown as PageWindow;
        const { SiglipModel, CheckpointError, InputError, ImageDecodeError } = w.siglip;
        const { SiglipWorkerModel } = w.siglipWorker;
        const describeError = (e: unknown) => {
          const err = e as Error & Record<string, unknown>;
          return {
            name: err.name,
            message: err.message,
            fields: Object.fromEntries(Object.keys(err).filter((k) => !['name', 'message', 'stack'].includes(k)).map((k) => [k, err[k]])),
            classes: [err instanceof CheckpointError, err instanceof InputError, err instanceof ImageDecodeError, err instanceof Error],
          };
        };
        const both = async (fn: (load: typeof SiglipModel.load | typeof SiglipWorkerModel.load) => Promise<unknown>) => {
          const a = await fn(SiglipModel.load.bind(SiglipModel)).then(() => null, describeError);
          const b = await fn(SiglipWorkerModel.load.bind(SiglipWorkerModel)).then(() => null, describeError);
          return [a, b];
        };
        const config = await (await fetch('/fixtures/siglip-tiny/config.json')).json();
        const weights = await (await fetch('/fixtures/siglip-tiny/model.safetensors')).blob();
        const bad = { ...config, vision_config: { ...config.vision_config, num_attention_heads: 5 } };
        const out: Record<string, unknown> = {};
        out.checkpoint = await both((load) => load({ config: bad, weights }));
        // Without the cache: it would remember the first load's 404 and say so the second time.
        out.missing = await both((load) => load('/fixtures/no-such-model/', { cacheStorage: null }));
        const main = await SiglipModel.load('/fixtures/siglip-tiny/');
        const worker = await SiglipWorkerModel.load('/fixtures/siglip-tiny/');
        const calls: Record<string, (m: typeof main | typeof worker) => Promise<unknown>> = {
          noLabels: (m) => m.classify(new Uint8Array([1, 2, 3]), []),
          badImage: (m) => m.embedImages([new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0])]),
          notAnArray: (m) => m.embedImages('x' as unknown as string[]),
          badShape: (m) => m.forward({ pixelValues: { data: new Float32Array(10), shape: [1, 3, 2, 2] } }),
          badTokens: (m) => m.forward({ inputIds: { data: new Int32Array([5, 99999]), shape: [1, 2] } }),
        };
        for (const [k, fn] of Object.entries(calls)) out[k] = [await fn(main).then(() => null, describeError), await fn(worker).then(() => null, describeError)];
        // A lost device: the next call says so, in both.
        main.engine.device.destroy();
        await worker.destroyDeviceForTesting();
        await new Promise((r) => setTimeout(r, 200));
        out.lost = [await main.embedTexts(['x']).then(() => null, describeError), await worker.embedTexts(['x']).then(() => null, describeError)];
        await main.dispose();
        await worker.dispose();
        out.disposed = [await main.embedTexts(['x']).then(() => null, describeError), await worker.embedTexts(['x']).then(() => null, describeError)];
        return out;
      }),
    );
    for (const [k, [a, b]] of Object.entries(r as Record<string, [unknown, unknown]>)) {
      expect(a, `${k}: the main thread threw nothing`).not.toBeNull();
      const mainMsg = (a as { message: string }).message;
      const workerMsg = (b as { message: string }).message;
      // Device names and the page's URL differ only where the error names them: the worker's adapter is the same.
      expect(b, `${k}: main thread ${JSON.stringify(a)}`).toEqual(k === 'lost' ? { ...(a as object), message: workerMsg } : a);
      if (k === 'lost') expect(workerMsg.replace(/\(destroyed\): .*/, '')).toBe(mainMsg.replace(/\(destroyed\): .*/, ''));
    }
    const got = r as Record<string, [{ name: string; message: string; fields: Record<string, unknown>; classes: boolean[] }, unknown]>;
    expect(got.checkpoint[0]).toMatchObject({ name: 'CheckpointError', fields: { file: expect.stringContaining('config.json') }, classes: [true, false, false, true] });
    expect(got.noLabels[0]).toMatchObject({ name: 'InputError', classes: [false, true, false, true] });
    expect(got.badImage[0]).toMatchObject({ name: 'ImageDecodeError', classes: [false, false, true, true] });
    expect(got.badTokens[0].message).toMatch(/99999/);
    expect(got.missing[0].message).toMatch(/config\.json/);
    expect(got.lost[0].message).toMatch(/WebGPU device lost/);
    expect(got.disposed[0].message).toBe('this SiglipModel has been disposed');
  });

  it('a failed download (the hub answers 500 for the weights) arrives as on the main thread', async () => {
    hub.setFault('model.safetensors', { status: 500 });
    try {
      const r = await page.evaluate(async (endpoint) => {
        const w = window as unknown as PageWindow;
        const fail = (e: Error) => ({ name: e.name, message: e.message });
        const opts = { endpoint, cacheStorage: null } as const;
        return [
          await w.siglip.SiglipModel.load('org/tiny', opts).then(() => null, fail),
          await w.siglipWorker.SiglipWorkerModel.load('org/tiny', opts).then(() => null, fail),
        ];
      }, hub.endpoint);
      expect(r[0]).not.toBeNull();
      expect(r[0]!.message).toMatch(/model\.safetensors: HTTP 500/);
      expect(r[1]).toEqual(r[0]);
    } finally {
      hub.setFault('model.safetensors', undefined);
    }
  });

  it('a worker script that cannot load (404) fails the load with a message that says what to check', async () => {
    const msg = await page.evaluate(async () => {
      const { SiglipWorkerModel } = (window as unknown as PageWindow).siglipWorker;
      return SiglipWorkerModel.load('/fixtures/siglip-tiny/', { worker: '/dist/no-such-worker.js' }).then(() => 'loaded', (e: Error) => e.message);
    });
    expect(msg).toMatch(/worker \(http:\/\/127\.0\.0\.1:\d+\/dist\/no-such-worker\.js\) could not start.*404.*Content-Security-Policy/s);
  });
});

describe('dispose', () => {
  it('dispose frees the model in the worker and ends the worker', async () => {
    const p = await workerPage();
    try {
      const started = p.waitForEvent('worker');
      const loaded = p.evaluate(async () => {
        const { SiglipWorkerModel } = (window as unknown as PageWindow).siglipWorker;
        (window as unknown as { model: unknown }).model = await SiglipWorkerModel.load('/fixtures/siglip-tiny/');
      });
      const worker = await started;
      await loaded;
      expect(worker.url()).toMatch(/\/dist\/siglip-webgpu\.worker\.js$/);
      const closed = new Promise<void>((resolve) => worker.on('close', () => resolve()));
      await p.evaluate(async () => {
        const m = (window as unknown as { model: { dispose(): Promise<void> } }).model;
        await m.dispose();
      });
      await closed; // the worker is gone
      expect(p.workers()).toEqual([]);
    } finally {
      await p.close();
    }
  });
});
