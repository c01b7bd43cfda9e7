/**
 * Compact weights at full size: SigLIP-large-patch16-384 and SigLIP 2 base-patch16-256 (its 256k vocabulary paged
 * in every format) on synthetic weights shaped as trained ones are (per-row scale spread, outlier input channels,
 * heavy tails: synthetic.ts), batch 1. Image and text embeddings of f16 (stored packed, f32 compute: what an adapter
 * without shader-f16 runs), int8 and q4 against f32: cosine ≥ 0.9999 / 0.999 / 0.99, never NaN; device memory
 * shrinks as the formats say. Slow on lavapipe (a SigLIP-large image pass is ~16 s): timings and cosines printed.
 */
import { describe, expect, test } from 'vitest';
import { SiglipModel, type LoadOptions } from '../../src/model/siglip-model.js';
import { presetConfig, presetPreprocessorConfig } from '../../src/model/presets.js';
import { SyntheticSource } from '../../src/model/synthetic.js';
import { testEngine } from '../helpers/engine.js';
import { COSINE_GATE, worstCosine } from '../helpers/cosine.js';
import { makeRng, randInt, randn, testSeed } from '../helpers/random.js';

// No shader-f16 requested: f16 weights are stored as packed words and computed in f32 (SwiftShader's case).
const engine = await testEngine({ features: ['subgroups', 'timestamp-query'] });
const rng = makeRng(testSeed('compact-fidelity-full'));

const PRESETS = ['siglip-large-patch16-384', 'siglip2-base-patch16-256'] as const;
const DTYPES: Array<{ dtype: LoadOptions['dtype']; gate: number; maxRatio: number }> = [
  // Device bytes of all weights vs f32: matrices shrink to 1/2, ~1/4 and ~1/7; norms, biases, positions stay f32.
  { dtype: 'f16', gate: COSINE_GATE.f16, maxRatio: 0.52 },
  { dtype: 'int8', gate: COSINE_GATE.int8, maxRatio: 0.27 },
  // 4-bit: 0.93, not the fixtures' 0.99. These weights are i.i.d. noise at the element level, and for such a source
  // no 4-bit code does better than a relative RMS error of 2^−4 (Gaussian rate–distortion: D = σ²·2^−2R); RTN in
  // groups of 32 gives ~0.09. Through 12–24 layers of a network that is not trained to be robust the embedding's
  // error grows to ~0.3 (cosine 1 − ε²/2 ≈ 0.95): SigLIP-large text 0.945, SigLIP 2 base text 0.956, images
  // 0.985. int8 on the same weights: 0.9995. The 0.99 for 4-bit holds on the fixtures (compact-fidelity).
  // bench/q4-sensitivity.py measures it matrix by matrix: any one of v+o, fc1, fc2 in 4 bits already costs > 0.01,
  // and 5-bit codes everywhere give 0.989.
  { dtype: 'q4', gate: 0.93, maxRatio: 0.17 },
];

describe.each(PRESETS)('%s (synthetic weights): compact dtypes vs f32, batch 1', (name) => {
  test('image and text embeddings within the cosine gates; memory saved', async () => {
    const source = new SyntheticSource(presetConfig(name), 3, name, presetPreprocessorConfig(name));
    const t0 = performance.now();
    const f32 = await SiglipModel.load(source, { engine, tune: false });
    const v = f32.config.vision;
    const L = f32.config.text.maxPositions;
    const inputs = {
      pixelValues: { data: randn(rng, 3 * v.imageSize * v.imageSize), shape: [1, 3, v.imageSize, v.imageSize] },
      inputIds: { data: Int32Array.from({ length: L }, () => randInt(rng, 0, f32.config.text.vocabSize - 1)), shape: [1, L] },
    };
    let base: Record<string, { data: Float32Array }>;
    const f32Bytes = f32.weightBytes;
    try {
      base = await f32.forward(inputs);
    } finally {
      await f32.dispose();
    }
    const report = [`${name} f32: ${(f32Bytes / 2 ** 20).toFixed(0)} MiB, load + pass ${((performance.now() - t0) / 1000).toFixed(1)} s`];
    for (const { dtype, gate, maxRatio } of DTYPES) {
      const t1 = performance.now();
      const model = await SiglipModel.load(source, { engine, dtype, tune: false });
      try {
        const out = await model.forward(inputs);
        const cos = (['image_embeds', 'text_embeds'] as const).map((k) => worstCosine(out[k]!.data, base[k]!.data, model.embedDim));
        report.push(`${name} ${dtype}: image cosine ${cos[0]!.toFixed(6)}, text cosine ${cos[1]!.toFixed(6)}, ${(model.weightBytes / 2 ** 20).toFixed(0)} MiB (${(model.weightBytes / f32Bytes).toFixed(3)} of f32), load + pass ${((performance.now() - t1) / 1000).toFixed(1)} s`);
        expect(cos[0], `${name} ${dtype} image embedding cosine`).toBeGreaterThanOrEqual(gate);
        expect(cos[1], `${name} ${dtype} text embedding cosine`).toBeGreaterThanOrEqual(gate);
        expect(model.weightBytes / f32Bytes).toBeLessThan(maxRatio);
      } finally {
        await model.dispose();
        console.log(report.join('\n'));
        report.length = 0;
      }
    }
  }, 600_000);
});
