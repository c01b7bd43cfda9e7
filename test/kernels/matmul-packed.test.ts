/**
 * Compact weights in the matmul family: every variant (naive, rows, reg, regsg, sg2d, tiled, and sgmat through its
 * plain-WGSL stand-in) reads f16, int8 (one scale per output channel, or per group) and 4-bit (groups of 32 and 64)
 * weights and unpacks them in registers; activations stay f32 (and f16 where the adapter has shader-f16). The
 * reference multiplies in float64 with the dequantized matrix (code · scale, exact), so the comparison measures the
 * kernel alone, at fp32 tolerance. Fresh seeded inputs, odd sizes, outputs poisoned with NaN (the engine's poison
 * mode). The host packer itself: test/runtime/weight-format.test.ts.
 */
import { describe, expect, test } from 'vitest';
import { matmulGeometry, matmulRef, NAIVE_MATMUL, regsgCandidates, sg2dCandidates, type MatmulConfig } from '../../src/kernels/matmul.js';
import { PackedWeight } from '../../src/ops/packed-weight.js';
import { packedLayout, packMatrix, unpackMatrix, type PackedFormat } from '../../src/runtime/weight-format.js';
import { expectClose, TOL } from '../helpers/compare.js';
import { testEngine } from '../helpers/engine.js';
import { makeRng, randn, testSeed } from '../helpers/random.js';

const engine = await testEngine();
const rng = makeRng(testSeed('matmul-packed'));

interface Fmt {
  format: PackedFormat;
  group: number;
}
const FORMATS: Fmt[] = [
  { format: 'f16', group: 0 },
  { format: 'int8', group: 0 },
  { format: 'int8', group: 32 },
  { format: 'q4', group: 32 },
  { format: 'q4', group: 64 },
];
const fmtName = (f: Fmt) => `${f.format}${f.group ? ` g${f.group}` : ''}`;

interface Case {
  batch: number;
  M: number;
  N: number;
  K: number;
  bias?: boolean;
  gelu?: boolean;
  residual?: boolean;
  /** f16 only: the weight stored [K, N]. */
  kn?: boolean;
}
const describeCase = (c: Case) => `${c.batch > 1 ? `${c.batch}×` : ''}${c.M}×${c.N}×${c.K}${c.kn ? ' [K, N]' : ''}${c.bias ? ' bias' : ''}${c.gelu ? ' gelu' : ''}${c.residual ? ' residual' : ''}`;

async function run(c: Case, f: Fmt, config?: MatmulConfig, dtype: 'f32' | 'f16' = 'f32') {
  // Weights of a linear layer's scale, with a few outliers (what per-group scales are for).
  const rows = c.kn ? c.K : c.N;
  const cols = c.kn ? c.N : c.K;
  const wv = randn(rng, rows * cols, 1 / Math.sqrt(c.K));
  for (let i = 0; i < 3; i++) wv[Math.floor(rng() * wv.length)]! *= 8;
  const w = PackedWeight.pack(engine, wv, [rows, cols], { format: f.format, group: f.group, kn: c.kn });
  const aData = randn(rng, c.batch * c.M * c.K);
  const a = engine.tensor(aData, [c.batch, c.M, c.K], dtype);
  const bias = c.bias ? engine.tensor(randn(rng, c.N), [c.N], dtype) : undefined;
  const residual = c.residual ? engine.tensor(randn(rng, c.batch * c.M * c.N), [c.batch, c.M, c.N], dtype) : undefined;
  const activation = c.gelu ? 'gelu_tanh' : 'none';
  const y = engine.ops.matmul(a, w, { bias, residual, activation, config });
  expect(y.shape).toEqual([c.batch, c.M, c.N]);
  const out = await y.read();
  // The matrix the kernel multiplies with, in float64: the host packer's codes times their scales.
  const l = packedLayout(f.format, rows, cols, f.group);
  const { words, scales } = packMatrix(l, wv);
  const deq = unpackMatrix(l, words, scales);
  const { g } = matmulGeometry([c.batch, c.M, c.K], [rows, cols], !c.kn);
  const ref = matmulRef(await a.read(), deq, g, { bias: bias && (await bias.read()), residual: residual && (await residual.read()), activation });
  for (const t of [a, bias, residual, y]) t?.dispose();
  w.dispose();
  return { out, ref };
}

const variants = (): MatmulConfig[] => {
  const sg = Math.max(engine.info.subgroupMaxSize, 4);
  const list: MatmulConfig[] = [
    NAIVE_MATMUL,
    { variant: 'rows', tm: 8, tn: 4, wgx: 8, wgy: 1, bk: 16 },
    { variant: 'reg', tm: 4, tn: 8, wgx: 8, wgy: 4, bk: 16 },
    { variant: 'tiled', tm: 2, tn: 4, wgx: 16, wgy: 16, bk: 16 },
    { variant: 'sgmat', tm: 2, tn: 1, wgx: sg, wgy: 1, bk: 16, mma: { m: 4, n: 8, k: 8, result: 'f32', emulate: true } },
  ];
  const regsg = regsgCandidates(engine.context).find((c) => c.tn === 8);
  const sg2d = sg2dCandidates(engine.context)[0];
  return [...list, ...(regsg ? [regsg] : []), ...(sg2d ? [sg2d] : [])];
};

