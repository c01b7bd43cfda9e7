/**
 * Writes a safetensors file tensor by tensor, never holding more than one chunk of data: the header is laid out
 * first from the tensors' names, dtypes and shapes (offsets contiguous from 0, the JSON padded with spaces to a
 * multiple of 8 as the Rust crate pads it), then each tensor's bytes are appended in the planned order.
 *
 * The file is written aside (`<path>.tmp-<pid>-<random>` in the same directory) and renamed onto `path` only when
 * every tensor has all its bytes and the data is flushed to disk, so a reader never sees a half-written file, and a
 * failure (or `abort()`) removes the temporary file.
 *
 * Node only (node:fs): module names ending in -node are replaced by a throwing stub in the browser bundle.
 */
import { buildSafetensorsHeader, numel, ST_DTYPE_BYTES } from './safetensors.js';

export interface PlannedTensor {
  name: string;
  dtype: string;
  shape: readonly number[];
}

/** A tensor's place in the data section: [begin, end) relative to its start. */
export interface PlacedTensor extends PlannedTensor {
  dataOffsets: [number, number];
}

/** Element size of a dtype (throws naming an unknown one). */
function elementBytes(t: PlannedTensor): number {
  const b = ST_DTYPE_BYTES[t.dtype];
  if (b === undefined) throw new Error(`safetensors writer: tensor ${t.name}: unknown dtype ${JSON.stringify(t.dtype)}`);
  return b;
}

/**
 * The Rust crate's order: larger elements first, then by name — so that, the header being padded to 8 bytes, every
 * tensor starts at a multiple of its element size and a reader can view it in place.
 */
export function crateOrder<T extends PlannedTensor>(tensors: readonly T[]): T[] {
  return alignedOrder(tensors, (t) => ({ align: elementBytes(t), name: t.name }));
}

/** Items by `key`: alignment descending, then name, then `tie`. A key may group a tensor with another (give it the
 *  other's name and alignment) as long as the group's byte sizes keep every start aligned. */
