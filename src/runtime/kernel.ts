/**
 * What a kernel is to the runtime: WGSL source plus its bindings (kernel metadata as data, so the pipeline cache key
 * is explicit), and what one launch of it needs (a `KernelCall`). Kernel modules in src/kernels build calls; the
 * eager ops and the graph executor encode them. Bindings are ordered: inputs (read-only storage), outputs
 * (read-write storage), then one uniform buffer holding the shapes.
 */
import type { ShaderSpec } from './wgsl-preprocess.js';
import type { Tensor } from './tensor.js';

export interface KernelDef {
  /** Names the kernel in messages and profiles. */
  name: string;
  /** WGSL text (see wgsl-preprocess.ts for the #if / header rules). */
  source: string;
  inputs: number;
  outputs: number;
  entryPoint?: string;
}

export interface Specialization extends ShaderSpec {
  /** `override` constants, e.g. workgroup sizes. */
  overrides?: Record<string, number>;
}

/** One dispatch: which pipeline, which tensors, which uniforms, how many workgroups. */
export interface KernelCall {
  kernel: KernelDef;
  spec: Specialization;
  /** Inputs then outputs, in binding order. */
  tensors: Tensor[];
  /** Shape parameters, packed as the shader's `Params` struct (u32/f32 words). */
  uniforms: ArrayBuffer;
  workgroups: [number, number, number];
  /** Useful work, for profiles and benchmarks: 2 per multiply-add. */
  flops: number;
  /** Bytes that must move at least once (inputs read + outputs written). */
  bytes: number;
}

export function pipelineKey(kernel: KernelDef, spec: Specialization): string {
  const sorted = (o?: Record<string, unknown>) => (o ? Object.keys(o).sort().map((k) => `${k}=${String(o[k])}`).join(',') : '');
  return `${kernel.name}|${spec.dtype ?? 'f32'}|${(spec.enables ?? []).join('+')}|${(spec.diagnosticsOff ?? []).join('+')}|${sorted(spec.aliases)}|${sorted(spec.defines)}|${sorted(spec.overrides)}`;
}

/** Packs uniforms: each entry is ['u32' | 'i32' | 'f32', value], one 4-byte word each, in struct order. */
export function packUniforms(words: ReadonlyArray<readonly ['u32' | 'i32' | 'f32', number]>): ArrayBuffer {
  // Uniform structs are padded to 16 bytes; keep at least that.
  const n = Math.max(4, Math.ceil(words.length / 4) * 4);
  const buf = new ArrayBuffer(n * 4);
  const dv = new DataView(buf);
  words.forEach(([t, v], i) => {
    if (t === 'f32') dv.setFloat32(i * 4, v, true);
    else if (t === 'i32') dv.setInt32(i * 4, v, true);
    else {
      if (!(v >= 0 && v <= 0xffffffff && Number.isInteger(v))) throw new Error(`uniform word ${i}: ${v} is not a u32`);
      dv.setUint32(i * 4, v, true);
    }
  });
  return buf;
}

/**
 * Splits a 1-D workgroup count over x and y when it exceeds maxComputeWorkgroupsPerDimension (65535 by default);
 * shaders rebuild the linear index as wid.x + wid.y * nwg.x and return early past the end.
 */
export function foldWorkgroups(count: number, maxPerDim: number): [number, number, number] {
  if (count <= maxPerDim) return [Math.max(1, count), 1, 1];
  const y = Math.ceil(count / maxPerDim);
  if (y > maxPerDim) throw new Error(`dispatch of ${count} workgroups exceeds ${maxPerDim}² (maxComputeWorkgroupsPerDimension)`);
  return [Math.ceil(count / y), y, 1];
}
