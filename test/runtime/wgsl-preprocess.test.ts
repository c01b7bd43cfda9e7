/** The shader preprocessor on its own: header, #if blocks, errors that name file and line, the line map. */
import { describe, expect, test } from 'vitest';
import { preprocessShader, preprocessWgsl } from '../../src/runtime/wgsl-preprocess.js';

describe('WGSL preprocessor', () => {
  test('header: enables, diagnostics, aliases, defines and generated structs on one line', () => {
    const { code } = preprocessShader([{ file: 'a.wgsl', text: 'fn f() {}' }], {
      dtype: 'f16', enables: ['subgroups'], diagnosticsOff: ['derivative_uniformity'], aliases: { W: 'f32' }, defines: { TM: 4, VEC: true, EPS: 0.5 },
    }, { structs: ['struct Params { M: u32, _pad0: u32, _pad1: u32, _pad2: u32 }'] });
    const [header, body] = code.split('\n');
    expect(header).toBe('enable f16; enable subgroups; diagnostic(off, derivative_uniformity); alias T = f16; alias W = f32; const TM = 4; const VEC = true; const EPS = 5e-1; struct Params { M: u32, _pad0: u32, _pad1: u32, _pad2: u32 }');
    expect(body).toBe('fn f() {}');
  });

  test('#if / #if ! / #else / #endif, nested; dropped lines stay as empty lines', () => {
    const src = ['a', '#if X', 'b', '#if !Y', 'c', '#else', 'd', '#endif', '#else', 'e', '#endif', 'f'].join('\n');
    const lines = (x: boolean, y: boolean) => preprocessWgsl(src, { defines: { X: x, Y: y } }).split('\n').slice(1);
    expect(lines(true, false)).toEqual(['a', '', 'b', '', 'c', '', '', '', '', '', '', 'f']);
    expect(lines(true, true)).toEqual(['a', '', 'b', '', '', '', 'd', '', '', '', '', 'f']);
    expect(lines(false, true)).toEqual(['a', '', '', '', '', '', '', '', '', 'e', '', 'f']);
  });

  test('errors name the file and line', () => {
    expect(() => preprocessShader([{ file: 'shaders/x.wgsl', text: 'a\n#if NOPE\n#endif' }], { defines: { X: 1 } })).toThrow(/shaders\/x\.wgsl:2: #if NOPE is not a define \(have: X\)/);
    expect(() => preprocessWgsl('#else', {}, 'y.wgsl')).toThrow(/y\.wgsl:1: #else without #if/);
    expect(() => preprocessWgsl('#endif', {}, 'y.wgsl')).toThrow(/#endif without #if/);
    expect(() => preprocessWgsl('#if X', { defines: { X: 1 } }, 'y.wgsl')).toThrow(/#if without #endif/);
    expect(() => preprocessWgsl('#pragma once', {}, 'y.wgsl')).toThrow(/y\.wgsl:1: unknown directive #pragma once/);
  });

  test('line numbers of the joined shader map back to the file and line they came from', () => {
    const s = preprocessShader([{ file: 'shaders/activations.wgsl', text: 'a1\na2\na3' }, { file: 'shaders/matmul.wgsl', text: 'm1\n#if X\nm3\n#endif\nm5' }], { defines: { X: true } });
    const lines = s.code.split('\n');
    // Line n of the code is lines[n - 1]; line 1 is the header.
    expect(lines[4]).toBe('m1');
    expect(s.locate(1)).toBe('generated header');
    expect(s.locate(2)).toBe('shaders/activations.wgsl:1');
    expect(s.locate(4)).toBe('shaders/activations.wgsl:3');
    expect(s.locate(5)).toBe('shaders/matmul.wgsl:1');
    expect(lines[6]).toBe('m3');
    expect(s.locate(7)).toBe('shaders/matmul.wgsl:3');
  });
});
