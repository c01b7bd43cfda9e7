/**
 * The part of libjpeg-turbo's decoder that runs after the IDCT, done the way PIL's libjpeg(-turbo) does it by
 * default (`do_fancy_upsampling = TRUE`, no merged upsampling): per-component chroma upsampling and the
 * integer YCbCr → RGB tables. jpeg-js upsamples chroma by pixel replication and converts colour in floating point,
 * which differs from PIL by up to tens of levels at colour edges; doing these steps ourselves on jpeg-js's component
 * planes leaves only its IDCT rounding as a difference (see decode-jpeg.ts).
 *
 * Algorithms (our own code) follow libjpeg-turbo 2.1 `jdsample.c` and `jdcolor.c`:
 * - 2:1 horizontal ("h2v1", 4:2:2), when the component is wider than 2 samples: triangle filter, outputs
 *   (3·near + far + 1) >> 2 and (3·near + far + 2) >> 2 (alternating bias), edge samples replicated.
 * - 2:1 vertical ("h1v2", 4:4:0): (3·near + far + 1 or 2) >> 2 between rows.
 * - 2:1 both ("h2v2", 4:2:0), when wider than 2 samples: column sums 3·near + far, then
 *   (3·this + neighbour + 8 or 7) >> 4.
 * - Rows above the first / below the last sample row are copies of them (jdmainct.c's context rows).
 * - Any other integral ratio, and h2v1/h2v2 components 1–2 samples wide: replication (box).
 */
import { ImageDecodeError } from './types.js';

/** One decoded component: `width × height` samples (the component's own, downsampled size). */
export interface Plane {
  data: Uint8Array;
  width: number;
  height: number;
  /** Distance between rows in `data` (≥ width: libjpeg-style planes are padded to whole 8×8 blocks). */
  stride: number;
  /** Output pixels per sample horizontally / vertically (maxH / h, maxV / v); must be integers. */
  rx: number;
  ry: number;
}

/** Upsamples a plane to `outW × outH`, exactly as libjpeg-turbo's default (fancy) upsampler. */
export function upsamplePlane(p: Plane, outW: number, outH: number): Uint8Array {
  const { rx, ry } = p;
  if (rx === 1 && ry === 1) return crop(p, outW, outH);
  if (rx === 2 && ry === 1 && p.width > 2) return fancyH2V1(p, outW, outH);
  if (rx === 1 && ry === 2) return fancyH1V2(p, outW, outH);
  if (rx === 2 && ry === 2 && p.width > 2) return fancyH2V2(p, outW, outH);
  return replicate(p, outW, outH);
}

function crop(p: Plane, outW: number, outH: number): Uint8Array {
  const out = new Uint8Array(outW * outH);
  for (let y = 0; y < outH; y++) out.set(p.data.subarray(y * p.stride, y * p.stride + outW), y * outW);
  return out;
}

function replicate(p: Plane, outW: number, outH: number): Uint8Array {
  const out = new Uint8Array(outW * outH);
  for (let y = 0; y < outH; y++) {
    const src = ((y / p.ry) | 0) * p.stride;
    const o = y * outW;
    for (let x = 0; x < outW; x++) out[o + x] = p.data[src + ((x / p.rx) | 0)];
  }
  return out;
}

/** Triangle filter along one row of `w` samples into `out[o .. o + outW)`; `w >= 3`. */
function fancyRowH2(row: Uint8Array, r: number, w: number, out: Uint8Array, o: number, outW: number): void {
  const end = o + outW;
  let v = row[r];
  out[o++] = v;
  if (o < end) out[o++] = (v * 3 + row[r + 1] + 2) >> 2;
  for (let j = 1; j < w - 1 && o < end; j++) {
    v = row[r + j] * 3;
    out[o++] = (v + row[r + j - 1] + 1) >> 2;
    if (o < end) out[o++] = (v + row[r + j + 1] + 2) >> 2;
  }
  if (o < end) {
    v = row[r + w - 1];
    out[o++] = (v * 3 + row[r + w - 2] + 1) >> 2;
    if (o < end) out[o++] = v;
  }
}

function fancyH2V1(p: Plane, outW: number, outH: number): Uint8Array {
  const out = new Uint8Array(outW * outH);
  for (let y = 0; y < outH; y++) fancyRowH2(p.data, y * p.stride, p.width, out, y * outW, outW);
  return out;
}

function fancyH1V2(p: Plane, outW: number, outH: number): Uint8Array {
  const out = new Uint8Array(outW * outH);
  const { data, height: h, stride } = p;
  for (let y = 0; y < outH; y++) {
    const i = y >> 1;
    const below = (y & 1) === 1;
    const far = below ? Math.min(i + 1, h - 1) : Math.max(i - 1, 0);
    const bias = below ? 2 : 1;
    const a = i * stride;
    const b = far * stride;
    const o = y * outW;
    for (let x = 0; x < outW; x++) out[o + x] = (data[a + x] * 3 + data[b + x] + bias) >> 2;
  }
  return out;
}

