/**
 * Decodes one JPEG scan (Huffman, sequential or progressive; ITU T.81 Annexes F and G) into quantized
 * coefficient blocks. Coefficients are kept in Int16Array like libjpeg's JCOEF, so even odd data wraps the same way.
 * Block layout per component: `bw × bh` blocks (the MCU-padded grid), 64 coefficients each in natural order.
 */
import { BitReader, findMarker, type HuffmanTable } from './jpeg-bits.js';
import { ImageDecodeError } from './types.js';

export interface JpegComponent {
  id: number;
  h: number;
  v: number;
  tq: number;
  /** Samples of this component in the image: ceil(width·h/maxH) × ceil(height·v/maxV). */
  width: number;
  height: number;
  /** Block grid, padded to whole MCUs. */
  bw: number;
  bh: number;
  coefs: Int16Array;
  quant: Uint16Array | null; // latched at the component's first scan, as libjpeg does
  pred: number;
  /** Successive-approximation bit position known for each coefficient (−1: not seen yet). */
  coefBits: Int8Array;
}

export interface JpegFrame {
  progressive: boolean;
  width: number;
  height: number;
  maxH: number;
  maxV: number;
  mcusX: number;
  mcusY: number;
  components: JpegComponent[];
}

export interface ScanParams {
  comps: JpegComponent[];
  dc: (HuffmanTable | undefined)[];
  ac: (HuffmanTable | undefined)[];
  ss: number;
  se: number;
  ah: number;
  al: number;
  restartInterval: number;
}

/** Zig-zag index → natural (row-major) index, with libjpeg's 16 safety entries for corrupt run lengths. */
export const NATURAL_ORDER = new Uint8Array([
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21,
  28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61,
  54, 47, 55, 62, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63,
]);

const corrupt = (what: string) => new ImageDecodeError(`jpeg: corrupt data (${what})`);

type BlockDecoder = (r: BitReader, c: JpegComponent, off: number, ci: number) => void;

