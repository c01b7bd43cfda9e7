/** Ceiling probes for the roofline (shaders/ceilings.wgsl): peak FMA rate and copy bandwidth of an adapter. */
import text from '../../shaders/ceilings.wgsl';
import { foldWorkgroups, shader, uniformSchema, type UniformSchema, type KernelCall, type KernelContext, type KernelDef, type Tensor } from '../runtime/kernel.js';

export const CEILINGS_UNIFORMS = uniformSchema([['n', 'u32'], ['seed', 'f32']]);
const SOURCE = [shader('shaders/ceilings.wgsl', text)];
const FMA: KernelDef = { name: 'ceiling_fma', source: SOURCE, inputs: 1, outputs: 1, entryPoint: 'main_fma', uniforms: CEILINGS_UNIFORMS };
const COPY: KernelDef = { name: 'ceiling_copy', source: SOURCE, inputs: 1, outputs: 1, entryPoint: 'main_copy', uniforms: CEILINGS_UNIFORMS };
const WG = 256;

/** `invocations` threads × `iters` × 8 chains × vec4 FMAs. `dst` needs `invocations` vec4s. */
export function fmaCall(ctx: KernelContext, src: Tensor, dst: Tensor, invocations: number, iters: number, unroll = 1): KernelCall {
  const lanes = 4;
  return {
    kernel: FMA,
    spec: { dtype: dst.dtype as 'f32' | 'f16', defines: { ITERS: iters, UNROLL: unroll }, overrides: { WG } },
    tensors: [src, dst],
    uniforms: CEILINGS_UNIFORMS.pack({ n: invocations, seed: 0.5 }),
    workgroups: foldWorkgroups(Math.ceil(invocations / WG), ctx.limits.maxComputeWorkgroupsPerDimension),
    flops: invocations * iters * unroll * 8 * lanes * 2,
    bytes: 0,
  };
}

/** Copies `src` to `dst` as vec4s (size a multiple of 4 elements). */
export function copyCall(ctx: KernelContext, src: Tensor, dst: Tensor): KernelCall {
  const n = src.size / 4;
  if (!Number.isInteger(n) || dst.size !== src.size) throw new Error('copy probe: sizes must match and be multiples of 4');
  const esize = src.dtype === 'f16' ? 2 : 4;
  return {
    kernel: COPY,
    spec: { dtype: src.dtype as 'f32' | 'f16', defines: { ITERS: 1, UNROLL: 1 }, overrides: { WG } },
    tensors: [src, dst],
    uniforms: CEILINGS_UNIFORMS.pack({ n, seed: 0 }),
    workgroups: foldWorkgroups(Math.ceil(n / WG), ctx.limits.maxComputeWorkgroupsPerDimension),
    flops: 0,
    bytes: 2 * src.size * esize,
  };
}
