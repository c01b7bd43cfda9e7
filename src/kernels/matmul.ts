/**
 * matmul: C = act(A·B' + bias) + residual, B' = B or Bᵀ (linear weights are stored [out, in]: transposeB).
 * Kernel variants (shaders/matmul.wgsl): `reg` (register tiles, no workgroup memory), `regsg` (register tiles with
 * A shared between a subgroup's lanes), `tiled` (workgroup-memory tiles), `rows` and `naive` (baselines);
 * shaders/matmul-sg2d.wgsl: `sg2d` (register tiles with A and B both shared across a grid of a subgroup's lanes);
 * shaders/matmul-sgmat.wgsl: `sgmat` (subgroup matrices, where the adapter has them). Which one, and which tile
 * sizes, is chosen above the kernels (src/ops/: the tuner, the adapter defaults) and passed in; the math is the same.
 */
import common from '../../shaders/matmul-common.wgsl';
import sg2dSource from '../../shaders/matmul-sg2d.wgsl';
import sgmatSource from '../../shaders/matmul-sgmat.wgsl';
import source from '../../shaders/matmul.wgsl';
import {
  checkDispatch, elementsPerWord, formatShape, shader, shapeSize, uniformSchema, type UniformSchema, type KernelCall, type KernelContext, type KernelDef,
  type Specialization, type SubgroupMatrixConfig, type Tensor,
} from '../runtime/kernel.js';
import { ACTIVATION_CODE, ACTIVATIONS_WGSL, activationRef, type Activation } from './activations.js';
import { WEIGHT_FORMATS_WGSL, weightDefines, type PackedB } from './weight-formats.js';

export type { PackedB } from './weight-formats.js';

/** Shapes, strides and the A offset (shaders/matmul-common.wgsl reads them as `p`). */
export const MATMUL_UNIFORMS = uniformSchema([
  ['M', 'u32'], ['N', 'u32'], ['K', 'u32'], ['batch', 'u32'],
  ['lda', 'u32'], ['ldb', 'u32'], ['ldc', 'u32'], ['ldr', 'u32'],
  ['strideA', 'u32'], ['strideB', 'u32'], ['strideC', 'u32'], ['strideR', 'u32'],
  ['offA', 'u32'],
]);

const COMMON = [ACTIVATIONS_WGSL, WEIGHT_FORMATS_WGSL, shader('shaders/matmul-common.wgsl', common)];
const SOURCE = [...COMMON, shader('shaders/matmul.wgsl', source)];
// Inputs: a, b, b's scales, bias, residual; output: out.
const def = (name: string, entryPoint: string, src = SOURCE): KernelDef => ({ name, source: src, inputs: 5, outputs: 1, entryPoint, uniforms: MATMUL_UNIFORMS });
export const MATMUL_SGMAT = def('matmul_sgmat', 'main_sgmat', [...COMMON, shader('shaders/matmul-sgmat.wgsl', sgmatSource)]);
/** The adapter feature the `sgmat` variant needs. */
export const SUBGROUP_MATRIX_FEATURE = 'chromium-experimental-subgroup-matrix';
export const MATMUL_REG = def('matmul_reg', 'main_reg');
export const MATMUL_ROWS = def('matmul_rows', 'main_rows');
export const MATMUL_NAIVE = def('matmul_naive', 'main_naive');
export const MATMUL_REG_SG = def('matmul_reg_sg', 'main_reg_sg');
export const MATMUL_SG2D = def('matmul_sg2d', 'main_sg2d', [...COMMON, shader('shaders/matmul-sg2d.wgsl', sg2dSource)]);
export const MATMUL_TILED = def('matmul_tiled', 'main_tiled');

/** Where each operand lives: element strides (rows, batch) and an A offset, so strided views need no copy. */
export interface MatmulGeometry {
  batch: number;
  M: number;
  N: number;
  K: number;
  transposeB: boolean;
  lda: number;
  ldb: number;
  ldc: number;
  ldr: number;
  strideA: number;
  /** 0: one B for the whole batch (weights). */
  strideB: number;
  strideC: number;
  /** 0: one residual for the whole batch (e.g. a position embedding). */
  strideR: number;
  offA: number;
}

