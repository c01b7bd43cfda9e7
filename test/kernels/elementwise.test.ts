import { describe, expect, test } from 'vitest';
import { elementwiseRef } from '../../src/kernels/elementwise.js';
import { embeddingRef, checkTokenIds } from '../../src/kernels/embedding.js';
import { patchifyRef } from '../../src/kernels/patchify.js';
import { expectClose, TOL } from '../helpers/compare.js';
import { testEngine } from '../helpers/engine.js';
import { makeRng, randInt, randn, testSeed } from '../helpers/random.js';

const engine = await testEngine();
const rng = makeRng(testSeed('elementwise'));

describe('elementwise ops vs float64 reference', () => {
  for (const n of [1, 7, 63, 65, 577, 4096, 577 * 1024 + 3]) {
    test(`gelu, quick_gelu, add, mul, scale on ${n} elements`, async () => {
      const xd = randn(rng, n, 3);
      const x = engine.tensor(xd, [n]);
      const y = engine.tensor(randn(rng, n), [n]);
      const seen = await x.read();
      const yd = await y.read();
      expectClose(await engine.ops.gelu(x).read(), elementwiseRef('activate', seen, { activation: 'gelu_tanh' }), TOL.kernelF32, `gelu ${n}`);
      expectClose(await engine.ops.quickGelu(x).read(), elementwiseRef('activate', seen, { activation: 'quick_gelu' }), TOL.kernelF32, `quick_gelu ${n}`);
      expectClose(await engine.ops.add(x, y).read(), elementwiseRef('add', seen, { y: yd }), TOL.kernelF32, `add ${n}`);
      expectClose(await engine.ops.mul(x, y).read(), elementwiseRef('mul', seen, { y: yd }), TOL.kernelF32, `mul ${n}`);
      expectClose(await engine.ops.scale(x, -0.125, 2).read(), elementwiseRef('scale', seen, { alpha: -0.125, beta: 2 }), TOL.kernelF32, `scale ${n}`);
    });
  }

  test('gelu and quick_gelu are finite and exact at extremes (no inf/inf)', async () => {
    const xs = new Float32Array([-1e30, -1000, -60, -10, -1e-20, 0, 1e-20, 10, 60, 1000, 1e30]);
    for (const activation of ['gelu_tanh', 'quick_gelu'] as const) {
      const out = await engine.ops.activation(engine.tensor(xs, [xs.length]), activation).read();
      expectClose(out, elementwiseRef('activate', xs, { activation }), 1e-7, `${activation} extremes`);
    }
  });

  test('activations by their Hugging Face names; an unknown one is refused with the list', async () => {
    const x = engine.tensor(new Float32Array([-1, 0.5, 2]), [3]);
    const tanh = await engine.ops.activation(x, 'gelu_pytorch_tanh').read();
    expectClose(await engine.ops.activation(x, 'gelu_new').read(), tanh, 0, 'gelu_new = gelu_pytorch_tanh');
    expect(() => engine.ops.activation(x, 'swish')).toThrow(/unsupported activation "swish" \(supported: .*quick_gelu/);
  });

  test('add broadcasts over leading dimensions; mismatches are refused', async () => {
    const x = engine.tensor(randn(rng, 2 * 3 * 5), [2, 3, 5]);
    const y = engine.tensor(randn(rng, 15), [3, 5]);
    const z = engine.tensor(randn(rng, 5), [1, 5]);
    const xd = await x.read();
    expectClose(await engine.ops.add(x, y).read(), elementwiseRef('add', xd, { y: await y.read() }), TOL.kernelF32, 'add [3,5]');
    expectClose(await engine.ops.add(x, z).read(), elementwiseRef('add', xd, { y: await z.read() }), TOL.kernelF32, 'add [1,5]');
    const bad = engine.tensor(new Float32Array(6), [2, 3]);
    expect(() => engine.ops.add(x, bad)).toThrow(/y must match x or x's trailing dimensions/);
  });
});

describe('embedding and patchify', () => {
  test('token + position embedding at odd sizes', async () => {
    for (const [B, L, V, D] of [[1, 1, 1, 4], [3, 13, 1000, 96], [2, 64, 257, 7]] as const) {
      const ids = Int32Array.from({ length: B * L }, () => randInt(rng, 0, V - 1));
      const table = randn(rng, V * D);
      const pos = randn(rng, (L + 2) * D);
      const out = await engine.ops.embedding(engine.tensor(ids, [B, L]), engine.tensor(table, [V, D]), engine.tensor(pos, [L + 2, D])).read();
      expectClose(out, embeddingRef(ids, table, pos, L, D), TOL.kernelF32, `embedding B${B} L${L} V${V} D${D}`);
    }
  });

  test('a table split into pages of rows (a vocabulary over one binding): same as one table, at odd page sizes', async () => {
    for (const [B, L, V, D, rows] of [[3, 13, 1000, 96, 333], [2, 7, 257, 7, 1], [1, 64, 1536, 64, 767], [2, 5, 10, 3, 9]] as const) {
      // Every page's first and last id, and random ones.
      const edges: number[] = [];
      for (let f = 0; f < V; f += rows) edges.push(f, Math.min(V, f + rows) - 1);
      const ids = Int32Array.from({ length: B * L }, (_, i) => (i < edges.length ? edges[i]! : randInt(rng, 0, V - 1)));
      const table = randn(rng, V * D);
      const pos = randn(rng, L * D);
      const pages: { table: ReturnType<typeof engine.tensor>; first: number }[] = [];
      for (let first = 0; first < V; first += rows) {
        const n = Math.min(rows, V - first);
        pages.push({ table: engine.tensor(table.subarray(first * D, (first + n) * D), [n, D]), first });
      }
      const out = await engine.ops.embedding(engine.tensor(ids, [B, L]), pages, engine.tensor(pos, [L, D])).read();
      expectClose(out, embeddingRef(ids, table, pos, L, D), TOL.kernelF32, `embedding over ${pages.length} pages of ${rows} rows, B${B} L${L} V${V} D${D}`);
    }
  });

  test('token ids outside the vocabulary are named', () => {
    expect(() => checkTokenIds([1, 2, 1000], 1000)).toThrow(/input_ids\[2\] = 1000 is outside the vocabulary \(0..999\)/);
    expect(() => checkTokenIds([-1], 10)).toThrow(/input_ids\[0\] = -1/);
  });

  test('patchify matches im2col order (c, ky, kx)', async () => {
    // The last two drop the pixels past the last whole patch, as Conv2d(stride = patch) does (so400m: 384 / 14).
    for (const [B, C, H, W, P] of [[1, 3, 8, 8, 8], [2, 3, 32, 24, 8], [1, 1, 6, 9, 3], [1, 3, 30, 30, 14], [2, 3, 17, 20, 4]] as const) {
      const x = randn(rng, B * C * H * W);
      const out = await engine.ops.patchify(engine.tensor(x, [B, C, H, W]), P).read();
      expectClose(out, patchifyRef(x, [B, C, H, W], P), 0, `patchify ${[B, C, H, W, P]}`);
    }
    expect(() => engine.ops.patchify(engine.tensor(new Float32Array(3 * 10 * 10), [1, 3, 10, 10]), 11)).toThrow(/no larger than H and W/);
  });
});
