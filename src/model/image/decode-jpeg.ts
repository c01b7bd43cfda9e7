/**
 * JPEG → RGB, giving the pixels PIL 9.4 (libjpeg-turbo 2.1, default settings) gives for
 * `Image.open(f).convert("RGB")`.
 *
 * Why our own decoder: jpeg-js's IDCT rounds differently from libjpeg's ISLOW IDCT (up to ±3 levels on ~12 % of
 * samples of real photos, still ±3–4 after resizing to 384²), and its chroma upsampling / colour conversion differ by
 * up to ~40 levels at colour edges. Measured on photos, re-implementing libjpeg's steps (Huffman decoding is exact
 * by nature; ISLOW IDCT, fancy upsampling and the integer YCbCr tables are integer algorithms) makes the output
 * identical, so preprocessing matches transformers bit for bit.
 *
 * Supported: baseline/extended sequential and progressive JPEG, Huffman or arithmetic coding (jpeg-arith.ts), 8-bit,
 * 1 (grey), 3 (YCbCr or RGB) or 4 (CMYK/YCCK, Adobe) components, any integral sampling factors, restart intervals.
 * Not supported (clear error): lossless, hierarchical, 12-bit (PIL refuses 12-bit too).
 * Corrupt entropy-coded data is refused with an ImageDecodeError, where libjpeg conceals the damage (grey or
 * repeated blocks) and Pillow returns that image with a warning: a clear error keeps a damaged photo out of an index
 * instead of embedding its concealment.
 * Known difference from libjpeg: a progressive file whose scans leave low AC coefficients incomplete gets
 * libjpeg's inter-block smoothing; we do not smooth (complete files, i.e. all normal ones, are unaffected).
 */
import { buildHuffmanTable, type HuffmanTable } from './jpeg-bits.js';
import { checkRatio, cmykToRgb, upsamplePlane, yccToRgb } from './jpeg-color.js';
import { idctBlock } from './jpeg-idct.js';
import { readJpegStructure, type JpegStructure } from './jpeg-markers.js';
import { decodeArithScan, defaultConditioning } from './jpeg-arith.js';
import { decodeScan, NATURAL_ORDER, type JpegComponent, type JpegFrame } from './jpeg-scan.js';
import { ImageDecodeError, type RgbImage } from './types.js';

export interface DecodedJpeg {
  image: RgbImage;
  /** The first APP1 "Exif" payload (starting with "Exif\0"), for orientation. */
  exif: Uint8Array | null;
}

export interface JpegOptions {
  /** A 3-component file's colour space when the container says it (TIFF's Photometric tag, as libtiff tells libjpeg),
   *  instead of libjpeg's guess from the JFIF/Adobe markers and component ids. */
  colorSpace?: 'rgb' | 'ycc';
}