export interface MatmulConfig {
  variant: 'reg' | 'regsg' | 'sg2d' | 'tiled' | 'rows' | 'naive' | 'sgmat';
  /**
   * Rows and columns per invocation (tn a multiple of 4; `rows`: tm rows per workgroup, tn unused; `sgmat`: result
   * matrices per workgroup tile, down and across).
   */
  tm: number;
  tn: number;
  /** Workgroup size (reg; tiled is always 16×16; sgmat: wgx = the adapter's maximum subgroup size, wgy = 1). */
  wgx: number;
  wgy: number;
  /** k depth of a staged tile (tiled, sgmat). */
  bk: number;
  /** regsg, sg2d: the subgroup size the kernel is built for (the adapter's, fixed). */
  sg?: number;
  /** sg2d only: rows of the subgroup's lane grid (SR; its columns are sg / sr). */
  sr?: number;
  /** sgmat only: the subgroup-matrix shape (one of the adapter's configurations) and its result type. */
  mma?: SgmatShape;
}

export interface SgmatShape {
  m: number;
  n: number;
  k: number;
  result: 'f32' | 'f16';
  /**
   * Run the kernel's plain-WGSL stand-in for the subgroup-matrix builtins (same semantics, far slower): how the
   * tests check this variant's tiling on adapters without the feature. Never chosen by the tuner.
   */
  emulate?: boolean;
}

/** The one-output-per-invocation baseline (benchmarks only). */
export const NAIVE_MATMUL: MatmulConfig = { variant: 'naive', tm: 1, tn: 4, wgx: 8, wgy: 8, bk: 16 };

/** Candidates the tuner measures on CPU adapters: register tiles only (barriers cost a context switch there). */
export const MATMUL_CPU_CANDIDATES: MatmulConfig[] = [
  { variant: 'reg', tm: 8, tn: 16, wgx: 8, wgy: 1, bk: 16 },
  { variant: 'reg', tm: 8, tn: 16, wgx: 8, wgy: 2, bk: 16 },
  { variant: 'reg', tm: 8, tn: 8, wgx: 8, wgy: 1, bk: 16 },
  { variant: 'reg', tm: 4, tn: 8, wgx: 8, wgy: 4, bk: 16 },
  { variant: 'reg', tm: 8, tn: 4, wgx: 8, wgy: 4, bk: 16 },
];

/**
 * Every variant that needs no subgroup feature (the tests run them all; the tuner measures these on GPUs). The
 * subgroup ones depend on the adapter: regsgCandidates, sgmatCandidates.
 */
export const MATMUL_CANDIDATES: MatmulConfig[] = [
  { variant: 'reg', tm: 8, tn: 16, wgx: 8, wgy: 1, bk: 16 },
  { variant: 'reg', tm: 8, tn: 16, wgx: 8, wgy: 2, bk: 16 },
  { variant: 'reg', tm: 8, tn: 8, wgx: 8, wgy: 1, bk: 16 },
  { variant: 'reg', tm: 4, tn: 4, wgx: 8, wgy: 8, bk: 16 },
  { variant: 'reg', tm: 2, tn: 8, wgx: 8, wgy: 8, bk: 16 },
  { variant: 'reg', tm: 4, tn: 8, wgx: 8, wgy: 4, bk: 16 },
  { variant: 'reg', tm: 8, tn: 4, wgx: 8, wgy: 4, bk: 16 },
  { variant: 'reg', tm: 1, tn: 4, wgx: 64, wgy: 1, bk: 16 },
  { variant: 'rows', tm: 8, tn: 4, wgx: 8, wgy: 1, bk: 16 },
  { variant: 'rows', tm: 16, tn: 4, wgx: 16, wgy: 1, bk: 16 },
  { variant: 'tiled', tm: 4, tn: 4, wgx: 16, wgy: 16, bk: 16 },
  { variant: 'tiled', tm: 2, tn: 4, wgx: 16, wgy: 16, bk: 16 },
  { variant: 'tiled', tm: 4, tn: 4, wgx: 16, wgy: 16, bk: 32 },
];

/**
 * `regsg` tiles for this adapter: TM a multiple of its fixed subgroup size (each lane loads TM / SG rows of A and
 * shuffles them to the others), at most 256 accumulators per invocation.
 */
