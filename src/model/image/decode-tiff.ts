/**
 * TIFF → RGB as Pillow 9.4 (with libtiff) reads the first page: uncompressed, LZW, Deflate, PackBits and JPEG
 * compression, horizontal predictor, strips or tiles, 1/2/4/8/16-bit samples; greyscale (either polarity), palette,
 * RGB(A), CMYK; the Orientation tag applied as exif_transpose does.
 *
 * Deflate goes through fflate (Adler-32 checked, as zlib does); LZW and PackBits through tiff-codecs.ts; JPEG-compressed
 * strips and tiles through our own JPEG decoder (bit-exact with the libjpeg-turbo that libtiff uses), with the
 * JPEGTables prepended. The first IFD is read by tiff-ifd.ts. utif2 was tried first and dropped: its IFD reader
 * follows tag counts and IFD chains without limits, and its LZW decoder loops forever on some corrupt codes (the fuzz
 * test found it), which in JS cannot be interrupted. How samples become RGB follows Pillow's
 * modes: 16-bit grey is I;16 (values clipped to 255), 16-bit RGB keeps the high byte, a palette keeps the high byte of
 * each 16-bit colormap entry, CMYK uses Pillow's cmyk2rgb, extra samples (alpha) are dropped.
 */
import { unzlibSync } from 'fflate';
import { decodeJpeg } from './decode-jpeg.js';
import { lzwDecode, packBitsDecode } from './tiff-codecs.js';
import { readFirstIfd } from './tiff-ifd.js';
import { checkDimensions, ImageDecodeError, type FormatDecoded } from './types.js';

const bad = (what: string) => new ImageDecodeError(`tiff: ${what}`);

export async function decodeTiff(b: Uint8Array, maxPixels: number): Promise<FormatDecoded> {
  const ifd = readFirstIfd(b);
  const t = (tag: number, dflt?: number) => ifd.tags.get(tag)?.[0] ?? dflt;
  const width = t(256, 0)!;
  const height = t(257, 0)!;
  checkDimensions('tiff', width, height, maxPixels);
  const compression = t(259, 1)!;
  const photometric = t(262);
  const spp = t(277, 1)!;
  const bps = t(258, 1)!;
  const planar = t(284, 1)!;
  const predictor = t(317, 1)!;
  const sampleFormat = t(339, 1)!;
  if (photometric === undefined) throw bad('no PhotometricInterpretation tag');
  if (![1, 5, 7, 8, 32946, 32773].includes(compression)) throw bad(`compression ${compression} is not supported (none, LZW, Deflate, PackBits, JPEG)`);
  if (planar !== 1) throw bad('planar configuration 2 (separate planes) is not supported');
  if (sampleFormat !== 1) throw bad(`sample format ${sampleFormat} is not supported (unsigned integers only)`);
  if (![1, 2, 4, 8, 16].includes(bps)) throw bad(`${bps}-bit samples are not supported`);
  if (spp < 1 || spp > 8) throw bad(`${spp} samples per pixel`);
  if (predictor !== 1 && predictor !== 2) throw bad(`predictor ${predictor} is not supported`);
  const tiled = ifd.tags.has(322);
  const cw = tiled ? t(322, 0)! : width; // chunk (strip or tile) width and height
  const ch = tiled ? t(323, 0)! : Math.min(t(278, height)!, height);
  if (cw <= 0 || ch <= 0 || cw * ch > maxPixels * 4) throw bad(`invalid ${tiled ? 'tile' : 'strip'} size ${cw}×${ch}`);
  const offsets = ifd.tags.get(tiled ? 324 : 273);
  const counts = ifd.tags.get(tiled ? 325 : 279);
  const across = Math.ceil(width / cw);
  const down = Math.ceil(height / ch);
  if (!offsets || offsets.length < across * down) throw bad(`${offsets?.length ?? 0} ${tiled ? 'tiles' : 'strips'} for ${across * down} needed`);

  const out = new Uint8Array(width * height * 3);
  if (compression === 7) {
    decodeJpegChunks(b, ifd.jpegTables, photometric, offsets, counts, { width, height, cw, ch, across, down, maxPixels }, out);
  } else {
    const rowBytes = Math.ceil((cw * spp * bps) / 8);
    const toRgb = rowConverter(photometric, spp, bps, ifd.little, ifd.tags.get(320));
    for (let cy = 0; cy < down; cy++) {
      for (let cx = 0; cx < across; cx++) {
        const i = cy * across + cx;
        const rows = tiled ? ch : Math.min(ch, height - cy * ch);
        const raw = decompress(b, offsets[i], counts?.[i], compression, rowBytes * rows);
        if (predictor === 2) undoPredictor(raw, rowBytes, rows, spp, bps, ifd.little);
        const x0 = cx * cw;
        const w = Math.min(cw, width - x0);
        for (let r = 0; r < rows && cy * ch + r < height; r++) {
          toRgb(raw, r * rowBytes, w, out, ((cy * ch + r) * width + x0) * 3);
        }
      }
    }
  }
  return { image: { width, height, data: out }, orientation: t(274) ?? null };
}

