/**
 * Arithmetic-coded JPEG scans (ITU T.81 Annexes D and F/G; SOF9 sequential, SOF10 progressive), decoded the way
 * libjpeg-turbo's jdarith.c does — the decoder Pillow uses — into the same coefficient blocks as the Huffman path
 * (jpeg-scan.ts), so IDCT, upsampling and colour conversion stay shared and bit-exact.
 *
 * Statistics bins live per table number (components sharing a table share them, as in libjpeg) and are reset at the
 * start of each scan and at each restart marker. Where libjpeg only warns and stops decoding the rest of the scan
 * (a magnitude or spectral overflow: corrupt data), we refuse the file, as we do for corrupt Huffman data.
 */
import { findMarker } from './jpeg-bits.js';
import { NATURAL_ORDER, type JpegComponent, type JpegFrame } from './jpeg-scan.js';
import { ImageDecodeError } from './types.js';

/** T.81 Table D.2 packed as libjpeg's jaricom.c: Qe << 16 | Next_Index_MPS << 8 | Switch_MPS << 7 | Next_Index_LPS. */
const QE = [
  [0x5a1d, 1, 1, 1], [0x2586, 14, 2, 0], [0x1114, 16, 3, 0], [0x080b, 18, 4, 0], [0x03d8, 20, 5, 0],
  [0x01da, 23, 6, 0], [0x00e5, 25, 7, 0], [0x006f, 28, 8, 0], [0x0036, 30, 9, 0], [0x001a, 33, 10, 0],
  [0x000d, 35, 11, 0], [0x0006, 9, 12, 0], [0x0003, 10, 13, 0], [0x0001, 12, 13, 0], [0x5a7f, 15, 15, 1],
  [0x3f25, 36, 16, 0], [0x2cf2, 38, 17, 0], [0x207c, 39, 18, 0], [0x17b9, 40, 19, 0], [0x1182, 42, 20, 0],
  [0x0cef, 43, 21, 0], [0x09a1, 45, 22, 0], [0x072f, 46, 23, 0], [0x055c, 48, 24, 0], [0x0406, 49, 25, 0],
  [0x0303, 51, 26, 0], [0x0240, 52, 27, 0], [0x01b1, 54, 28, 0], [0x0144, 56, 29, 0], [0x00f5, 57, 30, 0],
  [0x00b7, 59, 31, 0], [0x008a, 60, 32, 0], [0x0068, 62, 33, 0], [0x004e, 63, 34, 0], [0x003b, 32, 35, 0],
  [0x002c, 33, 9, 0], [0x5ae1, 37, 37, 1], [0x484c, 64, 38, 0], [0x3a0d, 65, 39, 0], [0x2ef1, 67, 40, 0],
  [0x261f, 68, 41, 0], [0x1f33, 69, 42, 0], [0x19a8, 70, 43, 0], [0x1518, 72, 44, 0], [0x1177, 73, 45, 0],
  [0x0e74, 74, 46, 0], [0x0bfb, 75, 47, 0], [0x09f8, 77, 48, 0], [0x0861, 78, 49, 0], [0x0706, 79, 50, 0],
  [0x05cd, 48, 51, 0], [0x04de, 50, 52, 0], [0x040f, 50, 53, 0], [0x0363, 51, 54, 0], [0x02d4, 52, 55, 0],
  [0x025c, 53, 56, 0], [0x01f8, 54, 57, 0], [0x01a4, 55, 58, 0], [0x0160, 56, 59, 0], [0x0125, 57, 60, 0],
  [0x00f6, 58, 61, 0], [0x00cb, 59, 62, 0], [0x00ab, 61, 63, 0], [0x008f, 61, 32, 0], [0x5b12, 65, 65, 1],
  [0x4d04, 80, 66, 0], [0x412c, 81, 67, 0], [0x37d8, 82, 68, 0], [0x2fe8, 83, 69, 0], [0x293c, 84, 70, 0],
  [0x2379, 86, 71, 0], [0x1edf, 87, 72, 0], [0x1aa9, 87, 73, 0], [0x174e, 72, 74, 0], [0x1424, 72, 75, 0],
  [0x119c, 74, 76, 0], [0x0f6b, 74, 77, 0], [0x0d51, 75, 78, 0], [0x0bb6, 77, 79, 0], [0x0a40, 77, 48, 0],
  [0x5832, 80, 81, 1], [0x4d1c, 88, 82, 0], [0x438e, 89, 83, 0], [0x3bdd, 90, 84, 0], [0x34ee, 91, 85, 0],
  [0x2eae, 92, 86, 0], [0x299a, 93, 87, 0], [0x2516, 86, 71, 0], [0x5570, 88, 89, 1], [0x4ca9, 95, 90, 0],
  [0x44d9, 96, 91, 0], [0x3e22, 97, 92, 0], [0x3824, 99, 93, 0], [0x32b4, 99, 94, 0], [0x2e17, 93, 86, 0],
  [0x56a8, 95, 96, 1], [0x4f46, 101, 97, 0], [0x47e5, 102, 98, 0], [0x41cf, 103, 99, 0], [0x3c3d, 104, 100, 0],
  [0x375e, 99, 93, 0], [0x5231, 105, 102, 0], [0x4c0f, 106, 103, 0], [0x4639, 107, 104, 0], [0x415e, 103, 99, 0],
  [0x5627, 105, 106, 1], [0x50e7, 108, 107, 0], [0x4b85, 109, 103, 0], [0x5597, 110, 109, 0], [0x504f, 111, 107, 0],
  [0x5a10, 110, 111, 1], [0x5522, 112, 109, 0], [0x59eb, 112, 111, 1],
  [0x5a1d, 113, 113, 0], // 113: fixed probability 0.5 (T.851), the bin for signs and DC refinement bits
];
const Q_VALUE = new Int32Array(QE.map((e) => e[0]));
const NEXT_LPS = new Uint8Array(QE.map((e) => e[1] | (e[3] << 7))); // with the MPS switch in bit 7
const NEXT_MPS = new Uint8Array(QE.map((e) => e[2]));

