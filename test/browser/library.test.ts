/**
 * The library in a real browser (headless Chromium, WebGPU on SwiftShader; see harness.ts for the flags), through
 * the browser bundle as a page loads it:
 *   - the adapter: navigator.gpu gives one headless, and the engine runs on it (its limits are respected);
 *   - SiglipModel.load('/fixtures/<model>/') (a base URL relative to the page) + forward() on the fixture inputs
 *     (fetched and parsed in the page with readSafetensorsFile/UrlSource) equals transformers in float64 (≤ 1e-4);
 *   - classify(<cats.png as a Blob>, labels) equals what Node computes with the same library (≤ 1e-5);
 *   - load({ config, weights, tokenizer, preprocessor }) from in-page objects and Blobs (what a file picker gives).
 * Run alone: npx vitest run test/browser
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { SiglipModel } from '../../src/model/siglip-model.js';
import { diff, TOL } from '../helpers/compare.js';
import { FIXTURES, loadReference, MODELS } from '../helpers/fixtures.js';
import { f32FromB64, LABELS, nodeCatsScores, useBrowserEnv, type BrowserEnv, withBrowserLog } from './harness.js';

/** What the page's `window` holds after harness.libraryPage(). */
type Lib = typeof import('../../src/index.js');
interface PageWindow {
  siglip: Lib;
  toB64(u: ArrayBufferView): string;
  fromB64(s: string): Uint8Array;
}

let env: BrowserEnv;
let page: Page;
useBrowserEnv(async (e) => {
  env = e;
  page = await env.libraryPage();
});

const withLog = <T>(fn: () => Promise<T>): Promise<T> => withBrowserLog(env, fn);

