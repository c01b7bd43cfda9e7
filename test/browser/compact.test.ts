/**
 * Compact weights in a real browser (headless Chromium, WebGPU on SwiftShader, which lacks shader-f16; harness.ts),
 * through the browser bundle as a page loads it (issue 14):
 *   - per dtype f16 / int8 / q4, on the fixtures (SigLIP, SigLIP 2 fixed, SigLIP 2 NaFlex): image and text
 *     embeddings within cosine ≥ 0.9999 (f16) / ≥ 0.999 (int8) / ≥ 0.99 (q4) of the same model in f32 in the same
 *     page, zero-shot top-1 unchanged, every value finite;
 *   - the GPU memory the load takes (the engine's live bytes) is what the packed layouts say: f16 without shader-f16
 *     stores the weight matrices as packed f16 words (half of f32's) and computes in f32; int8 and q4 hold codes and
 *     scales (q4 keeps the patch embedding and pooling head int8: compact-policy.ts);
 *   - worker mode (SiglipWorkerModel) gives the main thread's numbers for a compact dtype;
 *   - a checkpoint converted in the test (convertCheckpoint) and served by the mock hub loads with no dtype as its
 *     own, gives exactly the numbers of quantizing the f32 checkpoint at load, and the page downloads only the
 *     converted file (bytes counted by the hub); a converted header edited afterwards is refused (digest).
 * Node's gates on the same fixtures: test/model/compact-fidelity.test.ts.
 * Run alone: npx vitest run test/browser/compact.test.ts
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compactFormatFor } from '../../src/model/compact-policy.js';
import { convertCheckpoint } from '../../src/model/convert.js';
import { MODEL_DEFAULT_GROUP } from '../../src/model/model-dtype.js';
import { isCompactTarget } from '../../src/model/compact-scheme.js';
import { packedBytes, packedLayout, type PackedFormat } from '../../src/runtime/weight-format.js';
import { argmaxRows, COSINE_GATE, worstCosine } from '../helpers/cosine.js';
import { FIXTURES, readRawSafetensors } from '../helpers/fixtures.js';
import { startMockHub, type MockHub } from '../helpers/mock-hub.js';
import { f32FromB64, useBrowserEnv, type BrowserEnv, withBrowserLog } from './harness.js';

type Lib = typeof import('../../src/index.js');
type WorkerLib = typeof import('../../src/worker.js');
interface PageWindow {
  siglip: Lib;
  siglipWorker: WorkerLib;
  toB64(u: ArrayBufferView): string;
}

let env: BrowserEnv;
let page: Page;
useBrowserEnv(async (e) => {
  env = e;
  page = await env.libraryPage();
  await page.addScriptTag({ type: 'module', content: "import * as w from '/dist/worker.js'; window.siglipWorker = w;" });
  await page.waitForFunction(() => 'siglipWorker' in window, undefined, { timeout: 60_000 });
});

const withLog = <T>(fn: () => Promise<T>): Promise<T> => withBrowserLog(env, fn);

type DType = 'f32' | 'f16' | 'int8' | 'q4';
/** The groups a dtype loads with by default (model-dtype.ts). */
const GROUP: Record<Exclude<DType, 'f32'>, number> = { f16: 0, ...MODEL_DEFAULT_GROUP };

/** What one load + forward on the fixture's reference inputs gives in the page. */
interface PageRun {
  dtype: string;
  activations: string;
  hasF16: boolean;
  adapter: string;
  weightBytes: number;
  /** engine.stats.liveBytes after the load minus before it: what the load left on the GPU. */
  liveBytes: number;
  loadMs: number;
  forwardMs: number;
  embedDim: number;
  texts: number;
  image: string;
  text: string;
  logits: string;
}

