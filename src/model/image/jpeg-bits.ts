/**
 * Entropy-coded data access for the JPEG decoder: Huffman tables (ITU T.81 Annex C / libjpeg's derived tables)
 * and a bit reader that removes byte stuffing and stops at markers.
 *
 * Like libjpeg, when the reader meets a marker (or the end of the file) it supplies zero bits; unlike libjpeg
 * (which then only warns and fills the rest of the image with grey), a scan that actually *consumes* such bits is
 * reported as truncated or corrupt (`overrun`), because that is what PIL reports for a file cut short.
 */
import { ImageDecodeError } from './types.js';

const LOOKAHEAD = 9;

export interface HuffmanTable {
  /** (length << 8) | symbol for every 9-bit prefix whose code is ≤ 9 bits; 0 when longer. */
  lookup: Uint16Array;
  /** Largest code of each length 1..16 (−1 when none); index 17 is a sentinel. */
  maxcode: Int32Array;
  /** Symbol index offset per length: symbol = values[code + valoffset[l]]. */
  valoffset: Int32Array;
  values: Uint8Array;
}

/** Builds a decoding table from DHT's 16 code-length counts and its symbols (libjpeg jpeg_make_d_derived_tbl). */
export function buildHuffmanTable(counts: Uint8Array, values: Uint8Array, isDC: boolean): HuffmanTable {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total > 256 || total !== values.length) throw new ImageDecodeError('jpeg: corrupt Huffman table (DHT)');
  if (isDC && values.some((v) => v > 15)) throw new ImageDecodeError('jpeg: corrupt DC Huffman table (symbol > 15)');
  const sizes = new Uint8Array(total + 1);
  const codes = new Int32Array(total);
  let p = 0;
  for (let l = 1; l <= 16; l++) for (let i = 0; i < counts[l - 1]; i++) sizes[p++] = l;
  let code = 0;
  let si = sizes[0];
  p = 0;
  while (sizes[p]) {
    while (sizes[p] === si) codes[p++] = code++;
    if (code >= 1 << si) throw new ImageDecodeError('jpeg: corrupt Huffman table (code space overflow)');
    code <<= 1;
    si++;
  }
  const maxcode = new Int32Array(18);
  const valoffset = new Int32Array(18);
  p = 0;
  for (let l = 1; l <= 16; l++) {
    const n = counts[l - 1];
    if (n) {
      valoffset[l] = p - codes[p];
      p += n;
      maxcode[l] = codes[p - 1];
    } else {
      maxcode[l] = -1;
    }
  }
  maxcode[17] = 0x7fffffff;
  const lookup = new Uint16Array(1 << LOOKAHEAD);
  p = 0;
  for (let l = 1; l <= LOOKAHEAD; l++) {
    for (let i = 0; i < counts[l - 1]; i++, p++) {
      const prefix = codes[p] << (LOOKAHEAD - l);
      for (let j = 0; j < 1 << (LOOKAHEAD - l); j++) lookup[prefix + j] = (l << 8) | values[p];
    }
  }
  return { lookup, maxcode, valoffset, values };
}

export class BitReader {
  pos: number;
  private buf = 0;
  private cnt = 0;
  /** Zero bits supplied past a marker or the end of the data; consuming any of them is an overrun. */
  private fake = 0;
  overrun = false;

  constructor(
    private readonly data: Uint8Array,
    start: number,
  ) {
    this.pos = start;
  }

  /** Tops the buffer up to at least 25 bits. */
  private fill(): void {
    const d = this.data;
    while (this.cnt <= 24) {
      let b = 0;
      if (this.fake === 0 && this.pos < d.length) {
        b = d[this.pos];
        if (b === 0xff) {
          let q = this.pos + 1;
          while (q < d.length && d[q] === 0xff) q++;
          if (q < d.length && d[q] === 0) {
            this.pos = q + 1; // stuffed FF 00 → data byte FF
          } else {
            b = 0; // a marker: leave it unread and feed zeros from now on
            this.fake += 8;
          }
        } else {
          this.pos++;
        }
      } else {
        this.fake += 8;
      }
      this.buf = (this.buf << 8) | b;
      this.cnt += 8;
    }
  }

  private consume(n: number): void {
    this.cnt -= n;
    if (this.fake > this.cnt) this.overrun = true;
  }

  bits(n: number): number {
    if (n === 0) return 0;
    if (this.cnt < n) this.fill();
    const v = (this.buf >>> (this.cnt - n)) & ((1 << n) - 1);
    this.consume(n);
    return v;
  }

  bit(): number {
    if (this.cnt < 1) this.fill();
    const v = (this.buf >>> (this.cnt - 1)) & 1;
    this.consume(1);
    return v;
  }

  /** n bits as a signed coefficient (T.81 EXTEND / libjpeg HUFF_EXTEND). */
  receiveExtend(n: number): number {
    if (n === 0) return 0;
    const v = this.bits(n);
    return v < 1 << (n - 1) ? v - (1 << n) + 1 : v;
  }

  decode(t: HuffmanTable): number {
    if (this.cnt < 16) this.fill();
    const peek = (this.buf >>> (this.cnt - LOOKAHEAD)) & ((1 << LOOKAHEAD) - 1);
    const e = t.lookup[peek];
    if (e !== 0) {
      this.consume(e >> 8);
      return e & 0xff;
    }
    let l = LOOKAHEAD + 1;
    let code = (this.buf >>> (this.cnt - l)) & ((1 << l) - 1);
    while (l <= 16 && code > t.maxcode[l]) {
      l++;
      code = (this.buf >>> (this.cnt - l)) & ((1 << l) - 1);
    }
    if (l > 16) throw new ImageDecodeError('jpeg: corrupt entropy-coded data (invalid Huffman code)');
    this.consume(l);
    return t.values[code + t.valoffset[l]];
  }

  /** Drops buffered bits (restart interval boundary, end of scan); the next marker is at or after `pos`. */
  reset(): void {
    this.buf = 0;
    this.cnt = 0;
    this.fake = 0;
  }
}

/** Position of the next marker at or after `pos`, skipping stray bytes and FF fill bytes; -1 at end of data. */
export function findMarker(data: Uint8Array, pos: number): number {
  for (let i = pos; i + 1 < data.length; i++) {
    if (data[i] !== 0xff) continue;
    let q = i + 1;
    while (q < data.length && data[q] === 0xff) q++;
    if (q >= data.length) return -1;
    if (data[q] !== 0) return q - 1; // points at the FF immediately before the marker code
    i = q;
  }
  return -1;
}
