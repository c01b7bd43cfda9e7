/**
 * A weight matrix on the device in a compact format (f16 words, int8 or 4-bit with f32 scales: the bit layout is
 * src/runtime/weight-format.ts's): its packed words and scales, each a tensor this object owns, and the layout that
 * says how to read them. Matmuls (eager and in graphs) and the embedding lookup take one wherever they take a weight
 * tensor; every matmul variant unpacks it in registers.
 *
 *   const w = PackedWeight.pack(engine, values, [out, in], { format: 'int8' });   // quantized on the host
 *   const y = engine.ops.matmul(x, w, { bias });                                  // x·Wᵀ + bias
 */
import type { Engine } from '../runtime/engine.js';
import type { Tensor } from '../runtime/tensor.js';
import { packedLayout, packedWords, packMatrix, scaleCount, type PackedFormat, type PackedLayout } from '../runtime/weight-format.js';

export interface PackOptions {
  format: PackedFormat;
  /** Elements per scale along a row: 0 (one per row; int8's default), 32 or 64 (q4's default 32), 128. */
  group?: number;
  /**
   * f16 only: the matrix is stored as given, [K, N] (a matmul reads it without transposeB). int8 and 4-bit weights
   * are always [N, K] ([out, in]), so that their groups run along K.
   */
  kn?: boolean;
}

/** The default group of a format: int8 one scale per output channel, 4-bit groups of 32, f16 none. */
export function defaultGroup(format: PackedFormat): number {
  return format === 'q4' ? 32 : 0;
}

export class PackedWeight {
  private disposed = false;

  constructor(
    readonly layout: PackedLayout,
    /** The packed words, [rows · ld / elements per word] u32. */
    readonly data: Tensor,
    /** f32 scales (int8, q4), or null (f16). */
    readonly scales: Tensor | null,
    /** Stored [K, N] (f16 only): read without transposeB. */
    readonly kn = false,
  ) {
    if (data.dtype !== 'u32' || data.size !== packedWords(layout)) throw new Error(`packed weight: data must be ${packedWords(layout)} u32 words, got ${data.size} ${data.dtype}`);
    const s = scaleCount(layout);
    if (s ? !scales || scales.dtype !== 'f32' || scales.size !== s : scales) throw new Error(`packed weight: ${s ? `${s} f32 scales` : 'no scales'} expected`);
    if (kn && layout.format !== 'f16') throw new Error('packed weight: only f16 weights can be stored [K, N]');
  }

  /** Packs (and quantizes) a [rows, cols] float matrix on the host and uploads it. */
  static pack(engine: Engine, values: ArrayLike<number>, shape: readonly [number, number], opts: PackOptions, what = 'weight'): PackedWeight {
    const l = packedLayout(opts.format, shape[0], shape[1], opts.group ?? defaultGroup(opts.format));
    const { words, scales } = packMatrix(l, values, what);
    return PackedWeight.upload(engine, l, words, scales, opts.kn);
  }

  /** Uploads words and scales already packed in `layout`. */
  static upload(engine: Engine, layout: PackedLayout, words: Uint32Array, scales: Float32Array | null, kn = false): PackedWeight {
    const data = engine.tensor(words, [words.length], 'u32');
    let s: Tensor | null = null;
    try {
      if (scales) s = engine.tensor(scales, [scales.length], 'f32');
      return new PackedWeight(layout, data, s, kn);
    } catch (e) {
      data.dispose();
      s?.dispose();
      throw e;
    }
  }

  /** Device buffers for `layout`, to be filled by the caller (streamed loading); contents undefined. */
  static empty(engine: Engine, layout: PackedLayout, what: string, kn = false): PackedWeight {
    const words = packedWords(layout);
    const n = scaleCount(layout);
    engine.checkStorageSize(words * 4, `${what} (${layout.format} words)`);
    const data = engine.empty([words], 'u32');
    let s: Tensor | null = null;
    try {
      if (n) s = engine.empty([n], 'f32');
      return new PackedWeight(layout, data, s, kn);
    } catch (e) {
      data.dispose();
      s?.dispose();
      throw e;
    }
  }

  get format(): PackedFormat {
    return this.layout.format;
  }

  get group(): number {
    return this.layout.group;
  }

  /** The matrix as stored: [rows, cols] ([out, in], or [in, out] when kn). */
  get shape(): [number, number] {
    return [this.layout.rows, this.layout.cols];
  }

  /** Bytes on the device (words and scales): what a pass reads of this weight. */
  get byteLength(): number {
    return this.data.byteLength + (this.scales?.byteLength ?? 0);
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.data.dispose();
    this.scales?.dispose();
  }

  toString(): string {
    return `PackedWeight([${this.shape.join(', ')}], ${this.format}${this.group ? `, group ${this.group}` : ''}${this.kn ? ', [K, N]' : ''})`;
  }
}
