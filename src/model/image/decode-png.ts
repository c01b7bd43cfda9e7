/**
 * PNG → RGB with exactly the values PIL 9.4 gives for `Image.open(f).convert("RGB")`:
 *
 * | PNG                    | PIL mode (rawmode)  | → RGB                                            |
 * |------------------------|---------------------|--------------------------------------------------|
 * | grey 1-bit             | "1"                 | 0 / 255                                          |
 * | grey 2 / 4 / 8-bit     | "L" (L;2, L;4, L)   | v·85, v·17, v; replicated                        |
 * | grey 16-bit            | "I" (I;16B)         | **clipped** to 255 (i2rgb), so most pixels are 255 |
 * | grey+alpha 8 / 16-bit  | "LA" / "RGBA"       | grey (high byte when 16-bit); alpha dropped       |
 * | RGB 8 / 16-bit         | "RGB" (RGB;16B)     | high byte when 16-bit                             |
 * | RGBA 8 / 16-bit        | "RGBA"              | alpha dropped (not composited), high byte         |
 * | palette 1/2/4/8-bit    | "P"                 | palette colour; tRNS ignored                      |
 *
 * Why not fast-png: its Adam7 path fails on 1/2/4-bit images ("Unsupported filter") and it returns packed rows
 * for them otherwise, so we inflate with fflate (which fast-png itself uses) and unfilter/convert here, writing RGB
 * directly (no 16-bit copy).
 * The inflate output buffer is sized from the header, so a deflate bomb cannot grow it.
 */
import { unzlibSync } from 'fflate';
import { concat, readPngStructure, type PngHeader } from './png-chunks.js';
import { ImageDecodeError, type RgbImage } from './types.js';

export interface DecodedPng {
  image: RgbImage;
  exif: Uint8Array | null;
  xmp: string | null;
}

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
] as const;

/** Bytes of one filtered row of `w` pixels (without the filter-type byte). */
const rowBytes = (h: PngHeader, w: number) => Math.ceil((w * CHANNELS[h.colorType] * h.bitDepth) / 8);

function passes(h: PngHeader): { x0: number; y0: number; dx: number; dy: number; w: number; hgt: number }[] {
  if (!h.interlace) return [{ x0: 0, y0: 0, dx: 1, dy: 1, w: h.width, hgt: h.height }];
  return ADAM7.map(([x0, y0, dx, dy]) => ({
    x0, y0, dx, dy,
    w: Math.max(0, Math.ceil((h.width - x0) / dx)),
    hgt: Math.max(0, Math.ceil((h.height - y0) / dy)),
  })).filter((p) => p.w > 0 && p.hgt > 0);
}

/** Reverses the PNG row filter in place; `prev` is the previous unfiltered row of the same pass (or null). */
function unfilter(type: number, row: Uint8Array, prev: Uint8Array | null, bpp: number): void {
  const n = row.length;
  switch (type) {
    case 0:
      return;
    case 1:
      for (let i = bpp; i < n; i++) row[i] = (row[i] + row[i - bpp]) & 0xff;
      return;
    case 2:
      if (prev) for (let i = 0; i < n; i++) row[i] = (row[i] + prev[i]) & 0xff;
      return;
    case 3:
      for (let i = 0; i < n; i++) {
        const left = i >= bpp ? row[i - bpp] : 0;
        const up = prev ? prev[i] : 0;
        row[i] = (row[i] + ((left + up) >> 1)) & 0xff;
      }
      return;
    case 4:
      for (let i = 0; i < n; i++) {
        const a = i >= bpp ? row[i - bpp] : 0;
        const b = prev ? prev[i] : 0;
        const c = prev && i >= bpp ? prev[i - bpp] : 0;
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        row[i] = (row[i] + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c)) & 0xff;
      }
      return;
    default:
      throw new ImageDecodeError(`png: corrupt image data (unknown row filter type ${type})`);
  }
}

