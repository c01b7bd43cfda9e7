/**
 * A tensor: shape, dtype and a region of a GPU buffer. An eager tensor owns its buffer (allocated by the engine,
 * destroyed by `dispose()` or by the engine's own dispose); a graph's tensors are views into the plan's arena and
 * own nothing.
 */
import { DTYPE_BYTES, type DType } from './dtype.js';

/** What a tensor needs from the engine that made it. */
export interface TensorHost {
  readTensor(t: Tensor): Promise<Float32Array | Int32Array>;
  releaseBuffer(buffer: GPUBuffer): void;
}

export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

export function checkShape(shape: readonly number[], what = 'shape'): void {
  if (!Array.isArray(shape) || shape.length === 0) throw new Error(`${what} must be a non-empty array of sizes, got ${JSON.stringify(shape)}`);
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 1) throw new Error(`${what} ${JSON.stringify(shape)}: every size must be a positive integer`);
  }
}

export class Tensor {
  readonly size: number;
  private disposed = false;

  constructor(
    private readonly host: TensorHost,
    readonly shape: readonly number[],
    readonly dtype: DType,
    readonly buffer: GPUBuffer,
    /** Byte offset into `buffer`; a multiple of the device's minStorageBufferOffsetAlignment. */
    readonly offset = 0,
    /** Whether dispose() destroys the buffer (eager tensors) or leaves it to its plan (graph views). */
    readonly ownsBuffer = true,
  ) {
    this.size = shapeSize(shape);
  }

  get byteLength(): number {
    return this.size * DTYPE_BYTES[this.dtype];
  }

  /** Storage bindings must be a multiple of 4 bytes (odd f16 counts round up). */
  get bindingSize(): number {
    return Math.ceil(this.byteLength / 4) * 4;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Copies the tensor back: f32 and f16 as Float32Array, i32 as Int32Array. */
  async read(): Promise<Float32Array | Int32Array> {
    if (this.disposed) throw new Error(`read() of a disposed tensor ${formatShape(this.shape)}`);
    return this.host.readTensor(this);
  }

  /** The same data under another shape with the same element count (a view: owns nothing). */
  reshape(shape: readonly number[]): Tensor {
    checkShape(shape, 'reshape');
    if (shapeSize(shape) !== this.size) {
      throw new Error(`reshape ${formatShape(this.shape)} → ${formatShape(shape)}: element counts differ`);
    }
    return new Tensor(this.host, shape, this.dtype, this.buffer, this.offset, false);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.ownsBuffer) this.host.releaseBuffer(this.buffer);
  }

  toString(): string {
    return `Tensor(${formatShape(this.shape)}, ${this.dtype})`;
  }
}