/** Decodes the scan starting at `start`; returns the position where the next marker search begins. */
export function decodeScan(data: Uint8Array, start: number, frame: JpegFrame, s: ScanParams): number {
  const { comps, ss, se, ah, al } = s;
  const progressive = frame.progressive;
  if (progressive) {
    const badSpectral = ss > se || se > 63 || (ss === 0 && se !== 0) || (ss > 0 && comps.length !== 1);
    if (badSpectral || al > 13 || (ah !== 0 && ah !== al + 1)) throw corrupt('invalid progressive scan parameters');
  }
  // A sequential scan with other Ss/Se/Ah/Al only draws a warning from libjpeg, which decodes it as usual: so do we.
  for (let i = 0; i < comps.length; i++) {
    const needDC = !progressive || (ss === 0 && ah === 0);
    const needAC = !progressive || ss > 0;
    if ((needDC && !s.dc[i]) || (needAC && !s.ac[i])) throw corrupt('scan uses an undefined Huffman table');
    comps[i].pred = 0;
    if (progressive) updateCoefBits(comps[i], ss, se, ah, al);
  }

  let eobrun = 0;
  const p1 = 1 << al;
  const m1 = -1 << al;
  let decode: BlockDecoder;
  if (!progressive) {
    decode = (r, c, off, ci) => {
      const dc = s.dc[ci]!;
      const ac = s.ac[ci]!;
      const t = r.decode(dc);
      c.pred = (c.pred + r.receiveExtend(t)) | 0;
      const z = c.coefs;
      z[off] = c.pred;
      for (let k = 1; k < 64; k++) {
        const rs = r.decode(ac);
        const n = rs & 15;
        const run = rs >> 4;
        if (n === 0) {
          if (run !== 15) break;
          k += 15;
          continue;
        }
        k += run;
        z[off + NATURAL_ORDER[k]] = r.receiveExtend(n);
      }
    };
  } else if (ss === 0 && ah === 0) {
    decode = (r, c, off, ci) => {
      const t = r.decode(s.dc[ci]!);
      c.pred = (c.pred + r.receiveExtend(t)) | 0;
      c.coefs[off] = c.pred * p1;
    };
  } else if (ss === 0) {
    decode = (r, c, off) => {
      if (r.bit()) c.coefs[off] |= p1;
    };
  } else if (ah === 0) {
    decode = (r, c, off, ci) => {
      if (eobrun > 0) {
        eobrun--;
        return;
      }
      const ac = s.ac[ci]!;
      const z = c.coefs;
      for (let k = ss; k <= se; k++) {
        const rs = r.decode(ac);
        const n = rs & 15;
        const run = rs >> 4;
        if (n) {
          k += run;
          z[off + NATURAL_ORDER[k]] = r.receiveExtend(n) * p1;
        } else if (run === 15) {
          k += 15;
        } else {
          eobrun = (1 << run) - 1;
          if (run) eobrun += r.bits(run);
          break;
        }
      }
    };
  } else {
    decode = (r, c, off, ci) => {
      const z = c.coefs;
      let k = ss;
      // Adds a correction bit to an already nonzero coefficient (libjpeg decode_mcu_AC_refine).
      const refine = (pos: number) => {
        if (r.bit() && (z[pos] & p1) === 0) z[pos] += z[pos] >= 0 ? p1 : m1;
      };
      if (eobrun === 0) {
        const ac = s.ac[ci]!;
        for (; k <= se; k++) {
          const rs = r.decode(ac);
          let run = rs >> 4;
          let val = 0;
          if (rs & 15) {
            val = r.bit() ? p1 : m1; // size must be 1; libjpeg only warns otherwise, and so reads one bit
          } else if (run !== 15) {
            eobrun = 1 << run;
            if (run) eobrun += r.bits(run);
            break;
          }
          while (k <= se) {
            const pos = off + NATURAL_ORDER[k];
            if (z[pos] !== 0) refine(pos);
            else if (--run < 0) break;
            k++;
          }
          if (val) z[off + NATURAL_ORDER[k]] = val;
        }
      }
      if (eobrun > 0) {
        for (; k <= se; k++) {
          const pos = off + NATURAL_ORDER[k];
          if (z[pos] !== 0) refine(pos);
        }
        eobrun--;
      }
    };
  }

  const reader = new BitReader(data, start);
  const single = comps.length === 1;
  const c0 = comps[0];
  // A single-component scan covers only the component's own blocks, not the MCU padding.
  const unitsX = single ? Math.ceil(c0.width / 8) : frame.mcusX;
  const total = single ? unitsX * Math.ceil(c0.height / 8) : frame.mcusX * frame.mcusY;
  const ri = s.restartInterval;
  let restartNum = 0;
  for (let unit = 0; unit < total; unit++) {
    if (ri && unit > 0 && unit % ri === 0) {
      // Restart marker: byte-align, expect RSTn, reset predictors and the EOB run.
      if (reader.overrun) break;
      reader.reset();
      const m = findMarker(data, reader.pos);
      if (m < 0 || data[m + 1] !== 0xd0 + restartNum) throw corrupt('missing or out-of-order restart marker');
      restartNum = (restartNum + 1) & 7;
      reader.pos = m + 2;
      for (const c of comps) c.pred = 0;
      eobrun = 0;
    }
    const ux = unit % unitsX;
    const uy = (unit / unitsX) | 0;
    if (single) {
      decode(reader, c0, (uy * c0.bw + ux) * 64, 0);
    } else {
      for (let ci = 0; ci < comps.length; ci++) {
        const c = comps[ci];
        for (let v = 0; v < c.v; v++) {
          const row = (uy * c.v + v) * c.bw + ux * c.h;
          for (let h = 0; h < c.h; h++) decode(reader, c, (row + h) * 64, ci);
        }
      }
    }
  }
  if (reader.overrun) {
    throw new ImageDecodeError('jpeg: image data is truncated or corrupt (scan ended before all blocks were decoded)');
  }
  reader.reset();
  return reader.pos;
}

/**
 * Tracks the successive-approximation bit known for each coefficient, as libjpeg's coef_bits. An out-of-order
 * progression is only a warning there (decoding goes on), so it is not an error here either.
 */
function updateCoefBits(c: JpegComponent, ss: number, se: number, _ah: number, al: number): void {
  for (let k = ss; k <= se; k++) c.coefBits[k] = al;
}
