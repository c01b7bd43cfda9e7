/**
 * BMP → RGB as Pillow 9.4's BmpImagePlugin reads it: OS/2 v1 and Windows v3–v5 headers, 1/2/4/8-bit palettes,
 * RLE8 and RLE4 (Pillow's own RLE reading, quirks included), 16-bit 5-5-5 and 5-6-5, 24-bit, 32-bit (the fourth byte
 * ignored unless bitfields name it alpha, which convert("RGB") drops anyway), bottom-up and top-down rows.
 *
 * Written here rather than taken from a package: the BMP packages on npm either need Node's Buffer (bmp-js, bmp-ts),
 * lack RLE and 16-bit (decode-bmp) or read their WebAssembly with fs (@cwasm/nsbmp), so none runs in the browser
 * bundle with Pillow's pixels; the format itself is a header and rows.
 */
import { checkDimensions, ImageDecodeError, type FormatDecoded } from './types.js';

const bad = (what: string) => new ImageDecodeError(`bmp: ${what}`);

/** Bitfield layouts Pillow accepts, as [bits, r, g, b] masks → how to read a pixel. */
const MASKS: Record<string, 'bgrx' | 'xbgr' | 'rgbx' | 'bgr' | '565' | '555'> = {
  '32,ff0000,ff00,ff': 'bgrx',
  '32,ff000000,ff0000,ff00': 'xbgr',
  '32,ff,ff00,ff0000': 'rgbx',
  '32,0,0,0': 'bgrx',
  '24,ff0000,ff00,ff': 'bgr',
  '16,f800,7e0,1f': '565',
  '16,7c00,3e0,1f': '555',
};

export async function decodeBmp(b: Uint8Array, maxPixels: number): Promise<FormatDecoded> {
  return decodeBmpSync(b, maxPixels);
}

export function decodeBmpSync(b: Uint8Array, maxPixels: number): FormatDecoded {
  if (b.length < 26) throw bad('file is truncated (in the header)');
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const offBits = v.getUint32(10, true);
  const hsize = v.getUint32(14, true);
  let width: number;
  let height: number;
  let bits: number;
  let compression = 0;
  let colors = 0;
  let pos: number;
  let topDown = false;
  let masks: number[] | null = null;
  if (hsize === 12) {
    width = v.getUint16(18, true);
    height = v.getUint16(20, true);
    bits = v.getUint16(24, true);
    pos = 26;
  } else if (hsize >= 40 && hsize <= 124) {
    if (b.length < 14 + hsize) throw bad('file is truncated (in the header)');
    width = v.getInt32(18, true);
    height = v.getInt32(22, true);
    bits = v.getUint16(28, true);
    compression = v.getUint32(30, true);
    colors = v.getUint32(46, true);
    if (height < 0) {
      topDown = true;
      height = -height;
    }
    pos = 14 + hsize;
    if (compression === 3 || compression === 6) {
      if (hsize >= 52) masks = [v.getUint32(54, true), v.getUint32(58, true), v.getUint32(62, true)];
      else {
        if (b.length < pos + 12) throw bad('file is truncated (in the bitfield masks)');
        masks = [v.getUint32(pos, true), v.getUint32(pos + 4, true), v.getUint32(pos + 8, true)];
        pos += 12;
      }
    }
  } else {
    throw bad(`unsupported header size ${hsize}`);
  }
  checkDimensions('bmp', width, height, maxPixels);
  if (![1, 2, 4, 8, 16, 24, 32].includes(bits)) throw bad(`unsupported bit depth ${bits}`);
  if (![0, 1, 2, 3, 6].includes(compression)) throw bad(`unsupported compression ${compression} (JPEG/PNG inside BMP are not read, as in PIL)`);
  if ((compression === 1 && bits !== 8) || (compression === 2 && bits !== 4)) throw bad(`RLE${compression === 1 ? 8 : 4} with ${bits}-bit pixels`);

  // Palette: `colors` entries (2^bits when 0), 4 bytes each (3 for the OS/2 v1 header).
  let palette: Uint8Array | null = null;
  if (bits <= 8) {
    const n = colors || 1 << bits;
    if (n > 65536) throw bad(`unsupported palette size ${n}`);
    const entry = hsize === 12 ? 3 : 4;
    palette = new Uint8Array(256 * 3); // entries past the palette read as black
    for (let i = 0; i < Math.min(n, 256); i++) {
      const p = pos + i * entry;
      if (p + 3 > b.length) throw bad('file is truncated (in the palette)');
      palette[i * 3] = b[p + 2];
      palette[i * 3 + 1] = b[p + 1];
      palette[i * 3 + 2] = b[p];
    }
    pos += n * entry;
  }
  const start = offBits || pos;
  if (start > b.length) throw bad('file is truncated (no pixel data)');
  const out = new Uint8Array(width * height * 3);
  const rowOut = (fileRow: number) => (topDown ? fileRow : height - 1 - fileRow) * width * 3;

  if (compression === 1 || compression === 2) {
    const idx = rleIndices(b, start, width, height, compression === 2);
    for (let r = 0; r < height; r++) {
      let o = rowOut(r);
      for (let x = 0; x < width; x++, o += 3) {
        const i = idx[r * width + x] * 3;
        out[o] = palette![i];
        out[o + 1] = palette![i + 1];
        out[o + 2] = palette![i + 2];
      }
    }
    return { image: { width, height, data: out } };
  }

  const stride = Math.floor((width * bits + 31) / 32) * 4;
  if (start + stride * (height - 1) + Math.ceil((width * bits) / 8) > b.length) throw bad('file is truncated (image data)');
  let layout: (typeof MASKS)[string] = bits === 16 ? '555' : bits === 24 ? 'bgr' : 'bgrx';
  if (masks && bits >= 16) {
    const key = `${bits},${masks.map((m) => m.toString(16)).join(',')}`;
    const l = MASKS[key];
    if (!l) throw bad(`unsupported bitfields layout ${key}`);
    layout = l;
  }
  for (let r = 0; r < height; r++) {
    let p = start + r * stride;
    let o = rowOut(r);
    if (bits <= 8) {
      const per = 8 / bits;
      const mask = (1 << bits) - 1;
      for (let x = 0; x < width; x++, o += 3) {
        const byte = b[p + Math.floor(x / per)];
        const i = ((byte >> (8 - bits - (x % per) * bits)) & mask) * 3;
        out[o] = palette![i];
        out[o + 1] = palette![i + 1];
        out[o + 2] = palette![i + 2];
      }
      continue;
    }
    for (let x = 0; x < width; x++, o += 3) {
      if (layout === '555' || layout === '565') {
        const px = b[p] | (b[p + 1] << 8);
        p += 2;
        // Pillow's BGR;15 / BGR;16 unpackers: each field scaled with an integer division.
        if (layout === '555') {
          out[o] = Math.floor((((px >> 10) & 31) * 255) / 31);
          out[o + 1] = Math.floor((((px >> 5) & 31) * 255) / 31);
        } else {
          out[o] = Math.floor((((px >> 11) & 31) * 255) / 31);
          out[o + 1] = Math.floor((((px >> 5) & 63) * 255) / 63);
        }
        out[o + 2] = Math.floor(((px & 31) * 255) / 31);
      } else if (layout === 'bgr') {
        out[o] = b[p + 2];
        out[o + 1] = b[p + 1];
        out[o + 2] = b[p];
        p += 3;
      } else if (layout === 'bgrx') {
        out[o] = b[p + 2];
        out[o + 1] = b[p + 1];
        out[o + 2] = b[p];
        p += 4;
      } else if (layout === 'xbgr') {
        out[o] = b[p + 3];
        out[o + 1] = b[p + 2];
        out[o + 2] = b[p + 1];
        p += 4;
      } else {
        out[o] = b[p];
        out[o + 1] = b[p + 1];
        out[o + 2] = b[p + 2];
        p += 4;
      }
    }
  }
  return { image: { width, height, data: out } };
}

