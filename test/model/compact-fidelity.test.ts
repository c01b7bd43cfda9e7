/**
 * Compact weights on the fixtures (SigLIP, SigLIP 2 fixed and NaFlex): image and text embeddings of every dtype
 * against the same model in f32 — cosine ≥ 0.9999 for f16, ≥ 0.999 for int8, ≥ 0.99 for 4-bit — zero-shot top-1
 * unchanged, never NaN. f16 runs both ways: stored as packed words and computed in f32 (an engine made without
 * shader-f16, as SwiftShader is), and as f16 tensors with f16 activations where the adapter has shader-f16.
 * Full-size checkpoints (synthetic weights): compact-fidelity-full.test.ts.
 */
import { afterAll, describe, expect, test } from 'vitest';
import { SiglipModel, type LoadOptions } from '../../src/model/siglip-model.js';
import { testEngine } from '../helpers/engine.js';
import { FIXTURES, loadReference } from '../helpers/fixtures.js';
import { argmaxRows, COSINE_GATE, worstCosine } from '../helpers/cosine.js';

const engine = await testEngine();
// No shader-f16: what SwiftShader offers (f16 weights are stored packed and computed in f32).
const noF16 = await testEngine({ features: ['subgroups', 'timestamp-query'] });

const MODELS = ['siglip-tiny', 'siglip2-tiny', 'siglip2-naflex-tiny'] as const;

interface Case {
  name: string;
  opts: LoadOptions;
  gate: number;
}
const CASES: Case[] = [
  { name: 'f16 stored packed, f32 compute (no shader-f16)', opts: { engine: noF16, dtype: 'f16' }, gate: COSINE_GATE.f16 },
  ...(engine.hasF16 ? [{ name: 'f16 tensors, f16 activations', opts: { engine, dtype: 'f16' as const }, gate: COSINE_GATE.f16 }] : []),
  { name: 'int8, groups of 128 (the default)', opts: { engine, dtype: 'int8' }, gate: COSINE_GATE.int8 },
  { name: 'int8, a scale per output channel', opts: { engine, dtype: 'int8', group: 0 }, gate: COSINE_GATE.int8 },
  { name: 'int8, groups of 32', opts: { engine, dtype: 'int8', group: 32 }, gate: COSINE_GATE.int8 },
  { name: 'q4, groups of 32', opts: { engine, dtype: 'q4' }, gate: COSINE_GATE.q4 },
  { name: 'q4, groups of 64 (no shader-f16)', opts: { engine: noF16, dtype: 'q4', group: 64 }, gate: COSINE_GATE.q4 },
  ...(engine.hasF16 ? [{ name: 'int8 with f16 activations', opts: { engine, dtype: 'int8' as const, activations: 'f16' as const }, gate: COSINE_GATE.f16Act }] : []),
];

describe.each(MODELS)('%s: compact weights vs f32', async (name) => {
  const ref = await loadReference(name);
  const dir = `${FIXTURES}/${name}`;
  const f32 = await SiglipModel.load(dir, { engine, tune: false });
  const base = await f32.forward(ref.inputs);
  const D = f32.embedDim;
  afterAll(() => f32.dispose());

  test.each(CASES)('$name', async ({ opts, gate, name: what }) => {
    const model = await SiglipModel.load(dir, { ...opts, tune: false });
    try {
      expect(model.dtype).toBe(opts.dtype);
      // Compact weights take less device memory than f32's.
      expect(model.weightBytes).toBeLessThan(f32.weightBytes * (opts.dtype === 'f16' ? 0.55 : 0.45));
      const out = await model.forward(ref.inputs);
      const lines: string[] = [];
      for (const k of ['image_embeds', 'text_embeds'] as const) {
        const c = worstCosine(out[k]!.data, base[k]!.data, D);
        lines.push(`${k} cosine ${c.toFixed(6)}`);
        expect(c, `${name} ${what} ${k}: worst cosine vs f32`).toBeGreaterThanOrEqual(gate);
      }
      // Zero-shot: every image's best text is the one f32 picks.
      const T = ref.inputs.inputIds.shape[0]!;
      expect(argmaxRows(out.logits_per_image!.data, T), `${name} ${what}: zero-shot top-1`).toEqual(argmaxRows(base.logits_per_image!.data, T));
      console.log(`${name} ${what}: ${lines.join(', ')}; weights ${(model.weightBytes / 1024).toFixed(0)} KiB vs f32 ${(f32.weightBytes / 1024).toFixed(0)} KiB`);
    } finally {
      await model.dispose();
    }
  });
});
