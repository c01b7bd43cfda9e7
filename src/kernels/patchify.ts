/** Patch extraction (im2col) for the ViT patch embedding (shaders/patchify.wgsl). */
import text from '../../shaders/patchify.wgsl';
import { foldWorkgroups, formatShape, shader, uniformSchema, type UniformSchema, type KernelCall, type KernelContext, type KernelDef, type Tensor } from '../runtime/kernel.js';

export const PATCHIFY_UNIFORMS = uniformSchema([['n', 'u32'], ['C', 'u32'], ['H', 'u32'], ['W', 'u32'], ['P', 'u32'], ['gw', 'u32'], ['L', 'u32'], ['F', 'u32']]);
export const PATCHIFY: KernelDef = { name: 'patchify', source: [shader('shaders/patchify.wgsl', text)], inputs: 1, outputs: 1, uniforms: PATCHIFY_UNIFORMS };
const WG = 256;

export function patchifyShape(pixelShape: readonly number[], patch: number): number[] {
  const what = `patchify(pixels ${formatShape(pixelShape)}, patch ${patch})`;
  if (pixelShape.length !== 4) throw new Error(`${what}: pixels must be [B, C, H, W]`);
  const [B, C, H, W] = pixelShape as [number, number, number, number];
  if (!(Number.isInteger(patch) && patch >= 1) || H < patch || W < patch) throw new Error(`${what}: the patch size must be a positive integer no larger than H and W`);
  // As Conv2d with stride = kernel: pixels past the last whole patch are dropped.
  return [B, Math.floor(H / patch) * Math.floor(W / patch), C * patch * patch];
}

export function patchifyCall(ctx: KernelContext, x: Tensor, out: Tensor, patch: number): KernelCall {
  const shape = patchifyShape(x.shape, patch);
  const [, C, H, W] = x.shape as [number, number, number, number];
  if (out.size !== shape[0]! * shape[1]! * shape[2]! || out.dtype !== x.dtype) throw new Error(`patchify: out ${formatShape(out.shape)} must be ${formatShape(shape)} ${x.dtype}`);
  return {
    kernel: PATCHIFY,
    spec: { dtype: x.dtype as 'f32' | 'f16', overrides: { WG } },
    tensors: [x, out],
    uniforms: PATCHIFY_UNIFORMS.pack({ n: out.size, C, H, W, P: patch, gw: Math.floor(W / patch), L: shape[1]!, F: shape[2]! }),
    workgroups: foldWorkgroups(Math.ceil(out.size / WG), ctx.limits.maxComputeWorkgroupsPerDimension),
    flops: 0,
    bytes: (x.dtype === 'f16' ? 2 : 4) * 2 * x.size,
  };
}

export function patchifyRef(x: ArrayLike<number>, shape: readonly number[], patch: number): Float64Array {
  const [B, C, H, W] = shape as [number, number, number, number];
  const gw = Math.floor(W / patch);
  const L = Math.floor(H / patch) * gw;
  const F = C * patch * patch;
  const out = new Float64Array(B * L * F);
  for (let b = 0; b < B; b++)
    for (let l = 0; l < L; l++)
      for (let c = 0; c < C; c++)
        for (let ky = 0; ky < patch; ky++)
          for (let kx = 0; kx < patch; kx++) {
            const y = Math.floor(l / gw) * patch + ky;
            const xx = (l % gw) * patch + kx;
            out[(b * L + l) * F + c * patch * patch + ky * patch + kx] = x[((b * C + c) * H + y) * W + xx]!;
          }
  return out;
}
