/** Token + position embedding (shaders/embedding.wgsl). Ids are checked here: a shader would clamp them silently. */
import text from '../../shaders/embedding.wgsl';
import { foldWorkgroups, formatShape, shader, uniformSchema, type UniformSchema, type KernelCall, type KernelContext, type KernelDef, type Tensor } from '../runtime/kernel.js';

export const EMBEDDING_UNIFORMS = uniformSchema([['n', 'u32'], ['L', 'u32'], ['D', 'u32'], ['vocab', 'u32']]);
export const EMBEDDING: KernelDef = { name: 'embedding', source: [shader('shaders/embedding.wgsl', text)], inputs: 3, outputs: 1, uniforms: EMBEDDING_UNIFORMS };
const WG = 256;

/** Throws naming the first id outside [0, vocab). */
export function checkTokenIds(ids: ArrayLike<number>, vocab: number, what = 'input_ids'): void {
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (!Number.isInteger(id) || id < 0 || id >= vocab) {
      throw new Error(`${what}[${i}] = ${id} is outside the vocabulary (0..${vocab - 1})`);
    }
  }
}

/** ids [B, L] i32, table [V, D], pos [P ≥ L, D] → out [B, L, D]. */
export function embeddingCall(ctx: KernelContext, ids: Tensor, table: Tensor, pos: Tensor, out: Tensor): KernelCall {
  const name = `embedding(ids ${formatShape(ids.shape)}, table ${formatShape(table.shape)}, positions ${formatShape(pos.shape)})`;
  if (ids.dtype !== 'i32') throw new Error(`${name}: ids must be i32, got ${ids.dtype}`);
  if (table.shape.length !== 2 || pos.shape.length !== 2) throw new Error(`${name}: table and positions must be 2-D [rows, D]`);
  const [V, D] = table.shape as [number, number];
  const L = ids.shape[ids.shape.length - 1]!;
  if (pos.shape[1] !== D) throw new Error(`${name}: position width ${pos.shape[1]} differs from table width ${D}`);
  if (pos.shape[0]! < L) throw new Error(`${name}: ${L} tokens but only ${pos.shape[0]} positions`);
  if (pos.dtype !== table.dtype || out.dtype !== table.dtype) throw new Error(`${name}: table, positions and out must share a dtype`);
  if (out.size !== ids.size * D) throw new Error(`${name}: out ${formatShape(out.shape)} needs ${ids.size * D} elements`);
  return {
    kernel: EMBEDDING,
    spec: { dtype: table.dtype as 'f32' | 'f16', overrides: { WG } },
    tensors: [ids, table, pos, out],
    uniforms: EMBEDDING_UNIFORMS.pack({ n: out.size, L, D, vocab: V }),
    workgroups: foldWorkgroups(Math.ceil(out.size / WG), ctx.limits.maxComputeWorkgroupsPerDimension),
    flops: out.size,
    bytes: 4 * ids.size + (table.dtype === 'f16' ? 2 : 4) * 3 * out.size,
  };
}

export function embeddingRef(ids: ArrayLike<number>, table: ArrayLike<number>, pos: ArrayLike<number>, L: number, D: number): Float64Array {
  const out = new Float64Array(ids.length * D);
  for (let t = 0; t < ids.length; t++) {
    for (let d = 0; d < D; d++) out[t * D + d] = table[ids[t]! * D + d]! + pos[(t % L) * D + d]!;
  }
  return out;
}