/**
 * Pillow 9.4's BmpRleDecoder, step for step: a byte stream of indices in file row order, end-of-line padding with 0,
 * a delta as (right + up × width) zeros, absolute runs (RLE4: count // 2 bytes, two pixels each) word-aligned by file
 * position; it stops at end-of-bitmap or when the image is full, and refuses data that ends short.
 */
function rleIndices(b: Uint8Array, start: number, w: number, h: number, rle4: boolean): Uint8Array {
  const total = w * h;
  const data = new Uint8Array(total);
  let n = 0;
  let x = 0;
  let p = start;
  const push = (value: number, count: number) => {
    const end = Math.min(total, n + count);
    data.fill(value, n, end);
    n += count;
  };
  while (n < total) {
    if (p + 2 > b.length) break;
    let count = b[p];
    const byte = b[p + 1];
    p += 2;
    if (count) {
      if (x + count > w) count = Math.max(0, w - x);
      if (rle4) for (let i = 0; i < count; i++) push(i % 2 === 0 ? byte >> 4 : byte & 15, 1);
      else push(byte, count);
      x += count;
    } else if (byte === 0) {
      if (n % w) push(0, w - (n % w));
      x = 0;
    } else if (byte === 1) {
      break;
    } else if (byte === 2) {
      if (p + 2 > b.length) break;
      push(0, b[p] + b[p + 1] * w);
      p += 2;
      x = n % w;
    } else {
      const bytes = rle4 ? byte >> 1 : byte;
      const avail = Math.min(bytes, b.length - p);
      for (let i = 0; i < avail; i++) {
        if (rle4) {
          push(b[p + i] >> 4, 1);
          push(b[p + i] & 15, 1);
        } else push(b[p + i], 1);
      }
      p += avail;
      if (avail < bytes) break;
      x += byte;
      if (p % 2 !== 0) p++; // Pillow aligns on the file position
    }
  }
  if (n < total) throw bad('image data is truncated (RLE data ends before the image is full)');
  return data;
}
