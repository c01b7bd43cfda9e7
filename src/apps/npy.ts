/**
 * NumPy's .npy format (version 1.0), for the index's embedding shards: `numpy.load` and faiss read them as they are.
 *
 *   "\x93NUMPY" 0x01 0x00 <u16 LE header length> "{'descr': '<f4', 'fortran_order': False, 'shape': (N, D), }"
 *   padded with spaces and a final '\n' so that the data starts at a multiple of 64 bytes, then N·D values, row-major,
 *   little-endian.
 *
 * Headers read back are untrusted (a file in an index directory): only the two dtypes we write, C order and a 2-D
 * shape are accepted, and the caller checks the data size against the file size before reading.
 */

import { f16BitsToF32 as f16ToF32, f32ToF16Bits as f32ToF16 } from '../runtime/dtype.js';

export type NpyDtype = 'f32' | 'f16';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const DESCR: Record<NpyDtype, string> = { f32: '<f4', f16: '<f2' };
export const NPY_BYTES: Record<NpyDtype, number> = { f32: 4, f16: 2 };
/** Room reserved in every header so that the shape can grow to any 2-D size without moving the data. */
const HEADER_BYTES = 128;

/** The full .npy header (magic, version, length, dict, padding) for a [rows, dim] array: always 128 bytes. */
export function npyHeader(dtype: NpyDtype, rows: number, dim: number): Uint8Array {
  if (!Number.isSafeInteger(rows) || rows < 0 || !Number.isSafeInteger(dim) || dim < 1) throw new Error(`npy: bad shape [${rows}, ${dim}]`);
  const dict = `{'descr': '${DESCR[dtype]}', 'fortran_order': False, 'shape': (${rows}, ${dim}), }`;
  const room = HEADER_BYTES - 10 - 1; // prefix, final newline
  if (dict.length > room) throw new Error(`npy: header for [${rows}, ${dim}] does not fit`);
  const text = dict.padEnd(room, ' ') + '\n';
  const out = new Uint8Array(HEADER_BYTES);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, HEADER_BYTES - 10, true);
  for (let i = 0; i < text.length; i++) out[10 + i] = text.charCodeAt(i);
  return out;
}

export interface NpyInfo {
  dtype: NpyDtype;
  rows: number;
  dim: number;
  /** Where the data starts. */
  offset: number;
}

/** Parses a .npy header (versions 1–3) from the file's first bytes; `what` names the file in errors. */
export function parseNpyHeader(bytes: Uint8Array, what: string): NpyInfo {
  const bad = (why: string) => new Error(`${what}: not an embedding shard we can read (${why})`);
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw bad('no .npy magic');
  const major = bytes[6]!;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let len: number;
  let start: number;
  if (major === 1) [len, start] = [dv.getUint16(8, true), 10];
  else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw bad('short header');
    [len, start] = [dv.getUint32(8, true), 12];
  } else throw bad(`.npy version ${major}`);
  if (len > 65536) throw bad(`header of ${len} bytes`);
  if (bytes.length < start + len) throw bad('short header');
  const text = new TextDecoder('latin1').decode(bytes.subarray(start, start + len));
  const descr = /'descr':\s*'([^']*)'/.exec(text)?.[1];
  const dtype = (Object.keys(DESCR) as NpyDtype[]).find((k) => DESCR[k] === descr);
  if (!dtype) throw bad(`dtype ${JSON.stringify(descr)}; expected '<f4' or '<f2'`);
  if (!/'fortran_order':\s*False/.test(text)) throw bad('Fortran order');
  const shape = /'shape':\s*\(\s*(\d+)\s*,\s*(\d+)\s*,?\s*\)/.exec(text);
  if (!shape) throw bad(`shape is not 2-D in ${JSON.stringify(text.trim())}`);
  const rows = Number(shape[1]);
  const dim = Number(shape[2]);
  if (!Number.isSafeInteger(rows) || !Number.isSafeInteger(dim) || dim < 1 || dim > 1 << 16) throw bad(`shape (${shape[1]}, ${shape[2]})`);
  return { dtype, rows, dim, offset: start + len };
}

/** float32 → IEEE half bits, round to nearest even (numpy's astype(float16)); IEEE half bits → number. The engine's
 * own conversions, so that a shard's f16 rows and the device's f16 tensors round alike. */
export { f16ToF32, f32ToF16 };

/** Rows of embeddings as the little-endian bytes of a shard's data. */
export function encodeRows(data: Float32Array, dtype: NpyDtype): Uint8Array {
  if (dtype === 'f32') {
    const out = new Uint8Array(data.length * 4);
    const dv = new DataView(out.buffer);
    for (let i = 0; i < data.length; i++) dv.setFloat32(i * 4, data[i]!, true);
    return out;
  }
  const out = new Uint8Array(data.length * 2);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) dv.setUint16(i * 2, f32ToF16(data[i]!), true);
  return out;
}

/** A shard's data bytes back to float32. */
export function decodeRows(bytes: Uint8Array, dtype: NpyDtype): Float32Array {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dtype === 'f32') {
    const out = new Float32Array(bytes.byteLength >>> 2);
    for (let i = 0; i < out.length; i++) out[i] = dv.getFloat32(i * 4, true);
    return out;
  }
  const out = new Float32Array(bytes.byteLength >>> 1);
  for (let i = 0; i < out.length; i++) out[i] = f16ToF32(dv.getUint16(i * 2, true));
  return out;
}
