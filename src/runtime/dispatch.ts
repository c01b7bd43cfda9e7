/**
 * Encoding and timing kernel launches, written once for everyone who dispatches (eager ops, graph plans, the
 * tuner, the benchmarks):
 *  - `encodeDispatches`: pipelines, bind groups and workgroup counts into compute passes — one pass for all, or
 *    one per dispatch when each is timed on its own.
 *  - `PreparedCalls`: calls made ready to run any number of times — pipelines compiled, uniforms written into one
 *    buffer at aligned offsets, bind groups made — so that running or timing them again allocates nothing.
 */
import type { Engine } from './engine.js';
import { BufferUsage } from './gpu-constants.js';
import type { KernelCall } from './kernel.js';
import { GpuTimer } from './profiler.js';

export interface Dispatch {
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  workgroups: readonly [number, number, number];
}

export interface EncodeOptions {
  label?: string;
  /** Timestamps: around the one pass, or around each dispatch's pass with `perDispatch`. */
  timer?: GpuTimer;
  /** One compute pass per dispatch (so each can be timed); default: all in one pass. */
  perDispatch?: boolean;
}

export function encodeDispatches(enc: GPUCommandEncoder, dispatches: readonly Dispatch[], opts: EncodeOptions = {}): void {
  const passes = opts.perDispatch ? dispatches.map((d) => [d]) : [dispatches];
  passes.forEach((group, i) => {
    const pass = enc.beginComputePass(opts.timer ? { label: opts.label, timestampWrites: opts.timer.passWrites(i) } : { label: opts.label });
    for (const d of group) {
      pass.setPipeline(d.pipeline);
      pass.setBindGroup(0, d.bindGroup);
      pass.dispatchWorkgroups(...d.workgroups);
    }
    pass.end();
  });
}

export interface Timing {
  median_ms: number;
  min_ms: number;
  max_ms: number;
  reps: number;
  /** 'timestamp' (GPU clock) or 'wall' (submit → done, includes driver overhead). */
  clock: 'timestamp' | 'wall';
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Calls ready to run or time repeatedly: one uniform buffer, pipelines and bind groups made once. */
export class PreparedCalls {
  readonly dispatches: Dispatch[] = [];
  private readonly uniformBuf: GPUBuffer;
  private timer: GpuTimer | null = null;
  private disposed = false;

  constructor(readonly engine: Engine, readonly calls: readonly KernelCall[], readonly label = 'calls') {
    const stride = engine.limits.minUniformBufferOffsetAlignment;
    const offsets: number[] = [];
    let bytes = 0;
    for (const c of calls) {
      offsets.push(bytes);
      bytes += Math.ceil(Math.max(c.uniforms.byteLength, 16) / stride) * stride;
    }
    this.uniformBuf = engine.createBuffer(Math.max(bytes, 16), BufferUsage.UNIFORM | BufferUsage.COPY_DST, `${label} uniforms`);
    try {
      calls.forEach((c, i) => {
        engine.device.queue.writeBuffer(this.uniformBuf, offsets[i]!, c.uniforms);
        const { pipeline, layout } = engine.pipeline(c.kernel, c.spec);
        const bindGroup = engine.bindGroup(c, layout, { buffer: this.uniformBuf, offset: offsets[i]!, size: c.uniforms.byteLength });
        this.dispatches.push({ pipeline, bindGroup, workgroups: c.workgroups });
      });
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  get flops(): number {
    return this.calls.reduce((s, c) => s + c.flops, 0);
  }

  /** Encodes and submits every call (one pass); does not wait. */
  submit(): void {
    this.engine.check();
    const enc = this.engine.device.createCommandEncoder({ label: this.label });
    encodeDispatches(enc, this.dispatches, { label: this.label });
    this.engine.device.queue.submit([enc.finish()]);
  }

  /** One run: GPU time of the pass where the adapter has timestamps, wall time (submit → done) otherwise. */
  async timeOnce(): Promise<{ ms: number; clock: Timing['clock'] }> {
    const { engine } = this;
    engine.check();
    if (engine.hasTimestamps) this.timer ??= new GpuTimer(engine, 1);
    const enc = engine.device.createCommandEncoder({ label: this.label });
    encodeDispatches(enc, this.dispatches, { label: this.label, timer: this.timer ?? undefined });
    this.timer?.resolve(enc);
    const t0 = performance.now();
    engine.device.queue.submit([enc.finish()]);
    await engine.device.queue.onSubmittedWorkDone();
    const wall = performance.now() - t0;
    await engine.settled();
    if (!this.timer) return { ms: wall, clock: 'wall' };
    const [ms] = await this.timer.read();
    return { ms: ms!, clock: 'timestamp' };
  }

  /** `reps` timed runs after `warmup` untimed ones; median, min and max. */
  async time(opts: { warmup?: number; reps?: number } = {}): Promise<Timing> {
    const warmup = opts.warmup ?? 2;
    const reps = Math.max(1, opts.reps ?? 7);
    for (let i = 0; i < warmup; i++) await this.timeOnce();
    const times: number[] = [];
    let clock: Timing['clock'] = 'wall';
    for (let i = 0; i < reps; i++) {
      const t = await this.timeOnce();
      times.push(t.ms);
      clock = t.clock;
    }
    return { median_ms: median(times), min_ms: Math.min(...times), max_ms: Math.max(...times), reps, clock };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.timer?.dispose();
    this.engine.releaseBuffer(this.uniformBuf);
  }
}
