/**
 * Uniform schemas: the WGSL struct and the packer come from one field list. On the GPU, a probe shader reads every
 * field of each kernel's struct by name and writes it out: the values must come back under the same names. A
 * packer that disagreed with its struct (one reordered field) would fail here, and does in the last test.
 */
import { describe, expect, test } from 'vitest';
import { ATTENTION_UNIFORMS } from '../../src/kernels/attention.js';
import { CEILINGS_UNIFORMS } from '../../src/kernels/ceilings.js';
import { ELEMENTWISE_UNIFORMS } from '../../src/kernels/elementwise.js';
import { EMBEDDING_UNIFORMS } from '../../src/kernels/embedding.js';
import { LAYERNORM_UNIFORMS } from '../../src/kernels/layernorm.js';
import { MATMUL_UNIFORMS } from '../../src/kernels/matmul.js';
import { PATCHIFY_UNIFORMS } from '../../src/kernels/patchify.js';
import { submitCalls } from '../../src/ops/index.js';
import { uniformSchema, type KernelCall, type KernelDef, type UniformSchema } from '../../src/runtime/kernel.js';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { testEngine } from '../helpers/engine.js';

const engine = await testEngine();

const SCHEMAS: Record<string, UniformSchema> = {
  matmul: MATMUL_UNIFORMS, attention: ATTENTION_UNIFORMS, layernorm: LAYERNORM_UNIFORMS, elementwise: ELEMENTWISE_UNIFORMS,
  embedding: EMBEDDING_UNIFORMS, patchify: PATCHIFY_UNIFORMS, ceilings: CEILINGS_UNIFORMS,
};

/** Distinct values per field: u32 1000 + i, i32 −(i + 1), f32 i + 0.25. */
function values(s: UniformSchema): Record<string, number> {
  return Object.fromEntries(s.fields.map(([f, t], i) => [f, t === 'u32' ? 1000 + i : t === 'i32' ? -(i + 1) : i + 0.25]));
}

/** Reads `p` through the struct `struct` declares and writes each field's bits, in `s`'s order, to out. */
async function roundTrip(name: string, structFrom: UniformSchema, packer: UniformSchema): Promise<Record<string, number>> {
  const body = structFrom.fields.map(([f, t], i) => `  out[${i}] = ${t === 'u32' ? `p.${f}` : `bitcast<u32>(p.${f})`};`).join('\n');
  const kernel: KernelDef = {
    name: `uniform_probe_${name}`, inputs: 0, outputs: 1, uniforms: structFrom,
    source: [{ file: 'probe.wgsl', text: `@group(0) @binding(0) var<storage, read_write> out: array<u32>;\n@group(0) @binding(1) var<uniform> p: Params;\n@compute @workgroup_size(1) fn main() {\n${body}\n}` }],
  };
  const out = engine.empty([structFrom.fields.length], 'i32');
  const call: KernelCall = { kernel, spec: {}, tensors: [out], uniforms: packer.pack(values(structFrom)), workgroups: [1, 1, 1], flops: 0, bytes: 0 };
  submitCalls(engine, [call]);
  const bits = new Uint32Array((await out.read()).buffer.slice(0));
  out.dispose();
  const f32 = new Float32Array(bits.buffer);
  const i32 = new Int32Array(bits.buffer);
  return Object.fromEntries(structFrom.fields.map(([f, t], i) => [f, t === 'u32' ? bits[i]! : t === 'i32' ? i32[i]! : f32[i]!]));
}

describe('uniform schemas', () => {
  test('the struct text: fields in order, padded to 16 bytes', () => {
    const s = uniformSchema([['M', 'u32'], ['scale', 'f32'], ['off', 'i32'], ['N', 'u32'], ['K', 'u32']]);
    expect(s.wgsl()).toBe('struct Params { M: u32, scale: f32, off: i32, N: u32, K: u32, _pad0: u32, _pad1: u32, _pad2: u32 }');
    expect(s.byteLength).toBe(32);
    const dv = new DataView(s.pack({ M: 7, scale: 0.5, off: -3, N: 9, K: 2 ** 32 - 1 }));
    expect([dv.getUint32(0, true), dv.getFloat32(4, true), dv.getInt32(8, true), dv.getUint32(12, true), dv.getUint32(16, true)]).toEqual([7, 0.5, -3, 9, 2 ** 32 - 1]);
  });

  test('the packer refuses missing, unknown and out-of-range fields, naming them', () => {
    const s = uniformSchema([['M', 'u32'], ['scale', 'f32']]);
    expect(() => s.pack({ M: 1 } as never)).toThrow(/Params\.scale is missing/);
    expect(() => s.pack({ M: 1, scale: 1, N: 2 } as never)).toThrow(/no field "N"/);
    expect(() => s.pack({ M: -1, scale: 1 })).toThrow(/Params\.M = -1 is not a u32/);
    expect(() => s.pack({ M: 1.5, scale: 1 })).toThrow(/not a u32/);
    expect(() => s.pack({ M: 1, scale: NaN })).toThrow(/scale is NaN/);
    expect(() => uniformSchema([['a', 'u32'], ['a', 'u32']])).toThrow(/appears twice/);
  });

  test('no shader declares its own Params struct: every one comes from a schema', () => {
    const dir = join(import.meta.dirname, '../../shaders');
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.wgsl'))) {
      expect(readFileSync(join(dir, f), 'utf8'), f).not.toMatch(/struct\s+Params\b/);
    }
  });

  for (const [name, schema] of Object.entries(SCHEMAS)) {
    test(`${name}: every field reaches the shader under its own name`, async () => {
      expect(await roundTrip(name, schema, schema)).toEqual(values(schema));
    });
  }

  test('a packer whose field order differs from the struct is caught', async () => {
    // What hand-written structs allowed: the packer with two fields swapped against the shader's struct.
    const fields = [...MATMUL_UNIFORMS.fields];
    [fields[1], fields[2]] = [fields[2]!, fields[1]!];
    const reordered = uniformSchema(fields);
    const got = await roundTrip('matmul_reordered', MATMUL_UNIFORMS, reordered);
    expect(got).not.toEqual(values(MATMUL_UNIFORMS));
    expect(got.N).toBe(values(MATMUL_UNIFORMS).K);
  });
});