/** Loads `/fixtures/<name>/` with `opts` on an engine of its own, runs forward on reference.safetensors' inputs. */
function runInPage(name: string, opts: { dtype?: DType }): Promise<PageRun> {
  return withLog(() =>
    page.evaluate(
      async ({ name, opts }) => {
        const w = window as unknown as PageWindow;
        const { SiglipModel, UrlSource, readSafetensorsFile, createEngine } = w.siglip;
        const base = `/fixtures/${name}/`;
        const engine = await createEngine();
        try {
          const before = engine.stats.liveBytes;
          const t0 = performance.now();
          const model = await SiglipModel.load(base, { ...opts, engine, tune: false });
          const loadMs = performance.now() - t0;
          const liveBytes = engine.stats.liveBytes - before;
          try {
            const ref = await readSafetensorsFile(new UrlSource(new URL(base, location.href).href), 'reference.safetensors');
            const t = (k: string) => ref.get(k);
            const i32 = (k: string) => (t(k) ? { data: t(k)!.data as Int32Array, shape: t(k)!.shape } : undefined);
            const t1 = performance.now();
            const out = await model.forward({
              pixelValues: { data: t('pixel_values')!.data as Float32Array, shape: t('pixel_values')!.shape },
              inputIds: i32('input_ids')!,
              ...(t('pixel_attention_mask') ? { pixelAttentionMask: i32('pixel_attention_mask'), spatialShapes: i32('spatial_shapes') } : {}),
            });
            const forwardMs = performance.now() - t1;
            const b = (k: string) => w.toB64(new Float32Array(out[k]!.data));
            return {
              dtype: model.dtype, activations: model.activations, hasF16: engine.hasF16, adapter: engine.info.name,
              weightBytes: model.weightBytes, liveBytes, loadMs, forwardMs, embedDim: model.embedDim, texts: t('input_ids')!.shape[0]!,
              image: b('image_embeds'), text: b('text_embeds'), logits: b('logits_per_image'),
            };
          } finally {
            await model.dispose();
          }
        } finally {
          engine.dispose();
        }
      },
      { name, opts },
    ),
  );
}

/**
 * The device bytes a dtype's weights should take, from the checkpoint's header alone: f32's bytes, with every weight
 * matrix (what the compact scheme converts: isCompactTarget) replaced by its packed
 * layout's codes and scales, in the format compact-policy.ts gives it. An independent account of the memory saving:
 * the loader's own sums are not used.
 */
function expectedWeightBytes(name: string, f32Bytes: number, dtype: Exclude<DType, 'f32'>): { bytes: number; matrixF32: number } {
  let delta = 0;
  let matrixF32 = 0;
  for (const [k, t] of readRawSafetensors(join(FIXTURES, name, 'model.safetensors'))) {
    if (!isCompactTarget(k, t.shape)) continue;
    const rows = t.shape[0]!;
    const cols = t.shape.slice(1).reduce((a, b) => a * b, 1);
    const f = compactFormatFor(k, cols, { format: dtype as PackedFormat, group: GROUP[dtype] });
    matrixF32 += 4 * rows * cols;
    delta += packedBytes(packedLayout(f.format, rows, cols, f.group)) - 4 * rows * cols;
  }
  return { bytes: f32Bytes + delta, matrixF32 };
}

const f32Cache = new Map<string, PageRun>();
async function f32Run(name: string): Promise<PageRun> {
  if (!f32Cache.has(name)) f32Cache.set(name, await runInPage(name, {}));
  return f32Cache.get(name)!;
}

const FIXTURE_MODELS = ['siglip-tiny', 'siglip2-tiny', 'siglip2-naflex-tiny'] as const;
const DTYPES = ['f16', 'int8', 'q4'] as const;

