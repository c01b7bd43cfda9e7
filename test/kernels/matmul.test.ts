import { describe, expect, test } from 'vitest';
import {
  configFits, MATMUL_CANDIDATES, matmulCall, matmulGeometry, matmulRef, NAIVE_MATMUL, regsgCandidates, sg2dCandidates, sgmatCandidates,
  SUBGROUP_MATRIX_FEATURE, type MatmulConfig,
} from '../../src/kernels/matmul.js';
import { matmulConfigFor } from '../../src/ops/index.js';
import type { KernelContext } from '../../src/runtime/kernel.js';
import { preprocessShader } from '../../src/runtime/wgsl-preprocess.js';
import { expectClose, TOL } from '../helpers/compare.js';
import { testEngine } from '../helpers/engine.js';
import { makeRng, randn, testSeed } from '../helpers/random.js';

const engine = await testEngine();
const rng = makeRng(testSeed('matmul'));

interface Case {
  batch: number[];
  M: number;
  N: number;
  K: number;
  transposeB: boolean;
  bias?: boolean;
  gelu?: boolean;
  /** CLIP's activation instead of GELU. */
  quickGelu?: boolean;
  residual?: 'full' | 'shared';
  batchedB?: boolean;
}

const cases: Case[] = [
  { batch: [], M: 1, N: 1, K: 1, transposeB: false },
  { batch: [], M: 1, N: 1, K: 1, transposeB: true, bias: true },
  { batch: [], M: 7, N: 5, K: 3, transposeB: false, bias: true, gelu: true },
  { batch: [], M: 7, N: 7, K: 7, transposeB: true, residual: 'full' },
  { batch: [2], M: 63, N: 65, K: 17, transposeB: true, bias: true, gelu: true, residual: 'full' },
  { batch: [2], M: 65, N: 63, K: 64, transposeB: false, bias: true, residual: 'shared' },
  { batch: [], M: 64, N: 64, K: 64, transposeB: false },
  { batch: [], M: 64, N: 64, K: 64, transposeB: true, bias: true, gelu: true },
  { batch: [3], M: 33, N: 20, K: 12, transposeB: false, batchedB: true },
  { batch: [2, 2], M: 9, N: 12, K: 8, transposeB: true, batchedB: true, residual: 'full' },
  { batch: [], M: 577, N: 96, K: 64, transposeB: true, bias: true, gelu: true },
  { batch: [], M: 128, N: 128, K: 128, transposeB: false, bias: true },
  { batch: [], M: 33, N: 70, K: 40, transposeB: true, bias: true, quickGelu: true, residual: 'full' },
  { batch: [2], M: 17, N: 24, K: 9, transposeB: false, quickGelu: true },
];

function describeCase(c: Case): string {
  const parts = [`${c.batch.length ? c.batch.join('×') + '×' : ''}${c.M}×${c.N}×${c.K}`, c.transposeB ? 'Bᵀ' : 'B'];
  if (c.batchedB) parts.push('batched B');
  if (c.bias) parts.push('bias');
  if (c.gelu) parts.push('gelu');
  if (c.quickGelu) parts.push('quick_gelu');
  if (c.residual) parts.push(`residual ${c.residual}`);
  return parts.join(' ');
}

async function runCase(c: Case, config?: MatmulConfig, dtype: 'f32' | 'f16' = 'f32') {
  const bs = c.batch.reduce((x, y) => x * y, 1);
  const aShape = [...c.batch, c.M, c.K];
  const bCore = c.transposeB ? [c.N, c.K] : [c.K, c.N];
  const bShape = c.batchedB ? [...c.batch, ...bCore] : bCore;
  const aData = randn(rng, bs * c.M * c.K);
  const bData = randn(rng, (c.batchedB ? bs : 1) * c.K * c.N, 1 / Math.sqrt(c.K));
  const biasData = c.bias ? randn(rng, c.N) : undefined;
  const resShape = c.residual === 'shared' ? [c.M, c.N] : [...c.batch, c.M, c.N];
  const resData = c.residual ? randn(rng, resShape.reduce((x, y) => x * y, 1)) : undefined;
  const a = engine.tensor(aData, aShape, dtype);
  const b = engine.tensor(bData, bShape, dtype);
  const bias = biasData && engine.tensor(biasData, [c.N], dtype);
  const residual = resData && engine.tensor(resData, resShape, dtype);
  const activation = c.gelu ? 'gelu_tanh' : c.quickGelu ? 'quick_gelu' : 'none';
  const y = engine.ops.matmul(a, b, { transposeB: c.transposeB, bias, residual, activation, config });
  expect(y.shape).toEqual([...c.batch, c.M, c.N]);
  const out = await y.read();
  const { g } = matmulGeometry(aShape, bShape, c.transposeB);
  if (c.residual === 'shared') g.strideR = 0;
  // The reference sees the values the GPU sees (f16-rounded when dtype is f16).
  const seen = async (t: typeof a) => t.read();
  const ref = matmulRef(await seen(a), await seen(b), g, {
    bias: bias && (await seen(bias)),
    residual: residual && (await seen(residual)),
    activation,
  });
  for (const t of [a, b, bias, residual, y]) t?.dispose();
  return { out, ref };
}

