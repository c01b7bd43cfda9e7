/**
 * matmul: C = act(A·B' + bias) + residual, B' = B or Bᵀ (linear weights are stored [out, in]: transposeB).
 * Kernel variants (shaders/matmul.wgsl): `reg` (register tiles, no workgroup memory) and `tiled` (workgroup-memory
 * tiles). Which one, and which tile sizes, is a per-adapter choice (src/runtime/tuning.ts); the math is the same.
 */
import activations from '../../shaders/activations.wgsl';
import source from '../../shaders/matmul.wgsl';
import type { Engine } from '../runtime/engine.js';
import { packUniforms, type KernelCall, type KernelDef, type Specialization } from '../runtime/kernel.js';
import { formatShape, shapeSize, type Tensor } from '../runtime/tensor.js';

const SOURCE = `${activations}\n${source}`;
export const MATMUL_REG: KernelDef = { name: 'matmul_reg', source: SOURCE, inputs: 4, outputs: 1, entryPoint: 'main_reg' };
export const MATMUL_ROWS: KernelDef = { name: 'matmul_rows', source: SOURCE, inputs: 4, outputs: 1, entryPoint: 'main_rows' };
export const MATMUL_NAIVE: KernelDef = { name: 'matmul_naive', source: SOURCE, inputs: 4, outputs: 1, entryPoint: 'main_naive' };
export const MATMUL_TILED: KernelDef = { name: 'matmul_tiled', source: SOURCE, inputs: 4, outputs: 1, entryPoint: 'main_tiled' };

export type Activation = 'none' | 'gelu_tanh';

export function parseActivation(a: string | undefined): Activation {
  if (a === undefined || a === 'none') return 'none';
  if (a === 'gelu_tanh' || a === 'gelu_pytorch_tanh' || a === 'gelu_new') return 'gelu_tanh';
  throw new Error(`unsupported activation "${a}" (supported: none, gelu_tanh)`);
}

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
  variant: 'reg' | 'tiled' | 'rows' | 'naive';
  /** Rows and columns per invocation (tn a multiple of 4; `rows`: tm rows per workgroup, tn unused). */
  tm: number;
  tn: number;
  /** Workgroup size (reg; tiled is always 16×16). */
  wgx: number;
  wgy: number;
  /** k depth of a staged tile (tiled). */
  bk: number;
}

/** The one-output-per-invocation baseline (benchmarks only). */
export const NAIVE_MATMUL: MatmulConfig = { variant: 'naive', tm: 1, tn: 4, wgx: 8, wgy: 8, bk: 16 };

// Untuned defaults for CPU adapters, by weight layout. lavapipe, 576×1024×1024: B as [K, N] with tm 8 × tn 16
// reached 12–15 GFLOP/s against a 20 GFLOP/s FMA ceiling; B as [N, K] does best with tm 4 × tn 8 (6–8 GFLOP/s).
export const DEFAULT_CPU_MATMUL: MatmulConfig = { variant: 'reg', tm: 8, tn: 16, wgx: 8, wgy: 1, bk: 16 };
export const DEFAULT_CPU_MATMUL_NK: MatmulConfig = { variant: 'reg', tm: 4, tn: 8, wgx: 8, wgy: 4, bk: 16 };
export const SMALL_CPU_MATMUL: MatmulConfig = { variant: 'reg', tm: 4, tn: 4, wgx: 8, wgy: 8, bk: 16 };
export const DEFAULT_GPU_MATMUL: MatmulConfig = { variant: 'tiled', tm: 4, tn: 4, wgx: 16, wgy: 16, bk: 16 };