export function regsgCandidates(ctx: KernelContext): MatmulConfig[] {
  const sg = ctx.subgroupSize;
  if (!sg) return [];
  const out: MatmulConfig[] = [];
  for (const tm of [sg, 2 * sg, 3 * sg].filter((t) => t <= 32)) {
    for (const tn of [4, 8, 16]) {
      const c: MatmulConfig = { variant: 'regsg', tm, tn, wgx: sg, wgy: 1, bk: 16, sg };
      if (tm * tn <= 256 && configFits(ctx, c)) out.push(c);
    }
  }
  return out;
}

/**
 * `sg2d` tiles for this adapter (its subgroup size must be fixed): the subgroup's lanes as an SR × SC grid, each lane
 * TM × TN outputs. Register tiles sized by the subgroup's width — 256 accumulators per lane where subgroups are at
 * most 8 lanes (CPU drivers, where a lane is a SIMD lane of a core and spills are cheap), 64 where they are wider
 * (GPUs, where registers per lane are few) — and for each tile the grid shapes that load the fewest elements per
 * k-step (SR·TM + SC·TN within 10 % of the least; both sides of the grid at least 2: SR = 1 is `regsg`'s layout).
 */
export function sg2dCandidates(ctx: KernelContext): MatmulConfig[] {
  const sg = ctx.subgroupSize;
  if (!sg) return [];
  const tiles = sg <= 8 ? [[16, 16], [8, 32], [32, 8], [16, 12], [12, 20]] : [[8, 8], [8, 4], [4, 8], [16, 4], [4, 16]];
  const out: MatmulConfig[] = [];
  for (const [tm, tn] of tiles as [number, number][]) {
    const grids = [2, 4, 8, 16, 32].filter((sr) => sr < sg && sg % sr === 0).map((sr) => ({ sr, cost: sr * tm + (sg / sr) * tn }));
    const fitting = grids.map((g) => ({ ...g, c: { variant: 'sg2d', tm, tn, sr: g.sr, wgx: sg, wgy: 1, bk: 16, sg } as MatmulConfig })).filter((g) => configFits(ctx, g.c));
    const least = Math.min(...fitting.map((g) => g.cost));
    for (const g of fitting) if (g.cost <= 1.1 * least) out.push(g.c);
  }
  return out;
}

/** Whether a config can run on this adapter (workgroup size and memory, subgroup size). */
export function configFits(ctx: KernelContext, c: MatmulConfig): boolean {
  if (c.variant === 'sgmat') return sgmatProblem(ctx, c) === null;
  if (c.variant === 'sg2d') {
    // One subgroup per workgroup, built for the adapter's fixed subgroup size; each lane loads TM / SC rows of A and
    // TN / SR pieces of B per k-step, so those must divide.
    const sg = c.sg ?? 0;
    const sr = c.sr ?? 0;
    if (!sg || sg !== ctx.subgroupSize || !sr || sg % sr !== 0 || c.wgx !== sg || c.wgy !== 1) return false;
    if (c.tm < 1 || c.tm % (sg / sr) !== 0 || c.tn < 4 || c.tn % 4 !== 0 || c.tn % sr !== 0) return false;
  }
  if (c.variant === 'regsg') {
    const sg = c.sg ?? 0;
    if (!sg || sg !== ctx.subgroupSize || c.tm % sg !== 0 || c.wgx % sg !== 0 || c.wgy !== 1 || c.tn % 4 !== 0) return false;
  }
  const inv = c.variant === 'tiled' ? 256 : c.variant === 'rows' ? c.wgx : c.wgx * c.wgy;
  const shared = c.variant === 'tiled' ? c.bk * (c.tm + c.tn) * 16 * 4 : 0;
  return (
    inv <= ctx.limits.maxComputeInvocationsPerWorkgroup &&
    shared <= ctx.limits.maxComputeWorkgroupStorageSize &&
    (c.variant === 'tiled' ? 16 : c.wgx) <= ctx.limits.maxComputeWorkgroupSizeX &&
    (c.variant === 'tiled' ? 16 : c.wgy) <= ctx.limits.maxComputeWorkgroupSizeY
  );
}

// ------------------------------------------------------------------------------------- subgroup matrices