describe('matmul vs float64 reference', () => {
  for (const c of cases) {
    test(`default config: ${describeCase(c)}`, async () => {
      const { out, ref } = await runCase(c);
      expectClose(out, ref, TOL.kernelF32, describeCase(c));
    });
  }

  // Every variant, and the naive baseline the benchmarks compare against.
  // A-sharing through subgroups where the adapter's subgroup size is fixed (lavapipe: 8 lanes): the smallest tile,
  // one row of A per lane (lavapipe's defaults, two rows per lane, run every case above).
  const sg = regsgCandidates(engine.context);
  // Both operands shared across a grid of the subgroup's lanes: the first candidate (a square tile) and one whose
  // tile is neither square nor a power of two, on the other grid shape (lavapipe's default sg2d runs every case above).
  const grid = sg2dCandidates(engine.context);
  const gridPicks = grid.length ? [grid[0]!, grid.find((c) => c.tm % 8 !== 0 && c.sr !== grid[0]!.sr) ?? grid[grid.length - 1]!] : [];
  const variants = [...MATMUL_CANDIDATES, NAIVE_MATMUL, ...sg.slice(0, 1), ...gridPicks].filter((cfg) => configFits(engine.context, cfg));
  test('lavapipe has a fixed subgroup size, so the subgroup-sharing variants are tested here', () => {
    if (engine.info.family === 'lavapipe') {
      expect(sg.length).toBeGreaterThan(0);
      expect(gridPicks).toHaveLength(2);
      expect(gridPicks[0]!.sr).not.toBe(gridPicks[1]!.sr);
    }
  });
  for (const cfg of variants) {
    const name = `${cfg.variant} tm${cfg.tm} tn${cfg.tn}${cfg.sr ? ` grid ${cfg.sr}×${cfg.sg! / cfg.sr}` : ''} wg${cfg.wgx}×${cfg.wgy} bk${cfg.bk}`;
    test(`variant ${name} on odd and round sizes`, async () => {
      // Odd sizes both layouts, bias + GELU + residual, a shared residual, batched B: every code path once.
      for (const c of [cases[4]!, cases[5]!, cases[9]!]) {
        const { out, ref } = await runCase(c, cfg);
        expectClose(out, ref, TOL.kernelF32, `${name}: ${describeCase(c)}`);
      }
    });
  }

  test("SigLIP-large's MLP-in shape 577×4096×1024 (Bᵀ, bias, gelu) in f32", async () => {
    const c: Case = { batch: [], M: 577, N: 4096, K: 1024, transposeB: true, bias: true, gelu: true };
    const { out, ref } = await runCase(c);
    expectClose(out, ref, TOL.kernelF32, describeCase(c));
  });

  test('sg2d: candidates fit the subgroup size they were made for, and a config that does not fit is refused by name', () => {
    const ctx = (subgroupSize: number): KernelContext => ({ ...engine.context, subgroupSize, subgroupMaxSize: subgroupSize });
    for (const size of [4, 8, 16, 32, 64]) {
      const cands = sg2dCandidates(ctx(size));
      expect(cands.length, `subgroup size ${size}`).toBeGreaterThan(0);
      for (const c of cands) {
        expect(configFits(ctx(size), c)).toBe(true);
        expect(c.tm % (size / c.sr!)).toBe(0);
        expect(c.tn % c.sr!).toBe(0);
        // Wide subgroups (GPUs) get small register tiles.
        expect(c.tm * c.tn).toBeLessThanOrEqual(size <= 8 ? 256 : 64);
        // Built for one subgroup size: another adapter's does not fit.
        expect(configFits(ctx(size * 2), c)).toBe(false);
      }
    }
    expect(sg2dCandidates(ctx(0))).toEqual([]);
    const a = engine.tensor(new Float32Array(64), [8, 8]);
    const bad: MatmulConfig = { variant: 'sg2d', tm: 6, tn: 8, sr: 2, wgx: 8, wgy: 1, bk: 16, sg: 8 };
    expect(() => matmulCall(ctx(8), { a, b: a, out: a, geometry: matmulGeometry([8, 8], [8, 8], false).g, config: bad })).toThrow(/sg2d tiles 6×8 .*TM must be a multiple of sg \/ sr/);
    a.dispose();
  });

  test.runIf(engine.hasF16)('f16 storage with f32 accumulation', async () => {
    for (const c of [cases[4]!, cases[5]!, cases[10]!]) {
      const { out, ref } = await runCase(c, undefined, 'f16');
      expectClose(out, ref, TOL.f16, `f16 ${describeCase(c)}`);
    }
  });
});