function fancyH2V2(p: Plane, outW: number, outH: number): Uint8Array {
  const out = new Uint8Array(outW * outH);
  const { data, width: w, height: h, stride } = p;
  const sums = new Int32Array(w);
  for (let y = 0; y < outH; y++) {
    const i = y >> 1;
    const far = (y & 1) === 1 ? Math.min(i + 1, h - 1) : Math.max(i - 1, 0);
    const a = i * stride;
    const b = far * stride;
    for (let j = 0; j < w; j++) sums[j] = data[a + j] * 3 + data[b + j];
    let o = y * outW;
    const end = o + outW;
    out[o++] = (sums[0] * 4 + 8) >> 4;
    if (o < end) out[o++] = (sums[0] * 3 + sums[1] + 7) >> 4;
    for (let j = 1; j < w - 1 && o < end; j++) {
      out[o++] = (sums[j] * 3 + sums[j - 1] + 8) >> 4;
      if (o < end) out[o++] = (sums[j] * 3 + sums[j + 1] + 7) >> 4;
    }
    if (o < end) {
      out[o++] = (sums[w - 1] * 3 + sums[w - 2] + 8) >> 4;
      if (o < end) out[o++] = (sums[w - 1] * 4 + 7) >> 4;
    }
  }
  return out;
}

// jdcolor.c's tables: 16-bit fixed point, FIX(x) = round(x · 2^16).
const FIX_1_402 = 91881;
const FIX_1_772 = 116130;
const FIX_0_71414 = 46802;
const FIX_0_34414 = 22554;
const HALF16 = 1 << 15;
const CR_R = new Int32Array(256);
const CB_B = new Int32Array(256);
const CR_G = new Int32Array(256);
const CB_G = new Int32Array(256);
for (let i = 0; i < 256; i++) {
  const x = i - 128;
  CR_R[i] = (FIX_1_402 * x + HALF16) >> 16;
  CB_B[i] = (FIX_1_772 * x + HALF16) >> 16;
  CR_G[i] = -FIX_0_71414 * x;
  CB_G[i] = -FIX_0_34414 * x + HALF16;
}

const clamp255 = (v: number): number => (v < 0 ? 0 : v > 255 ? 255 : v);

/** Full-resolution Y, Cb, Cr → interleaved RGB with libjpeg's integer tables (ycc_rgb_convert). */
export function yccToRgb(y: Uint8Array, cb: Uint8Array, cr: Uint8Array, out: Uint8Array): void {
  for (let i = 0, o = 0; i < y.length; i++, o += 3) {
    const Y = y[i];
    const b = cb[i];
    const r = cr[i];
    out[o] = clamp255(Y + CR_R[r]);
    out[o + 1] = clamp255(Y + ((CB_G[b] + CR_G[r]) >> 16));
    out[o + 2] = clamp255(Y + CB_B[b]);
  }
}

/**
 * Four full-resolution components as stored in the file (CMYK, or YCCK when `ycck`) → RGB as PIL gives it:
 * libjpeg outputs CMYK (YCCK is converted with the YCbCr tables and inverted: C = 255 − R'); PIL reads it as
 * Adobe-inverted "CMYK;I" (each value 255 − v) and `convert("RGB")` computes, per channel,
 * `nk − nk·c/255` (rounded as MULDIV255) with nk = 255 − k.
 */
export function cmykToRgb(c0: Uint8Array, c1: Uint8Array, c2: Uint8Array, k: Uint8Array, ycck: boolean, out: Uint8Array): void {
  for (let i = 0, o = 0; i < c0.length; i++, o += 3) {
    let c: number;
    let m: number;
    let yy: number;
    if (ycck) {
      const Y = c0[i];
      const b = c1[i];
      const r = c2[i];
      c = 255 - clamp255(Y + CR_R[r]);
      m = 255 - clamp255(Y + ((CB_G[b] + CR_G[r]) >> 16));
      yy = 255 - clamp255(Y + CB_B[b]);
    } else {
      c = c0[i];
      m = c1[i];
      yy = c2[i];
    }
    // "CMYK;I": PIL inverts what libjpeg returns.
    const nk = k[i]; // 255 - (255 - k)
    out[o] = pilCmykChannel(255 - c, nk);
    out[o + 1] = pilCmykChannel(255 - m, nk);
    out[o + 2] = pilCmykChannel(255 - yy, nk);
  }
}

/** PIL Convert.c cmyk2rgb for one channel: CLIP8(nk − MULDIV255(v, nk)). */
function pilCmykChannel(v: number, nk: number): number {
  const t = v * nk + 128;
  return clamp255(nk - (((t >> 8) + t) >> 8));
}

/** Output pixels per component sample along one axis; libjpeg too refuses non-integral ratios. */
export function checkRatio(axis: 'h' | 'v', maxF: number, f: number): number {
  const r = maxF / f;
  if (!Number.isInteger(r)) {
    throw new ImageDecodeError(`jpeg: fractional ${axis} sampling factors (${f} of ${maxF}) are not supported (nor by libjpeg)`);
  }
  return r;
}
