/**
 * First pass over a PNG file: chunk layout, header, palette and the metadata PIL reads for orientation, without
 * inflating the image data. Validation mirrors what makes PIL refuse a file: bad signature, IHDR missing or invalid,
 * CRC mismatch in a chunk before the image data ("broken PNG file"), a chunk running past the end of the file.
 */
import { unzlibSync } from 'fflate';
import { checkDimensions, ImageDecodeError } from './types.js';

export interface PngHeader {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  interlace: boolean;
}

export interface PngStructure {
  header: PngHeader;
  /** Image data chunks' payloads, in order. */
  idat: Uint8Array[];
  palette: Uint8Array | null;
  /** EXIF bytes as PIL's `info["exif"]` would hold them, per PIL's precedence (see pickExif). */
  exif: Uint8Array | null;
  xmp: string | null;
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const VALID_DEPTHS: Record<number, number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };
const MAX_TEXT = 1 << 20; // PIL's MAX_TEXT_CHUNK (ImageFile.SAFEBLOCK): larger compressed text is refused there

const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

function crc32(data: Uint8Array, start: number, end: number): number {
  let c = -1;
  for (let i = start; i < end; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

const u32 = (d: Uint8Array, p: number) => ((d[p] << 24) | (d[p + 1] << 16) | (d[p + 2] << 8) | d[p + 3]) >>> 0;
const latin1 = (d: Uint8Array) => new TextDecoder('latin1').decode(d);

export function isPng(data: Uint8Array): boolean {
  return data.length >= 8 && SIGNATURE.every((b, i) => data[i] === b);
}

function parseHeader(d: Uint8Array, p: number, len: number, maxPixels: number): PngHeader {
  if (len !== 13) throw new ImageDecodeError(`png: corrupt IHDR chunk (length ${len})`);
  const width = u32(d, p);
  const height = u32(d, p + 4);
  const bitDepth = d[p + 8];
  const colorType = d[p + 9];
  if (!VALID_DEPTHS[colorType]?.includes(bitDepth)) {
    throw new ImageDecodeError(`png: invalid bit depth ${bitDepth} for colour type ${colorType}`);
  }
  if (d[p + 10] !== 0 || d[p + 11] !== 0 || d[p + 12] > 1) {
    throw new ImageDecodeError('png: unknown compression, filter or interlace method in IHDR');
  }
  checkDimensions('png', width, height, maxPixels);
  return { width, height, bitDepth, colorType, interlace: d[p + 12] === 1 };
}

/** Text chunk → [keyword, raw value bytes] (decompressed when needed); null if malformed or not wanted. */
function readText(type: string, d: Uint8Array, want: (k: string) => boolean): [string, Uint8Array] | null {
  const z = d.indexOf(0);
  if (z <= 0) return null;
  const key = latin1(d.subarray(0, z));
  if (!want(key)) return null;
  let rest = d.subarray(z + 1);
  let compressed = false;
  if (type === 'zTXt') {
    compressed = true;
    rest = rest.subarray(1);
  } else if (type === 'iTXt') {
    if (rest.length < 2) return null;
    compressed = rest[0] !== 0;
    if (compressed && rest[1] !== 0) return null;
    rest = rest.subarray(2);
    const a = rest.indexOf(0);
    const b = a < 0 ? -1 : rest.indexOf(0, a + 1);
    if (b < 0) return null;
    rest = rest.subarray(b + 1);
  }
  if (compressed) {
    try {
      const out = unzlibSync(rest, { out: new Uint8Array(MAX_TEXT + 1) });
      if (out.length > MAX_TEXT) return null;
      rest = out;
    } catch {
      return null;
    }
  }
  return [key, rest];
}

const WANTED_TEXT = new Set(['exif', 'Raw profile type exif', 'XML:com.adobe.xmp']);

/** "Raw profile type exif" (ImageMagick): a header of 3 lines, then the EXIF bytes in hex. */
function rawProfileExif(v: Uint8Array): Uint8Array | null {
  const hex = latin1(v).split('\n').slice(3).join('');
  if (!/^[0-9a-fA-F\s]*$/.test(hex)) return null;
  const clean = hex.replace(/\s+/g, '');
  if (clean.length % 2) return null;
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.substr(2 * i, 2), 16);
  return out;
}

export function readPngStructure(d: Uint8Array, maxPixels: number): PngStructure {
  if (!isPng(d)) throw new ImageDecodeError('png: bad signature');
  let header: PngHeader | null = null;
  const idat: Uint8Array[] = [];
  let palette: Uint8Array | null = null;
  // PIL reads chunks before the image data at open time and the rest only when it needs them (getexif loads the
  // image if no "exif" was seen yet), so we track both halves.
  const info: Record<string, Uint8Array>[] = [{}, {}];
  let p = 8;
  let seenIdat = false;
  let ended = false;
  while (p < d.length) {
    if (p + 8 > d.length) {
      if (seenIdat) break; // a cut chunk after the image data: PIL stops there without complaint
      throw new ImageDecodeError('png: file is truncated (inside a chunk header)');
    }
    const len = u32(d, p);
    const type = String.fromCharCode(d[p + 4], d[p + 5], d[p + 6], d[p + 7]);
    const start = p + 8;
    const end = start + len;
    if (len > 0x7fffffff || end + 4 > d.length) {
      // PIL stops quietly at a cut chunk after the image data (load_end), but not inside the image data.
      if (seenIdat && type !== 'IDAT') break;
      throw new ImageDecodeError(`png: file is truncated (inside the ${type} chunk)`);
    }
    if (!seenIdat && type !== 'IDAT' && crc32(d, p + 4, end) !== u32(d, end)) {
      throw new ImageDecodeError(`png: broken file (bad CRC in the ${type} chunk)`);
    }
    const body = d.subarray(start, end);
    if (!header && type !== 'IHDR') throw new ImageDecodeError(`png: first chunk is ${type}, not IHDR`);
    if (type === 'IHDR') {
      if (header) throw new ImageDecodeError('png: more than one IHDR chunk');
      header = parseHeader(d, start, len, maxPixels);
    } else if (type === 'IDAT') {
      seenIdat = true;
      idat.push(body);
    } else if (type === 'PLTE' && !seenIdat) {
      palette = body;
    } else if (type === 'IEND') {
      ended = true;
      break;
    } else if (type === 'eXIf') {
      info[seenIdat ? 1 : 0].exif = concat([new Uint8Array([0x45, 0x78, 0x69, 0x66, 0, 0]), body]);
    } else if (type === 'tEXt' || type === 'zTXt' || type === 'iTXt') {
      const t = readText(type, body, (k) => WANTED_TEXT.has(k));
      if (t) info[seenIdat ? 1 : 0][t[0]] = t[1];
    }
    p = end + 4;
  }
  if (!header) throw new ImageDecodeError('png: no IHDR chunk');
  if (idat.length === 0) throw new ImageDecodeError(ended ? 'png: no image data (IDAT)' : 'png: file is truncated (no image data)');
  if (header.colorType === 3 && !palette) throw new ImageDecodeError('png: palette image without a PLTE chunk');
  return { header, idat, palette, ...pickMetadata(info[0], info[1]) };
}

/** PIL's Image.getexif for PNG: "exif" before IDAT, else everything; then "Raw profile type exif"; XMP separately. */
function pickMetadata(pre: Record<string, Uint8Array>, post: Record<string, Uint8Array>) {
  const all = pre.exif ? pre : { ...pre, ...post };
  let exif: Uint8Array | null = all.exif ?? null;
  if (!exif && all['Raw profile type exif']) exif = rawProfileExif(all['Raw profile type exif']);
  const x = all['XML:com.adobe.xmp'];
  return { exif, xmp: x ? new TextDecoder('utf-8').decode(x) : null };
}

export function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(parts.reduce((a, b) => a + b.length, 0));
  let o = 0;
  for (const q of parts) {
    out.set(q, o);
    o += q.length;
  }
  return out;
}