/** Conditioning from DAC segments: per table, DC bounds L and U, AC threshold K (defaults 0, 1, 5). */
export interface ArithConditioning {
  dcL: number[];
  dcU: number[];
  acK: number[];
}

export const defaultConditioning = (): ArithConditioning => ({ dcL: [0, 0, 0, 0], dcU: [1, 1, 1, 1], acK: [5, 5, 5, 5] });

export interface ArithScan {
  comps: JpegComponent[];
  dcTbl: number[];
  acTbl: number[];
  ss: number;
  se: number;
  ah: number;
  al: number;
  restartInterval: number;
  cond: ArithConditioning;
}

const corrupt = (what: string) => new ImageDecodeError(`jpeg: corrupt data (${what})`);

/** The arithmetic decoder of T.81 D.2 over the entropy-coded bytes (stuffed zeros removed, zeros after a marker). */
class ArithDecoder {
  c = 0;
  a = 0;
  ct = -16;
  pos: number;
  /** Position of the marker that ended the data, or −1. */
  marker = -1;

  constructor(
    private readonly data: Uint8Array,
    start: number,
  ) {
    this.pos = start;
  }

  private byte(): number {
    if (this.marker >= 0) return 0;
    const d = this.data;
    if (this.pos >= d.length) {
      this.marker = d.length;
      return 0;
    }
    let v = d[this.pos++];
    if (v !== 0xff) return v;
    while (this.pos < d.length && d[this.pos] === 0xff) this.pos++;
    if (this.pos >= d.length) {
      this.marker = d.length;
      return 0;
    }
    v = d[this.pos];
    if (v === 0) {
      this.pos++;
      return 0xff;
    }
    this.marker = this.pos - 1; // a marker: hand out zeros from now on, as libjpeg does
    return 0;
  }

