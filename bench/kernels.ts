/**
 * Kernel benchmarks at SigLIP-large's real shapes, against the adapter's measured ceilings. On CPU adapters the
 * largest shapes would take minutes per repeat; they are skipped (and said so) unless `full` is set.
 */
import { attentionCall, attentionPlan, type AttentionGeometry } from '../src/kernels/attention.js';
import { fmaCall } from '../src/kernels/ceilings.js';
import { elementwiseCall } from '../src/kernels/elementwise.js';
import { layerNormCall } from '../src/kernels/layernorm.js';
import { matmulCall, matmulGeometry, NAIVE_MATMUL, type MatmulConfig } from '../src/kernels/matmul.js';
import { attentionConfigFor, layerNormConfigFor, matmulConfigFor, weightLayoutFor } from '../src/ops/index.js';
import type { Engine } from '../src/runtime/engine.js';
import type { KernelCall } from '../src/runtime/kernel.js';
import type { Tensor } from '../src/runtime/tensor.js';
import type { Ceilings } from './ceilings.js';
import { round, type BenchRecord } from './records.js';
import { median, PreparedCalls, timeCalls } from './timing.js';

export interface KernelBenchOptions {
  dtype: 'f32' | 'f16';
  reps?: number;
  /** Run every shape even on CPU adapters. */
  full?: boolean;
  /** Also time the naive matmul beside the tuned one. */
  naive?: boolean;
  /** Only cases whose name contains this. */
  filter?: string;
}

/** Work per repeat allowed on a CPU adapter before a case is skipped (FLOPs). */
const CPU_BUDGET = 40e9;

interface Case {
  name: string;
  shape: string;
  flops: number;
  bytes: number;
  /**
   * The call, and for the tuned kernels the variant it runs (reported beside the time) and, where the variant asks
   * for something this shape or adapter does not allow, the slower path taken instead.
   */
  make: (engine: Engine, dtype: 'f32' | 'f16', keep: Tensor[]) => KernelCall & { variant?: object; fallbacks?: string[] };
  /** Compute-bound (fma ceiling) or memory-bound (copy ceiling). */
  bound: 'fma' | 'copy';
  matmulConfig?: MatmulConfig;
}

function tensor(engine: Engine, shape: number[], dtype: 'f32' | 'f16', keep: Tensor[]): Tensor {
  const t = engine.empty(shape, dtype);
  engine.fill(t, 0.01);
  keep.push(t);
  return t;
}

function matmulCase(batch: number, M: number, N: number, K: number, naive = false): Case {
  return {
    name: naive ? 'matmul_naive' : 'matmul',
    shape: `${M}x${N}x${K} b${batch}`,
    flops: 2 * batch * M * N * K,
    bytes: 4 * (batch * M * K + N * K + batch * M * N),
    bound: 'fma',
    make: (engine, dtype, keep) => {
      // Weights in the layout models use on this adapter (the tuner's choice).
      const nk = weightLayoutFor(engine, { M, N, K }) === 'nk';
      const { g, outShape } = matmulGeometry([batch, M, K], nk ? [N, K] : [K, N], nk);
      const a = tensor(engine, [batch, M, K], dtype, keep);
      const w = tensor(engine, nk ? [N, K] : [K, N], dtype, keep);
      const bias = tensor(engine, [N], dtype, keep);
      const out = tensor(engine, outShape, dtype, keep);
      const config = naive ? NAIVE_MATMUL : matmulConfigFor(engine, nk ? 'nk' : 'kn', dtype, { M: batch * M, N, K });
      return { ...matmulCall(engine.context, { a, b: w, bias, out, geometry: g, config }), variant: { ...config, weights: nk ? 'nk' : 'kn' } };
    },
  };
}

