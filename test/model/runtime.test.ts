/** SiglipModel as a runtime: plans reused, concurrent calls queued, bad inputs refused, everything disposed. */
import { describe, expect, test } from 'vitest';
import { SiglipModel } from '../../src/model/siglip-model.js';
import { expectClose, TOL } from '../helpers/compare.js';
import { testEngine } from '../helpers/engine.js';
import { FIXTURES, loadReference } from '../helpers/fixtures.js';

const engine = await testEngine({ poison: false });
const ref = await loadReference('siglip-odd');
const dir = `${FIXTURES}/siglip-odd`;

describe('SiglipModel runtime', () => {
  test('a second forward pass at a shape creates no buffer, pipeline or bind group', async () => {
    const model = await SiglipModel.load(dir, { engine });
    try {
      await model.forward(ref.inputs);
      const before = { ...engine.stats };
      const out = await model.forward(ref.inputs);
      expect(engine.stats.buffersCreated).toBe(before.buffersCreated);
      expect(engine.stats.pipelinesCreated).toBe(before.pipelinesCreated);
      expect(engine.stats.bindGroupsCreated).toBe(before.bindGroupsCreated);
      expectClose(out.logits_per_text!.data, ref.outputs.get('logits_per_text')!.data, TOL.modelF32, 'second pass');
    } finally {
      await model.dispose();
    }
  });

  test('concurrent calls are queued, not interleaved: each gets its own right answer', async () => {
    const model = await SiglipModel.load(dir, { engine });
    try {
      const img = { pixelValues: ref.inputs.pixelValues };
      const txt = { inputIds: ref.inputs.inputIds };
      const results = await Promise.all([model.forward(img), model.forward(txt), model.forward(ref.inputs), model.forward(txt), model.forward(img)]);
      expectClose(results[0]!.image_embeds!.data, ref.outputs.get('image_embeds')!.data, TOL.modelF32, 'concurrent 0');
      expectClose(results[1]!.text_embeds!.data, ref.outputs.get('text_embeds')!.data, TOL.modelF32, 'concurrent 1');
      expectClose(results[2]!.logits_per_image!.data, ref.outputs.get('logits_per_image')!.data, TOL.modelF32, 'concurrent 2');
      expectClose(results[3]!.text_embeds!.data, ref.outputs.get('text_embeds')!.data, TOL.modelF32, 'concurrent 3');
      expectClose(results[4]!.image_embeds!.data, ref.outputs.get('image_embeds')!.data, TOL.modelF32, 'concurrent 4');
    } finally {
      await model.dispose();
    }
  });

  test('bad inputs are refused with what is wrong', async () => {
    const model = await SiglipModel.load(dir, { engine });
    try {
      const ids = ref.inputs.inputIds;
      await expect(model.forward({ pixelValues: { data: new Float32Array(3 * 32 * 32), shape: [1, 3, 32, 32] } })).rejects.toThrow(/pixel_values has shape \[1, 3, 32, 32\]; this model takes \[B, 3, 56, 56\]/);
      const bad = ids.data.slice();
      bad[5] = 1000;
      await expect(model.forward({ inputIds: { data: bad, shape: ids.shape } })).rejects.toThrow(/input_ids\[5\] = 1000 is outside the vocabulary \(0\.\.999\)/);
      await expect(model.forward({ inputIds: { data: new Int32Array(14), shape: [1, 14] } })).rejects.toThrow(/14 tokens long; this model takes 1\.\.13/);
      const nan = ref.inputs.pixelValues.data.slice();
      nan[7] = NaN;
      await expect(model.forward({ pixelValues: { data: nan, shape: ref.inputs.pixelValues.shape } })).rejects.toThrow(/pixel_values\[7\] = NaN is not finite/);
      // The model is still usable after refusals.
      const out = await model.forward(ref.inputs);
      expectClose(out.logits_per_image!.data, ref.outputs.get('logits_per_image')!.data, TOL.modelF32, 'after errors');
    } finally {
      await model.dispose();
    }
  });

  test('text and image helpers: tokenize, embed, classify', async () => {
    const model = await SiglipModel.load(dir, { engine });
    try {
      const texts = (await import('../fixtures/siglip-odd/reference.json', { with: { type: 'json' } })).default.texts as string[];
      const tok = model.tokenize(texts);
      expect(Array.from(tok.inputIds)).toEqual(Array.from(ref.inputs.inputIds.data));
      expectClose(await model.embedTexts(texts), ref.outputs.get('text_embeds')!.data, TOL.modelF32, 'embedTexts');
      const image = `${FIXTURES}/images/cats.png`;
      const emb = await model.embedImages([image]);
      expectClose(emb, ref.outputs.get('image_embeds')!.data.slice(0, 96), TOL.modelF32, 'embedImages(cats.png)');
      const res = await model.classify(image, ['2 cats', 'a remote'], { template: '{}' });
      expect(res.map((r) => r.label).sort()).toEqual(['2 cats', 'a remote']);
      expect(res[0]!.score).toBeGreaterThanOrEqual(res[1]!.score);
      for (const r of res) expect(r.score).toBeGreaterThan(0);
      await expect(model.classify(image, [])).rejects.toThrow(/at least one label/);
    } finally {
      await model.dispose();
    }
  });

  test('dispose frees every buffer the model made; calls after it fail clearly', async () => {
    const before = engine.stats.liveBuffers;
    const model = await SiglipModel.load(dir, { engine });
    await model.forward(ref.inputs);
    expect(engine.stats.liveBuffers).toBeGreaterThan(before);
    await model.dispose();
    expect(engine.stats.liveBuffers).toBe(before);
    await expect(model.forward(ref.inputs)).rejects.toThrow(/disposed/);
  });

  test('a model that owns its engine destroys it on dispose', async () => {
    const model = await SiglipModel.load(dir);
    await model.embedTexts(['a photo of 2 cats']);
    await model.dispose();
    expect(model.engine.isDisposed).toBe(true);
    expect(model.engine.stats.liveBuffers).toBe(0);
  });
});
