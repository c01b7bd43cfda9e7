/**
 * Compact weight formats: how a weight matrix is packed into 32-bit words, on the device and in converted
 * checkpoints, and the host code that packs, quantizes and (for references) unpacks it. The bit layout is said once,
 * here; shaders/weight-formats.wgsl reads the same bits.
 *
 * A matrix is [rows, cols] with cols the contiguous axis: a linear weight as Hugging Face stores it, [out, in]
 * (rows = output channels, cols = the reduction axis K). Each row is padded with zeros to `ld` elements — a multiple
 * of the elements per word and of the group — so that every row starts on a word and the flat element index
 * divided by the group size is the index of its scale.
 *
 *   f16   IEEE half, 2 per word, element j of a word in bits 16j .. 16j + 15 (unpack2x16float's order). No scales.
 *   int8  symmetric: w = q · scale, q in [−127, 127] (two's complement byte), 4 per word, element j in bits 8j ..
 *         Scales per row (group 0: one per output channel) or per group of G consecutive elements of a row.
 *   q4    symmetric 4-bit: w = q · scale, q in [−7, 7] (two's complement nibble; −8 is never written), 8 per word,
 *         element j in bits 4j .. 4j + 3, scales per group of G (32 or 64; groups are what keep 4 bits usable).
 *
 * Scales are float32 (on disk and on the device): at one scale per 32 weights that is 1 bit per weight, and no
 * rounding of the scale to f16 (whose range ends at 65504 and whose subnormals lose precision) can bite.
 * In bytes, little-endian words are the same as the codes in element order (int8: one signed byte per element;
 * q4: two per byte, the even element in the low nibble), which is how converted safetensors store them (I8, U8).
 */
import { f16BitsToF32, f32ToF16Bits } from './dtype.js';

export type PackedFormat = 'f16' | 'int8' | 'q4';

/** Bits per element of each format. */
export const FORMAT_BITS: Readonly<Record<PackedFormat, number>> = { f16: 16, int8: 8, q4: 4 };

/** Largest code magnitude written: q in [−QMAX, QMAX]. */
export const FORMAT_QMAX: Readonly<Record<'int8' | 'q4', number>> = { int8: 127, q4: 7 };

/** Group sizes a scale may cover (elements of one row); 0 = one scale per row. */
export const GROUP_SIZES = [0, 32, 64, 128] as const;

export interface PackedLayout {
  format: PackedFormat;
  /** Rows (output channels of a linear weight stored [out, in]). */
  rows: number;
  /** Elements of a row that are data (K of a linear weight). */
  cols: number;
  /** Elements per stored row: cols padded to a multiple of the elements per word and of the group. */
  ld: number;
  /** Elements per scale along a row; 0: one scale per row (int8), or none (f16). */
  group: number;
}

export function isPackedFormat(x: unknown): x is PackedFormat {
  return x === 'f16' || x === 'int8' || x === 'q4';
}

export function elementsPerWord(format: PackedFormat): number {
  return 32 / FORMAT_BITS[format];
}

/** The layout of a [rows, cols] matrix in `format`; throws naming what does not fit. */
export function packedLayout(format: PackedFormat, rows: number, cols: number, group = 0): PackedLayout {
  if (!isPackedFormat(format)) throw new Error(`weight format ${JSON.stringify(format)} is not f16, int8 or q4`);
  for (const [v, n] of [[rows, 'rows'], [cols, 'cols']] as const) {
    if (!(Number.isInteger(v) && v >= 1)) throw new Error(`packed ${format} matrix: ${n} must be a positive integer, got ${v}`);
  }
  if (!(GROUP_SIZES as readonly number[]).includes(group)) throw new Error(`group size ${group} is not one of ${GROUP_SIZES.join(', ')} (0: one scale per row)`);
  if (format === 'f16' && group !== 0) throw new Error('f16 weights have no scales: group must be 0');
  if (format === 'q4' && group === 0) throw new Error('4-bit weights need a group size (32 or 64): one scale per row loses too much');
  const unit = Math.max(elementsPerWord(format), group);
  return { format, rows, cols, ld: Math.ceil(cols / unit) * unit, group };
}

