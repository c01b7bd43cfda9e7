/**
 * What kernels may see of the runtime — the only runtime module src/kernels imports (the dependency check in
 * test/architecture.test.ts holds them to it):
 *  - `KernelContext`: what a kernel may know about the adapter (limits, features, subgroup sizes and matrix
 *    shapes, its name for messages). Never the engine that owns the device: a kernel cannot allocate, submit or
 *    read a tuning table; what to run (the tuned or default variant) is chosen above the kernels and passed in.
 *  - `KernelDef` / `KernelCall`: kernel metadata as data (WGSL files, bindings, the uniform schema), and one launch
 *    (pipeline key, tensors, packed uniforms, workgroups, FLOPs, bytes). Bindings are ordered: inputs (read-only
 *    storage), outputs (read-write storage), then one uniform buffer.
 *  - the helpers every kernel module uses: shapes, workgroup folding, uniform schemas.
 */
import type { SubgroupMatrixConfig } from './device.js';
import type { Tensor } from './tensor.js';
import type { UniformSchema } from './uniforms.js';
import type { ShaderPart, ShaderSpec } from './wgsl-preprocess.js';

export type { DType } from './dtype.js';
export type { SubgroupMatrixConfig } from './device.js';
export type { Tensor } from './tensor.js';
export { formatShape, shapeSize } from './tensor.js';
export { uniformSchema, type UniformSchema } from './uniforms.js';
export type { ShaderPart } from './wgsl-preprocess.js';
export { elementsPerWord, type PackedFormat } from './weight-format.js';

/** The adapter limits kernels size their workgroups, shared memory and dispatches by. */
export type KernelLimits = Readonly<
  Pick<
    GPUSupportedLimits,
    | 'maxComputeInvocationsPerWorkgroup'
    | 'maxComputeWorkgroupSizeX'
    | 'maxComputeWorkgroupSizeY'
    | 'maxComputeWorkgroupStorageSize'
    | 'maxComputeWorkgroupsPerDimension'
  >
>;

/** What a kernel may know about the adapter it will run on. A plain object: tests make their own. */
export interface KernelContext {
  /** Names the adapter in messages. */
  readonly adapterName: string;
  readonly limits: KernelLimits;
  readonly features: ReadonlySet<string>;
  /** The subgroup size when the adapter fixes it (min = max, e.g. lavapipe's 8), else 0. */
  readonly subgroupSize: number;
  /** The largest subgroup size the adapter may use (0 when it does not say). */
  readonly subgroupMaxSize: number;
  /** Subgroup-matrix shapes the adapter offers (empty without `chromium-experimental-subgroup-matrix`). */
  readonly subgroupMatrixConfigs: readonly SubgroupMatrixConfig[];
}

export interface KernelDef {
  /** Names the kernel in messages and profiles. */
  name: string;
  /** WGSL files, joined in this order (see wgsl-preprocess.ts for the #if / header rules). */
  source: readonly ShaderPart[];
  inputs: number;
  outputs: number;
  entryPoint?: string;
  /** The uniform struct (`Params`), generated into the shader and used to pack every call's uniforms. */
  uniforms: UniformSchema;
}

export interface Specialization extends ShaderSpec {
  /** `override` constants, e.g. workgroup sizes. */
  overrides?: Record<string, number>;
}

/** One dispatch: which pipeline, which tensors, which uniforms, how many workgroups. */
export interface KernelCall {
  kernel: KernelDef;
  spec: Specialization;
  /** Inputs then outputs, in binding order; null for an optional input the kernel does not read (bias, residual). */
  tensors: (Tensor | null)[];
  /** Packed by `kernel.uniforms`. */
  uniforms: ArrayBuffer;
  workgroups: [number, number, number];
  /** Useful work, for profiles and benchmarks: 2 per multiply-add. */
  flops: number;
  /** Bytes that must move at least once (inputs read + outputs written). */
  bytes: number;
  /**
   * Why this call runs a slower form than the variant it was given (a subgroup or shared-memory path the shape or
   * adapter cannot take), in words for reports: plans collect them, and the bench prints them.
   */
  notes?: readonly string[];
}

/** A shader file as a kernel names it: `shader('shaders/matmul.wgsl', text)`. */
export function shader(file: string, text: string): ShaderPart {
  return { file, text };
}

export function pipelineKey(kernel: KernelDef, spec: Specialization): string {
  const sorted = (o?: Record<string, unknown>) => (o ? Object.keys(o).sort().map((k) => `${k}=${String(o[k])}`).join(',') : '');
  return `${kernel.name}|${spec.dtype ?? 'f32'}|${(spec.enables ?? []).join('+')}|${(spec.diagnosticsOff ?? []).join('+')}|${sorted(spec.aliases)}|${sorted(spec.defines)}|${sorted(spec.overrides)}`;
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

/** Throws when a dispatch exceeds the adapter's per-dimension limit, naming the kernel. */
export function checkDispatch(ctx: KernelContext, what: string, workgroups: readonly number[]): void {
  const maxDim = ctx.limits.maxComputeWorkgroupsPerDimension;
  if (workgroups.some((w) => w > maxDim)) throw new Error(`${what}: dispatch ${workgroups.join('×')} exceeds maxComputeWorkgroupsPerDimension ${maxDim} (${ctx.adapterName})`);
}