  decode(st: Uint8Array, i: number): number {
    while (this.a < 0x8000) {
      if (--this.ct < 0) {
        this.c = this.c * 256 + this.byte(); // a plain number: libjpeg's C register is a long
        if ((this.ct += 8) < 0 && ++this.ct === 0) this.a = 0x8000;
      }
      this.a <<= 1;
    }
    let sv = st[i];
    const qe = Q_VALUE[sv & 0x7f];
    const nl = NEXT_LPS[sv & 0x7f];
    const nm = NEXT_MPS[sv & 0x7f];
    this.a -= qe;
    const temp = this.a * 2 ** this.ct; // may exceed 2^31: compare as plain numbers, c is unsigned
    if (this.c >= temp) {
      this.c -= temp;
      if (this.a < qe) {
        this.a = qe;
        st[i] = (sv & 0x80) ^ nm;
      } else {
        this.a = qe;
        st[i] = (sv & 0x80) ^ nl;
        sv ^= 0x80;
      }
    } else if (this.a < 0x8000) {
      if (this.a < qe) {
        st[i] = (sv & 0x80) ^ nl;
        sv ^= 0x80;
      } else {
        st[i] = (sv & 0x80) ^ nm;
      }
    }
    return sv >> 7;
  }

  restart(expected: number): void {
    const m = findMarker(this.data, this.marker >= 0 ? this.marker : this.pos);
    if (m < 0 || this.data[m + 1] !== expected) throw corrupt('missing or out-of-order restart marker');
    this.pos = m + 2;
    this.marker = -1;
    this.c = 0;
    this.a = 0;
    this.ct = -16;
  }
}