function attentionCase(B: number, L: number, H: number, D: number): Case {
  return {
    name: 'attention',
    shape: `B${B} L${L} H${H} D${D}`,
    flops: 4 * B * H * L * L * D,
    bytes: 4 * B * L * H * D * 4,
    bound: 'fma',
    make: (engine, dtype, keep) => {
      const HD = H * D;
      const qkv = tensor(engine, [B, L, 3 * HD], dtype, keep);
      const out = tensor(engine, [B, L, HD], dtype, keep);
      const view = (j: number) => ({ offset: j * HD, row: 3 * HD, batch: L * 3 * HD });
      const g: AttentionGeometry = { B, Lq: L, Lk: L, H, D, q: view(0), k: view(1), v: view(2), scale: 1 / Math.sqrt(D) };
      const config = attentionConfigFor(engine, { L, D });
      const plan = attentionPlan(engine.context, g, config);
      return { ...attentionCall(engine.context, qkv, qkv, qkv, out, g, config), variant: config, fallbacks: plan.fallbacks };
    },
  };
}

function layerNormCase(rows: number, D: number): Case {
  return {
    name: 'layernorm',
    shape: `${rows}x${D}`,
    flops: 8 * rows * D,
    bytes: 4 * 2 * rows * D,
    bound: 'copy',
    make: (engine, dtype, keep) => {
      const x = tensor(engine, [rows, D], dtype, keep);
      return layerNormCall(engine.context, x, tensor(engine, [D], dtype, keep), tensor(engine, [D], dtype, keep), tensor(engine, [rows, D], dtype, keep), 1e-6, layerNormConfigFor(engine, D));
    },
  };
}

function geluCase(n: number): Case {
  return {
    name: 'gelu',
    shape: `${n}`,
    flops: 10 * n,
    bytes: 4 * 2 * n,
    bound: 'copy',
    make: (engine, dtype, keep) => elementwiseCall(engine.context, 'activate', tensor(engine, [n], dtype, keep), tensor(engine, [n], dtype, keep), { activation: 'gelu_tanh' }),
  };
}

export function kernelCases(naive: boolean): Case[] {
  const cases: Case[] = [];
  for (const b of [1, 8, 32]) {
    cases.push(matmulCase(b, 576, 1024, 1024), matmulCase(b, 576, 4096, 1024), matmulCase(b, 576, 1024, 4096));
  }
  // 577: the MLP of a ViT with a class token (the shape issue #2 quotes) beside SigLIP's own 576.
  cases.push(matmulCase(1, 577, 4096, 1024), matmulCase(1, 64, 1024, 1024), matmulCase(1, 1024, 1024, 1024), matmulCase(1, 4096, 4096, 4096));
  if (naive) cases.push(matmulCase(1, 577, 4096, 1024, true), matmulCase(1, 1024, 1024, 1024, true));
  // Head dim 72 (SigLIP so400m: 16 heads × 72, 729 tokens) beside 64 at the same token count: per FLOP the two
  // should run alike (the 72 path must not fall back to a slower variant).
  cases.push(attentionCase(1, 577, 16, 64), attentionCase(1, 577, 16, 72), attentionCase(1, 729, 16, 72), attentionCase(1, 64, 16, 64), attentionCase(8, 577, 16, 64));
  cases.push(layerNormCase(577, 1024), layerNormCase(8 * 577, 1024), geluCase(577 * 4096));
  return cases;
}