/** Builds the per-pixel writer for a colour type / depth: row bytes → RGB at given output offsets. */
function makeRowConverter(h: PngHeader, palette: Uint8Array | null) {
  const { colorType: ct, bitDepth: bd } = h;
  // Indices past the PLTE entries are black, as in current Pillow (>= 10; Pillow 9.4 kept a grey ramp there).
  const pal = new Uint8Array(768);
  if (palette) pal.set(palette.subarray(0, Math.min(768, palette.length - (palette.length % 3))));
  // PIL unpacks sub-byte grey by scaling to 0..255 ("1": 0/255, "L;2": ×85, "L;4": ×17); palette indices are raw.
  const greyScale = bd === 1 ? 255 : bd === 2 ? 85 : bd === 4 ? 17 : 1;
  const mask = (1 << bd) - 1;
  return (row: Uint8Array, count: number, out: Uint8Array, o: number, step: number): void => {
    for (let x = 0; x < count; x++, o += step) {
      let r: number;
      let g: number;
      let b: number;
      if (bd < 8) {
        const bit = x * bd;
        const v = (row[bit >> 3] >> (8 - bd - (bit & 7))) & mask;
        if (ct === 3) {
          r = pal[v * 3];
          g = pal[v * 3 + 1];
          b = pal[v * 3 + 2];
        } else {
          r = g = b = v * greyScale;
        }
      } else if (bd === 8) {
        if (ct === 0 || ct === 4) {
          r = g = b = row[x * (ct === 0 ? 1 : 2)];
        } else if (ct === 3) {
          const v = row[x];
          r = pal[v * 3];
          g = pal[v * 3 + 1];
          b = pal[v * 3 + 2];
        } else {
          const i = x * (ct === 2 ? 3 : 4);
          r = row[i];
          g = row[i + 1];
          b = row[i + 2];
        }
      } else if (ct === 0) {
        const v = (row[2 * x] << 8) | row[2 * x + 1];
        r = g = b = v > 255 ? 255 : v; // mode "I" → RGB clips (PIL i2rgb)
      } else if (ct === 4) {
        r = g = b = row[4 * x]; // high byte
      } else {
        const i = x * (ct === 2 ? 6 : 8);
        r = row[i];
        g = row[i + 2];
        b = row[i + 4];
      }
      out[o] = r;
      out[o + 1] = g;
      out[o + 2] = b;
    }
  };
}

/**
 * zlib's Adler-32 of the inflated data (fflate does not check it): data that is corrupt but still inflates would
 * otherwise give wrong pixels without a word, where Pillow (zlib) refuses with "broken data stream". The checksum is
 * the last 4 bytes of the zlib stream, which ends the IDAT data in every normal file.
 */
function checkAdler32(idat: Uint8Array[], out: Uint8Array): void {
  const tail = new Uint8Array(4);
  let need = 4;
  for (let i = idat.length - 1; i >= 0 && need > 0; i--) {
    const c = idat[i];
    const n = Math.min(need, c.length);
    tail.set(c.subarray(c.length - n), need - n);
    need -= n;
  }
  if (need > 0) throw new ImageDecodeError('png: image data is truncated (no zlib checksum)');
  let a = 1;
  let b = 0;
  for (let i = 0; i < out.length; ) {
    const end = Math.min(out.length, i + 5552); // the largest run before the sums must be reduced (zlib's NMAX)
    for (; i < end; i++) {
      a += out[i];
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  const want = ((tail[0] << 24) | (tail[1] << 16) | (tail[2] << 8) | tail[3]) >>> 0;
  if (((b << 16) | a) >>> 0 !== want) {
    throw new ImageDecodeError('png: image data is corrupt (zlib checksum mismatch: broken data stream)');
  }
}

export function decodePng(data: Uint8Array, maxPixels: number): DecodedPng {
  const st = readPngStructure(data, maxPixels);
  const h = st.header;
  const ps = passes(h);
  const expected = ps.reduce((a, p) => a + (rowBytes(h, p.w) + 1) * p.hgt, 0);
  const raw = new Uint8Array(expected);
  let got: Uint8Array;
  try {
    got = unzlibSync(concat(st.idat), { out: raw });
  } catch (e) {
    throw new ImageDecodeError(`png: image data is truncated or corrupt (${(e as Error).message})`);
  }
  if (got.length < expected) {
    throw new ImageDecodeError(`png: image data is truncated (${got.length} of ${expected} bytes after decompression)`);
  }
  checkAdler32(st.idat, got);
  const bpp = Math.max(1, (CHANNELS[h.colorType] * h.bitDepth) >> 3);
  const convert = makeRowConverter(h, st.palette);
  const out = new Uint8Array(h.width * h.height * 3);
  let p = 0;
  for (const pass of ps) {
    const rb = rowBytes(h, pass.w);
    let prev: Uint8Array | null = null;
    for (let y = 0; y < pass.hgt; y++) {
      const type = raw[p];
      const row = raw.subarray(p + 1, p + 1 + rb);
      unfilter(type, row, prev, bpp);
      const oy = pass.y0 + y * pass.dy;
      convert(row, pass.w, out, (oy * h.width + pass.x0) * 3, pass.dx * 3);
      prev = row;
      p += rb + 1;
    }
  }
  return { image: { width: h.width, height: h.height, data: out }, exif: st.exif, xmp: st.xmp };
}
