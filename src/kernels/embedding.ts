/**
 * Token + position embedding (shaders/embedding.wgsl), over a table that may be split into pages of rows (a
 * vocabulary too big for one storage binding): one call per page, each completing the previous page's output.
 * Ids are checked here: a shader would clamp them silently.
 */
import text from '../../shaders/embedding.wgsl';
import { foldWorkgroups, formatShape, shader, uniformSchema, type UniformSchema, type KernelCall, type KernelContext, type KernelDef, type Tensor } from '../runtime/kernel.js';

/** Elements, tokens per sequence, width; the page's first id and its row count. */
export const EMBEDDING_UNIFORMS = uniformSchema([['n', 'u32'], ['L', 'u32'], ['D', 'u32'], ['first', 'u32'], ['rows', 'u32']]);
export const EMBEDDING: KernelDef = { name: 'embedding', source: [shader('shaders/embedding.wgsl', text)], inputs: 4, outputs: 1, uniforms: EMBEDDING_UNIFORMS };
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

/** Rows of a vocabulary × `D` table per page, so that a page of `bytesPerElement` elements fits `maxBytes`. */
export function embeddingPageRows(vocab: number, D: number, bytesPerElement: number, maxBytes: number): number {
  const rows = Math.floor(maxBytes / (D * bytesPerElement));
  if (rows < 1) throw new Error(`one embedding row of ${D} × ${bytesPerElement} bytes is over ${maxBytes} bytes`);
  return Math.min(vocab, rows);
}

/**
 * ids [B, L] i32, the page `table` [rows, D] holding ids first .. first + rows − 1, pos [P ≥ L, D] → out [B, L, D]:
 * rows of ids in the page are looked up; the others are copied from `prev` (an earlier page's output), or zero.
 */
export function embeddingCall(ctx: KernelContext, ids: Tensor, table: Tensor, pos: Tensor, out: Tensor, page: { first?: number; prev?: Tensor | null } = {}): KernelCall {
  const first = page.first ?? 0;
  const prev = page.prev ?? null;
  const name = `embedding(ids ${formatShape(ids.shape)}, table ${formatShape(table.shape)}${first ? ` from id ${first}` : ''}, positions ${formatShape(pos.shape)})`;
  if (ids.dtype !== 'i32') throw new Error(`${name}: ids must be i32, got ${ids.dtype}`);
  if (table.shape.length !== 2 || pos.shape.length !== 2) throw new Error(`${name}: table and positions must be 2-D [rows, D]`);
  const [V, D] = table.shape as [number, number];
  const L = ids.shape[ids.shape.length - 1]!;
  if (!(Number.isInteger(first) && first >= 0 && first + V <= 2 ** 31)) throw new Error(`${name}: first id ${first} out of range`);
  if (pos.shape[1] !== D) throw new Error(`${name}: position width ${pos.shape[1]} differs from table width ${D}`);
  if (pos.shape[0]! < L) throw new Error(`${name}: ${L} tokens but only ${pos.shape[0]} positions`);
  if (pos.dtype !== table.dtype || out.dtype !== table.dtype) throw new Error(`${name}: table, positions and out must share a dtype`);
  if (out.size !== ids.size * D) throw new Error(`${name}: out ${formatShape(out.shape)} needs ${ids.size * D} elements`);
  if (prev && (prev.size !== out.size || prev.dtype !== out.dtype)) throw new Error(`${name}: prev ${formatShape(prev.shape)} must match out ${formatShape(out.shape)}`);
  return {
    kernel: EMBEDDING,
    spec: { dtype: table.dtype as 'f32' | 'f16', defines: { PREV: !!prev }, overrides: { WG } },
    tensors: [ids, table, pos, prev, out],
    uniforms: EMBEDDING_UNIFORMS.pack({ n: out.size, L, D, first, rows: V }),
    workgroups: foldWorkgroups(Math.ceil(out.size / WG), ctx.limits.maxComputeWorkgroupsPerDimension),
    flops: out.size,
    bytes: 4 * ids.size + (table.dtype === 'f16' ? 2 : 4) * (prev ? 4 : 3) * out.size,
  };
}

export function embeddingRef(ids: ArrayLike<number>, table: ArrayLike<number>, pos: ArrayLike<number>, L: number, D: number): Float64Array {
  const out = new Float64Array(ids.length * D);
  for (let t = 0; t < ids.length; t++) {
    for (let d = 0; d < D; d++) out[t * D + d] = table[ids[t]! * D + d]! + pos[(t % L) * D + d]!;
  }
  return out;
}