/** Candidates the tuner measures on CPU adapters: register tiles only (barriers cost a context switch there). */
export const MATMUL_CPU_CANDIDATES: MatmulConfig[] = [
  { variant: 'reg', tm: 8, tn: 16, wgx: 8, wgy: 1, bk: 16 },
  { variant: 'reg', tm: 8, tn: 16, wgx: 8, wgy: 2, bk: 16 },
  { variant: 'reg', tm: 8, tn: 8, wgx: 8, wgy: 1, bk: 16 },
  { variant: 'reg', tm: 4, tn: 8, wgx: 8, wgy: 4, bk: 16 },
  { variant: 'reg', tm: 8, tn: 4, wgx: 8, wgy: 4, bk: 16 },
];

/** Every variant (the tests run them all; the tuner measures these on GPUs). */
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

export function configFits(engine: Engine, c: MatmulConfig): boolean {
  const inv = c.variant === 'tiled' ? 256 : c.variant === 'rows' ? c.wgx : c.wgx * c.wgy;
  const shared = c.variant === 'tiled' ? c.bk * (c.tm + c.tn) * 16 * 4 : 0;
  return (
    inv <= engine.limits.maxComputeInvocationsPerWorkgroup &&
    shared <= engine.limits.maxComputeWorkgroupStorageSize &&
    (c.variant === 'tiled' ? 16 : c.wgx) <= engine.limits.maxComputeWorkgroupSizeX &&
    (c.variant === 'tiled' ? 16 : c.wgy) <= engine.limits.maxComputeWorkgroupSizeY
  );
}

/** The adapter's tuned choice for B stored [N, K] (transposeB) or [K, N]; the built-in default otherwise. */
export function defaultMatmulConfig(engine: Engine, transposeB = true): MatmulConfig {
  const tuned = engine.tuning.get<MatmulConfig>(transposeB ? 'matmul:nk' : 'matmul:kn');
  if (tuned && configFits(engine, tuned)) return tuned;
  // Big register tiles only where the driver compiles them quickly (lavapipe); other CPU drivers (SwiftShader)
  // take minutes to compile a tm 8 × tn 16 kernel, so they start from small tiles until tuned.
  const d = engine.info.family === 'lavapipe' ? (transposeB ? DEFAULT_CPU_MATMUL_NK : DEFAULT_CPU_MATMUL)
    : engine.info.isCpu ? SMALL_CPU_MATMUL : DEFAULT_GPU_MATMUL;
  return configFits(engine, d) ? d : DEFAULT_CPU_MATMUL_NK;
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
  b: Tensor;
  out: Tensor;
  bias?: Tensor;
  residual?: Tensor;
  activation?: Activation;
  geometry: MatmulGeometry;
  config?: MatmulConfig;
}

function lastIndex(batch: number, stride: number, rows: number, ld: number, cols: number, off = 0): number {
  return off + (batch - 1) * stride + (rows - 1) * ld + cols;
}