/** 32-bit words of the packed data. */
export function packedWords(l: PackedLayout): number {
  return (l.rows * l.ld) / elementsPerWord(l.format);
}

/** Scales of the layout: one per row, one per group, or none (f16). */
export function scaleCount(l: PackedLayout): number {
  if (l.format === 'f16') return 0;
  return l.group ? (l.rows * l.ld) / l.group : l.rows;
}

/** Scales per row. */
export function scalesPerRow(l: PackedLayout): number {
  if (l.format === 'f16') return 0;
  return l.group ? l.ld / l.group : 1;
}

/** Bytes the packed matrix takes (data and scales): what a pass reads of it. */
export function packedBytes(l: PackedLayout): number {
  return 4 * packedWords(l) + 4 * scaleCount(l);
}

/** Round half away from zero, as the codes are defined (independent of the platform's ties rule). */
function roundCode(x: number): number {
  return x < 0 ? -Math.floor(-x + 0.5) : Math.floor(x + 0.5);
}

/**
 * The scale of a block of weights: max |w| / QMAX, as a float32. A block of zeros gets scale 0 (every code 0).
 * `values` may contain only finite numbers (a NaN or ±Inf weight is refused: it would poison a whole block).
 */
function blockScale(values: ArrayLike<number>, from: number, to: number, qmax: number, where: () => string): number {
  let m = 0;
  for (let i = from; i < to; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) throw new Error(`${where()}: element ${i - from} of the block is ${v}; only finite weights can be quantized`);
    const a = Math.abs(v);
    if (a > m) m = a;
  }
  return Math.fround(m / qmax);
}

/** Candidate clipping of the 4-bit range: the block's max maps to qmax · f. */
const Q4_CLIP = [1, 0.95, 0.9, 0.85, 0.8, 0.75];

/**
 * The 4-bit scale of a block that minimizes its squared error: with 15 levels the max-abs scale wastes range on
 * one outlier, so each candidate clipping (Q4_CLIP) rounds the block, the scale is refit to those codes by least
 * squares (s = Σ w·q / Σ q², never negative: q has w's sign), and the candidate with the least error wins
 * (as llama.cpp's make_qx_quants does). Deterministic, so converter and loader produce the same bits.
 */
function searchScale(values: ArrayLike<number>, from: number, to: number, maxScale: number, qmax: number): number {
  let ww = 0;
  for (let i = from; i < to; i++) ww += values[i]! * values[i]!;
  let best = maxScale;
  let bestErr = Infinity;
  for (const f of Q4_CLIP) {
    const inv = 1 / (maxScale * f);
    let wq = 0, qq = 0;
    for (let i = from; i < to; i++) {
      const v = values[i]!;
      const q = Math.max(-qmax, Math.min(qmax, roundCode(v * inv)));
      wq += v * q;
      qq += q * q;
    }
    if (!(qq > 0 && wq > 0)) continue;
    // Σ(w − s·q)² at the least-squares s = Σwq / Σq² is Σw² − (Σwq)²/Σq²: no second pass. (Packing rounds again
    // with s, which moves a code only to a nearer level.)
    const err = ww - (wq * wq) / qq;
    if (err < bestErr) {
      bestErr = err;
      best = Math.fround(wq / qq);
    }
  }
  return best;
}

/**
 * Packs `n` whole rows of a [rows, cols] float matrix (row-major, `values.length` = n · cols) into `words`
 * (n · ld / elementsPerWord words) and `scales` (n · scalesPerRow), quantizing as the layout says. Rows are
 * independent, so a matrix can be packed in pieces of rows (streamed loading) with the same result.
 */