export function decodeJpeg(data: Uint8Array, maxPixels: number, opts: JpegOptions = {}): DecodedJpeg {
  const st = readJpegStructure(data, maxPixels);
  const frame = makeFrame(st);
  const quant: (Uint16Array | undefined)[] = [];
  const dcTables: (HuffmanTable | undefined)[] = [];
  const acTables: (HuffmanTable | undefined)[] = [];
  let restartInterval = 0;
  const arithmetic = st.frame.marker === 0xc9 || st.frame.marker === 0xca;
  const cond = defaultConditioning();
  const corrupt = (what: string) => new ImageDecodeError(`jpeg: corrupt ${what}`);

  for (const seg of st.segments) {
    const { marker, start, end } = seg;
    if (marker === 0xdb) {
      for (let p = start; p < end; ) {
        const pq = data[p] >> 4;
        const tq = data[p] & 15;
        const size = pq ? 128 : 64;
        if (tq > 3 || pq > 1 || p + 1 + size > end) throw corrupt('quantization table (DQT)');
        const t = new Uint16Array(64); // natural order
        for (let i = 0; i < 64; i++) {
          t[NATURAL_ORDER[i]] = pq ? (data[p + 1 + 2 * i] << 8) | data[p + 2 + 2 * i] : data[p + 1 + i];
        }
        quant[tq] = t;
        p += 1 + size;
      }
    } else if (marker === 0xc4) {
      for (let p = start; p < end; ) {
        if (p + 17 > end) throw corrupt('Huffman table (DHT)');
        const tc = data[p] >> 4;
        const th = data[p] & 15;
        const counts = data.subarray(p + 1, p + 17);
        const n = counts.reduce((a, b) => a + b, 0);
        if (tc > 1 || th > 3 || p + 17 + n > end) throw corrupt('Huffman table (DHT)');
        const table = buildHuffmanTable(counts, data.subarray(p + 17, p + 17 + n), tc === 0);
        (tc === 0 ? dcTables : acTables)[th] = table;
        p += 17 + n;
      }
    } else if (marker === 0xcc) {
      // DAC: arithmetic conditioning (T.81 B.2.4.3): DC bounds L ≤ U per table, AC threshold K per table.
      for (let p = start; p + 2 <= end; p += 2) {
        const tc = data[p] >> 4;
        const tb = data[p] & 15;
        const cs = data[p + 1];
        if (tc > 1 || tb > 3) throw corrupt('arithmetic conditioning (DAC)');
        if (tc === 0) {
          cond.dcL[tb] = cs & 15;
          cond.dcU[tb] = cs >> 4;
          if (cond.dcL[tb] > cond.dcU[tb]) throw corrupt('arithmetic conditioning (DAC: L > U)');
        } else {
          if (cs < 1 || cs > 63) throw corrupt('arithmetic conditioning (DAC: K out of range)');
          cond.acK[tb] = cs;
        }
      }
    } else if (marker === 0xdd) {
      if (end - start < 2) throw corrupt('restart interval (DRI)');
      restartInterval = (data[start] << 8) | data[start + 1];
    } else if (marker === 0xda) {
      const ns = data[start];
      if (ns < 1 || ns > 4 || end - start < 4 + 2 * ns) throw corrupt('scan header (SOS)');
      const comps: JpegComponent[] = [];
      const dc: (HuffmanTable | undefined)[] = [];
      const ac: (HuffmanTable | undefined)[] = [];
      let blocksPerMcu = 0;
      for (let i = 0; i < ns; i++) {
        const id = data[start + 1 + 2 * i];
        const c = frame.components.find((x) => x.id === id);
        if (!c || comps.includes(c)) throw corrupt(`scan header (unknown component id ${id})`);
        if (!c.quant) {
          const q = quant[c.tq];
          if (!q) throw corrupt(`file (quantization table ${c.tq} not defined)`);
          c.quant = q.slice();
        }
        comps.push(c);
        dc.push(dcTables[data[start + 2 + 2 * i] >> 4]);
        ac.push(acTables[data[start + 2 + 2 * i] & 15]);
        blocksPerMcu += c.h * c.v;
      }
      if (ns > 1 && blocksPerMcu > 10) throw corrupt('scan header (more than 10 blocks per MCU)');
      const q = start + 1 + 2 * ns;
      if (arithmetic) {
        const sel = comps.map((_, i) => data[start + 2 + 2 * i]);
        decodeArithScan(data.subarray(0, seg.dataEnd), end, frame, {
          comps, dcTbl: sel.map((x) => x >> 4), acTbl: sel.map((x) => x & 15), ss: data[q], se: data[q + 1],
          ah: data[q + 2] >> 4, al: data[q + 2] & 15, restartInterval, cond,
        });
        continue;
      }
      decodeScan(data.subarray(0, seg.dataEnd), end, frame, {
        comps, dc, ac, ss: data[q], se: data[q + 1], ah: data[q + 2] >> 4, al: data[q + 2] & 15, restartInterval,
      });
    }
  }
  return { image: toRgb(st, frame, opts.colorSpace), exif: st.exif };
}

