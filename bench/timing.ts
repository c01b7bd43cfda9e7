/**
 * Timing GPU work: GPU time from timestamp queries where the adapter has them (one query pair around a compute
 * pass), otherwise wall time from submit to onSubmittedWorkDone. Warm-up runs first; the median of the repeats is
 * reported, with the spread.
 */
import type { Engine } from '../src/runtime/engine.js';
import { BufferUsage } from '../src/runtime/gpu-constants.js';
import type { KernelCall } from '../src/runtime/kernel.js';
import { GpuTimer } from '../src/runtime/profiler.js';

export interface Timing {
  median_ms: number;
  min_ms: number;
  max_ms: number;
  reps: number;
  /** 'timestamp' (GPU clock) or 'wall' (submit → done, includes driver overhead). */
  clock: 'timestamp' | 'wall';
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Times `calls` (encoded back to back in one pass) `reps` times after `warmup` runs. */
export async function timeCalls(engine: Engine, calls: KernelCall[], opts: { warmup?: number; reps?: number; minMs?: number } = {}): Promise<Timing> {
  const warmup = opts.warmup ?? 2;
  const reps = opts.reps ?? 7;
  const stride = engine.limits.minUniformBufferOffsetAlignment;
  const ubuf = engine.createBuffer(calls.length * stride, BufferUsage.UNIFORM | BufferUsage.COPY_DST, 'bench uniforms');
  const groups = calls.map((c, i) => {
    engine.device.queue.writeBuffer(ubuf, i * stride, c.uniforms);
    const { pipeline, layout } = engine.pipeline(c.kernel, c.spec);
    return { pipeline, bg: engine.bindGroup(c, layout, { buffer: ubuf, offset: i * stride, size: c.uniforms.byteLength }), wg: c.workgroups };
  });
  const timer = engine.hasTimestamps ? new GpuTimer(engine, 1) : null;
  const once = async (): Promise<number> => {
    const enc = engine.device.createCommandEncoder();
    const pass = enc.beginComputePass(timer ? { timestampWrites: timer.passWrites(0) } : undefined);
    for (const g of groups) {
      pass.setPipeline(g.pipeline);
      pass.setBindGroup(0, g.bg);
      pass.dispatchWorkgroups(...g.wg);
    }
    pass.end();
    timer?.resolve(enc);
    const t0 = performance.now();
    engine.device.queue.submit([enc.finish()]);
    await engine.device.queue.onSubmittedWorkDone();
    const wall = performance.now() - t0;
    engine.check();
    if (!timer) return wall;
    const [ms] = await timer.read();
    return ms!;
  };
  try {
    for (let i = 0; i < warmup; i++) await once();
    const times: number[] = [];
    for (let i = 0; i < reps; i++) times.push(await once());
    return { median_ms: median(times), min_ms: Math.min(...times), max_ms: Math.max(...times), reps, clock: timer ? 'timestamp' : 'wall' };
  } finally {
    timer?.dispose();
    engine.releaseBuffer(ubuf);
  }
}