describe('packed weights in every matmul variant vs float64', () => {
  test('lavapipe has a fixed subgroup size: regsg and sg2d are among the variants tested', () => {
    const names = variants().map((v) => v.variant);
    if (engine.info.family === 'lavapipe') expect(names).toEqual(expect.arrayContaining(['naive', 'rows', 'reg', 'tiled', 'sgmat', 'regsg', 'sg2d']));
  });

  // K = 200 is not a multiple of 32 or 64: rows are padded to whole groups (224, 256), as siglip-odd's fc2 and
  // so400m's (4304) are. Bias, GELU and a residual: the per-channel scale must land before all three.
  const vecCase: Case = { batch: 2, M: 33, N: 65, K: 200, bias: true, gelu: true, residual: true };
  for (const cfg of variants()) {
    const name = `${cfg.variant}${cfg.mma ? ' (stand-in builtins)' : ''} tm${cfg.tm} tn${cfg.tn}`;
    test(`${name}: every format, ${describeCase(vecCase)}`, async () => {
      for (const f of FORMATS) {
        const { out, ref } = await run(vecCase, f, cfg);
        expectClose(out, ref, TOL.kernelF32, `${name} ${fmtName(f)} ${describeCase(vecCase)}`);
      }
    });
  }

  test('the default variant at odd sizes (K not a multiple of 4: element-wise unpacking), 1×1×1 and 577 rows', async () => {
    const cases: Case[] = [
      { batch: 1, M: 1, N: 1, K: 1 },
      { batch: 1, M: 7, N: 63, K: 17, bias: true },
      { batch: 1, M: 577, N: 64, K: 96, gelu: true },
    ];
    for (const c of cases) {
      for (const f of FORMATS) {
        const { out, ref } = await run(c, f);
        expectClose(out, ref, TOL.kernelF32, `default ${fmtName(f)} ${describeCase(c)}`);
      }
    }
  });

  test('f16 weights stored [K, N] (read along N) in the default, tiled and naive variants', async () => {
    for (const cfg of [undefined, NAIVE_MATMUL, { variant: 'tiled', tm: 2, tn: 4, wgx: 16, wgy: 16, bk: 16 } as MatmulConfig]) {
      for (const c of [{ batch: 2, M: 9, N: 65, K: 63, kn: true, bias: true }, { batch: 1, M: 33, N: 64, K: 64, kn: true, residual: true }] as Case[]) {
        const { out, ref } = await run(c, FORMATS[0]!, cfg);
        expectClose(out, ref, TOL.kernelF32, `${cfg?.variant ?? 'default'} f16 ${describeCase(c)}`);
      }
    }
  });

  test.runIf(engine.hasF16)('f16 activations with int8 and 4-bit weights', async () => {
    for (const f of FORMATS.slice(1, 4)) {
      const c: Case = { batch: 1, M: 63, N: 65, K: 64, bias: true };
      const { out, ref } = await run(c, f, undefined, 'f16');
      expectClose(out, ref, TOL.f16, `f16 activations, ${fmtName(f)} ${describeCase(c)}`);
    }
  });
});

describe('packed weight validation', () => {
  test('a packed weight is refused where it cannot be read, naming why', () => {
    const a = engine.tensor(new Float32Array(2 * 64), [2, 64]);
    const w = engine.ops.packWeight(new Float32Array(8 * 64).fill(0.5), [8, 64], { format: 'int8' });
    expect(() => engine.ops.matmul(a, w, { transposeB: false })).toThrow(/stored \[N, K\]; transposeB false contradicts it/);
    const short = new PackedWeight(packedLayout('int8', 8, 32), engine.tensor(new Uint32Array(64), [64], 'u32'), engine.tensor(new Float32Array(8), [8]));
    expect(() => engine.ops.matmul(a, short)).toThrow(/inner dimensions differ/);
    expect(() => PackedWeight.pack(engine, new Float32Array(8 * 64), [8, 64], { format: 'q4', group: 0 })).toThrow(/4-bit weights need a group size/);
    expect(() => PackedWeight.pack(engine, new Float32Array(8 * 64), [8, 64], { format: 'int8', kn: true })).toThrow(/only f16 weights can be stored \[K, N\]/);
    expect(() => new PackedWeight(packedLayout('q4', 8, 64, 32), engine.tensor(new Uint32Array(64), [64], 'u32'), engine.tensor(new Float32Array(8), [8]))).toThrow(/16 f32 scales expected/);
    const nan = new Float32Array(8 * 64);
    nan[70] = NaN;
    expect(() => engine.ops.packWeight(nan, [8, 64], { format: 'int8' })).toThrow(/row 1, group 0: element 6 of the block is NaN/);
    w.dispose();
    expect(() => engine.ops.matmul(a, w)).toThrow(/has been disposed/);
    for (const t of [a, short]) t.dispose();
  });
});
