/**
 * SigLIP 2 through the public API: fixed resolution (siglip2-tiny: SiglipModel's forward, Gemma tokenizer, bilinear
 * preprocessing). The forward pass itself is in parity.test.ts; here, what is around it: pixel values and ids as the
 * fixtures give them, and the calls users make.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { SiglipModel } from '../../src/model/siglip-model.js';
import { CheckpointError } from '../../src/model/errors.js';
import { GemmaTokenizer } from '../../src/model/tokenizer/index.js';
import { memorySource } from '../helpers/fuzz.js';
import { expectClose, TOL } from '../helpers/compare.js';
import { testEngine } from '../helpers/engine.js';
import { FIXTURES, loadReference } from '../helpers/fixtures.js';

const engine = await testEngine();
const IMAGES = join(FIXTURES, 'images');

describe('siglip2-tiny (fixed resolution, model_type "siglip")', async () => {
  const ref = await loadReference('siglip2-tiny');
  const meta = JSON.parse(readFileSync(join(FIXTURES, 'siglip2-tiny', 'reference.json'), 'utf8')) as { texts: string[] };
  const model = await SiglipModel.load(join(FIXTURES, 'siglip2-tiny'), { engine });
  const asWritten = await SiglipModel.load(join(FIXTURES, 'siglip2-tiny'), { engine, lowerCase: false });
  afterAll(async () => {
    await model.dispose();
    await asWritten.dispose();
  });

  test('preprocess (bilinear, resample 2) gives the fixture pixel_values exactly', async () => {
    const { pixelValues, shape } = await model.preprocess([join(IMAGES, 'cats.png'), join(IMAGES, 'noise_80x60.png')]);
    expect(shape).toEqual(ref.inputs.pixelValues.shape);
    let worst = 0;
    for (let i = 0; i < pixelValues.length; i++) worst = Math.max(worst, Math.abs(pixelValues[i]! - ref.inputs.pixelValues.data[i]!));
    expect(worst).toBe(0);
  });

  test('tokenize: the Gemma tokenizer; ids as written equal the fixture, lower-cased by default', () => {
    expect(model.tokenizer).toBeInstanceOf(GemmaTokenizer);
    expect(model.tokenizer.lowerCase).toBe(true);
    expect(asWritten.tokenizer.lowerCase).toBe(false);
    const { inputIds, shape } = asWritten.tokenize(meta.texts);
    expect(shape).toEqual([4, 64]);
    expect(Array.from(inputIds)).toEqual(Array.from(ref.inputs.inputIds.data));
    // The third text has capitals: lower-casing changes its ids, and only its.
    const lower = model.tokenize(meta.texts).inputIds;
    const row = (a: Int32Array, i: number) => Array.from(a.subarray(i * 64, (i + 1) * 64));
    expect(row(lower, 0)).toEqual(row(inputIds, 0));
    expect(row(lower, 2)).not.toEqual(row(inputIds, 2));
    expect(row(lower, 2)).toEqual(row(asWritten.tokenize([meta.texts[2]!.toLowerCase()]).inputIds, 0));
  });

  test('embedImages / embedTexts equal the forward pass on the fixture inputs', async () => {
    const img = await asWritten.embedImages([join(IMAGES, 'cats.png'), join(IMAGES, 'noise_80x60.png')]);
    expectClose(img, ref.outputs.get('image_embeds')!.data, TOL.modelF32, 'image_embeds');
    const txt = await asWritten.embedTexts(meta.texts);
    expectClose(txt, ref.outputs.get('text_embeds')!.data, TOL.modelF32, 'text_embeds');
  });

  test('classify: one score per label, sigmoid of the logits, best first', async () => {
    const out = await model.classify(join(IMAGES, 'cats.png'), ['cats', 'dogs', 'a remote']);
    expect(out.map((r) => r.label).sort()).toEqual(['a remote', 'cats', 'dogs']);
    for (const r of out) expect(r.score > 0 && r.score < 1).toBe(true);
    expect(out[0]!.score).toBeGreaterThanOrEqual(out[2]!.score);
  });
});

describe('siglip2-naflex-tiny (NaFlex, model_type "siglip2")', async () => {
  const ref = await loadReference('siglip2-naflex-tiny');
  const dir = join(FIXTURES, 'siglip2-naflex-tiny');
  const model = await SiglipModel.load(dir, { engine, lowerCase: false });
  const images = [join(IMAGES, 'cats.png'), join(IMAGES, 'cats_crop_tall_200x480.png')];
  const naflexInputs = () => ({
    pixelValues: ref.inputs.pixelValues,
    pixelAttentionMask: ref.inputs.pixelAttentionMask!,
    spatialShapes: ref.inputs.spatialShapes!,
    inputIds: ref.inputs.inputIds,
  });
  afterAll(() => model.dispose());

  test('Siglip2ImageProcessor: pixel_values, pixel_attention_mask and spatial_shapes exactly as the fixture (two aspect ratios)', async () => {
    const p = await model.preprocess(images);
    expect(p.shape).toEqual([2, 64, 192]);
    expect(Array.from(p.spatialShapes!)).toEqual([7, 9, 12, 5]);
    expect(Array.from(p.pixelAttentionMask!)).toEqual(Array.from(ref.inputs.pixelAttentionMask!.data));
    let worst = 0;
    for (let i = 0; i < p.pixelValues.length; i++) worst = Math.max(worst, Math.abs(p.pixelValues[i]! - ref.inputs.pixelValues.data[i]!));
    expect(worst).toBe(0);
  });

  test('every output and every hidden state (padding rows included) within 1e-4 of transformers', async () => {
    const out = await model.forward(naflexInputs(), { hiddenStates: true });
    const names = [...ref.outputs.keys()];
    expect(names).toContain('vision.hidden_states.2');
    for (const k of names) {
      const r = ref.outputs.get(k)!;
      expect(out[k]?.shape, `shape of ${k}`).toEqual(r.shape);
      expectClose(out[k]!.data, r.data, TOL.modelF32, `naflex ${k}`);
    }
  });

  test('the position table resized per image equals transformers\' (bilinear, antialiased; padding rows get row 0)', async () => {
    const { resizePositions } = await import('../../src/model/position-resize.js');
    const { readRawSafetensors } = await import('../helpers/fixtures.js');
    const raw = readRawSafetensors(join(dir, 'model.safetensors')).get('vision_model.embeddings.position_embedding.weight')!;
    const table = new Float32Array(raw.bytes.slice().buffer);
    const { readSafetensors } = await import('../helpers/safetensors-read.js');
    const want = readSafetensors(join(dir, 'reference_f64.safetensors'))['vision.position_embeddings_resized']!;
    const got = new Float32Array(2 * 64 * 64);
    resizePositions(table, 8, 64, 7, 9, 64, got, 0);
    resizePositions(table, 8, 64, 12, 5, 64, got, 64 * 64);
    expectClose(got, want.data, 1e-6, 'position_embeddings_resized');
  });

  test('passes of one image give the same outputs as the mixed batch', async () => {
    const single = await SiglipModel.load(dir, { engine, batch: 1, towers: ['vision'] });
    try {
      const { inputIds: _ids, ...vision } = naflexInputs();
      const out = await single.forward(vision);
      for (const k of ['image_embeds', 'vision.last_hidden_state']) expectClose(out[k]!.data, ref.outputs.get(k)!.data, TOL.modelF32, `batch 1 ${k}`);
    } finally {
      await single.dispose();
    }
  });

  test('maxNumPatches per call: the image keeps its aspect ratio within the budget; embeddings agree with forward()', async () => {
    for (const n of [16, 36, 100]) {
      const p = await model.preprocess(images, { maxNumPatches: n });
      expect(p.shape).toEqual([2, n, 192]);
      for (let b = 0; b < 2; b++) {
        const [h, w] = [p.spatialShapes![2 * b]!, p.spatialShapes![2 * b + 1]!];
        expect(h * w).toBeLessThanOrEqual(n);
        expect(p.pixelAttentionMask!.subarray(b * n, (b + 1) * n).reduce((a, x) => a + x, 0)).toBe(h * w);
      }
      // cats.png is wider than tall, the crop taller than wide.
      expect(p.spatialShapes![1]! >= p.spatialShapes![0]!).toBe(true);
      expect(p.spatialShapes![2]! > p.spatialShapes![3]!).toBe(true);
      const emb = await model.embedImages(images, { maxNumPatches: n });
      const out = await model.forward({ pixelValues: { data: p.pixelValues, shape: p.shape }, pixelAttentionMask: { data: p.pixelAttentionMask!, shape: [2, n] }, spatialShapes: { data: p.spatialShapes!, shape: [2, 2] } });
      expectClose(emb, out.image_embeds!.data, 1e-6, `embedImages at ${n} patches`);
    }
    const r = await model.classify(images[1]!, ['a cat', 'a dog'], { maxNumPatches: 49 });
    expect(r).toHaveLength(2);
  });

  test.runIf(engine.hasF16)('f16: embeddings and logits within 1e-2', async () => {
    const half = await SiglipModel.load(dir, { engine, dtype: 'f16', lowerCase: false });
    try {
      const out = await half.forward(naflexInputs());
      for (const k of ['image_embeds', 'text_embeds', 'logits_per_image']) expectClose(out[k]!.data, ref.outputs.get(k)!.data, TOL.f16, `naflex f16 ${k}`);
    } finally {
      await half.dispose();
    }
  });

  test('inputs that do not fit are refused with what is wrong', async () => {
    const { pixelValues, pixelAttentionMask, spatialShapes } = naflexInputs();
    const bad = async (x: object, re: RegExp) => expect(model.forward(x as never)).rejects.toThrow(re);
    await bad({ pixelValues }, /needs pixel_attention_mask \[B, L\] and spatial_shapes/);
    await bad({ pixelValues: { data: new Float32Array(2 * 3 * 8 * 8), shape: [2, 3, 8, 8] } }, /takes \[B, L, 192\]/);
    const holes = Int32Array.from(pixelAttentionMask.data);
    holes[5] = 0;
    await bad({ pixelValues, pixelAttentionMask: { data: holes, shape: [2, 64] }, spatialShapes }, /pixel_attention_mask\[0\] is not ones then zeros/);
    await bad({ pixelValues, pixelAttentionMask, spatialShapes: { data: [9, 9, 12, 5], shape: [2, 2] } }, /spatial_shapes\[0\] = \(9, 9\)/);
    await bad({ pixelValues, pixelAttentionMask: { data: new Int32Array(128), shape: [2, 64] }, spatialShapes }, /pixel_attention_mask\[0\] has no real patch/);
    await expect(model.embedImages(images, { maxNumPatches: 0 })).rejects.toThrow(/maxNumPatches must be an integer from 1/);
    const fixed = await SiglipModel.load(join(FIXTURES, 'siglip2-tiny'), { engine, towers: ['vision'] });
    try {
      await expect(fixed.embedImages(images, { maxNumPatches: 64 })).rejects.toThrow(/maxNumPatches applies to NaFlex models/);
    } finally {
      await fixed.dispose();
    }
  });
});

describe('SigLIP 2 checkpoints the engine cannot run are refused up front, naming the field', () => {
  const files = (dir: string) => Object.fromEntries(readdirSync(join(FIXTURES, dir)).filter((f) => !f.startsWith('reference')).map((f) => [f, new Uint8Array(readFileSync(join(FIXTURES, dir, f)))]));
  const json = (bytes: Uint8Array) => JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
  const enc = (x: unknown) => new TextEncoder().encode(JSON.stringify(x));
  async function refused(f: Record<string, Uint8Array>, field: string, re: RegExp) {
    const before = engine.stats.liveBuffers;
    const e = await SiglipModel.load(memorySource(f), { engine }).then(
      async (m) => (await m.dispose(), null),
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(CheckpointError);
    expect((e as CheckpointError).field).toBe(field);
    expect((e as Error).message).toMatch(re);
    expect(engine.stats.liveBuffers, 'nothing left allocated').toBe(before);
  }

  test('model_type, num_patches, patch_size, processor type and tokenizer class', async () => {
    const nf = files('siglip2-naflex-tiny');
    const fx = files('siglip2-tiny');
    const cfg = json(nf['config.json']!);
    await refused({ ...nf, 'config.json': enc({ ...cfg, model_type: 'clip' }) }, 'model_type', /"clip" is not supported \(this engine runs "siglip".*"siglip2": SigLIP 2 NaFlex\)/);
    const vc = cfg.vision_config as Record<string, unknown>;
    await refused({ ...nf, 'config.json': enc({ ...cfg, vision_config: { ...vc, num_patches: 48 } }) }, 'vision_config.num_patches', /num_patches = 48 is not a square number/);
    await refused({ ...nf, 'config.json': enc({ ...cfg, vision_config: { ...vc, num_patches: 100 } }) }, 'vision_config.num_patches', /num_patches = 100, but .*position_embedding\.weight has shape \[64, 64\]/);
    const pre4 = enc({ ...json(nf['preprocessor_config.json']!), patch_size: 4 });
    await refused({ ...nf, 'config.json': enc({ ...cfg, vision_config: { ...vc, patch_size: 4 } }), 'preprocessor_config.json': pre4 }, 'vision_config.patch_size', /patch_size 4 \(patches of 4·4·3 = 48 values\), but .*patch_embedding\.weight has shape \[64, 192\]/);
    await refused({ ...nf, 'preprocessor_config.json': enc({ ...json(nf['preprocessor_config.json']!), patch_size: 16 }) }, 'patch_size', /preprocessor_config\.json: patch_size 16 differs from the model's patch_size 8/);
    await refused({ ...fx, 'preprocessor_config.json': nf['preprocessor_config.json']! }, 'image_processor_type', /"Siglip2ImageProcessor" is NaFlex preprocessing, but config\.json's model_type is "siglip"/);
    await refused({ ...fx, 'tokenizer_config.json': enc({ ...json(fx['tokenizer_config.json']!), tokenizer_class: 'LlamaTokenizer' }) }, 'tokenizer_class', /tokenizer_class "LlamaTokenizer" is not supported/);
  });
});

describe('SigLIP 2 by hub id (the mock hub), as google/siglip2-* load', () => {
  test('both kinds load by id, download what they use (tokenizer.model, not tokenizer.json) and embed like the directory', async () => {
    const { startMockHub, clearHfEnv } = await import('../helpers/mock-hub.js');
    const { mkdtempSync, rmSync, readdirSync: ls } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const restore = clearHfEnv();
    const hub = await startMockHub({ models: { 'google/siglip2-tiny': join(FIXTURES, 'siglip2-tiny'), 'google/siglip2-naflex-tiny': join(FIXTURES, 'siglip2-naflex-tiny') } });
    const cacheDir = mkdtempSync(join(tmpdir(), 'siglip2-hub-'));
    try {
      for (const id of ['google/siglip2-tiny', 'google/siglip2-naflex-tiny']) {
        const byId = await SiglipModel.load(id, { engine, endpoint: hub.endpoint, cacheDir });
        const byDir = await SiglipModel.load(join(FIXTURES, id.split('/')[1]!), { engine });
        try {
          const text = ['A Photo of 2 Cats'];
          expect(Array.from(byId.tokenize(text).inputIds)).toEqual(Array.from(byDir.tokenize(text).inputIds));
          expectClose(await byId.embedImages([join(IMAGES, 'cats.png')]), await byDir.embedImages([join(IMAGES, 'cats.png')]), 1e-6, `${id} image`);
          const snap = join(cacheDir, `models--google--${id.split('/')[1]}`, 'snapshots');
          const files = ls(join(snap, ls(snap)[0]!));
          expect(files).toContain('tokenizer.model');
          expect(files).not.toContain('tokenizer.json');
        } finally {
          await byId.dispose();
          await byDir.dispose();
        }
      }
    } finally {
      await hub.close();
      restore();
      rmSync(cacheDir, { recursive: true, force: true });
    }
  });
});