export function matmulCall(engine: Engine, args: MatmulArgs): KernelCall {
  const { a, b, out, bias, residual, geometry: g } = args;
  const act = args.activation ?? 'none';
  const cfg = args.config ?? defaultMatmulConfig(engine, args.geometry.transposeB);
  const name = `matmul [${g.batch}×${g.M}×${g.K}]·[${g.K}×${g.N}]${g.transposeB ? ' (Bᵀ)' : ''}`;
  for (const [t, n] of [[b, 'b'], [out, 'out'], [bias, 'bias'], [residual, 'residual']] as const) {
    if (t && t.dtype !== a.dtype) throw new Error(`${name}: ${n} is ${t.dtype}, a is ${a.dtype}; all operands must share a dtype`);
  }
  if (a.dtype === 'i32') throw new Error(`${name}: i32 tensors are not supported`);
  for (const v of [g.batch, g.M, g.N, g.K]) if (!(Number.isInteger(v) && v >= 1)) throw new Error(`${name}: sizes must be positive integers`);
  const need = (t: Tensor, n: string, last: number) => {
    if (last > t.size) throw new Error(`${name}: ${n} ${formatShape(t.shape)} is too small (needs ${last} elements)`);
  };
  need(a, 'a', lastIndex(g.batch, g.strideA, g.M, g.lda, g.K, g.offA));
  need(b, 'b', g.transposeB ? lastIndex(g.batch, g.strideB, g.N, g.ldb, g.K) : lastIndex(g.batch, g.strideB, g.K, g.ldb, g.N));
  need(out, 'out', lastIndex(g.batch, g.strideC, g.M, g.ldc, g.N));
  if (bias && bias.size !== g.N) throw new Error(`${name}: bias ${formatShape(bias.shape)} must have N = ${g.N} elements`);
  if (residual) need(residual, 'residual', lastIndex(g.batch, g.strideR, g.M, g.ldr, g.N));

  const m4 = (...xs: number[]) => xs.every((x) => x % 4 === 0);
  const vecA = m4(g.K, g.lda, g.offA) && (g.batch === 1 || m4(g.strideA));
  const vecB = (g.transposeB ? m4(g.K, g.ldb) : m4(g.N, g.ldb)) && (g.batch === 1 || m4(g.strideB));
  const tiled = cfg.variant === 'tiled';
  const rows = cfg.variant === 'rows';
  const naive = cfg.variant === 'naive';
  const spec: Specialization = {
    dtype: a.dtype as 'f32' | 'f16',
    defines: {
      TM: cfg.tm, TN: cfg.tn, BK: cfg.bk, TRANS_B: g.transposeB, VEC_A: vecA, VEC_B: vecB,
      HAS_BIAS: !!bias, HAS_RES: !!residual, ACT: act === 'gelu_tanh' ? 1 : 0,
    },
    overrides: (tiled ? {} : rows ? { WG_X: cfg.wgx } : { WG_X: cfg.wgx, WG_Y: cfg.wgy }) as Record<string, number>,
  };
  const tileM = naive ? cfg.wgy : rows ? cfg.tm : (tiled ? 16 : cfg.wgy) * cfg.tm;
  const tileN = naive ? cfg.wgx : rows ? cfg.wgx : (tiled ? 16 : cfg.wgx) * cfg.tn;
  const workgroups: [number, number, number] = [Math.ceil(g.N / tileN), Math.ceil(g.M / tileM), g.batch];
  const maxDim = engine.limits.maxComputeWorkgroupsPerDimension;
  if (workgroups.some((w) => w > maxDim)) throw new Error(`${name}: dispatch ${workgroups.join('×')} exceeds maxComputeWorkgroupsPerDimension ${maxDim}`);
  const u = (v: number) => ['u32', v] as const;
  const uniforms = packUniforms([
    u(g.M), u(g.N), u(g.K), u(g.batch), u(g.lda), u(g.ldb), u(g.ldc), u(g.ldr),
    u(g.strideA), u(g.strideB), u(g.strideC), u(g.strideR), u(g.offA), u(0), u(0), u(0),
  ]);
  const esize = a.dtype === 'f16' ? 2 : 4;
  const dummy = engine.dummy(a.dtype);
  return {
    kernel: tiled ? MATMUL_TILED : rows ? MATMUL_ROWS : naive ? MATMUL_NAIVE : MATMUL_REG,
    spec,
    tensors: [a, b, bias ?? dummy, residual ?? dummy, out],
    uniforms,
    workgroups,
    flops: 2 * g.batch * g.M * g.N * g.K,
    bytes: esize * (g.batch * g.M * g.K + (g.strideB ? g.batch : 1) * g.K * g.N + g.batch * g.M * g.N * (residual ? 2 : 1)),
  };
}

// ------------------------------------------------------------------------------------------ CPU reference

export function geluTanhRef(x: number): number {
  return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
}

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
        if (opts.activation === 'gelu_tanh') s = geluTanhRef(s);
        if (opts.residual) s += opts.residual[bi * g.strideR + m * g.ldr + n]!;
        out[bi * g.strideC + m * g.ldc + n] = s;
      }
    }
  }
  return out;
}