describe.each(FIXTURE_MODELS)('%s in the page: compact weights vs f32', (name) => {
  it.each(DTYPES)('%s: embeddings within the gate, zero-shot top-1 unchanged, finite; GPU memory as packed', async (dtype) => {
    const base = await f32Run(name);
    const got = await runInPage(name, { dtype });
    const D = got.embedDim;
    expect(got.dtype).toBe(dtype);
    // SwiftShader has no shader-f16: f16 weights are packed words, unpacked in registers, and the pass is f32.
    expect(got.hasF16).toBe(false);
    expect(got.activations).toBe('f32');
    const lines: string[] = [];
    for (const k of ['image', 'text'] as const) {
      const a = f32FromB64(got[k]);
      const b = f32FromB64(base[k]);
      expect(a.every(Number.isFinite), `${name} ${dtype} ${k}: non-finite values`).toBe(true);
      const c = worstCosine(a, b, D);
      lines.push(`${k} cosine ${c.toFixed(6)}`);
      expect(c, `${name} ${dtype} ${k}_embeds: worst cosine vs f32`).toBeGreaterThanOrEqual(COSINE_GATE[dtype]);
    }
    const logits = f32FromB64(got.logits);
    expect(logits.every(Number.isFinite), `${name} ${dtype} logits: non-finite values`).toBe(true);
    expect(argmaxRows(logits, got.texts), `${name} ${dtype}: zero-shot top-1`).toEqual(argmaxRows(f32FromB64(base.logits), got.texts));

    // Memory: what the load left on the GPU (engine stats) is the model's weights, and those are what the packed
    // layouts of the checkpoint's matrices add up to (to 1%, for buffer alignment); f32's load likewise.
    expect(base.liveBytes).toBeGreaterThanOrEqual(base.weightBytes);
    expect(got.liveBytes).toBeGreaterThanOrEqual(got.weightBytes);
    const want = expectedWeightBytes(name, base.weightBytes, dtype);
    expect(Math.abs(got.weightBytes - want.bytes) / want.bytes, `${name} ${dtype}: weight bytes ${got.weightBytes} vs the layouts' ${want.bytes}`).toBeLessThanOrEqual(0.01);
    expect(Math.abs(got.liveBytes - base.liveBytes - (want.bytes - base.weightBytes)) / base.liveBytes, `${name} ${dtype}: live bytes ${got.liveBytes} vs f32's ${base.liveBytes}`).toBeLessThanOrEqual(0.01);
    // The matrices alone: f16 half of f32's; int8 a quarter plus scales; q4 an eighth plus scales (int8 for two).
    const matrixRatio = (got.weightBytes - (base.weightBytes - want.matrixF32)) / want.matrixF32;
    const RANGE = { f16: [0.49, 0.52], int8: [0.24, 0.28], q4: [0.12, 0.25] } as const;
    expect(matrixRatio, `${name} ${dtype}: matrix bytes / f32's`).toBeGreaterThanOrEqual(RANGE[dtype][0]);
    expect(matrixRatio, `${name} ${dtype}: matrix bytes / f32's`).toBeLessThanOrEqual(RANGE[dtype][1]);
    console.log(
      `[browser] ${name} ${dtype} on ${got.adapter}: ${lines.join(', ')}; GPU live bytes ${got.liveBytes} vs f32 ${base.liveBytes} ` +
        `(${(got.liveBytes / base.liveBytes).toFixed(3)}×; matrices ${matrixRatio.toFixed(3)}×); load ${got.loadMs.toFixed(0)} ms, forward ${got.forwardMs.toFixed(0)} ms`,
    );
  });
});

describe('f16 without shader-f16', () => {
  it("dtype 'f16' loads as packed words with f32 compute; f16 activations are refused with a clear message", async () => {
    const r = await page.evaluate(async () => {
      const { SiglipModel } = (window as unknown as PageWindow).siglip;
      const m = await SiglipModel.load('/fixtures/siglip-tiny/', { dtype: 'f16', tune: false });
      const loaded = { dtype: m.dtype, activations: m.activations, hasF16: m.engine.hasF16 };
      await m.dispose();
      const error = await SiglipModel.load('/fixtures/siglip-tiny/', { dtype: 'f16', activations: 'f16' }).then(
        (x) => x.dispose().then(() => 'loaded'),
        (e: Error) => e.message,
      );
      return { loaded, error };
    });
    expect(r.loaded).toEqual({ dtype: 'f16', activations: 'f32', hasF16: false });
    expect(r.error).toMatch(/f16 activations need the shader-f16 feature, which .*swiftshader.* lacks/i);
  });
});

