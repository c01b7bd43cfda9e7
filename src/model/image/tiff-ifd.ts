/**
 * The first IFD of a TIFF file, read with every count and offset checked against the file (a fuzzed count of 2^32 or
 * a chain of IFDs that loops must not hang or allocate): only the tags the decoder needs.
 */
import { ImageDecodeError } from './types.js';

export interface Ifd {
  little: boolean;
  /** Tag → its values (numbers), for the tags listed in WANTED. */
  tags: Map<number, number[]>;
  /** JPEGTables (347) as bytes. */
  jpegTables: Uint8Array | null;
}

const WANTED = new Set([256, 257, 258, 259, 262, 266, 273, 274, 277, 278, 279, 284, 317, 320, 322, 323, 324, 325, 338, 339]);
const SIZES: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8 };
/** More values than this in one tag is not a real image's strip table (a 65535-row image in 1-row strips fits). */
const MAX_VALUES = 1 << 22;

export function readFirstIfd(b: Uint8Array): Ifd {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const little = b[0] === 0x49;
  const u16 = (p: number) => v.getUint16(p, little);
  const u32 = (p: number) => v.getUint32(p, little);
  if (b.length < 8) throw new ImageDecodeError('tiff: file is truncated (no header)');
  if (u16(2) !== 42) throw new ImageDecodeError('tiff: BigTIFF and other variants are not supported');
  const off = u32(4);
  if (off + 2 > b.length) throw new ImageDecodeError('tiff: file is truncated (first IFD past the end)');
  const n = u16(off);
  if (off + 2 + 12 * n > b.length) throw new ImageDecodeError('tiff: file is truncated (inside the first IFD)');
  const tags = new Map<number, number[]>();
  let jpegTables: Uint8Array | null = null;
  for (let i = 0; i < n; i++) {
    const e = off + 2 + 12 * i;
    const tag = u16(e);
    const type = u16(e + 2);
    const count = u32(e + 4);
    const size = SIZES[type];
    if (!size || (!WANTED.has(tag) && tag !== 347)) continue;
    const bytes = size * count;
    const at = bytes <= 4 ? e + 8 : u32(e + 8);
    if (count > MAX_VALUES || at + bytes > b.length) {
      throw new ImageDecodeError(`tiff: tag ${tag} has ${count} values past the end of the file`);
    }
    if (tag === 347) {
      jpegTables = b.subarray(at, at + bytes);
      continue;
    }
    const vals: number[] = new Array(count);
    for (let k = 0; k < count; k++) {
      const p = at + k * size;
      vals[k] = size === 1 ? b[p] : size === 2 ? u16(p) : size === 4 ? u32(p) : u32(p); // RATIONAL: numerator
    }
    tags.set(tag, vals);
  }
  return { little, tags, jpegTables };
}