/** Why an `sgmat` config cannot run on this adapter (at this dtype, when given), or null when it can. */
export function sgmatProblem(ctx: KernelContext, c: MatmulConfig, dtype?: 'f32' | 'f16'): string | null {
  const s = c.mma;
  if (!s) return 'an sgmat config needs its subgroup-matrix shape (mma)';
  const TILE_M = c.tm * s.m;
  const TILE_N = c.tn * s.n;
  if (c.bk % s.k !== 0 || c.bk % 4 !== 0 || TILE_N % 4 !== 0) return `BK ${c.bk} must be a multiple of 4 and of K ${s.k}; the tile width a multiple of 4`;
  const esize = dtype === 'f16' ? 2 : 4;
  const shared = (TILE_M + TILE_N) * c.bk * esize + s.m * s.n * 4;
  if (shared > ctx.limits.maxComputeWorkgroupStorageSize) return `needs ${shared} bytes of workgroup memory, over the device's ${ctx.limits.maxComputeWorkgroupStorageSize}`;
  if (c.wgx > ctx.limits.maxComputeInvocationsPerWorkgroup || c.wgx > ctx.limits.maxComputeWorkgroupSizeX || c.wgy !== 1) {
    return `a workgroup of ${c.wgx}×${c.wgy} does not fit (one row of at most ${ctx.limits.maxComputeWorkgroupSizeX})`;
  }
  if (s.emulate) return null;
  if (!ctx.features.has(SUBGROUP_MATRIX_FEATURE)) {
    return `${ctx.adapterName} offers no subgroup matrices (feature ${SUBGROUP_MATRIX_FEATURE}; in Node it needs SIGLIP_WEBGPU_DAWN_FLAGS='enable-dawn-features=allow_unsafe_apis,use_vulkan_memory_model' and a driver with cooperative matrices)`;
  }
  if (c.wgx % Math.max(1, ctx.subgroupMaxSize) !== 0) return `the workgroup width ${c.wgx} is not a multiple of the maximum subgroup size ${ctx.subgroupMaxSize}`;
  const match = ctx.subgroupMatrixConfigs.some(
    (m) => m.M === s.m && m.N === s.n && m.K === s.k && m.resultComponentType === s.result && (!dtype || m.componentType === dtype),
  );
  if (!match) return `${ctx.adapterName} has no ${dtype ?? ''} subgroup matrix ${s.m}×${s.n}×${s.k} with ${s.result} results`;
  return null;
}

/**
 * The `sgmat` candidates for this adapter and dtype: each of its subgroup-matrix shapes with inputs of that dtype
 * and f32 results (f16 inputs still accumulate in f32, as every matmul here does), at a few tile sizes that fit its
 * workgroup memory.
 */
export function sgmatCandidates(ctx: KernelContext, dtype: 'f32' | 'f16'): MatmulConfig[] {
  // The workgroup is one subgroup of the largest size: without that size there is no valid workgroup.
  if (!ctx.features.has(SUBGROUP_MATRIX_FEATURE) || ctx.subgroupMaxSize < 1) return [];
  const shapes = ctx.subgroupMatrixConfigs.filter((m: SubgroupMatrixConfig) => m.componentType === dtype && m.resultComponentType === 'f32');
  const out: MatmulConfig[] = [];
  for (const m of shapes) {
    const mma: SgmatShape = { m: m.M, n: m.N, k: m.K, result: 'f32' };
    const bk = Math.max(2 * m.K, 16);
    for (const [tm, tn] of [[2, 2], [2, 4], [4, 2], [4, 4]] as const) {
      const c: MatmulConfig = { variant: 'sgmat', tm, tn, wgx: ctx.subgroupMaxSize, wgy: 1, bk, mma };
      if (sgmatProblem(ctx, c, dtype) === null) out.push(c);
    }
  }
  return out;
}

/**
 * Geometry of a plain matmul from shapes: a [...batch, M, K]; b [K, N] (or [N, K] with transposeB), shared by the
 * whole batch, or with the same leading batch dimensions as a. Output [...batch, M, N].
 */