describe('worker mode with compact weights', () => {
  it("SiglipWorkerModel.load(base, { dtype: 'q4' }) gives the main thread's q4 numbers and memory", async () => {
    const r = await withLog(() =>
      page.evaluate(async () => {
        const w = window as unknown as PageWindow;
        const { SiglipModel } = w.siglip;
        const { SiglipWorkerModel } = w.siglipWorker;
        const base = '/fixtures/siglip-tiny/';
        const main = await SiglipModel.load(base, { dtype: 'q4', tune: false });
        const worker = await SiglipWorkerModel.load(base, { dtype: 'q4', tune: false });
        try {
          const cats = await (await fetch('/fixtures/images/cats.png')).blob();
          const texts = ['a photo of 2 cats', 'a remote'];
          const labels = ['2 cats', '2 dogs', 'a remote'];
          return {
            dtype: [main.dtype, worker.dtype],
            activations: [main.activations, worker.activations],
            weightBytes: [main.weightBytes, worker.weightBytes],
            image: [Array.from(await main.embedImages([cats])), Array.from(await worker.embedImages([cats]))],
            text: [Array.from(await main.embedTexts(texts)), Array.from(await worker.embedTexts(texts))],
            scores: [await main.classify(cats, labels), await worker.classify(cats, labels)],
          };
        } finally {
          await main.dispose();
          await worker.dispose();
        }
      }),
    );
    expect(r.dtype).toEqual(['q4', 'q4']);
    expect(r.activations).toEqual(['f32', 'f32']);
    expect(r.weightBytes[1]).toBe(r.weightBytes[0]);
    for (const k of ['image', 'text'] as const) {
      const [a, b] = r[k];
      expect(a.length).toBeGreaterThan(0);
      expect(a.every(Number.isFinite), k).toBe(true);
      expect(b.length).toBe(a.length);
      for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!), `${k}[${i}]`).toBeLessThanOrEqual(1e-6);
    }
    expect(r.scores[1].map((s) => s.label)).toEqual(r.scores[0].map((s) => s.label));
    console.log(`[worker] q4 siglip-tiny: weights ${r.weightBytes[0]} B on the device; scores ${JSON.stringify(r.scores[1])}`);
  });
});

