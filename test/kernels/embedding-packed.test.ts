/**
 * The embedding lookup on packed tables (f16, int8 per row and per group, 4-bit in groups of 32 and 64): each id's
 * row unpacked in registers plus its position, against float64 on the dequantized table (code · scale, exact), at
 * fp32 tolerance. Odd widths (1, 7, 63, 65: rows padded to whole words and groups), a table split into pages that
 * complete each other's output, outputs poisoned with NaN first (the engine's poison mode), fresh seeded inputs.
 */
import { describe, expect, test } from 'vitest';
import { embeddingRef } from '../../src/kernels/embedding.js';
import { PackedWeight } from '../../src/ops/packed-weight.js';
import { packedLayout, packMatrix, unpackMatrix, type PackedFormat } from '../../src/runtime/weight-format.js';
import { expectClose, TOL } from '../helpers/compare.js';
import { testEngine } from '../helpers/engine.js';
import { makeRng, randInt, randn, testSeed } from '../helpers/random.js';

const engine = await testEngine();
const rng = makeRng(testSeed('embedding-packed'));

const FORMATS: Array<{ format: PackedFormat; group: number }> = [
  { format: 'f16', group: 0 },
  { format: 'int8', group: 0 },
  { format: 'int8', group: 32 },
  { format: 'q4', group: 32 },
  { format: 'q4', group: 64 },
];

describe('embedding lookup on packed tables vs float64', () => {
  for (const { format, group } of FORMATS) {
    test(`${format}${group ? ` g${group}` : ''}: widths 1, 7, 63, 65; one table and two pages`, async () => {
      for (const D of [1, 7, 63, 65]) {
        const V = 37;
        const B = 2;
        const L = 5;
        const values = randn(rng, V * D, 0.05);
        const l = packedLayout(format, V, D, group);
        const { words, scales } = packMatrix(l, values);
        const deq = unpackMatrix(l, words, scales);
        const ids = Int32Array.from({ length: B * L }, (_, i) => (i === 0 ? 0 : i === 1 ? V - 1 : randInt(rng, 0, V - 1)));
        const posv = randn(rng, L * D);
        const tIds = engine.tensor(ids, [B, L], 'i32');
        const pos = engine.tensor(posv, [L, D]);
        const ref = embeddingRef(ids, deq, posv, L, D);
        // One table.
        const whole = PackedWeight.upload(engine, l, words, scales);
        const y = engine.ops.embedding(tIds, whole, pos);
        expectClose(await y.read(), ref, TOL.kernelF32, `${format} g${group} D=${D} one table`);
        // Two pages of rows [0, 20) and [20, 37), each packed on its own (rows are independent).
        const split = 20;
        const pages = [[0, split], [split, V]].map(([a, b]) => {
          const pl = packedLayout(format, b! - a!, D, group);
          const p = packMatrix(pl, values.subarray(a! * D, b! * D));
          return { table: PackedWeight.upload(engine, pl, p.words, p.scales), first: a! };
        });
        const y2 = engine.ops.embedding(tIds, pages, pos);
        expectClose(await y2.read(), ref, TOL.kernelF32, `${format} g${group} D=${D} two pages`);
        for (const t of [tIds, pos, y, y2]) t.dispose();
        whole.dispose();
        for (const p of pages) p.table.dispose();
      }
    });
  }

  test('a table stored [K, N] or disposed is refused, naming it', () => {
    const ids = engine.tensor(new Int32Array([0, 1]), [1, 2], 'i32');
    const pos = engine.tensor(new Float32Array(2 * 8), [2, 8]);
    const kn = PackedWeight.pack(engine, new Float32Array(4 * 8), [4, 8], { format: 'f16', kn: true });
    expect(() => engine.ops.embedding(ids, kn, pos)).toThrow(/stored \[K, N\]; a table is \[rows, D\]/);
    const w = PackedWeight.pack(engine, new Float32Array(4 * 8), [4, 8], { format: 'int8' });
    w.dispose();
    expect(() => engine.ops.embedding(ids, w, pos)).toThrow(/has been disposed/);
    for (const t of [ids, pos]) t.dispose();
    kn.dispose();
  });
});
