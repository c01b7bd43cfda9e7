import { describe, expect, test } from 'vitest';
import { ATTENTION_CANDIDATES, attentionGeometry, attentionPlan, attentionRef, type AttentionConfig } from '../../src/kernels/attention.js';
import { expectClose, TOL } from '../helpers/compare.js';
import { testEngine } from '../helpers/engine.js';
import { makeRng, randn, testSeed } from '../helpers/random.js';

const engine = await testEngine();
const rng = makeRng(testSeed('attention'));

interface Case {
  B: number;
  Lq: number;
  Lk: number;
  H: number;
  D: number;
  /** q shared by the batch (the pooling head's probe). */
  qBroadcast?: boolean;
}

async function check(c: Case, config?: AttentionConfig, dtype: 'f32' | 'f16' = 'f32', keyLengths?: number[]) {
  const HD = c.H * c.D;
  const qB = c.qBroadcast ? 1 : c.B;
  // Scores of a realistic spread: q·k/√D ~ N(0, 1..4).
  const q = engine.tensor(randn(rng, qB * c.Lq * HD, 1.5), [qB, c.Lq, HD], dtype);
  const kd = randn(rng, c.B * c.Lk * HD);
  const vd = randn(rng, c.B * c.Lk * HD);
  // Keys past an item's length are NaN: a kernel that reads one of them into the result fails.
  if (keyLengths) {
    for (let b = 0; b < c.B; b++) {
      kd.fill(NaN, (b * c.Lk + keyLengths[b]!) * HD, (b + 1) * c.Lk * HD);
      vd.fill(NaN, (b * c.Lk + keyLengths[b]!) * HD, (b + 1) * c.Lk * HD);
    }
  }
  const k = engine.tensor(kd, [c.B, c.Lk, HD], dtype);
  const v = engine.tensor(vd, [c.B, c.Lk, HD], dtype);
  const lens = keyLengths ? engine.tensor(Int32Array.from(keyLengths), [c.B], 'i32') : undefined;
  const y = engine.ops.attention(q, k, v, { heads: c.H, config, keyLengths: lens });
  expect(y.shape).toEqual([c.B, c.Lq, HD]);
  const out = await y.read();
  const ref = attentionRef(await q.read(), await k.read(), await v.read(), attentionGeometry(q.shape, k.shape, v.shape, c.H), undefined, keyLengths);
  for (const t of [q, k, v, y, lens]) t?.dispose();
  return { out, ref };
}

/** Key lengths for a batch: 1, Lk, and random ones in between. */
function lengths(B: number, Lk: number): number[] {
  return Array.from({ length: B }, (_, b) => (b === 0 ? 1 : b === 1 ? Lk : 1 + Math.floor(rng() * Lk)));
}

const name = (c: Case) => `B${c.B} Lq${c.Lq} Lk${c.Lk} H${c.H} D${c.D}${c.qBroadcast ? ' q broadcast' : ''}`;