describe('converted checkpoints (convertCheckpoint) from a hub, in the page', () => {
  let hub: MockHub;
  let tmp: string;
  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'siglip-browser-converted-'));
    for (const dtype of DTYPES) await convertCheckpoint(join(FIXTURES, 'siglip-tiny'), join(tmp, dtype), { dtype });
    // A header edited after convert (the writer's name, same length): the digest no longer matches.
    cpSync(join(tmp, 'int8'), join(tmp, 'tampered'), { recursive: true });
    const file = join(tmp, 'tampered', 'model.safetensors');
    const good = readFileSync(file);
    const edited = Buffer.from(good.toString('latin1').replace('\\"writer\\":\\"siglip-webgpu ', '\\"writer\\":\\"siglip-webgpX '), 'latin1');
    expect(edited.equals(good)).toBe(false);
    writeFileSync(file, edited);
    hub = await startMockHub({
      models: {
        'org/tiny': join(FIXTURES, 'siglip-tiny'),
        ...Object.fromEntries(DTYPES.map((d) => [`org/tiny-${d}`, join(tmp, d)])),
        'org/tiny-tampered': join(tmp, 'tampered'),
      },
    });
  });
  afterAll(async () => {
    await hub?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  /** Loads a hub repo in the page (no cache: every load downloads) and runs forward on the fixture's inputs. */
  const loadAndRun = (repo: string, opts: { dtype?: DType }) =>
    withLog(() =>
      page.evaluate(
        async ({ repo, opts, endpoint }) => {
          const w = window as unknown as PageWindow;
          const { SiglipModel, UrlSource, readSafetensorsFile } = w.siglip;
          const model = await SiglipModel.load(repo, { ...opts, endpoint, cacheStorage: null, tune: false });
          try {
            const ref = await readSafetensorsFile(new UrlSource(new URL('/fixtures/siglip-tiny/', location.href).href), 'reference.safetensors');
            const t = (k: string) => ref.get(k)!;
            const out = await model.forward({
              pixelValues: { data: t('pixel_values').data as Float32Array, shape: t('pixel_values').shape },
              inputIds: { data: t('input_ids').data as Int32Array, shape: t('input_ids').shape },
            });
            const b = (k: string) => w.toB64(new Float32Array(out[k]!.data));
            return { dtype: model.dtype, weightBytes: model.weightBytes, image: b('image_embeds'), text: b('text_embeds'), logits: b('logits_per_image') };
          } finally {
            await model.dispose();
          }
        },
        { repo, opts, endpoint: hub.endpoint },
      ),
    );

  it.each(DTYPES)('%s: loads with no dtype as its own, equals quantizing at load, and downloads the converted file once', async (dtype) => {
    const key = `org/tiny-${dtype}/model.safetensors`;
    const conv = await loadAndRun(`org/tiny-${dtype}`, {});
    const downloaded = hub.bytesSent.get(key) ?? 0;
    const atLoad = await loadAndRun('org/tiny', { dtype });
    expect(conv.dtype).toBe(dtype);
    expect(conv.weightBytes).toBe(atLoad.weightBytes);
    let maxAbs = 0;
    for (const k of ['image', 'text', 'logits'] as const) {
      const a = f32FromB64(conv[k]);
      const b = f32FromB64(atLoad[k]);
      expect(a.every(Number.isFinite), k).toBe(true);
      expect(a.length).toBe(b.length);
      for (let i = 0; i < a.length; i++) maxAbs = Math.max(maxAbs, Math.abs(a[i]! - b[i]!));
    }
    // The converter packs the same bits as quantizing at load, and the same kernels read them.
    expect(maxAbs, `${dtype}: converted vs quantized at load`).toBe(0);
    // The page downloaded the converted weights, whole, once: 0.5× / ~0.27× / ~0.2× of f32's file at this tiny size
    // (its position tables, norms and biases stay f32; at SigLIP-large's size: PERFORMANCE.md).
    const size = statSync(join(tmp, dtype, 'model.safetensors')).size;
    const f32Size = statSync(join(FIXTURES, 'siglip-tiny', 'model.safetensors')).size;
    expect(downloaded, `${dtype}: bytes of ${key} the hub sent`).toBe(size);
    const RANGE = { f16: [0.49, 0.56], int8: [0.25, 0.32], q4: [0.15, 0.24] } as const;
    expect(size / f32Size, `${dtype}: converted / f32 checkpoint bytes`).toBeGreaterThanOrEqual(RANGE[dtype][0]);
    expect(size / f32Size, `${dtype}: converted / f32 checkpoint bytes`).toBeLessThanOrEqual(RANGE[dtype][1]);
    console.log(`[browser] converted ${dtype}: downloaded ${downloaded} B of weights vs f32's ${f32Size} B (${(size / f32Size).toFixed(3)}×); outputs equal quantizing at load (max |Δ| ${maxAbs})`);
  });

  it('a converted checkpoint whose header was edited after convert is refused with the scheme\'s error', async () => {
    const r = await page.evaluate(async (endpoint) => {
      const { SiglipModel, CheckpointError } = (window as unknown as PageWindow).siglip;
      return SiglipModel.load('org/tiny-tampered', { endpoint, cacheStorage: null }).then(
        async (m) => (await m.dispose(), null),
        (e: Error) => ({ name: e.name, message: e.message, isCheckpointError: e instanceof CheckpointError }),
      );
    }, hub.endpoint);
    expect(r, 'the tampered checkpoint loaded').not.toBeNull();
    expect(r!.isCheckpointError).toBe(true);
    expect(r!.message).toMatch(/model\.safetensors.*siglip_webgpu\.digest: tampered header: the digest says sha256:[0-9a-f]{64}, the header hashes to sha256:[0-9a-f]{64} \(the header was edited after convert\); convert the checkpoint again/);
  });
});
