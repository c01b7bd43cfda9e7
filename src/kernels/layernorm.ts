/** layerNorm over the last dimension (shaders/layernorm.wgsl): one workgroup per row, f32 accumulation. */
import text from '../../shaders/layernorm.wgsl';
import { foldWorkgroups, formatShape, shader, uniformSchema, type UniformSchema, type KernelCall, type KernelContext, type KernelDef, type Tensor } from '../runtime/kernel.js';

export const LAYERNORM_UNIFORMS = uniformSchema([['rows', 'u32'], ['D', 'u32'], ['eps', 'f32']]);
export const LAYERNORM: KernelDef = { name: 'layernorm', source: [shader('shaders/layernorm.wgsl', text)], inputs: 3, outputs: 1, uniforms: LAYERNORM_UNIFORMS };

export interface LayerNormConfig {
  /** Invocations per row (a power of two). */
  wg: number;
  /** Use subgroupAdd for the reductions (needs the `subgroups` feature). */
  subgroups: boolean;
}

/** The workgroup for rows of D: no more invocations than elements, within the adapter's limits. */
export function fitLayerNormConfig(ctx: KernelContext, cfg: LayerNormConfig, D: number): LayerNormConfig {
  const maxWg = Math.min(256, ctx.limits.maxComputeInvocationsPerWorkgroup, ctx.limits.maxComputeWorkgroupSizeX);
  let wg = cfg.wg;
  while (wg > 32 && wg / 2 >= D) wg /= 2;
  return { wg: Math.min(wg, maxWg), subgroups: cfg.subgroups && ctx.features.has('subgroups') };
}

/** `config`: the tuned or default choice (src/ops/adapter-defaults.ts), fitted to D and the adapter here. */
export function layerNormCall(
  ctx: KernelContext,
  x: Tensor,
  gamma: Tensor,
  beta: Tensor,
  out: Tensor,
  eps: number,
  config: LayerNormConfig,
): KernelCall {
  const D = x.shape[x.shape.length - 1]!;
  const name = `layerNorm(x ${formatShape(x.shape)})`;
  if (gamma.size !== D || beta.size !== D) {
    throw new Error(`${name}: weight ${formatShape(gamma.shape)} and bias ${formatShape(beta.shape)} must have ${D} elements (the last dimension)`);
  }
  for (const [t, n] of [[gamma, 'weight'], [beta, 'bias'], [out, 'out']] as const) {
    if (t.dtype !== x.dtype) throw new Error(`${name}: ${n} is ${t.dtype}, x is ${x.dtype}`);
  }
  if (x.dtype === 'i32' || x.dtype === 'u32') throw new Error(`${name}: ${x.dtype} tensors are not supported`);
  if (out.size !== x.size) throw new Error(`${name}: out ${formatShape(out.shape)} must match x`);
  if (!(eps >= 0 && Number.isFinite(eps))) throw new Error(`${name}: eps must be a finite non-negative number, got ${eps}`);
  const rows = x.size / D;
  const cfg = fitLayerNormConfig(ctx, config, D);
  return {
    kernel: LAYERNORM,
    spec: {
      dtype: x.dtype,
      enables: cfg.subgroups ? ['subgroups'] : [],
      defines: { SUBGROUPS: cfg.subgroups },
      overrides: { WG: cfg.wg },
    },
    tensors: [x, gamma, beta, out],
    uniforms: LAYERNORM_UNIFORMS.pack({ rows, D, eps }),
    workgroups: foldWorkgroups(rows, ctx.limits.maxComputeWorkgroupsPerDimension),
    flops: 8 * x.size,
    bytes: (x.dtype === 'f16' ? 2 : 4) * (2 * x.size + 2 * D),
  };
}

export function layerNormRef(x: ArrayLike<number>, gamma: ArrayLike<number>, beta: ArrayLike<number>, D: number, eps: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let r = 0; r < x.length / D; r++) {
    let mean = 0;
    for (let i = 0; i < D; i++) mean += x[r * D + i]!;
    mean /= D;
    let v = 0;
    for (let i = 0; i < D; i++) v += (x[r * D + i]! - mean) ** 2;
    const inv = 1 / Math.sqrt(v / D + eps);
    for (let i = 0; i < D; i++) out[r * D + i] = (x[r * D + i]! - mean) * inv * gamma[i]! + beta[i]!;
  }
  return out;
}