export function matmulGeometry(aShape: readonly number[], bShape: readonly number[], transposeB: boolean): { g: MatmulGeometry; outShape: number[] } {
  const what = `matmul(a ${formatShape(aShape)}, b ${formatShape(bShape)}${transposeB ? ', transposeB' : ''})`;
  if (aShape.length < 2) throw new Error(`${what}: a must have at least 2 dimensions [M, K]`);
  if (bShape.length < 2) throw new Error(`${what}: b must have at least 2 dimensions`);
  const M = aShape[aShape.length - 2]!;
  const K = aShape[aShape.length - 1]!;
  const batchDims = aShape.slice(0, -2);
  const batch = shapeSize(batchDims.length ? batchDims : [1]);
  const bK = transposeB ? bShape[bShape.length - 1]! : bShape[bShape.length - 2]!;
  const N = transposeB ? bShape[bShape.length - 2]! : bShape[bShape.length - 1]!;
  if (bK !== K) throw new Error(`${what}: inner dimensions differ (a has K = ${K}, b has ${bK})`);
  let strideB = 0;
  if (bShape.length > 2) {
    const bBatch = bShape.slice(0, -2);
    if (bBatch.join(',') !== batchDims.join(',')) {
      throw new Error(`${what}: b's batch dimensions ${formatShape(bBatch)} differ from a's ${formatShape(batchDims)}`);
    }
    strideB = K * N;
  }
  return {
    g: { batch, M, N, K, transposeB, lda: K, ldb: transposeB ? K : N, ldc: N, ldr: N, strideA: M * K, strideB, strideC: M * N, strideR: M * N, offA: 0 },
    outShape: [...batchDims, M, N],
  };
}

export interface MatmulArgs {
  a: Tensor;
  /** The weight: a tensor of a's dtype, or packed words (with `weight`). */
  b: Tensor;
  /**
   * Set when b holds packed words (src/runtime/weight-format.ts), unpacked in registers by every variant. Rows of
   * the geometry's `ldb` elements, padded so each starts on a word; int8 and 4-bit weights are stored [N, K]
   * (transposeB) so that their scales' groups run along K; f16 may be stored either way.
   */
  weight?: PackedB;
  out: Tensor;
  bias?: Tensor;
  residual?: Tensor;
  activation?: Activation;
  geometry: MatmulGeometry;
  /** The variant and tiles (the tuner's or the adapter default's: src/ops/adapter-defaults.ts). */
  config: MatmulConfig;
}

function lastIndex(batch: number, stride: number, rows: number, ld: number, cols: number, off = 0): number {
  return off + (batch - 1) * stride + (rows - 1) * ld + cols;
}

