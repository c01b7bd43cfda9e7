/**
 * PIL's convolution resize (`Image.resize(size, filter)` with `box=None, reducing_gap=None`) on 8-bit RGB,
 * reproduced bit for bit. Behaviour follows Pillow's `src/libImaging/Resample.c` (9.x–11.x, unchanged there):
 *
 * - Separable: a horizontal pass (only over the source rows the vertical pass will read), clipped to uint8, then
 *   a vertical pass, clipped to uint8. A pass is skipped when that dimension does not change; same size → copy.
 * - For each output index: `center = (i + 0.5) * scale` with `scale = in / out`; when downscaling the kernel is
 *   stretched by `filterscale = max(scale, 1)` (antialiasing), support = filter support × filterscale; taps run over
 *   `[trunc(center - support + 0.5), trunc(center + support + 0.5))` clamped to the image; weights are
 *   `filter((x - center + 0.5) / filterscale)` normalized by their sum, then rounded half away from zero to fixed
 *   point with 22 fractional bits (PRECISION_BITS = 32 - 8 - 2).
 * - Accumulators start at 2^21 (so `>> 22` rounds) and are clamped to 0..255.
 *
 * Every step is done in the same IEEE double / int32 arithmetic as the C code, so the result is identical on x86-64
 * (where Pillow is built without FMA contraction). Typed arrays only; no allocation per pixel.
 */
import { assertRgbImage, ImageDecodeError, type RgbImage } from './types.js';

export interface ResampleFilter {
  readonly name: string;
  readonly support: number;
  readonly weight: (x: number) => number;
}

const BICUBIC_A = -0.5; // Pillow's bicubic uses a = -0.5 (Keys), not -0.75 like OpenCV.

export const BICUBIC: ResampleFilter = {
  name: 'bicubic',
  support: 2,
  weight(x) {
    if (x < 0) x = -x;
    if (x < 1) return ((BICUBIC_A + 2) * x - (BICUBIC_A + 3)) * x * x + 1;
    if (x < 2) return (((x - 5) * x + 8) * x - 4) * BICUBIC_A;
    return 0;
  },
};

export const BILINEAR: ResampleFilter = {
  name: 'bilinear',
  support: 1,
  weight(x) {
    if (x < 0) x = -x;
    return x < 1 ? 1 - x : 0;
  },
};

export const BOX: ResampleFilter = {
  name: 'box',
  support: 0.5,
  weight: (x) => (x > -0.5 && x <= 0.5 ? 1 : 0),
};

// Pillow writes 0.54f/0.46f (float literals) in the Hamming window.
const H054 = Math.fround(0.54);
const H046 = Math.fround(0.46);
export const HAMMING: ResampleFilter = {
  name: 'hamming',
  support: 1,
  weight(x) {
    if (x < 0) x = -x;
    if (x === 0) return 1;
    if (x >= 1) return 0;
    x *= Math.PI;
    return (Math.sin(x) / x) * (H054 + H046 * Math.cos(x));
  },
};

function sinc(x: number): number {
  if (x === 0) return 1;
  x *= Math.PI;
  return Math.sin(x) / x;
}
export const LANCZOS: ResampleFilter = {
  name: 'lanczos',
  support: 3,
  weight: (x) => (x >= -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0),
};

const PRECISION_BITS = 22;
const ONE = 1 << PRECISION_BITS;
const HALF = 1 << (PRECISION_BITS - 1);

/** Per output index: first source index, tap count, and `ksize` fixed-point weights (unused ones 0). */
interface Coefficients {
  ksize: number;
  bounds: Int32Array; // [xmin0, n0, xmin1, n1, ...]
  weights: Int32Array; // outSize × ksize
}

function precomputeCoefficients(inSize: number, outSize: number, filter: ResampleFilter): Coefficients {
  const scale = inSize / outSize;
  const filterscale = scale < 1 ? 1 : scale;
  const support = filter.support * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const weights = new Int32Array(outSize * ksize);
  const tmp = new Float64Array(ksize);
  const ss = 1 / filterscale; // Pillow multiplies by the reciprocal; keep that for identical rounding.
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    const n = xmax - xmin;
    let ww = 0;
    for (let x = 0; x < n; x++) {
      const w = filter.weight((x + xmin - center + 0.5) * ss);
      tmp[x] = w;
      ww += w;
    }
    const base = xx * ksize;
    for (let x = 0; x < n; x++) {
      const k = ww !== 0 ? tmp[x] / ww : tmp[x];
      // (int)(±0.5 + k * 2^22): round half away from zero, as normalize_coeffs_8bpc.
      weights[base + x] = k < 0 ? Math.trunc(-0.5 + k * ONE) : Math.trunc(0.5 + k * ONE);
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = n;
  }
  return { ksize, bounds, weights };
}

