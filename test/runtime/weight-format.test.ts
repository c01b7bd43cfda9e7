/**
 * The host side of the compact weight formats (src/runtime/weight-format.ts), checked against the layout as the
 * format's documentation states it, computed independently here: int8 codes are the words' bytes in element order,
 * 4-bit codes two per byte with the even element in the low nibble, f16 the halves in element order; codes are
 * round(w / scale) with scale = max|w| / QMAX per row or group; rows padded with zeros to whole words and groups.
 * The GPU side reads the same bits: test/kernels/matmul-packed.test.ts.
 */
import { describe, expect, test } from 'vitest';
import { f16BitsToF32, f32ToF16Bits } from '../../src/runtime/dtype.js';
import { packedBytes, packedLayout, packedWords, packMatrix, packRows, scaleCount, unpackMatrix } from '../../src/runtime/weight-format.js';
import { makeRng, randn, testSeed } from '../helpers/random.js';

const rng = makeRng(testSeed('weight-format'));

/** round half away from zero, as the format defines codes. */
const round = (x: number) => Math.sign(x) * Math.floor(Math.abs(x) + 0.5) + 0;

describe('packed weight layout', () => {
  test('layouts: rows padded to whole words and groups; word and scale counts', () => {
    expect(packedLayout('int8', 3, 200)).toEqual({ format: 'int8', rows: 3, cols: 200, ld: 200, group: 0 });
    expect(packedLayout('int8', 3, 201).ld).toBe(204);
    expect(packedLayout('q4', 3, 200, 32).ld).toBe(224);
    expect(packedLayout('q4', 3, 200, 64).ld).toBe(256);
    expect(packedLayout('q4', 2, 4304, 32).ld).toBe(4320);
    expect(packedLayout('f16', 3, 7).ld).toBe(8);
    const l = packedLayout('q4', 3, 200, 32);
    expect(packedWords(l)).toBe((3 * 224) / 8);
    expect(scaleCount(l)).toBe(3 * 7);
    expect(scaleCount(packedLayout('int8', 5, 64))).toBe(5);
    expect(scaleCount(packedLayout('f16', 5, 64))).toBe(0);
    expect(packedBytes(packedLayout('int8', 1024, 1024))).toBe(1024 * 1024 + 4 * 1024);
    expect(() => packedLayout('q4', 2, 64, 0)).toThrow(/4-bit weights need a group size/);
    expect(() => packedLayout('int8', 2, 64, 48)).toThrow(/group size 48 is not one of 0, 32, 64, 128/);
    expect(() => packedLayout('f16', 2, 64, 32)).toThrow(/f16 weights have no scales/);
    expect(() => packedLayout('int8', 0, 64)).toThrow(/rows must be a positive integer/);
    expect(() => packedLayout('int4' as never, 2, 64)).toThrow(/not f16, int8 or q4/);
  });

  test('int8, one scale per row: bytes are the codes round(w / (max|w| / 127)) in element order', () => {
    const rows = 5;
    const cols = 37;
    const w = randn(rng, rows * cols, 0.05);
    w[cols + 3] = 0; // a zero row start
    for (let c = 0; c < cols; c++) w[4 * cols + c] = 0; // a row of zeros: scale 0
    const l = packedLayout('int8', rows, cols);
    const { words, scales } = packMatrix(l, w);
    const bytes = new Int8Array(words.buffer);
    for (let r = 0; r < rows; r++) {
      let m = 0;
      for (let c = 0; c < cols; c++) m = Math.max(m, Math.abs(w[r * cols + c]!));
      expect(scales![r]).toBe(Math.fround(m / 127));
      for (let c = 0; c < l.ld; c++) {
        const want = c < cols && m > 0 ? round(w[r * cols + c]! / scales![r]!) : 0;
        expect(bytes[r * l.ld + c], `row ${r} col ${c}`).toBe(want);
      }
    }
    // Dequantized: within half a step of the weight, and the largest weight of each row exact (±127 · scale).
    const deq = unpackMatrix(l, words, scales);
    for (let i = 0; i < w.length; i++) expect(Math.abs(deq[i]! - w[i]!)).toBeLessThanOrEqual(scales![Math.floor(i / cols)]! * 0.5 + 1e-12);
  });

  test('q4, groups of 32: two codes per byte (even element low), scale per group, padding zero', () => {
    const rows = 3;
    const cols = 70;
    const w = randn(rng, rows * cols, 0.05);
    const l = packedLayout('q4', rows, cols, 32);
    expect(l.ld).toBe(96);
    const { words, scales } = packMatrix(l, w);
    const bytes = new Uint8Array(words.buffer);
    const nibble = (i: number) => {
      const v = (bytes[i >> 1]! >> (4 * (i & 1))) & 15;
      return v >= 8 ? v - 16 : v;
    };
    for (let r = 0; r < rows; r++) {
      for (let gi = 0; gi < 3; gi++) {
        let m = 0;
        for (let c = gi * 32; c < Math.min(cols, gi * 32 + 32); c++) m = Math.max(m, Math.abs(w[r * cols + c]!));
        const s = scales![r * 3 + gi]!;
        // The scale is searched (clipping the range, refit by least squares): at most max/7 · 1.x, at least
        // max/7 · 0.75 · (a refit can shrink it), and its squared error no worse than max-abs's.
        expect(s).toBeGreaterThan((0.7 * m) / 7);
        expect(s).toBeLessThan((1.35 * m) / 7);
        let err = 0, errMax = 0;
        for (let c = gi * 32; c < gi * 32 + 32; c++) {
          const want = c < cols ? Math.max(-7, Math.min(7, round(w[r * cols + c]! / s))) : 0;
          expect(nibble(r * l.ld + c), `row ${r} col ${c}`).toBe(want);
          expect(Math.abs(want)).toBeLessThanOrEqual(7);
          if (c < cols) {
            const v = w[r * cols + c]!;
            err += (v - want * s) ** 2;
            errMax += (v - round(v / Math.fround(m / 7)) * Math.fround(m / 7)) ** 2;
          }
        }
        expect(err).toBeLessThanOrEqual(errMax * (1 + 1e-6));
      }
    }
  });

  test('f16: the halves of the values in element order, rows padded to whole words', () => {
    const w = Float32Array.from([1, -2.5, 65504, 1e-7, 0.1, 3]);
    const l = packedLayout('f16', 2, 3);
    const { words, scales } = packMatrix(l, w);
    expect(scales).toBeNull();
    expect(Array.from(new Uint16Array(words.buffer))).toEqual([...Array.from(w.subarray(0, 3), f32ToF16Bits), 0, ...Array.from(w.subarray(3), f32ToF16Bits), 0]);
    expect(Array.from(unpackMatrix(l, words, null))).toEqual(Array.from(w, (v) => f16BitsToF32(f32ToF16Bits(v))));
    expect(() => packMatrix(l, Float32Array.from([1, 2, 70000, 0, 0, 0]))).toThrow(/row 0, element 2 is 70000, outside what f16 holds/);
  });

  test('rows pack independently: a matrix packed in pieces of rows equals the whole (streamed loading)', () => {
    const rows = 9;
    const cols = 100;
    const w = randn(rng, rows * cols);
    for (const [format, group] of [['int8', 0], ['int8', 32], ['q4', 64], ['f16', 0]] as const) {
      const l = packedLayout(format, rows, cols, group);
      const whole = packMatrix(l, w);
      const words = new Uint32Array(packedWords(l));
      const scales = whole.scales ? new Float32Array(whole.scales.length) : null;
      const wpr = words.length / rows;
      const spr = scales ? scales.length / rows : 0;
      for (const [r0, r1] of [[0, 4], [4, 5], [5, 9]]) {
        packRows(l, w.subarray(r0 * cols, r1 * cols), words.subarray(r0 * wpr, r1 * wpr), scales && scales.subarray(r0 * spr, r1 * spr));
      }
      expect(words).toEqual(whole.words);
      expect(scales).toEqual(whole.scales);
    }
  });

  test('non-finite weights are refused, naming where', () => {
    const w = new Float32Array(2 * 64);
    w[64 + 40] = Infinity;
    expect(() => packMatrix(packedLayout('q4', 2, 64, 32), w, 'fc1.weight')).toThrow(/fc1\.weight: row 1, group 1: element 8 of the block is Infinity/);
  });
});