function decompress(b: Uint8Array, off: number, count: number | undefined, compression: number, size: number): Uint8Array {
  const len = count ?? size;
  if (off + len > b.length || off > b.length) throw bad('file is truncated (image data past the end)');
  const src = b.subarray(off, off + len);
  const out = new Uint8Array(size);
  if (compression === 1) {
    if (len < size) throw bad('file is truncated (short uncompressed strip)');
    out.set(src.subarray(0, size));
  } else if (compression === 8 || compression === 32946) {
    try {
      unzlibSync(src, { out });
    } catch (e) {
      throw bad(`image data is corrupt (Deflate: ${(e as Error).message})`);
    }
  } else {
    const n = compression === 5 ? lzwDecode(src, out) : packBitsDecode(src, out);
    if (n < size) throw bad(`image data is truncated (${n} of ${size} bytes in a ${compression === 5 ? 'LZW' : 'PackBits'} strip)`);
  }
  return out;
}

function undoPredictor(raw: Uint8Array, rowBytes: number, rows: number, spp: number, bps: number, little: boolean): void {
  if (bps === 8) {
    for (let r = 0; r < rows; r++) {
      const s = r * rowBytes;
      for (let i = spp; i < rowBytes; i++) raw[s + i] = (raw[s + i] + raw[s + i - spp]) & 255;
    }
  } else if (bps === 16) {
    const step = 2 * spp;
    const hi = little ? 1 : 0;
    const lo = 1 - hi;
    for (let r = 0; r < rows; r++) {
      const s = r * rowBytes;
      for (let i = step; i + 1 < rowBytes; i += 2) {
        const v = (((raw[s + i + hi] << 8) | raw[s + i + lo]) + ((raw[s + i - step + hi] << 8) | raw[s + i - step + lo])) & 0xffff;
        raw[s + i + hi] = v >> 8;
        raw[s + i + lo] = v & 255;
      }
    }
  } else {
    throw bad(`horizontal predictor with ${bps}-bit samples is not supported`);
  }
}

type RowConverter = (raw: Uint8Array, at: number, w: number, out: Uint8Array, o: number) => void;