describe('WebGPU in headless Chromium', () => {
  it('navigator.gpu gives an adapter (SwiftShader) and the engine runs on it', async () => {
    const r = await withLog(() =>
      page.evaluate(async () => {
        const w = window as unknown as PageWindow;
        const adapter = await navigator.gpu?.requestAdapter();
        if (!adapter) return null;
        const limits: Record<string, number> = {};
        for (const k in adapter.limits) limits[k] = (adapter.limits as unknown as Record<string, number>)[k]!;
        const info = adapter.info;
        const engine = await w.siglip.createEngine();
        const name = engine.info.name;
        const isCpu = engine.info.isCpu;
        engine.dispose();
        return {
          info: { vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description, isFallbackAdapter: (info as { isFallbackAdapter?: boolean }).isFallbackAdapter },
          features: [...adapter.features].sort(),
          limits,
          engine: { name, isCpu },
          userAgent: navigator.userAgent,
        };
      }),
    );
    expect(r, 'navigator.gpu.requestAdapter() returned null: see harness.ts for the flags WebGPU needs').not.toBeNull();
    console.log(`[browser] adapter on ${r!.userAgent}:\n${JSON.stringify(r, null, 1)}`);
    expect(r!.engine.name).toMatch(/swiftshader/i);
    expect(r!.engine.isCpu).toBe(true);
    expect(r!.limits.maxComputeInvocationsPerWorkgroup).toBeGreaterThanOrEqual(256);
  });

  it('compact dtypes in the page: f16 (stored only, without shader-f16), int8 and q4 within their cosine gates of f32, zero-shot top-1 unchanged', async () => {
    const r = await withLog(() =>
      page.evaluate(async () => {
        const { SiglipModel, UrlSource, readSafetensorsFile } = (window as unknown as PageWindow).siglip;
        const base = '/fixtures/siglip2-tiny/';
        const ref = await readSafetensorsFile(new UrlSource(new URL(base, location.href).href), 'reference.safetensors');
        const pv = ref.get('pixel_values')!;
        const ids = ref.get('input_ids')!;
        const inputs = { pixelValues: { data: pv.data as Float32Array, shape: pv.shape }, inputIds: { data: ids.data as Int32Array, shape: ids.shape } };
        const worstCos = (a: Float32Array, b: Float32Array, d: number) => {
          let worst = 1;
          for (let r = 0; r < a.length / d; r++) {
            let ab = 0, aa = 0, bb = 0;
            for (let i = 0; i < d; i++) { const x = a[r * d + i]!, y = b[r * d + i]!; ab += x * y; aa += x * x; bb += y * y; }
            const c = ab / Math.sqrt(aa * bb);
            worst = Number.isNaN(c) ? NaN : Math.min(worst, c);
          }
          return worst;
        };
        const top1 = (x: Float32Array, cols: number) => Array.from({ length: x.length / cols }, (_, r) => {
          let best = 0;
          for (let c = 1; c < cols; c++) if (x[r * cols + c]! > x[r * cols + best]!) best = c;
          return best;
        });
        const f32 = await SiglipModel.load(base);
        const want = await f32.forward(inputs);
        const f32Bytes = f32.weightBytes;
        const hasF16 = f32.engine.hasF16;
        await f32.dispose();
        const T = ids.shape[0]!;
        const out: Array<{ dtype: string; activations: string; image: number; text: number; top1: boolean; ratio: number }> = [];
        for (const dtype of ['f16', 'int8', 'q4'] as const) {
          const m = await SiglipModel.load(base, { dtype });
          try {
            const got = await m.forward(inputs);
            out.push({
              dtype, activations: m.activations, ratio: m.weightBytes / f32Bytes,
              image: worstCos(got.image_embeds!.data, want.image_embeds!.data, m.embedDim),
              text: worstCos(got.text_embeds!.data, want.text_embeds!.data, m.embedDim),
              top1: top1(got.logits_per_image!.data, T).join() === top1(want.logits_per_image!.data, T).join(),
            });
          } finally {
            await m.dispose();
          }
        }
        return { hasF16, out };
      }),
    );
    console.log(`Chromium (SwiftShader) compact dtypes on siglip2-tiny: ${JSON.stringify(r.out)}`);
    const gate: Record<string, number> = { f16: 0.9999, int8: 0.999, q4: 0.99 };
    for (const x of r.out) {
      expect(x.image, `${x.dtype} image cosine`).toBeGreaterThanOrEqual(gate[x.dtype]!);
      expect(x.text, `${x.dtype} text cosine`).toBeGreaterThanOrEqual(gate[x.dtype]!);
      expect(x.top1, `${x.dtype} zero-shot top-1`).toBe(true);
      expect(x.ratio, `${x.dtype} weight bytes vs f32`).toBeLessThan(x.dtype === 'f16' ? 0.55 : 0.45);
    }
    // SwiftShader has no shader-f16: f16 weights are stored as f16 and computed in f32.
    if (!r.hasF16) expect(r.out[0]!.activations).toBe('f32');
  });
});