// The subgroup-matrix variant. No adapter here has subgroup matrices, so its tiling (staging, zero padding, matrix
// offsets and strides, both B layouts, the epilogue) runs with the kernel's plain-WGSL stand-in for the five
// builtins; what only hardware can check (the builtins themselves) the tuner checks on the adapter before choosing
// the variant (test/ops/tuner.test.ts).
describe('matmul on subgroup matrices (stand-in builtins)', () => {
  const sg = Math.max(engine.info.subgroupMaxSize, 4);
  // Each case is a compile of its own, and lavapipe compiles the stand-in's unrolled products slowly: the cases
  // are split between the configs so that together they cover 1×1×1, odd sizes, both layouts, bias + GELU +
  // residual, a shared residual and batched B.
  const emulated: Array<{ cfg: MatmulConfig; cases: Case[] }> = [
    { cfg: { variant: 'sgmat', tm: 2, tn: 2, wgx: sg, wgy: 1, bk: 16, mma: { m: 8, n: 8, k: 8, result: 'f32', emulate: true } }, cases: [cases[4]!, cases[9]!] },
    // Non-square matrices catch rows and columns swapped; a workgroup of two subgroups, BK = K.
    { cfg: { variant: 'sgmat', tm: 2, tn: 1, wgx: 2 * sg, wgy: 1, bk: 8, mma: { m: 4, n: 8, k: 8, result: 'f32', emulate: true } }, cases: [cases[0]!, cases[3]!, cases[5]!, cases[10]!] },
  ];
  for (const { cfg, cases: cs } of emulated) {
    const s = cfg.mma!;
    const name = `${s.m}×${s.n}×${s.k} tiles ${cfg.tm}×${cfg.tn} bk${cfg.bk} wg${cfg.wgx}`;
    test(`f32, ${name}`, async () => {
      for (const c of cs) {
        const { out, ref } = await runCase(c, cfg);
        expectClose(out, ref, TOL.kernelF32, `sgmat ${name}: ${describeCase(c)}`);
      }
    });
  }

  test.runIf(engine.hasF16)('f16 inputs, f32 results', async () => {
    const { out, ref } = await runCase(cases[4]!, emulated[1]!.cfg, 'f16');
    expectClose(out, ref, TOL.f16, `sgmat f16: ${describeCase(cases[4]!)}`);
  });

  test('without the feature: no candidates, a clear error when forced, the default when tuned', () => {
    expect(engine.features.has(SUBGROUP_MATRIX_FEATURE)).toBe(false);
    expect(sgmatCandidates(engine.context, 'f32')).toEqual([]);
    const hw: MatmulConfig = { ...emulated[0]!.cfg, mma: { m: 8, n: 8, k: 8, result: 'f32' } };
    const a = engine.tensor(new Float32Array(64), [8, 8]);
    expect(() => engine.ops.matmul(a, a, { config: hw })).toThrow(/subgroup-matrix variant unusable: .*offers no subgroup matrices.*allow_unsafe_apis/);
    const key = 'matmul:kn@M=8,N=8,K=8';
    engine.tuning.set(key, hw);
    try {
      expect(matmulConfigFor(engine, 'kn', 'f32', { M: 8, N: 8, K: 8 }).variant).not.toBe('sgmat');
    } finally {
      engine.tuning.clear();
    }
  });

  test('with the feature (an adapter described as having it): real builtins, shapes from the adapter', () => {
    // What a Vulkan GPU with cooperative matrices reports, as a kernel sees it; nothing is dispatched.
    const fake: KernelContext = {
      ...engine.context,
      features: new Set([...engine.features, SUBGROUP_MATRIX_FEATURE, 'shader-f16']),
      subgroupMaxSize: 32,
      subgroupMatrixConfigs: [
        { componentType: 'f16', resultComponentType: 'f16', M: 16, N: 16, K: 16 },
        { componentType: 'f16', resultComponentType: 'f32', M: 16, N: 16, K: 16 },
      ],
      limits: { ...engine.context.limits, maxComputeWorkgroupStorageSize: 49152 },
    };
    expect(sgmatCandidates(fake, 'f32')).toEqual([]);
    const cands = sgmatCandidates(fake, 'f16');
    expect(cands.length).toBeGreaterThan(0);
    for (const c of cands) expect(c).toMatchObject({ variant: 'sgmat', wgx: 32, mma: { m: 16, n: 16, k: 16, result: 'f32' } });
    const a = engine.tensor(new Float32Array(64 * 64), [64, 64]);
    const { g } = matmulGeometry([64, 64], [64, 64], true);
    expect(() => matmulCall(fake, { a, b: a, out: a, geometry: g, config: cands[0] })).toThrow(/no f32 subgroup matrix 16×16×16/);
    // The f16 call's shader: the extension enabled, the builtins in, the stand-in out.
    const fakeA = { ...a, dtype: 'f16', size: a.size, shape: a.shape } as unknown as typeof a;
    const call = matmulCall(fake, { a: fakeA, b: fakeA, out: fakeA, geometry: g, config: cands[0] });
    const code = preprocessShader(call.kernel.source, call.spec).code;
    expect(code).toContain('enable chromium_experimental_subgroup_matrix;');
    expect(code).toContain('diagnostic(off, chromium.subgroup_matrix_uniformity);');
    expect(code).toMatch(/alias RT = f32;/);
    expect(code).toContain('subgroupMatrixMultiplyAccumulate(a, b, c)');
    expect(code).not.toContain('struct AccM');
    expect(call.workgroups).toEqual([64 / (16 * cands[0]!.tn), 64 / (16 * cands[0]!.tm), 1]);
    a.dispose();
  });

  test("the uniformity diagnostic it switches off is one this Dawn knows (an unknown name would only warn)", async () => {
    const rule = 'chromium.subgroup_matrix_uniformity';
    const m = engine.device.createShaderModule({ code: `diagnostic(off, ${rule});\n@compute @workgroup_size(1) fn main() {}` });
    expect((await m.getCompilationInfo()).messages.map((x) => x.message)).toEqual([]);
  });
});

