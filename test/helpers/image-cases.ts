/**
 * Loads the PIL reference cases written by scripts/gen-preprocess-cases.py (test/fixtures/preprocess/generated) and
 * scripts/gen-format-cases.py (test/fixtures/formats: the formats beyond PNG/JPEG).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'fflate';
import type { RgbImage } from '../../src/model/image/index.js';

export const FIXTURES = join(__dirname, '..', 'fixtures');
export const GENERATED = join(FIXTURES, 'preprocess', 'generated');
export const FORMATS = join(FIXTURES, 'formats');

export interface Slice {
  offset: number;
  length: number;
}
export interface ResizeRef extends Slice {
  width: number;
  height: number;
  filter: 'bicubic' | 'bilinear' | 'lanczos' | 'box' | 'hamming';
}
export interface ImageCase {
  name: string;
  input?: string;
  synthetic?: 'pattern1';
  note?: string;
  width: number;
  height: number;
  decoded?: Slice;
  unrotated?: Slice;
  orientation?: number;
  resizes: ResizeRef[];
  error?: string;
  /** test/fixtures/formats only: the container format, how the reference was made, the allowed difference. */
  format?: string;
  reference?: string;
  tolerance?: number;
  max_tolerance?: number;
}

const cache = new Map<string, { cases: ImageCase[]; blob: Uint8Array }>();

export function loadCases(dir = GENERATED): { cases: ImageCase[]; blob: Uint8Array } {
  let c = cache.get(dir);
  if (!c) {
    const meta = JSON.parse(readFileSync(join(dir, 'cases.json'), 'utf8')) as { cases: ImageCase[] };
    const blob = gunzipSync(new Uint8Array(readFileSync(join(dir, 'expected.bin.gz'))));
    c = { cases: meta.cases, blob };
    cache.set(dir, c);
  }
  return c;
}

export function expected(blob: Uint8Array, s: Slice): Uint8Array {
  return blob.subarray(s.offset, s.offset + s.length);
}

export function readInput(c: ImageCase, dir = c.format ? FORMATS : GENERATED): Uint8Array {
  return new Uint8Array(readFileSync(join(dir, c.input!)));
}

/** The generator's "pattern1" (same integer formula as synthetic_pattern in the script). */
export function syntheticPattern(w: number, h: number): RgbImage {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0, o = 0; y < h; y++) {
    for (let x = 0; x < w; x++, o += 3) {
      data[o] = ((x * 7 + y * 13) ^ Math.floor((x * y) / 64)) & 255;
      data[o + 1] = ((x >> 3) * 11 + (y >> 2) * 5) & 255;
      data[o + 2] = (x ^ y) & 255;
    }
  }
  return { width: w, height: h, data };
}

/** Max |a − b| and the index where it occurs (−1 when equal). */
export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): { max: number; at: number } {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let max = 0;
  let at = -1;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (d > max) {
      max = d;
      at = i;
    }
  }
  return { max, at };
}