export async function benchKernels(engine: Engine, ceilings: Ceilings, opts: KernelBenchOptions): Promise<BenchRecord[]> {
  const records: BenchRecord[] = [];
  const esize = opts.dtype === 'f16' ? 2 : 4;
  for (const c of kernelCases(opts.naive ?? true)) {
    if (opts.filter && !`${c.name} ${c.shape}`.includes(opts.filter)) continue;
    const base = { kind: 'kernel' as const, name: c.name, shape: c.shape, dtype: opts.dtype, adapter: engine.info.name };
    // Naive kernels crawl: on CPU adapters they get a smaller budget still.
    const budget = c.name.endsWith('naive') ? CPU_BUDGET / 8 : CPU_BUDGET;
    if (engine.info.isCpu && !opts.full && c.flops > budget) {
      records.push({ ...base, median_ms: NaN, skipped: `${(c.flops / 1e9).toFixed(0)} GFLOP per repeat on a CPU adapter (run with --full)` });
      continue;
    }
    const keep: Tensor[] = [];
    try {
      const call = c.make(engine, opts.dtype, keep);
      const big = engine.info.isCpu && c.flops > 4e9;
      const reps = opts.reps ?? (big ? 3 : 7);
      const probe = c.bound === 'fma' && engine.info.isCpu ? ceilings.fmaProbe?.[opts.dtype] : undefined;
      let t: Awaited<ReturnType<typeof timeCalls>>;
      let sameRounds: { fraction: number; gflops: number } | undefined;
      if (probe) {
        // A CPU adapter's ceiling moves with the machine's load: the FMA probe runs again between the kernel's
        // repeats, so that a fraction of the ceiling is also had from figures measured seconds apart.
        const src = engine.empty([4], opts.dtype);
        const dst = engine.empty([probe.invocations * 4], opts.dtype);
        keep.push(src, dst);
        const kernel = new PreparedCalls(engine, [call], 'bench');
        const ceiling = new PreparedCalls(engine, [fmaCall(engine.context, src, dst, probe.invocations, probe.iters, probe.unroll)], 'bench ceiling');
        try {
          for (let i = 0; i < (big ? 1 : 2); i++) await kernel.timeOnce();
          await ceiling.timeOnce();
          const times: number[] = [];
          const fractions: number[] = [];
          const ceilingRates: number[] = [];
          let clock: 'timestamp' | 'wall' = 'wall';
          for (let i = 0; i < reps; i++) {
            const k = await kernel.timeOnce();
            const p = await ceiling.timeOnce();
            times.push(k.ms);
            clock = k.clock;
            ceilingRates.push(ceiling.flops / p.ms / 1e6);
            fractions.push(c.flops / k.ms / 1e6 / (ceiling.flops / p.ms / 1e6));
          }
          t = { median_ms: median(times), min_ms: Math.min(...times), max_ms: Math.max(...times), reps, clock };
          sameRounds = { fraction: median(fractions), gflops: median(ceilingRates) };
        } finally {
          kernel.dispose();
          ceiling.dispose();
        }
      } else {
        t = await timeCalls(engine, [call], { warmup: big ? 1 : 2, reps });
      }
      const rec: BenchRecord = { ...base, ...t, median_ms: round(t.median_ms), min_ms: round(t.min_ms), max_ms: round(t.max_ms) };
      if (c.bound === 'fma') {
        rec.gflops = round(c.flops / t.median_ms / 1e6, 2);
        const ceil = ceilings.fma[opts.dtype];
        if (ceil) rec.fraction_of_ceiling = round(rec.gflops / ceil, 3);
        if (sameRounds) {
          rec.ceiling_same_rounds_gflops = round(sameRounds.gflops, 2);
          rec.fraction_of_ceiling_same_rounds = round(sameRounds.fraction, 3);
        }
      } else {
        // Memory-bound: judged by bandwidth; the FLOP rate only places it on the roofline plot.
        rec.gflops = round(c.flops / t.median_ms / 1e6, 3);
        rec.gbps = round(((c.bytes / 4) * esize) / t.median_ms / 1e6, 2);
        const ceil = ceilings.copy[opts.dtype];
        if (ceil) rec.fraction_of_ceiling = round(rec.gbps / ceil, 3);
      }
      rec.intensity = round(c.flops / ((c.bytes / 4) * esize), 2);
      if (call.variant) rec.variant = call.variant;
      if (call.fallbacks?.length) rec.fallback = call.fallbacks.join('; ');
      records.push(rec);
    } finally {
      for (const t of keep) t.dispose();
    }
  }
  return records;
}