export function decodeArithScan(data: Uint8Array, start: number, frame: JpegFrame, s: ArithScan): void {
  const { comps, ss, se, ah, al, cond } = s;
  const progressive = frame.progressive;
  if (progressive) {
    const bad = ss > se || se > 63 || (ss === 0 && se !== 0) || (ss > 0 && comps.length !== 1);
    if (bad || al > 13 || (ah !== 0 && ah !== al + 1)) throw corrupt('invalid progressive scan parameters');
  }
  const needDC = !progressive || (ss === 0 && ah === 0);
  const needAC = !progressive || ss > 0;
  const dcStats = [0, 1, 2, 3].map(() => new Uint8Array(64));
  const acStats = [0, 1, 2, 3].map(() => new Uint8Array(256));
  const fixed = new Uint8Array([113]);
  const lastDc = new Int32Array(comps.length);
  const dcContext = new Int32Array(comps.length);
  for (let i = 0; i < comps.length; i++) {
    if (needDC && s.dcTbl[i] > 3) throw corrupt('scan uses an invalid DC conditioning table');
    if (needAC && s.acTbl[i] > 3) throw corrupt('scan uses an invalid AC conditioning table');
    for (let k = ss; k <= se; k++) comps[i].coefBits[k] = al;
  }
  const d = new ArithDecoder(data, start);
  const p1 = 1 << al;
  const m1 = -1 << al;

  /** F.1.4.4.1 / Figure F.19–F.24: one DC difference; returns the new DC value (mod 2^16). */
  const dcDiff = (ci: number): void => {
    const tbl = s.dcTbl[ci];
    const stats = dcStats[tbl];
    let st = dcContext[ci];
    if (d.decode(stats, st) === 0) {
      dcContext[ci] = 0;
      return;
    }
    const sign = d.decode(stats, st + 1);
    st += 2 + sign;
    let m = d.decode(stats, st);
    if (m !== 0) {
      st = 20;
      while (d.decode(stats, st)) {
        if ((m <<= 1) === 0x8000) throw corrupt('arithmetic-coded DC magnitude overflow');
        st++;
      }
    }
    if (m < (1 << cond.dcL[tbl]) >> 1) dcContext[ci] = 0;
    else if (m > (1 << cond.dcU[tbl]) >> 1) dcContext[ci] = 12 + sign * 4;
    else dcContext[ci] = 4 + sign * 4;
    let v = m;
    st += 14;
    while ((m >>= 1)) if (d.decode(stats, st)) v |= m;
    v += 1;
    if (sign) v = -v;
    lastDc[ci] = (lastDc[ci] + v) & 0xffff;
  };

  /** Figure F.20: AC coefficients k = from..to of one block (first scan or sequential), scaled by `shift`. */
  const acFirst = (z: Int16Array, off: number, tbl: number, from: number, to: number, shift: number): void => {
    const stats = acStats[tbl];
    for (let k = from; k <= to; k++) {
      let st = 3 * (k - 1);
      if (d.decode(stats, st)) break; // EOB
      while (d.decode(stats, st + 1) === 0) {
        st += 3;
        if (++k > to) throw corrupt('arithmetic-coded AC spectral overflow');
      }
      const sign = d.decode(fixed, 0);
      st += 2;
      let m = d.decode(stats, st);
      if (m !== 0 && d.decode(stats, st)) {
        m <<= 1;
        st = k <= cond.acK[tbl] ? 189 : 217;
        while (d.decode(stats, st)) {
          if ((m <<= 1) === 0x8000) throw corrupt('arithmetic-coded AC magnitude overflow');
          st++;
        }
      }
      let v = m;
      st += 14;
      while ((m >>= 1)) if (d.decode(stats, st)) v |= m;
      v += 1;
      if (sign) v = -v;
      z[off + NATURAL_ORDER[k]] = v * 2 ** shift;
    }
  };

  /** Figure G.10-ish (jdarith.c decode_mcu_AC_refine): refinement of one block's AC band. */
  const acRefine = (z: Int16Array, off: number, tbl: number): void => {
    const stats = acStats[tbl];
    let kex = se;
    for (; kex > 0; kex--) if (z[off + NATURAL_ORDER[kex]]) break;
    for (let k = ss; k <= se; k++) {
      let st = 3 * (k - 1);
      if (k > kex && d.decode(stats, st)) break;
      for (;;) {
        const pos = off + NATURAL_ORDER[k];
        if (z[pos]) {
          if (d.decode(stats, st + 2)) z[pos] += z[pos] < 0 ? m1 : p1;
          break;
        }
        if (d.decode(stats, st + 1)) {
          z[pos] = d.decode(fixed, 0) ? m1 : p1;
          break;
        }
        st += 3;
        if (++k > se) throw corrupt('arithmetic-coded AC spectral overflow');
      }
    }
  };

  const block = (c: JpegComponent, off: number, ci: number): void => {
    const z = c.coefs;
    if (!progressive) {
      dcDiff(ci);
      z[off] = lastDc[ci];
      acFirst(z, off, s.acTbl[ci], 1, 63, 0);
    } else if (ss === 0 && ah === 0) {
      dcDiff(ci);
      z[off] = lastDc[ci] * p1;
    } else if (ss === 0) {
      if (d.decode(fixed, 0)) z[off] |= p1;
    } else if (ah === 0) {
      acFirst(z, off, s.acTbl[ci], ss, se, al);
    } else {
      acRefine(z, off, s.acTbl[ci]);
    }
  };

  const single = comps.length === 1;
  const c0 = comps[0];
  const unitsX = single ? Math.ceil(c0.width / 8) : frame.mcusX;
  const total = single ? unitsX * Math.ceil(c0.height / 8) : frame.mcusX * frame.mcusY;
  const ri = s.restartInterval;
  let restartNum = 0;
  for (let unit = 0; unit < total; unit++) {
    if (ri && unit > 0 && unit % ri === 0) {
      d.restart(0xd0 + restartNum);
      restartNum = (restartNum + 1) & 7;
      for (let i = 0; i < comps.length; i++) {
        if (needDC) {
          dcStats[s.dcTbl[i]].fill(0);
          lastDc[i] = 0;
          dcContext[i] = 0;
        }
        if (needAC) acStats[s.acTbl[i]].fill(0);
      }
    }
    const ux = unit % unitsX;
    const uy = (unit / unitsX) | 0;
    if (single) {
      block(c0, (uy * c0.bw + ux) * 64, 0);
    } else {
      for (let ci = 0; ci < comps.length; ci++) {
        const c = comps[ci];
        for (let v = 0; v < c.v; v++) {
          const row = (uy * c.v + v) * c.bw + ux * c.h;
          for (let h = 0; h < c.h; h++) block(c, (row + h) * 64, ci);
        }
      }
    }
  }
}
