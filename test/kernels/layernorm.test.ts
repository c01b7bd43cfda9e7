import { describe, expect, test } from 'vitest';
import { layerNormRef } from '../../src/kernels/layernorm.js';
import { expectClose, TOL } from '../helpers/compare.js';
import { testEngine } from '../helpers/engine.js';
import { makeRng, randn, testSeed } from '../helpers/random.js';

const engine = await testEngine();
const rng = makeRng(testSeed('layerNorm'));

async function check(shape: number[], opts: { offset?: number; eps?: number; wg?: number; subgroups?: boolean; dtype?: 'f32' | 'f16' } = {}) {
  const D = shape[shape.length - 1]!;
  const n = shape.reduce((a, b) => a * b, 1);
  const x = randn(rng, n);
  if (opts.offset) for (let i = 0; i < n; i++) x[i] += opts.offset;
  const gamma = randn(rng, D, 0.1).map((v) => v + 1);
  const beta = randn(rng, D, 0.05);
  const dtype = opts.dtype ?? 'f32';
  const tx = engine.tensor(x, shape, dtype);
  const tg = engine.tensor(gamma, [D], dtype);
  const tb = engine.tensor(beta, [D], dtype);
  const config = opts.wg ? { wg: opts.wg, subgroups: opts.subgroups ?? false } : undefined;
  const y = engine.ops.layerNorm(tx, tg, tb, { eps: opts.eps ?? 1e-6, config });
  expect(y.shape).toEqual(shape);
  const out = await y.read();
  const ref = layerNormRef(await tx.read(), await tg.read(), await tb.read(), D, opts.eps ?? 1e-6);
  for (const t of [tx, tg, tb, y]) t.dispose();
  return { out, ref };
}

describe('layerNorm vs float64 reference', () => {
  const shapes = [[1, 1], [7, 64], [2, 63, 65], [577, 1024], [3, 1000], [5, 7], [1, 4096]];
  for (const shape of shapes) {
    test(`default config ${JSON.stringify(shape)}`, async () => {
      const { out, ref } = await check(shape);
      // D = 1: x − mean is exactly 0, so the output is beta: still compared exactly.
      expectClose(out, ref, TOL.kernelF32, `layerNorm ${JSON.stringify(shape)}`);
    });
  }

  test('rows with a large mean keep their precision (two-pass variance)', async () => {
    const { out, ref } = await check([9, 768], { offset: 1000 });
    expectClose(out, ref, 1e-4, 'layerNorm offset 1000');
  });

  for (const wg of [32, 64, 256]) {
    for (const subgroups of [false, true]) {
      test.runIf(!subgroups || engine.features.has('subgroups'))(`workgroup ${wg}, subgroups ${subgroups}`, async () => {
        for (const shape of [[3, 1], [5, 33], [4, 577], [2, 1024]]) {
          const { out, ref } = await check(shape, { wg, subgroups });
          expectClose(out, ref, TOL.kernelF32, `layerNorm wg ${wg} sg ${subgroups} ${JSON.stringify(shape)}`);
        }
      });
    }
  }

  test.runIf(engine.hasF16)('f16', async () => {
    const { out, ref } = await check([65, 96], { dtype: 'f16' });
    expectClose(out, ref, TOL.f16, 'layerNorm f16');
  });

  test('weight of the wrong size and bad eps are refused', () => {
    const x = engine.tensor(new Float32Array(12), [3, 4]);
    const g = engine.tensor(new Float32Array(3), [3]);
    const b = engine.tensor(new Float32Array(4), [4]);
    expect(() => engine.ops.layerNorm(x, g, b)).toThrow(/weight \[3\].*must have 4 elements/);
    expect(() => engine.ops.layerNorm(x, b, b, { eps: -1 })).toThrow(/eps/);
  });
});
