/** .npy shards: the header numpy writes, float16 rounding as numpy does it, and numpy itself loading our files. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { decodeRows, encodeRows, f16ToF32, f32ToF16, npyHeader, parseNpyHeader } from '../../src/apps/npy.js';

const tmp = mkdtempSync(join(tmpdir(), 'npy-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('npy', () => {
  test('header: v1.0, 64-byte aligned data, parsed back; foreign headers refused with the reason', () => {
    const h = npyHeader('f32', 7, 1152);
    expect(h.length % 64).toBe(0);
    expect(new TextDecoder('latin1').decode(h.subarray(10))).toMatch(/^\{'descr': '<f4', 'fortran_order': False, 'shape': \(7, 1152\), \} *\n$/);
    expect(parseNpyHeader(h, 'x')).toEqual({ dtype: 'f32', rows: 7, dim: 1152, offset: 128 });
    expect(parseNpyHeader(npyHeader('f16', 0, 3), 'x')).toMatchObject({ dtype: 'f16', rows: 0 });
    const foreign = (dict: string) => {
      const text = dict.padEnd(117, ' ') + '\n';
      const b = new Uint8Array(128);
      b.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
      new DataView(b.buffer).setUint16(8, 118, true);
      for (let i = 0; i < text.length; i++) b[10 + i] = text.charCodeAt(i);
      return b;
    };
    expect(() => parseNpyHeader(foreign("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }"), 'a.npy')).toThrow(/a\.npy.*dtype "<f8"/);
    expect(() => parseNpyHeader(foreign("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }"), 'a.npy')).toThrow(/Fortran/);
    expect(() => parseNpyHeader(foreign("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 4), }"), 'a.npy')).toThrow(/2-D/);
    expect(() => parseNpyHeader(new Uint8Array([1, 2, 3]), 'a.npy')).toThrow(/magic/);
  });

  test('float16: round to nearest even, subnormals, overflow, and back', () => {
    expect(f32ToF16(1)).toBe(0x3c00);
    expect(f32ToF16(-2)).toBe(0xc000);
    expect(f32ToF16(65520)).toBe(0x7c00); // rounds up past the largest half: inf, as numpy
    expect(f32ToF16(2 ** -24)).toBe(1);
    expect(f32ToF16(1 + 2 ** -11)).toBe(0x3c00); // tie → even
    expect(f32ToF16(1 + 3 * 2 ** -11)).toBe(0x3c02);
    for (const v of [0.1, -0.3333, 1e-5, 0.7071]) expect(Math.abs(f16ToF32(f32ToF16(v)) - v)).toBeLessThanOrEqual(Math.abs(v) * 2 ** -11 + 2 ** -25); // half an ulp (normal or subnormal)
    const rows = new Float32Array([0.5, -0.25, 0.125, 1]);
    expect(Array.from(decodeRows(encodeRows(rows, 'f16'), 'f16'))).toEqual(Array.from(rows));
    expect(Array.from(decodeRows(encodeRows(rows, 'f32'), 'f32'))).toEqual(Array.from(rows));
  });

  test('numpy loads our float32 and float16 shards as they are, with the same values', () => {
    const data = Float32Array.from({ length: 5 * 3 }, (_, i) => Math.sin(i + 1) / 3);
    for (const dtype of ['f32', 'f16'] as const) {
      const file = join(tmp, `s-${dtype}.npy`);
      const body = encodeRows(data, dtype);
      const buf = new Uint8Array(128 + body.length);
      buf.set(npyHeader(dtype, 5, 3));
      buf.set(body, 128);
      writeFileSync(file, buf);
      const out = execFileSync('python3', ['-c', `import numpy as np, json, sys; a = np.load(sys.argv[1]); print(json.dumps([str(a.dtype), list(a.shape), a.astype('float64').ravel().tolist(), a.flags['C_CONTIGUOUS']]))`, file], { encoding: 'utf8' });
      const [dt, shape, values, contiguous] = JSON.parse(out) as [string, number[], number[], boolean];
      expect(dt).toBe(dtype === 'f32' ? 'float32' : 'float16');
      expect(shape).toEqual([5, 3]);
      expect(contiguous).toBe(true);
      expect(values).toEqual(Array.from(decodeRows(body, dtype)));
    }
  });
});
