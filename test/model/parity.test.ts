/**
 * The whole model against HF transformers in float64 (the fixtures): every output of SiglipModel, and every layer's
 * hidden state so that a mismatch points at its layer.
 */
import { describe, expect, test } from 'vitest';
import { SiglipModel } from '../../src/model/siglip-model.js';
import { expectClose, TOL } from '../helpers/compare.js';
import { worstCosine } from '../helpers/cosine.js';
import { testEngine } from '../helpers/engine.js';
import { FIXTURES, loadReference, MODELS } from '../helpers/fixtures.js';

const engine = await testEngine();

describe.each(MODELS)('%s: fp32 forward matches transformers (float64)', (name) => {
  test('every output and every hidden state within 1e-4', async () => {
    const ref = await loadReference(name);
    const model = await SiglipModel.load(`${FIXTURES}/${name}`, { engine });
    try {
      const out = await model.forward(ref.inputs, { hiddenStates: true });
      const names = [...ref.outputs.keys()];
      expect(names.length).toBeGreaterThan(10);
      for (const k of names) {
        const r = ref.outputs.get(k)!;
        expect(out[k], `output ${k}`).toBeDefined();
        expect(out[k]!.shape, `shape of ${k}`).toEqual(r.shape);
        expectClose(out[k]!.data, r.data, TOL.modelF32, `${name} ${k}`);
      }
    } finally {
      await model.dispose();
    }
  });

  test("weights stored transposed ([in, out], the 'kn' layout CPU adapters prefer) give the same outputs", async () => {
    const ref = await loadReference(name);
    for (const weightLayout of ['kn', 'nk'] as const) {
      const model = await SiglipModel.load(`${FIXTURES}/${name}`, { engine, weightLayout, tune: false });
      try {
        const out = await model.forward(ref.inputs);
        for (const k of ['image_embeds', 'text_embeds', 'logits_per_text', 'vision.last_hidden_state', 'text.pooler_output']) {
          expectClose(out[k]!.data, ref.outputs.get(k)!.data, TOL.modelF32, `${name} ${weightLayout}: ${k}`);
        }
      } finally {
        await model.dispose();
      }
    }
  });

  test('batches split into passes of 1 give the same outputs', async () => {
    const ref = await loadReference(name);
    const model = await SiglipModel.load(`${FIXTURES}/${name}`, { engine, batch: 1 });
    try {
      const out = await model.forward(ref.inputs);
      for (const k of ['image_embeds', 'text_embeds', 'logits_per_image', 'vision.last_hidden_state', 'text.last_hidden_state']) {
        expectClose(out[k]!.data, ref.outputs.get(k)!.data, TOL.modelF32, `${name} batch 1: ${k}`);
      }
    } finally {
      await model.dispose();
    }
  });

  test.runIf(engine.hasF16)('f16 path: embeddings within cosine 0.9999 of fp32, no NaN', async () => {
    const ref = await loadReference(name);
    const model = await SiglipModel.load(`${FIXTURES}/${name}`, { engine, dtype: 'f16' });
    try {
      const out = await model.forward(ref.inputs);
      for (const k of ['image_embeds', 'text_embeds']) {
        const r = ref.outputs.get(k)!;
        expectClose(out[k]!.data, r.data, TOL.f16, `${name} f16 ${k}`);
        expect(worstCosine(out[k]!.data, r.data, r.shape[1]!), `${name} f16 ${k} cosine`).toBeGreaterThanOrEqual(0.9999);
      }
      expectClose(out.logits_per_image!.data, ref.outputs.get('logits_per_image')!.data, TOL.f16, `${name} f16 logits`);
    } finally {
      await model.dispose();
    }
  });
});