export function packRows(l: PackedLayout, values: ArrayLike<number>, words: Uint32Array, scales: Float32Array | null, what = 'weight'): void {
  const n = values.length / l.cols;
  if (!Number.isInteger(n)) throw new Error(`${what}: ${values.length} values are not whole rows of ${l.cols}`);
  const per = elementsPerWord(l.format);
  const wordsPerRow = l.ld / per;
  if (words.length < n * wordsPerRow) throw new Error(`${what}: ${words.length} words for ${n} rows of ${wordsPerRow}`);
  const spr = scalesPerRow(l);
  if (spr && (!scales || scales.length < n * spr)) throw new Error(`${what}: scales for ${n} rows of ${spr} are missing or short`);
  words.fill(0, 0, n * wordsPerRow);
  if (l.format === 'f16') {
    for (let r = 0; r < n; r++) {
      for (let c = 0; c < l.cols; c++) {
        const v = values[r * l.cols + c]!;
        // Past ±65504 a half is infinite: refused, never stored as a weight that turns a pass into NaN.
        if (!(Math.abs(v) <= 65504)) throw new Error(`${what}: row ${r}, element ${c} is ${v}, outside what f16 holds (±65504)`);
        const w = r * wordsPerRow + (c >> 1);
        words[w] = (words[w]! | (f32ToF16Bits(v) << (16 * (c & 1)))) >>> 0;
      }
    }
    return;
  }
  const qmax = FORMAT_QMAX[l.format];
  const bits = FORMAT_BITS[l.format];
  const mask = (1 << bits) - 1;
  const block = l.group || l.cols;
  for (let r = 0; r < n; r++) {
    const row = r * l.cols;
    for (let b = 0; b < spr; b++) {
      const c0 = b * block;
      const c1 = Math.min(l.cols, c0 + block);
      const m = c0 < l.cols ? blockScale(values, row + c0, row + c1, qmax, () => `${what}: row ${r}, group ${b}`) : 0;
      const s = m && l.format === 'q4' ? searchScale(values, row + c0, row + c1, m, qmax) : m;
      scales![r * spr + b] = s;
      if (s === 0) continue;
      const inv = 1 / s;
      for (let c = c0; c < c1; c++) {
        const q = Math.max(-qmax, Math.min(qmax, roundCode(values[row + c]! * inv)));
        const w = r * wordsPerRow + Math.floor(c / per);
        words[w] = (words[w]! | ((q & mask) << (bits * (c % per)))) >>> 0;
      }
    }
  }
}

/** Packs a whole [rows, cols] matrix: { words, scales } for upload or a converted checkpoint. */
export function packMatrix(l: PackedLayout, values: ArrayLike<number>, what = 'weight'): { words: Uint32Array; scales: Float32Array | null } {
  if (values.length !== l.rows * l.cols) throw new Error(`${what}: ${values.length} values, [${l.rows}, ${l.cols}] needs ${l.rows * l.cols}`);
  const words = new Uint32Array(packedWords(l));
  const scales = l.format === 'f16' ? null : new Float32Array(scaleCount(l));
  packRows(l, values, words, scales, what);
  return { words, scales };
}

/** The code of element `c` in row `r` (sign-extended for int8 and q4; half bits for f16). */
function codeAt(l: PackedLayout, words: Uint32Array, r: number, c: number): number {
  const per = elementsPerWord(l.format);
  const bits = FORMAT_BITS[l.format];
  const i = r * l.ld + c;
  const raw = (words[Math.floor(i / per)]! >>> (bits * (i % per))) & ((1 << bits) - 1);
  if (l.format === 'f16') return raw;
  return raw >= 1 << (bits - 1) ? raw - (1 << bits) : raw;
}

/**
 * The matrix the device computes with, [rows, cols] in float64: code · scale (exact: both are float32 values and
 * the product of two 24-bit mantissas fits a double's 53). The float64 references multiply with this.
 */
export function unpackMatrix(l: PackedLayout, words: Uint32Array, scales: Float32Array | null): Float64Array {
  const out = new Float64Array(l.rows * l.cols);
  const spr = scalesPerRow(l);
  for (let r = 0; r < l.rows; r++) {
    for (let c = 0; c < l.cols; c++) {
      const q = codeAt(l, words, r, c);
      out[r * l.cols + c] = l.format === 'f16' ? f16BitsToF32(q) : q * scales![r * spr + (l.group ? Math.floor(c / l.group) : 0)]!;
    }
  }
  return out;
}