export function matmulCall(ctx: KernelContext, args: MatmulArgs): KernelCall {
  const { a, b, out, bias, residual, geometry: g } = args;
  const act = args.activation ?? 'none';
  const name = `matmul [${g.batch}×${g.M}×${g.K}]·[${g.K}×${g.N}]${g.transposeB ? ' (Bᵀ)' : ''}`;
  if (a.dtype === 'i32' || a.dtype === 'u32') throw new Error(`${name}: ${a.dtype} tensors are not supported`);
  const dtype = a.dtype as 'f32' | 'f16';
  const cfg = args.config;
  const w = args.weight;
  for (const [t, n] of [[w ? undefined : b, 'b'], [out, 'out'], [bias, 'bias'], [residual, 'residual']] as const) {
    if (t && t.dtype !== a.dtype) throw new Error(`${name}: ${n} is ${t.dtype}, a is ${a.dtype}; all operands must share a dtype`);
  }
  for (const v of [g.batch, g.M, g.N, g.K]) if (!(Number.isInteger(v) && v >= 1)) throw new Error(`${name}: sizes must be positive integers`);
  const need = (t: Tensor, n: string, last: number) => {
    if (last > t.size) throw new Error(`${name}: ${n} ${formatShape(t.shape)} is too small (needs ${last} elements)`);
  };
  need(a, 'a', lastIndex(g.batch, g.strideA, g.M, g.lda, g.K, g.offA));
  const lastB = g.transposeB ? lastIndex(g.batch, g.strideB, g.N, g.ldb, g.K) : lastIndex(g.batch, g.strideB, g.K, g.ldb, g.N);
  if (w) checkPackedB(name, b, w, g, lastB);
  else need(b, 'b', lastB);
  need(out, 'out', lastIndex(g.batch, g.strideC, g.M, g.ldc, g.N));
  if (bias && bias.size !== g.N) throw new Error(`${name}: bias ${formatShape(bias.shape)} must have N = ${g.N} elements`);
  if (residual) need(residual, 'residual', lastIndex(g.batch, g.strideR, g.M, g.ldr, g.N));

  const m4 = (...xs: number[]) => xs.every((x) => x % 4 === 0);
  const vecA = m4(g.K, g.lda, g.offA) && (g.batch === 1 || m4(g.strideA));
  const vecB = (g.transposeB ? m4(g.K, g.ldb) : m4(g.N, g.ldb)) && (g.batch === 1 || m4(g.strideB));
  const tiled = cfg.variant === 'tiled';
  const rows = cfg.variant === 'rows';
  const naive = cfg.variant === 'naive';
  const sgmat = cfg.variant === 'sgmat';
  const regsg = cfg.variant === 'regsg';
  const sg2d = cfg.variant === 'sg2d';
  const io = { TRANS_B: g.transposeB, VEC_A: vecA, VEC_B: vecB, HAS_BIAS: !!bias, HAS_RES: !!residual, ACT: ACTIVATION_CODE[act], ...weightDefines(w) };
  let spec: Specialization;
  let tileM: number;
  let tileN: number;
  if (sg2d) {
    if (!configFits(ctx, cfg)) {
      throw new Error(`${name}: sg2d tiles ${cfg.tm}×${cfg.tn} on a ${cfg.sr}-row grid of ${cfg.sg} lanes do not fit ${ctx.adapterName} (fixed subgroup size ${ctx.subgroupSize || 'none'}; TM must be a multiple of sg / sr, TN of 4 and of sr)`);
    }
    const sr = cfg.sr!;
    const sc = cfg.sg! / sr;
    spec = { dtype, enables: ['subgroups'], defines: { TM: cfg.tm, TN: cfg.tn, SR: sr, SC: sc, ...io } };
    tileM = sr * cfg.tm;
    tileN = sc * cfg.tn;
  } else if (sgmat) {
    const problem = sgmatProblem(ctx, cfg, dtype);
    if (problem) throw new Error(`${name}: subgroup-matrix variant unusable: ${problem}`);
    const s = cfg.mma!;
    spec = {
      dtype,
      aliases: { CT: dtype, RT: s.result },
      enables: s.emulate ? [] : ['subgroups', 'chromium_experimental_subgroup_matrix'],
      // The offsets are workgroup-uniform, but the values loaded from workgroup memory are not provably so.
      diagnosticsOff: s.emulate ? [] : ['chromium.subgroup_matrix_uniformity'],
      defines: { SM: s.m, SN: s.n, SK: s.k, RM: cfg.tm, RN: cfg.tn, BK: cfg.bk, WG: cfg.wgx, SGMAT: !s.emulate, ...io },
    };
    tileM = cfg.tm * s.m;
    tileN = cfg.tn * s.n;
  } else {
    spec = {
      dtype,
      enables: regsg ? ['subgroups'] : [],
      defines: { TM: cfg.tm, TN: cfg.tn, BK: cfg.bk, SHARE_A: regsg, SG: regsg ? cfg.sg ?? 8 : 1, ...io },
      overrides: (tiled ? {} : rows || regsg ? { WG_X: cfg.wgx } : { WG_X: cfg.wgx, WG_Y: cfg.wgy }) as Record<string, number>,
    };
    tileM = naive ? cfg.wgy : rows ? cfg.tm : (tiled ? 16 : cfg.wgy) * cfg.tm;
    tileN = naive ? cfg.wgx : rows ? cfg.wgx : (tiled ? 16 : cfg.wgx) * cfg.tn;
  }
  const workgroups: [number, number, number] = [Math.ceil(g.N / tileN), Math.ceil(g.M / tileM), g.batch];
  checkDispatch(ctx, name, workgroups);
  const uniforms = MATMUL_UNIFORMS.pack({
    M: g.M, N: g.N, K: g.K, batch: g.batch, lda: g.lda, ldb: g.ldb, ldc: g.ldc, ldr: g.ldr,
    strideA: g.strideA, strideB: g.strideB, strideC: g.strideC, strideR: g.strideR, offA: g.offA,
  });
  const esize = a.dtype === 'f16' ? 2 : 4;
  const bBytes = w ? b.byteLength + (w.scales?.byteLength ?? 0) : esize * (g.strideB ? g.batch : 1) * g.K * g.N;
  return {
    kernel: sgmat ? MATMUL_SGMAT : sg2d ? MATMUL_SG2D : regsg ? MATMUL_REG_SG : tiled ? MATMUL_TILED : rows ? MATMUL_ROWS : naive ? MATMUL_NAIVE : MATMUL_REG,
    spec,
    tensors: [a, b, w?.scales ?? null, bias ?? null, residual ?? null, out],
    uniforms,
    workgroups,
    flops: 2 * g.batch * g.M * g.N * g.K,
    bytes: esize * (g.batch * g.M * g.K + g.batch * g.M * g.N * (residual ? 2 : 1)) + bBytes,
  };
}

