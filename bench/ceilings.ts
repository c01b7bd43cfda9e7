/**
 * The adapter's own ceilings, measured: peak FMA rate (register-only kernel, 8 independent vec4 chains per
 * invocation, 1 to 8 rounds of them per loop iteration: the best of these, since compilers differ in what loop
 * overhead they leave — lavapipe blends every loop-carried value with its execution mask once per iteration, which
 * halves the rate of a one-round loop) and copy bandwidth (bytes read + written). Work is grown until one run takes
 * ≥ 20 ms, so the figure means the same on lavapipe and on an H100.
 */
import { copyCall, fmaCall } from '../src/kernels/ceilings.js';
import type { Engine } from '../src/runtime/engine.js';
import type { BenchRecord } from './records.js';
import { round } from './records.js';
import { timeCalls } from './timing.js';

export interface Ceilings {
  fma: Record<string, number>;
  copy: Record<string, number>;
  /** The FMA probe that measured `fma` (per dtype), to run again beside a kernel: bench/kernels.ts. */
  fmaProbe?: Record<string, { invocations: number; iters: number; unroll: number }>;
}

export async function measureCeilings(engine: Engine, opts: { reps?: number } = {}): Promise<{ records: BenchRecord[]; ceilings: Ceilings }> {
  const records: BenchRecord[] = [];
  const ceilings: Ceilings = { fma: {}, copy: {}, fmaProbe: {} };
  const dtypes = engine.hasF16 ? (['f32', 'f16'] as const) : (['f32'] as const);
  for (const dtype of dtypes) {
    const dst = engine.empty([(1 << 22) * 4], dtype);
    const src = engine.empty([4], dtype);
    try {
      let best: { rec: BenchRecord; gflops: number; probe: { invocations: number; iters: number; unroll: number } } | null = null;
      for (const unroll of [1, 2, 4, 8]) {
        let invocations = 1 << 14;
        let iters = 64 / unroll;
        let t = await timeCalls(engine, [fmaCall(engine.context, src, dst, invocations, iters, unroll)], { warmup: 1, reps: 1 });
        while (t.median_ms < 20 && invocations * iters < 2 ** 36) {
          if (invocations < 1 << 22) invocations *= 4;
          else iters *= 4;
          t = await timeCalls(engine, [fmaCall(engine.context, src, dst, invocations, iters, unroll)], { warmup: 1, reps: 1 });
        }
        const call = fmaCall(engine.context, src, dst, invocations, iters, unroll);
        t = await timeCalls(engine, [call], { warmup: 1, reps: opts.reps ?? 5 });
        const gflops = call.flops / t.median_ms / 1e6;
        if (!best || gflops > best.gflops) {
          const rec: BenchRecord = {
            kind: 'ceiling', name: `fma_${dtype}`, shape: `${invocations} inv x ${iters} it x ${unroll}`, dtype, adapter: engine.info.name,
            ...t, median_ms: round(t.median_ms), gflops: round(gflops, 2), unroll,
          };
          best = { rec, gflops, probe: { invocations, iters, unroll } };
        }
      }
      ceilings.fma[dtype] = best!.gflops;
      ceilings.fmaProbe![dtype] = best!.probe;
      records.push(best!.rec);
    } finally {
      dst.dispose();
      src.dispose();
    }

    // Copy: the largest binding up to 256 MiB, repeated in one pass until ≥ 20 ms.
    const bytesEach = dtype === 'f16' ? 2 : 4;
    const n = Math.floor(Math.min(engine.limits.maxStorageBufferBindingSize, 256 << 20) / bytesEach / 4) * 4;
    const a = engine.empty([n], dtype);
    const b = engine.empty([n], dtype);
    try {
      let repeat = 1;
      let t = await timeCalls(engine, [copyCall(engine.context, a, b)], { warmup: 1, reps: 1 });
      while (t.median_ms * repeat < 20 && repeat < 64) repeat *= 2;
      const calls = Array.from({ length: repeat }, (_, i) => (i % 2 ? copyCall(engine.context, b, a) : copyCall(engine.context, a, b)));
      t = await timeCalls(engine, calls, { warmup: 1, reps: opts.reps ?? 5 });
      const bytes = calls.reduce((s, c) => s + c.bytes, 0);
      const gbps = bytes / t.median_ms / 1e6;
      ceilings.copy[dtype] = gbps;
      records.push({ kind: 'ceiling', name: dtype === 'f32' ? 'copy' : `copy_${dtype}`, shape: `${(n * bytesEach) / 2 ** 20} MiB x ${repeat}`, dtype, adapter: engine.info.name, ...t, median_ms: round(t.median_ms), gbps: round(gbps, 2) });
    } finally {
      a.dispose();
      b.dispose();
    }
  }
  return { records, ceilings };
}