describe.each(MODELS)('%s loaded from a base URL in the page', (name) => {
  it('forward() on the fixture inputs equals transformers (float64) within 1e-4', async () => {
    const t0 = performance.now();
    const got = await withLog(() =>
      page.evaluate(async (name) => {
        const w = window as unknown as PageWindow;
        const { SiglipModel, UrlSource, readSafetensorsFile } = w.siglip;
        const base = `/fixtures/${name}/`;
        const t0 = performance.now();
        const model = await SiglipModel.load(base);
        const loadMs = performance.now() - t0;
        try {
          const ref = await readSafetensorsFile(new UrlSource(new URL(base, location.href).href), 'reference.safetensors');
          const pv = ref.get('pixel_values')!;
          const ids = ref.get('input_ids')!;
          const t1 = performance.now();
          const out = await model.forward(
            { pixelValues: { data: pv.data as Float32Array, shape: pv.shape }, inputIds: { data: ids.data as Int32Array, shape: ids.shape } },
            { hiddenStates: true },
          );
          const forwardMs = performance.now() - t1;
          const tensors: Record<string, { shape: number[]; data: string }> = {};
          for (const [k, t] of Object.entries(out)) tensors[k] = { shape: t.shape, data: w.toB64(new Float32Array(t.data)) };
          return { tensors, loadMs, forwardMs, adapter: model.engine.info.name };
        } finally {
          await model.dispose();
        }
      }, name),
    );
    const ref = await loadReference(name);
    const lines: string[] = [];
    const must = ['image_embeds', 'text_embeds', 'logits_per_image', 'vision.last_hidden_state', 'text.pooler_output'];
    for (const k of must) expect(Object.keys(got.tensors), `output ${k}`).toContain(k);
    let compared = 0;
    let worst = { k: '', rel: 0 };
    for (const [k, r] of ref.outputs) {
      const t = got.tensors[k];
      expect(t, `output ${k}`).toBeDefined();
      expect(t!.shape, `shape of ${k}`).toEqual(r.shape);
      const d = diff(f32FromB64(t!.data), r.data);
      if (must.includes(k)) lines.push(`  ${k.padEnd(26)} rel ${d.rel.toExponential(2)}  max|Δ| ${d.maxAbs.toExponential(2)}`);
      expect(d.nan, `${name} ${k}: non-finite values`).toBe(0);
      expect(d.rel, `${name} ${k}: relative error`).toBeLessThanOrEqual(TOL.modelF32);
      if (d.rel > worst.rel) worst = { k, rel: d.rel };
      compared++;
    }
    console.log(
      `[browser] ${name} on ${got.adapter}: load ${got.loadMs.toFixed(0)} ms, forward (2 images, 3 texts, hidden states) ` +
        `${got.forwardMs.toFixed(0)} ms, test ${(performance.now() - t0).toFixed(0)} ms; ${compared} outputs within 1e-4, ` +
        `worst ${worst.k} rel ${worst.rel.toExponential(2)}\n${lines.join('\n')}`,
    );
  });
});

describe('siglip-tiny: classify and browser files', () => {
  let nodeScores: { label: string; score: number }[];

  beforeAll(async () => {
    nodeScores = await nodeCatsScores();
  });

  it('classify(cats.png as a Blob) gives 3 sorted scores in (0, 1), equal to Node within 1e-5', async () => {
    const got = await withLog(() =>
      page.evaluate(async (labels) => {
        const { SiglipModel } = (window as unknown as PageWindow).siglip;
        const model = await SiglipModel.load('/fixtures/siglip-tiny/');
        try {
          const blob = await (await fetch('/fixtures/images/cats.png')).blob();
          const t0 = performance.now();
          const scores = await model.classify(blob, labels);
          return { scores, ms: performance.now() - t0 };
        } finally {
          await model.dispose();
        }
      }, LABELS),
    );
    console.log(`[browser] classify(cats.png, 3 labels) ${got.ms.toFixed(0)} ms: ${JSON.stringify(got.scores)}\n[node]    ${JSON.stringify(nodeScores)}`);
    expect(got.scores.map((s) => s.label).sort()).toEqual([...LABELS].sort());
    for (let i = 0; i < 3; i++) {
      const s = got.scores[i]!;
      expect(s.score).toBeGreaterThan(0);
      expect(s.score).toBeLessThan(1);
      if (i > 0) expect(s.score).toBeLessThanOrEqual(got.scores[i - 1]!.score);
      const n = nodeScores.find((x) => x.label === s.label)!;
      expect(Math.abs(s.score - n.score), `${s.label}: browser ${s.score} vs node ${n.score}`).toBeLessThanOrEqual(1e-5);
    }
  });

  it('load({ config, weights, tokenizer, preprocessor }) from objects and Blobs works', async () => {
    const got = await withLog(() =>
      page.evaluate(async (labels) => {
        const { SiglipModel } = (window as unknown as PageWindow).siglip;
        const get = (f: string) => fetch(`/fixtures/siglip-tiny/${f}`).then((r) => r.blob());
        const config = JSON.parse(await (await get('config.json')).text());
        const preprocessor = JSON.parse(await (await get('preprocessor_config.json')).text());
        const weights = new File([await get('model.safetensors')], 'model.safetensors');
        const tokenizer = new File([await get('spiece.model')], 'spiece.model');
        const model = await SiglipModel.load({ config, weights, tokenizer, preprocessor });
        try {
          const scores = await model.classify(await get('../images/cats.png'), labels);
          return { scores, description: model.source.description, ids: Array.from(model.tokenize(['a photo of 2 cats']).inputIds) };
        } finally {
          await model.dispose();
        }
      }, LABELS),
    );
    expect(got.description).toBe('browser files');
    // The tokenizer came from the Blob: the fixture's ids of "a photo of 2 cats" (reference.json).
    const refIds = JSON.parse(readFileSync(join(FIXTURES, 'siglip-tiny', 'reference.json'), 'utf8')) as { texts: string[]; input_ids: number[][] };
    expect(refIds.texts[0]).toBe('a photo of 2 cats');
    expect(got.ids).toEqual(refIds.input_ids[0]);
    for (const s of got.scores) {
      const n = nodeScores.find((x) => x.label === s.label)!;
      expect(Math.abs(s.score - n.score), s.label).toBeLessThanOrEqual(1e-5);
    }
  });
});