/** Horizontal pass over source rows [row0, row0 + rows). Uint8ClampedArray does clip8's clamp for us. */
function resampleHorizontal(
  src: Uint8Array,
  srcWidth: number,
  row0: number,
  rows: number,
  outWidth: number,
  c: Coefficients,
): Uint8Array {
  const out = new Uint8ClampedArray(outWidth * rows * 3);
  const { ksize, bounds, weights } = c;
  let o = 0;
  for (let y = 0; y < rows; y++) {
    const rowBase = (row0 + y) * srcWidth * 3;
    for (let xx = 0; xx < outWidth; xx++) {
      const n = bounds[xx * 2 + 1];
      const kb = xx * ksize;
      let p = rowBase + bounds[xx * 2] * 3;
      let s0 = HALF;
      let s1 = HALF;
      let s2 = HALF;
      for (let x = 0; x < n; x++, p += 3) {
        const w = weights[kb + x];
        s0 += src[p] * w;
        s1 += src[p + 1] * w;
        s2 += src[p + 2] * w;
      }
      // Sums stay inside int32 by Pillow's design (2 spare bits), so `>>` is the C arithmetic shift.
      out[o++] = s0 >> PRECISION_BITS;
      out[o++] = s1 >> PRECISION_BITS;
      out[o++] = s2 >> PRECISION_BITS;
    }
  }
  return new Uint8Array(out.buffer);
}

/** Vertical pass; accumulates whole rows so the source is read sequentially (same per-pixel sum order). */
function resampleVertical(src: Uint8Array, width: number, outHeight: number, c: Coefficients): Uint8Array {
  const rowLen = width * 3;
  const out = new Uint8ClampedArray(rowLen * outHeight);
  const acc = new Float64Array(rowLen);
  const { ksize, bounds, weights } = c;
  for (let yy = 0; yy < outHeight; yy++) {
    const ymin = bounds[yy * 2];
    const n = bounds[yy * 2 + 1];
    acc.fill(HALF);
    for (let y = 0; y < n; y++) {
      const w = weights[yy * ksize + y];
      const rb = (ymin + y) * rowLen;
      for (let i = 0; i < rowLen; i++) acc[i] += src[rb + i] * w;
    }
    const ob = yy * rowLen;
    for (let i = 0; i < rowLen; i++) out[ob + i] = acc[i] >> PRECISION_BITS;
  }
  return new Uint8Array(out.buffer);
}

function checkSize(width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new ImageDecodeError(`resize: target size must be positive integers, got ${width}×${height}`);
  }
}

/** `Image.resize((width, height), filter)` on an RGB image, exactly as Pillow computes it. */
export function resizeWith(img: RgbImage, width: number, height: number, filter: ResampleFilter): RgbImage {
  assertRgbImage(img, 'resize input');
  checkSize(width, height);
  if (img.width === width && img.height === height) {
    return { width, height, data: img.data.slice() }; // Pillow returns a copy without resampling
  }
  const needHorizontal = width !== img.width;
  const needVertical = height !== img.height;
  const vert = precomputeCoefficients(img.height, height, filter);
  let data = img.data;
  let curWidth = img.width;
  if (needHorizontal) {
    // Only rows the vertical pass reads are resampled; its bounds are shifted to that band.
    const first = vert.bounds[0];
    const last = vert.bounds[height * 2 - 2] + vert.bounds[height * 2 - 1];
    for (let i = 0; i < height; i++) vert.bounds[i * 2] -= first;
    const horiz = precomputeCoefficients(img.width, width, filter);
    data = resampleHorizontal(data, img.width, first, last - first, width, horiz);
    curWidth = width;
  }
  if (needVertical) data = resampleVertical(data, curWidth, height, vert);
  return { width, height, data };
}

/** PIL-exact bicubic resize (`Image.resize((width, height), Image.BICUBIC)`), what SigLIP's processor uses. */
export function resizeBicubic(img: RgbImage, width: number, height: number): RgbImage {
  return resizeWith(img, width, height, BICUBIC);
}

/** PIL's `Resampling` enum values that use this convolution code (NEAREST = 0 is a different algorithm). */
export const FILTERS_BY_PIL_ID: Readonly<Record<number, ResampleFilter>> = {
  1: LANCZOS,
  2: BILINEAR,
  3: BICUBIC,
  4: BOX,
  5: HAMMING,
};
