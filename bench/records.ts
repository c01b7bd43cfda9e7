/** The benchmark record: one JSON object per line, the same fields for every kind. */
export interface BenchRecord {
  kind: 'ceiling' | 'kernel' | 'model';
  /** fma_f32, fma_f16, copy, matmul, matmul_naive, attention, layernorm, gelu, siglip-vision, siglip-text */
  name: string;
  /** e.g. "576x4096x1024 b1", "L577 H16 D64", "batch 8" */
  shape: string;
  dtype: string;
  adapter: string;
  /** The host CPU (model × logical cores): what a CPU adapter's figures depend on. */
  host?: string;
  median_ms: number;
  min_ms?: number;
  max_ms?: number;
  reps?: number;
  clock?: 'timestamp' | 'wall';
  gflops?: number;
  gbps?: number;
  /** Against the adapter's measured fma (compute-bound) or copy (memory-bound) ceiling of the same dtype. */
  fraction_of_ceiling?: number;
  /**
   * CPU adapters, compute-bound kernels: the median over repeats of (kernel rate / FMA probe rate), the probe run
   * between the kernel's repeats — a fraction that the machine's load moves less than one against a ceiling
   * measured minutes earlier.
   */
  fraction_of_ceiling_same_rounds?: number;
  ceiling_same_rounds_gflops?: number;
  /** Anything else worth keeping: variant, throughput, memory, per-op split, why skipped. */
  [extra: string]: unknown;
}

export function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