describe('siglip2-naflex-tiny in the page (NaFlex through the browser bundle)', () => {
  it('preprocess gives the fixture pixels, mask and grids; forward equals transformers (float64) within 1e-4', async () => {
    const got = await withLog(() =>
      page.evaluate(async () => {
        const w = window as unknown as PageWindow;
        const { SiglipModel, UrlSource, readSafetensorsFile } = w.siglip;
        const base = '/fixtures/siglip2-naflex-tiny/';
        const model = await SiglipModel.load(base, { lowerCase: false });
        try {
          const blobs = await Promise.all(['cats.png', 'cats_crop_tall_200x480.png'].map(async (f) => (await fetch(`/fixtures/images/${f}`)).blob()));
          const p = await model.preprocess(blobs);
          const ref = await readSafetensorsFile(new UrlSource(new URL(base, location.href).href), 'reference.safetensors');
          const t = (k: string) => ref.get(k)!;
          const out = await model.forward({
            pixelValues: { data: t('pixel_values').data as Float32Array, shape: t('pixel_values').shape },
            pixelAttentionMask: { data: t('pixel_attention_mask').data as Int32Array, shape: t('pixel_attention_mask').shape },
            spatialShapes: { data: t('spatial_shapes').data as Int32Array, shape: t('spatial_shapes').shape },
            inputIds: { data: t('input_ids').data as Int32Array, shape: t('input_ids').shape },
          });
          const ids = model.tokenize(['a photo of 2 cats']).inputIds;
          const tensors: Record<string, { shape: number[]; data: string }> = {};
          for (const [k, v] of Object.entries(out)) tensors[k] = { shape: v.shape, data: w.toB64(new Float32Array(v.data)) };
          return { pixels: w.toB64(p.pixelValues), mask: Array.from(p.pixelAttentionMask!), grids: Array.from(p.spatialShapes!), shape: p.shape, tensors, ids: Array.from(ids.subarray(0, 8)) };
        } finally {
          await model.dispose();
        }
      }),
    );
    const ref = await loadReference('siglip2-naflex-tiny');
    expect(got.shape).toEqual([2, 64, 192]);
    expect(got.grids).toEqual([7, 9, 12, 5]);
    expect(got.mask).toEqual(Array.from(ref.inputs.pixelAttentionMask!.data));
    expect(diff(f32FromB64(got.pixels), ref.inputs.pixelValues.data).maxAbs).toBe(0);
    expect(got.ids).toEqual(Array.from(ref.inputs.inputIds.data.subarray(0, 8)));
    for (const k of ['image_embeds', 'text_embeds', 'logits_per_image', 'vision.last_hidden_state', 'vision.pooler_output']) {
      const d = diff(f32FromB64(got.tensors[k]!.data), ref.outputs.get(k)!.data);
      expect(d.nan, k).toBe(0);
      expect(d.rel, `naflex in the browser: ${k}`).toBeLessThanOrEqual(TOL.modelF32);
    }
  });
});
