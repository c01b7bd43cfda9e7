/**
 * GPU timestamps: a query set with a begin/end pair per compute pass, resolved into a buffer and read back as
 * milliseconds. Used by the graph profiler and the benchmarks; only where the adapter has `timestamp-query`.
 */
import type { Engine } from './engine.js';
import { BufferUsage } from './gpu-constants.js';

export class GpuTimer {
  private readonly querySet: GPUQuerySet;
  private readonly resolveBuf: GPUBuffer;
  private readonly readBuf: GPUBuffer;

  /** Room for `pairs` timed passes. */
  constructor(private readonly engine: Engine, readonly pairs: number) {
    if (!engine.hasTimestamps) throw new Error(`${engine.info.name} has no timestamp-query feature`);
    if (2 * pairs > 4096) throw new Error(`GpuTimer: ${pairs} pairs exceed a query set's 4096 entries`);
    this.querySet = engine.device.createQuerySet({ type: 'timestamp', count: 2 * pairs });
    this.resolveBuf = engine.createBuffer(16 * pairs, BufferUsage.QUERY_RESOLVE | BufferUsage.COPY_SRC, 'timestamps');
    this.readBuf = engine.createBuffer(16 * pairs, BufferUsage.MAP_READ | BufferUsage.COPY_DST, 'timestamps readback');
  }

  passWrites(i: number): GPUComputePassTimestampWrites {
    return { querySet: this.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 };
  }

  /** Adds the resolve and copy to an encoder, after the timed passes. */
  resolve(enc: GPUCommandEncoder, pairs = this.pairs): void {
    enc.resolveQuerySet(this.querySet, 0, 2 * pairs, this.resolveBuf, 0);
    enc.copyBufferToBuffer(this.resolveBuf, 0, this.readBuf, 0, 16 * pairs);
  }

  /** Milliseconds per pass, once the encoder holding resolve() was submitted. */
  async read(pairs = this.pairs): Promise<number[]> {
    await this.engine.mapRead(this.readBuf);
    const ns = new BigUint64Array(this.readBuf.getMappedRange(0, 16 * pairs).slice(0));
    this.readBuf.unmap();
    const out: number[] = [];
    for (let i = 0; i < pairs; i++) out.push(Math.max(0, Number(ns[2 * i + 1]! - ns[2 * i]!)) / 1e6);
    return out;
  }

  dispose(): void {
    this.querySet.destroy();
    this.engine.releaseBuffer(this.resolveBuf);
    this.engine.releaseBuffer(this.readBuf);
  }
}
