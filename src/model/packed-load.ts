/**
 * Streams one weight matrix into a packed device weight (f16 words, int8 or 4-bit with f32 scales), a block of
 * rows at a time: from an F32/F16/BF16 checkpoint tensor it quantizes on the host (weight-format.ts's packRows), from
 * a converted checkpoint (I8/U8 codes and their `.qscale` F32 scales) it uploads the bytes as they are. Rows are
 * independent in every format, so a matrix assembled from parts (the fused QKV projection, the pooling head's split
 * in_proj) or cut into pages (a 256k token table) is packed part by part, and host memory stays one block.
 */
import { PackedWeight } from '../ops/index.js';
import type { Engine } from '../runtime/engine.js';
import { elementsPerWord, packedLayout, packRows, scalesPerRow, type PackedLayout } from '../runtime/weight-format.js';
import { CheckpointError } from './errors.js';
import type { StEntry } from './safetensors.js';
import type { FileSource } from './source.js';
import type { WeightItem } from './weight-item.js';

/** Converted codes: int8 as signed bytes, 4-bit as two codes a byte (weight-format.ts: the words' little-endian bytes). */
export const PACKED_SRC_DTYPES: Readonly<Record<string, 'int8' | 'q4'>> = { I8: 'int8', U8: 'q4' };

/** The suffix of a converted matrix's scales tensor (compact-weights scheme). */
export const SCALES_SUFFIX = '.qscale';

export function itemLayout(item: WeightItem): PackedLayout {
  const [R, C] = item.shape as [number, number];
  return packedLayout(item.packed!.format, R, C, item.packed!.group);
}

/**
 * Checks a converted part against what the item's layout implies: the codes' dtype and shape [rows, bytes per
 * row], and the scales tensor [rows, scales per row] F32. Throws a CheckpointError naming file and tensor.
 */
export function checkConvertedPart(source: FileSource, entries: Map<string, StEntry>, item: WeightItem, part: WeightItem['parts'][number], e: StEntry): void {
  const l = itemLayout(item);
  const file = source.locate(e.file);
  const fmt = PACKED_SRC_DTYPES[e.dtype];
  if (fmt !== l.format) throw new CheckpointError(`${file}: tensor ${part.src} is ${e.dtype} (${fmt ?? 'not a packed format'}); this model is loading ${l.format} weights`, { file, tensor: part.src });
  const rowBytes = (l.ld * (l.format === 'int8' ? 8 : 4)) / 8;
  const rows = part.srcShape[0]!;
  if (e.shape.length !== 2 || e.shape[0] !== rows || e.shape[1] !== rowBytes) {
    throw new CheckpointError(`${file}: tensor ${part.src} has shape [${e.shape.join(', ')}]; ${l.format}${l.group ? ` in groups of ${l.group}` : ''} of [${rows}, ${l.cols}] is stored [${rows}, ${rowBytes}]`, { file, tensor: part.src });
  }
  const sname = part.src + SCALES_SUFFIX;
  const s = entries.get(sname);
  const spr = scalesPerRow(l);
  if (!s) throw new CheckpointError(`${file}: the scales ${sname} of ${part.src} are missing`, { file, tensor: sname });
  const sfile = source.locate(s.file);
  if (s.dtype !== 'F32' || s.shape.length !== 2 || s.shape[0] !== rows || s.shape[1] !== spr) {
    throw new CheckpointError(`${sfile}: tensor ${sname} is ${s.dtype} [${s.shape.join(', ')}]; expected F32 [${rows}, ${spr}]`, { file: sfile, tensor: sname });
  }
}

function toF32(dtype: string, bytes: Uint8Array, f16: (h: Uint16Array) => Float32Array, bf16: (h: Uint16Array) => Float32Array): Float32Array {
  const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  if (dtype === 'F32') return new Float32Array(buf);
  return dtype === 'F16' ? f16(new Uint16Array(buf)) : bf16(new Uint16Array(buf));
}

export interface PackedLoadIo {
  /** Re-cuts a stream into chunks of whole `multiple`-byte units. */
  aligned: (stream: AsyncIterable<Uint8Array>, multiple: number) => AsyncIterable<Uint8Array>;
  fromF16: (h: Uint16Array) => Float32Array;
  fromBf16: (h: Uint16Array) => Float32Array;
  /** Called after each block is written: progress and back-pressure (the caller waits for the queue now and then). */
  done: (sourceBytes: number, file: string) => Promise<void>;
  chunkBytes: number;
}