function makeFrame(st: JpegStructure): JpegFrame {
  const f = st.frame;
  const maxH = Math.max(...f.components.map((c) => c.h));
  const maxV = Math.max(...f.components.map((c) => c.v));
  const mcusX = Math.ceil(f.width / (8 * maxH));
  const mcusY = Math.ceil(f.height / (8 * maxV));
  const components: JpegComponent[] = f.components.map((c) => {
    const bw = mcusX * c.h;
    const bh = mcusY * c.v;
    return {
      ...c,
      width: Math.ceil((f.width * c.h) / maxH),
      height: Math.ceil((f.height * c.v) / maxV),
      bw,
      bh,
      coefs: new Int16Array(bw * bh * 64),
      quant: null,
      pred: 0,
      coefBits: new Int8Array(64).fill(-1),
    };
  });
  return { progressive: f.marker === 0xc2 || f.marker === 0xca, width: f.width, height: f.height, maxH, maxV, mcusX, mcusY, components };
}

/** IDCT of every block of a component into a plane whose rows are `bw * 8` samples apart. */
function componentPlane(c: JpegComponent): Uint8Array {
  const stride = c.bw * 8;
  const out = new Uint8Array(stride * c.bh * 8);
  // A component never scanned stays zero (libjpeg: uniform mid-grey after IDCT); its quant table may be unset.
  const quant = c.quant ?? new Uint16Array(64);
  const rowsUsed = Math.ceil(c.height / 8);
  const colsUsed = Math.ceil(c.width / 8);
  for (let by = 0; by < rowsUsed; by++) {
    for (let bx = 0; bx < colsUsed; bx++) idctBlock(c.coefs, (by * c.bw + bx) * 64, quant, out, by * 8 * stride + bx * 8, stride);
  }
  c.coefs = new Int16Array(0); // no longer needed: let large images' coefficients go before the RGB buffers grow
  return out;
}

function toRgb(st: JpegStructure, frame: JpegFrame, colorSpace?: 'rgb' | 'ycc'): RgbImage {
  const { width, height, components } = frame;
  const full = components.map((c) =>
    upsamplePlane(
      {
        data: componentPlane(c),
        width: c.width,
        height: c.height,
        stride: c.bw * 8,
        rx: checkRatio('h', frame.maxH, c.h),
        ry: checkRatio('v', frame.maxV, c.v),
      },
      width,
      height,
    ),
  );
  const out = new Uint8Array(width * height * 3);
  if (full.length === 1) {
    const g = full[0];
    for (let i = 0, o = 0; i < g.length; i++, o += 3) out[o] = out[o + 1] = out[o + 2] = g[i];
  } else if (full.length === 3) {
    if ((colorSpace ?? colorSpace3(st, frame)) === 'rgb') {
      for (let i = 0, o = 0; i < full[0].length; i++, o += 3) {
        out[o] = full[0][i];
        out[o + 1] = full[1][i];
        out[o + 2] = full[2][i];
      }
    } else {
      yccToRgb(full[0], full[1], full[2], out);
    }
  } else {
    // libjpeg: Adobe transform 2 (or unknown) means YCCK, 0 or no Adobe marker means plain CMYK.
    const ycck = st.adobeTransform !== null && st.adobeTransform !== 0;
    cmykToRgb(full[0], full[1], full[2], full[3], ycck, out);
  }
  return { width, height, data: out };
}

/** libjpeg's guess of a 3-component file's colour space (jdapimin.c default_decompress_parms). */
function colorSpace3(st: JpegStructure, frame: JpegFrame): 'rgb' | 'ycc' {
  if (st.sawJfif) return 'ycc';
  if (st.adobeTransform !== null) return st.adobeTransform === 0 ? 'rgb' : 'ycc';
  const [a, b, c] = frame.components.map((x) => x.id);
  return a === 82 && b === 71 && c === 66 ? 'rgb' : 'ycc'; // 'R','G','B'
}