function rowConverter(photometric: number, spp: number, bps: number, little: boolean, colormap: number[] | undefined): RowConverter {
  const sample = (raw: Uint8Array, at: number, i: number): number => {
    if (bps === 8) return raw[at + i];
    if (bps === 16) return little ? raw[at + 2 * i] | (raw[at + 2 * i + 1] << 8) : (raw[at + 2 * i] << 8) | raw[at + 2 * i + 1];
    const bit = i * bps;
    return (raw[at + (bit >> 3)] >> (8 - bps - (bit & 7))) & ((1 << bps) - 1);
  };
  if (photometric === 0 || photometric === 1) {
    const max = (1 << bps) - 1;
    return (raw, at, w, out, o) => {
      for (let x = 0; x < w; x++, o += 3) {
        let v = sample(raw, at, x * spp);
        if (bps === 16) v = Math.min(v, 255); // Pillow: I;16 → RGB clips
        else if (bps < 8) v = Math.floor((v * 255) / max);
        if (photometric === 0) v = 255 - v;
        out[o] = out[o + 1] = out[o + 2] = v;
      }
    };
  }
  if (photometric === 3) {
    if (bps > 8) throw bad(`${bps}-bit palette images are not supported`);
    const n = 1 << bps;
    if (!colormap || colormap.length < 3 * n) throw bad('palette image without a full ColorMap');
    return (raw, at, w, out, o) => {
      for (let x = 0; x < w; x++, o += 3) {
        const i = sample(raw, at, x * spp);
        out[o] = colormap[i] >> 8;
        out[o + 1] = colormap[n + i] >> 8;
        out[o + 2] = colormap[2 * n + i] >> 8;
      }
    };
  }
  if (photometric === 2) {
    if (spp < 3 || bps < 8) throw bad(`RGB with ${spp} samples of ${bps} bits is not supported`);
    return (raw, at, w, out, o) => {
      for (let x = 0; x < w; x++, o += 3) {
        for (let c = 0; c < 3; c++) out[o + c] = bps === 8 ? raw[at + x * spp + c] : sample(raw, at, x * spp + c) >> 8;
      }
    };
  }
  if (photometric === 5) {
    if (spp < 4 || bps !== 8) throw bad(`CMYK with ${spp} samples of ${bps} bits is not supported`);
    return (raw, at, w, out, o) => {
      for (let x = 0; x < w; x++, o += 3) {
        const p = at + x * spp;
        const nk = 255 - raw[p + 3];
        for (let c = 0; c < 3; c++) {
          const t = raw[p + c] * nk + 128; // Pillow cmyk2rgb: CLIP8(nk − MULDIV255(v, nk))
          out[o + c] = Math.max(0, nk - (((t >> 8) + t) >> 8));
        }
      }
    };
  }
  throw bad(`photometric interpretation ${photometric} is not supported`);
}

interface Grid {
  width: number;
  height: number;
  cw: number;
  ch: number;
  across: number;
  down: number;
  maxPixels: number;
}

/** Each strip or tile is an abbreviated JPEG stream: JPEGTables (less its EOI) then the chunk (less its SOI). */
function decodeJpegChunks(b: Uint8Array, tables: Uint8Array | null, photometric: number, offsets: number[], counts: number[] | undefined, g: Grid, out: Uint8Array): void {
  if (photometric !== 1 && photometric !== 2 && photometric !== 6) throw bad(`JPEG compression with photometric ${photometric} is not supported`);
  if (!counts) throw bad('JPEG-compressed image without StripByteCounts/TileByteCounts');
  const head = tables && tables.length >= 4 ? tables.subarray(0, tables.length - 2) : null; // drop EOI
  for (let cy = 0; cy < g.down; cy++) {
    for (let cx = 0; cx < g.across; cx++) {
      const i = cy * g.across + cx;
      if (offsets[i] + counts[i] > b.length) throw bad('file is truncated (image data past the end)');
      let chunk = b.subarray(offsets[i], offsets[i] + counts[i]);
      if (head) {
        const body = chunk[0] === 0xff && chunk[1] === 0xd8 ? chunk.subarray(2) : chunk;
        const joined = new Uint8Array(head.length + body.length);
        joined.set(head);
        joined.set(body, head.length);
        chunk = joined;
      }
      const img = decodeJpeg(chunk, g.maxPixels, { colorSpace: photometric === 2 ? 'rgb' : 'ycc' }).image;
      const x0 = cx * g.cw;
      const y0 = cy * g.ch;
      const w = Math.min(img.width, g.width - x0);
      const h = Math.min(img.height, g.height - y0);
      for (let r = 0; r < h; r++) out.set(img.data.subarray(r * img.width * 3, (r * img.width + w) * 3), ((y0 + r) * g.width + x0) * 3);
    }
  }
}