/**
 * A packed B must be words (u32) covering every element the geometry reads, rows starting on words, one weight for
 * the whole batch, and scales that cover every group (or row): WebGPU would clamp a short read silently.
 */
function checkPackedB(name: string, b: Tensor, w: PackedB, g: MatmulGeometry, lastB: number): void {
  const what = `${name}: packed ${w.format} weight ${formatShape(b.shape)}`;
  if (b.dtype !== 'u32') throw new Error(`${what} must be a u32 tensor of packed words, got ${b.dtype}`);
  if (g.strideB !== 0) throw new Error(`${what}: a packed weight is shared by the batch (strideB 0), got strideB ${g.strideB}`);
  const per = elementsPerWord(w.format);
  if (g.ldb % per !== 0) throw new Error(`${what}: rows of ${g.ldb} elements do not start on a word (${per} elements per word)`);
  if (Math.ceil(lastB / per) > b.size) throw new Error(`${what} is too small: the geometry reads ${lastB} elements, ${b.size} words hold ${b.size * per}`);
  if (w.format === 'f16') {
    if (w.group || w.scales) throw new Error(`${what}: f16 weights have no scales`);
    return;
  }
  if (!g.transposeB) throw new Error(`${what}: int8 and 4-bit weights are stored [N, K] (transposeB), so that scales and groups run along K`);
  if (!w.scales || w.scales.dtype !== 'f32') throw new Error(`${what}: needs f32 scales, got ${w.scales ? w.scales.dtype : 'none'}`);
  if (w.format === 'q4' && !w.group) throw new Error(`${what}: 4-bit weights need a group size`);
  if (w.group) {
    if (g.ldb % w.group !== 0) throw new Error(`${what}: rows of ${g.ldb} elements are not whole groups of ${w.group}`);
    const groups = Math.ceil(lastB / w.group);
    if (w.scales.size < groups) throw new Error(`${what}: ${w.scales.size} scales for ${groups} groups of ${w.group}`);
  } else if (w.scales.size < g.N) {
    throw new Error(`${what}: ${w.scales.size} scales for ${g.N} output channels`);
  }
}

// ------------------------------------------------------------------------------------------ CPU reference

/** The same math in float64, laid out by the same geometry (output contiguous per `ldc`/`strideC`). */
export function matmulRef(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  g: MatmulGeometry,
  opts: { bias?: ArrayLike<number>; residual?: ArrayLike<number>; activation?: Activation } = {},
): Float64Array {
  const out = new Float64Array((g.batch - 1) * g.strideC + (g.M - 1) * g.ldc + g.N);
  for (let bi = 0; bi < g.batch; bi++) {
    for (let m = 0; m < g.M; m++) {
      const aRow = g.offA + bi * g.strideA + m * g.lda;
      for (let n = 0; n < g.N; n++) {
        let s = 0;
        for (let k = 0; k < g.K; k++) {
          const bv = g.transposeB ? b[bi * g.strideB + n * g.ldb + k]! : b[bi * g.strideB + k * g.ldb + n]!;
          s += a[aRow + k]! * bv;
        }
        if (opts.bias) s += opts.bias[n]!;
        if (opts.activation) s = activationRef(opts.activation, s);
        if (opts.residual) s += opts.residual[bi * g.strideR + m * g.ldr + n]!;
        out[bi * g.strideC + m * g.ldc + n] = s;
      }
    }
  }
  return out;
}
