/**
 * A kernel's uniforms, said once: a schema of named 4-byte scalars from which both the WGSL `struct` the shader
 * reads and the byte packer are generated, so the two cannot drift (one reordered field used to shift every value
 * after it silently). The struct is put in front of the shader by the preprocessor (wgsl-preprocess.ts); shaders
 * only declare the binding (`var<uniform> p: Params;`).
 *
 *   const U = uniformSchema([['M', 'u32'], ['N', 'u32'], ['scale', 'f32']]);
 *   U.wgsl()                       // "struct Params { M: u32, N: u32, scale: f32, _pad0: u32 }"
 *   U.pack({ M: 4, N: 8, scale: 0.5 })
 *
 * Scalars only (u32, i32, f32): every field is 4 bytes at offset 4·i, so the layout needs no alignment rules; the
 * struct is padded to a multiple of 16 bytes, as uniform buffers are bound.
 */
export type UniformType = 'u32' | 'i32' | 'f32';

export type UniformField = readonly [name: string, type: UniformType];

export interface UniformSchema<N extends string = string> {
  /** The WGSL struct's name (`Params` unless said otherwise). */
  readonly name: string;
  readonly fields: readonly UniformField[];
  /** Bytes of the packed struct (a multiple of 16). */
  readonly byteLength: number;
  /** The WGSL declaration, on one line. */
  wgsl(): string;
  /** The bytes for these values; every field must be given, and nothing else. */
  pack(values: Readonly<Record<N, number>>): ArrayBuffer;
}

const IDENT = /^[A-Za-z][A-Za-z0-9_]*$/;

export function uniformSchema<const F extends readonly UniformField[]>(fields: F, name = 'Params'): UniformSchema<F[number][0]> {
  if (!IDENT.test(name)) throw new Error(`uniform struct name "${name}" is not a WGSL identifier`);
  const seen = new Set<string>();
  for (const [f, t] of fields) {
    if (!IDENT.test(f)) throw new Error(`${name}: field "${f}" is not a WGSL identifier (and names starting with _ are the padding's)`);
    if (seen.has(f)) throw new Error(`${name}: field "${f}" appears twice`);
    if (t !== 'u32' && t !== 'i32' && t !== 'f32') throw new Error(`${name}.${f}: type ${String(t)} is not u32, i32 or f32`);
    seen.add(f);
  }
  const words = Math.max(4, Math.ceil(fields.length / 4) * 4);
  const pads = Array.from({ length: words - fields.length }, (_, i) => `_pad${i}: u32`);
  const decl = `struct ${name} { ${[...fields.map(([f, t]) => `${f}: ${t}`), ...pads].join(', ')} }`;
  return {
    name,
    fields,
    byteLength: words * 4,
    wgsl: () => decl,
    pack(values) {
      const given = values as Readonly<Record<string, number>>;
      for (const k of Object.keys(given)) if (!seen.has(k)) throw new Error(`${name}: no field "${k}" (fields: ${[...seen].join(', ')})`);
      const buf = new ArrayBuffer(words * 4);
      const dv = new DataView(buf);
      fields.forEach(([f, t], i) => {
        const v = given[f];
        if (typeof v !== 'number') throw new Error(`${name}.${f} is missing`);
        if (t === 'f32') {
          if (Number.isNaN(v)) throw new Error(`${name}.${f} is NaN`);
          dv.setFloat32(i * 4, v, true);
        } else if (t === 'i32') {
          if (!(Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31)) throw new Error(`${name}.${f} = ${v} is not an i32`);
          dv.setInt32(i * 4, v, true);
        } else {
          if (!(Number.isInteger(v) && v >= 0 && v <= 0xffffffff)) throw new Error(`${name}.${f} = ${v} is not a u32`);
          dv.setUint32(i * 4, v, true);
        }
      });
      return buf;
    },
  };
}