describe('attention vs float64 reference', () => {
  const cases: Case[] = [
    { B: 1, Lq: 1, Lk: 1, H: 1, D: 16 },
    { B: 2, Lq: 7, Lk: 7, H: 2, D: 16 },
    { B: 1, Lq: 64, Lk: 64, H: 4, D: 32 },
    { B: 1, Lq: 65, Lk: 63, H: 3, D: 32 },
    { B: 2, Lq: 1, Lk: 49, H: 3, D: 32, qBroadcast: true },
    { B: 1, Lq: 33, Lk: 40, H: 2, D: 128 },
    { B: 1, Lq: 17, Lk: 19, H: 2, D: 72 },
    { B: 1, Lq: 9, Lk: 11, H: 3, D: 18 },
    { B: 1, Lq: 5, Lk: 13, H: 1, D: 1 },
  ];
  for (const c of cases) {
    test(`default config ${name(c)}`, async () => {
      const { out, ref } = await check(c);
      expectClose(out, ref, TOL.kernelF32, name(c));
    });
  }

  test("SigLIP-large's shapes: 577 tokens, 16 heads of 64; and the pooling probe over 576", async () => {
    for (const c of [{ B: 1, Lq: 577, Lk: 577, H: 16, D: 64 }, { B: 2, Lq: 1, Lk: 576, H: 16, D: 64, qBroadcast: true }]) {
      const { out, ref } = await check(c);
      expectClose(out, ref, TOL.kernelF32, name(c));
    }
  });

  ATTENTION_CANDIDATES.forEach((cfg, n) => {
    test(`variant wgq ${cfg.wgq} kt ${cfg.kt} sharedKV ${cfg.sharedKV}${cfg.quad ? ' quad' : ''}`, async () => {
      // Small head dims keep lavapipe's compile times down (the default config covers 32, 64, 72 and 128); the
      // first variant also takes the scalar-load path (D not a multiple of 4), which the default covers for quad.
      const shapes: Case[] = [cases[1]!, { B: 1, Lq: 13, Lk: 21, H: 2, D: 20 }, ...(cfg.quad ? [] : [cases[4]!]), ...(n === 0 ? [cases[7]!] : [])];
      for (const c of shapes) {
        const { out, ref } = await check(c, cfg);
        expectClose(out, ref, TOL.kernelF32, `${JSON.stringify(cfg)} ${name(c)}`);
      }
    });
  });

  describe('key lengths (NaFlex padding masked as keys): each item attends to its first keyLengths[b] keys', () => {
    const masked: Case[] = [
      { B: 3, Lq: 7, Lk: 7, H: 2, D: 16 },
      { B: 4, Lq: 65, Lk: 65, H: 3, D: 32 },
      { B: 3, Lq: 1, Lk: 49, H: 3, D: 32, qBroadcast: true },
      { B: 2, Lq: 17, Lk: 19, H: 2, D: 72 },
      { B: 2, Lq: 9, Lk: 11, H: 3, D: 18 },
    ];
    for (const c of masked) {
      test(`default config ${name(c)}`, async () => {
        const lens = lengths(c.B, c.Lk);
        const { out, ref } = await check(c, undefined, 'f32', lens);
        expectClose(out, ref, TOL.kernelF32, `${name(c)} key lengths ${lens}`);
      });
    }
    ATTENTION_CANDIDATES.forEach((cfg) => {
      test(`variant wgq ${cfg.wgq} kt ${cfg.kt} sharedKV ${cfg.sharedKV}${cfg.quad ? ' quad' : ''}${cfg.sgKV ? ' sgKV' : ''}`, async () => {
        // Head dim 32 for both: one compile per entry point (lavapipe compiles are most of this test's time).
        for (const c of [{ B: 3, Lq: 13, Lk: 37, H: 2, D: 32 }, masked[2]!]) {
          const lens = lengths(c.B, c.Lk);
          const { out, ref } = await check(c, cfg, 'f32', lens);
          expectClose(out, ref, TOL.kernelF32, `${JSON.stringify(cfg)} ${name(c)} key lengths ${lens}`);
        }
      });
    });

    test('key lengths of the wrong shape or type are refused', () => {
      const q = engine.tensor(new Float32Array(2 * 3 * 8), [2, 3, 8]);
      const bad = engine.tensor(new Float32Array(2), [2]);
      const short = engine.tensor(new Int32Array(1), [1], 'i32');
      expect(() => engine.ops.attention(q, q, q, { heads: 2, keyLengths: bad })).toThrow(/key lengths must be \[2\] i32/);
      expect(() => engine.ops.attention(q, q, q, { heads: 2, keyLengths: short })).toThrow(/key lengths must be \[2\] i32/);
    });
  });

  // K/V rows shared by shuffles at head dims whose vec4 count the subgroup size does not divide: fewer vec4s than
  // lanes (8: 2 vec4s), one past a whole round (36: 9 over 8 lanes), SigLIP so400m's 72 (18 over 8).
  const sgKV: AttentionConfig = { wgq: 8, quad: true, kt: 16, sharedKV: false, sgKV: true };
  test('K/V shared by shuffles at any head dim that is a multiple of 4 (the last round of loads by the first lanes)', async () => {
    for (const c of [{ B: 1, Lq: 21, Lk: 19, H: 2, D: 8 }, { B: 2, Lq: 9, Lk: 23, H: 1, D: 36 }, { B: 1, Lq: 33, Lk: 29, H: 2, D: 72 }]) {
      const g = attentionGeometry([c.B, c.Lq, c.H * c.D], [c.B, c.Lk, c.H * c.D], [c.B, c.Lk, c.H * c.D], c.H);
      const plan = attentionPlan(engine.context, g, sgKV);
      if (engine.context.subgroupSize > 0) {
        expect(plan.sgKV, name(c)).toBe(true);
        expect(plan.fallbacks).toEqual([]);
      }
      const { out, ref } = await check(c, sgKV);
      expectClose(out, ref, TOL.kernelF32, `sgKV ${name(c)}`);
    }
  });

  test('a config that cannot apply at a shape says why (the bench reports it)', () => {
    const g = (D: number) => attentionGeometry([1, 9, 2 * D], [1, 9, 2 * D], [1, 9, 2 * D], 2);
    // Head dim 18: no vec4 loads, so no K/V shuffles.
    const plan = attentionPlan(engine.context, g(18), sgKV);
    expect(plan.sgKV).toBe(false);
    expect(plan.fallbacks.join('; ')).toMatch(/scalar loads \(head dim 18.*K\/V rows not shared by shuffles \(no vec4 loads\)/);
    // No fixed subgroup size (as on most GPUs).
    expect(attentionPlan({ ...engine.context, subgroupSize: 0 }, g(72), sgKV).fallbacks).toEqual([expect.stringMatching(/no fixed subgroup size/)]);
    // What the default asks for and gets: nothing to report.
    expect(attentionPlan(engine.context, g(64), { wgq: 64, kt: 16, sharedKV: false }).fallbacks).toEqual([]);
  });

  test.runIf(engine.hasF16)('f16', async () => {
    const c = { B: 2, Lq: 50, Lk: 50, H: 2, D: 32 };
    const { out, ref } = await check(c, undefined, 'f16');
    expectClose(out, ref, TOL.f16, `f16 ${name(c)}`);
  });

  test('bad shapes are refused with the shapes named', () => {
    const q = engine.tensor(new Float32Array(2 * 3 * 8), [2, 3, 8]);
    const k = engine.tensor(new Float32Array(2 * 4 * 8), [2, 4, 8]);
    const v6 = engine.tensor(new Float32Array(2 * 4 * 6), [2, 4, 6]);
    expect(() => engine.ops.attention(q, k, v6, { heads: 2 })).toThrow(/same width/);
    expect(() => engine.ops.attention(q, k, k, { heads: 3 })).toThrow(/not divisible by 3 heads/);
    expect(() => engine.ops.attention(q, k, k, { heads: 0 })).toThrow(/heads must be a positive integer/);
    const k3 = engine.tensor(new Float32Array(3 * 4 * 8), [3, 4, 8]);
    expect(() => engine.ops.attention(q, k3, k3, { heads: 2 })).toThrow(/q's batch/);
  });
});