export function alignedOrder<T>(items: readonly T[], key: (t: T) => { align: number; name: string; tie?: number }): T[] {
  const keyed = items.map((t) => ({ t, k: key(t) }));
  keyed.sort((a, b) => b.k.align - a.k.align || cmp(a.k.name, b.k.name) || (a.k.tie ?? 0) - (b.k.tie ?? 0));
  return keyed.map((x) => x.t);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Offsets of tensors laid out contiguously in the given order. */
export function placeTensors(tensors: readonly PlannedTensor[]): PlacedTensor[] {
  const seen = new Set<string>();
  let off = 0;
  return tensors.map((t) => {
    if (seen.has(t.name)) throw new Error(`safetensors writer: tensor ${t.name} appears twice`);
    if (t.name === '__metadata__') throw new Error('safetensors writer: "__metadata__" cannot name a tensor');
    seen.add(t.name);
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new Error(`safetensors writer: tensor ${t.name}: bad shape ${JSON.stringify(t.shape)}`);
    const bytes = numel(t.shape) * elementBytes(t);
    const placed: PlacedTensor = { name: t.name, dtype: t.dtype, shape: [...t.shape], dataOffsets: [off, off + bytes] };
    off += bytes;
    return placed;
  });
}

/** Small writes are gathered into blocks of this size before they reach the file. */
const BLOCK_BYTES = 4 << 20;

export class SafetensorsWriter {
  private index = 0;
  /** Bytes written of the current tensor. */
  private written = 0;
  private block = new Uint8Array(BLOCK_BYTES);
  private blockUsed = 0;
  private position = 0;
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly temp: string,
    private readonly fh: import('node:fs/promises').FileHandle,
    /** The tensors, in the order their data is written. */
    readonly tensors: readonly PlacedTensor[],
    /** Bytes of the whole file once complete. */
    readonly fileBytes: number,
  ) {}

  /**
   * Creates the temporary file and writes the header. `tensors` are laid out in the order given (see crateOrder);
   * `metadata` becomes `__metadata__`.
   */
  static async create(path: string, tensors: readonly PlannedTensor[], metadata?: Record<string, string>): Promise<SafetensorsWriter> {
    const fs = await import('node:fs/promises');
    const placed = placeTensors(tensors);
    const { header, dataBytes } = buildSafetensorsHeader(placed.map((t) => ({ name: t.name, dtype: t.dtype, shape: [...t.shape] })), metadata);
    const temp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
    const fh = await fs.open(temp, 'wx');
    const w = new SafetensorsWriter(path, temp, fh, placed, header.length + dataBytes);
    try {
      await w.append(header);
    } catch (e) {
      await w.abort();
      throw e;
    }
    return w;
  }

  /** The tensor whose bytes come next (undefined when all are written). */
  get next(): PlacedTensor | undefined {
    return this.tensors[this.index];
  }

  /** Appends bytes of tensor `name`, which must be the next in order; a tensor may come in several calls. */
  async write(name: string, bytes: Uint8Array): Promise<void> {
    if (this.closed) throw new Error(`safetensors writer: ${this.path} is already finished or aborted`);
    let t = this.tensors[this.index];
    // A tensor with all its bytes gives way to the next (zero-byte tensors need no call at all).
    while (t && this.written === t.dataOffsets[1] - t.dataOffsets[0] && t.name !== name) {
      this.index++;
      this.written = 0;
      t = this.tensors[this.index];
    }
    if (!t) throw new Error(`safetensors writer: tensor ${name} written after the last tensor`);
    if (t.name !== name) {
      const size = t.dataOffsets[1] - t.dataOffsets[0];
      throw new Error(`safetensors writer: tensor ${name} written while ${t.name} has ${this.written} of its ${size} bytes (tensors go in order, each whole)`);
    }
    const size = t.dataOffsets[1] - t.dataOffsets[0];
    if (this.written + bytes.byteLength > size) throw new Error(`safetensors writer: tensor ${name}: ${this.written + bytes.byteLength} bytes written, its ${t.dtype} ${JSON.stringify(t.shape)} holds ${size}`);
    this.written += bytes.byteLength;
    await this.append(bytes);
  }

  /** Checks that every tensor has all its bytes, flushes, syncs and renames the file into place. */
  async finish(): Promise<void> {
    if (this.closed) throw new Error(`safetensors writer: ${this.path} is already finished or aborted`);
    try {
      while (this.index < this.tensors.length) {
        const t = this.tensors[this.index]!;
        const size = t.dataOffsets[1] - t.dataOffsets[0];
        if (this.written !== size) throw new Error(`safetensors writer: tensor ${t.name} has ${this.written} of its ${size} bytes`);
        this.index++;
        this.written = 0;
      }
      await this.flush();
      if (this.position !== this.fileBytes) throw new Error(`safetensors writer: wrote ${this.position} bytes, the header promises ${this.fileBytes}`);
      await this.fh.sync();
      this.closed = true;
      await this.fh.close();
      const fs = await import('node:fs/promises');
      await fs.rename(this.temp, this.path);
    } catch (e) {
      await this.abort();
      throw e;
    }
  }

  /** Closes and removes the temporary file (safe to call more than once, and after a failure). */
  async abort(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      await this.fh.close().catch(() => {});
    }
    const fs = await import('node:fs/promises');
    await fs.rm(this.temp, { force: true });
  }

  private async append(bytes: Uint8Array): Promise<void> {
    if (this.blockUsed + bytes.byteLength > this.block.byteLength) await this.flush();
    if (bytes.byteLength >= this.block.byteLength) {
      await this.writeAll(bytes);
      return;
    }
    this.block.set(bytes, this.blockUsed);
    this.blockUsed += bytes.byteLength;
  }

  private async flush(): Promise<void> {
    if (!this.blockUsed) return;
    await this.writeAll(this.block.subarray(0, this.blockUsed));
    this.blockUsed = 0;
  }

  private async writeAll(bytes: Uint8Array): Promise<void> {
    let done = 0;
    while (done < bytes.byteLength) {
      const { bytesWritten } = await this.fh.write(bytes, done, bytes.byteLength - done, this.position);
      done += bytesWritten;
      this.position += bytesWritten;
    }
  }
}