describe('matmul call validation', () => {
  test('mismatched inner dimensions name both shapes', () => {
    const a = engine.tensor(new Float32Array(6), [2, 3]);
    const b = engine.tensor(new Float32Array(8), [4, 2]);
    expect(() => engine.ops.matmul(a, b)).toThrow(/inner dimensions differ.*K = 3.*4/);
    expect(() => engine.ops.matmul(a, b, { transposeB: true })).toThrow(/\[2, 3\].*\[4, 2\]/);
  });

  test('wrong dtype is refused', () => {
    const a = engine.tensor(new Float32Array(4), [2, 2]);
    const ids = engine.tensor(new Int32Array(4), [2, 2]);
    expect(() => engine.ops.matmul(a, ids)).toThrow(/i32.*f32|dtype/);
    expect(() => engine.ops.matmul(ids, ids)).toThrow(/i32/);
  });

  test('bias and residual of the wrong size are refused', () => {
    const a = engine.tensor(new Float32Array(6), [2, 3]);
    const w = engine.tensor(new Float32Array(12), [4, 3]);
    expect(() => engine.ops.matmul(a, w, { transposeB: true, bias: engine.tensor(new Float32Array(3), [3]) })).toThrow(/bias \[3\] must have N = 4/);
    expect(() => engine.ops.matmul(a, w, { transposeB: true, residual: engine.tensor(new Float32Array(3), [3]) })).toThrow(/residual \[3\]/);
    expect(() => engine.ops.matmul(a, w, { transposeB: true, activation: 'relu' })).toThrow(/unsupported activation "relu"/);
  });
});