/** Loads `item` (its `packed` format) into a new PackedWeight; disposes it again on failure. */
export async function loadPackedItem(engine: Engine, source: FileSource, entries: Map<string, StEntry>, item: WeightItem, io: PackedLoadIo): Promise<PackedWeight> {
  const l = itemLayout(item);
  const w = PackedWeight.empty(engine, l, `weight ${item.key}`);
  const queue = engine.device.queue;
  const wordsPerRow = l.ld / elementsPerWord(l.format);
  const spr = scalesPerRow(l);
  try {
    for (const part of item.parts) {
      const e = entries.get(part.src)!;
      const file = source.locate(e.file);
      const srcRows = e.shape[0] ?? 1;
      const [r0, r1] = part.rows ?? [0, srcRows];
      const rowBytes = (e.end - e.begin) / srcRows;
      const rowsPerChunk = Math.max(1, Math.floor(io.chunkBytes / rowBytes));
      let dstRow = part.dstRow;
      const stream = io.aligned(source.stream(e.file, e.begin + r0 * rowBytes, e.begin + r1 * rowBytes, rowsPerChunk * rowBytes), rowBytes);
      if (PACKED_SRC_DTYPES[e.dtype]) {
        // Converted codes: the bytes are the words (little-endian), uploaded as they are.
        for await (const chunk of stream) {
          const bytes = chunk.byteOffset % 4 === 0 ? chunk : chunk.slice();
          queue.writeBuffer(w.data.buffer, w.data.offset + dstRow * wordsPerRow * 4, bytes.buffer, bytes.byteOffset, bytes.byteLength);
          dstRow += bytes.byteLength / rowBytes;
          await io.done(chunk.byteLength, e.file);
        }
        const sname = part.src + SCALES_SUFFIX;
        const s = entries.get(sname)!;
        const sbytes = await source.read(s.file, s.begin + r0 * spr * 4, s.begin + r1 * spr * 4);
        const scales = new Float32Array(sbytes.slice().buffer);
        // A scale is max|w| / qmax: never negative, never NaN or infinite. Anything else is a damaged file.
        for (let i = 0; i < scales.length; i++) {
          const v = scales[i]!;
          if (!(Number.isFinite(v) && v >= 0)) {
            const sfile = source.locate(s.file);
            throw new CheckpointError(`${sfile}: tensor ${sname}: scale ${v} at row ${r0 + Math.floor(i / spr)}, group ${i % spr} (scales must be finite and ≥ 0)`, { file: sfile, tensor: sname });
          }
        }
        queue.writeBuffer(w.scales!.buffer, w.scales!.offset + part.dstRow * spr * 4, scales.buffer, 0, scales.byteLength);
        continue;
      }
      for await (const chunk of stream) {
        const n = chunk.byteLength / rowBytes;
        const values = toF32(e.dtype, chunk, io.fromF16, io.fromBf16);
        const words = new Uint32Array(n * wordsPerRow);
        const scales = spr ? new Float32Array(n * spr) : null;
        try {
          packRows(l, values, words, scales, `${file}: tensor ${part.src} (rows ${r0 + dstRow - part.dstRow}..)`);
        } catch (err) {
          throw new CheckpointError((err as Error).message, { file, tensor: part.src });
        }
        queue.writeBuffer(w.data.buffer, w.data.offset + dstRow * wordsPerRow * 4, words.buffer, 0, words.byteLength);
        if (scales) queue.writeBuffer(w.scales!.buffer, w.scales!.offset + dstRow * spr * 4, scales.buffer, 0, scales.byteLength);
        dstRow += n;
        await io.done(chunk.byteLength, e.file);
      }
      if (dstRow - part.dstRow !== r1 - r0) throw new CheckpointError(`${file}: tensor ${part.src} ended after ${dstRow - part.dstRow} of ${r1 - r0} rows`, { file, tensor: part.src });
    }
    return w;
  } catch (err) {
    w.dispose();
    throw err;
  }
}
