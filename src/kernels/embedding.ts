/**
 * Token + position embedding (shaders/embedding.wgsl), over a table that may be split into pages of rows (a
 * vocabulary too big for one storage binding): one call per page, each completing the previous page's output.
 * Ids are checked here: a shader would clamp them silently.
 */
import text from '../../shaders/embedding.wgsl';
import { elementsPerWord, foldWorkgroups, formatShape, shader, uniformSchema, type UniformSchema, type KernelCall, type KernelContext, type KernelDef, type Tensor } from '../runtime/kernel.js';
import { WEIGHT_FORMATS_WGSL, weightDefines, type PackedB } from './weight-formats.js';

/** Elements, tokens per sequence, width; the page's first id and its row count; elements per stored row (packed). */
export const EMBEDDING_UNIFORMS = uniformSchema([['n', 'u32'], ['L', 'u32'], ['D', 'u32'], ['first', 'u32'], ['rows', 'u32'], ['ld', 'u32']]);
// Inputs: ids, table, the table's scales (packed tables), positions, the previous page's output.
export const EMBEDDING: KernelDef = { name: 'embedding', source: [WEIGHT_FORMATS_WGSL, shader('shaders/embedding.wgsl', text)], inputs: 5, outputs: 1, uniforms: EMBEDDING_UNIFORMS };

/** A packed table page: its words hold [rows, D] in rows of `ld` elements. */
export interface PackedTable extends PackedB {
  rows: number;
  D: number;
  ld: number;
}
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
 * A packed table (`page.packed`) is u32 words of [rows, D] in any weight format.
 */
export function embeddingCall(ctx: KernelContext, ids: Tensor, table: Tensor, pos: Tensor, out: Tensor, page: { first?: number; prev?: Tensor | null; packed?: PackedTable } = {}): KernelCall {
  const first = page.first ?? 0;
  const prev = page.prev ?? null;
  const pk = page.packed;
  const name = `embedding(ids ${formatShape(ids.shape)}, table ${pk ? `[${pk.rows}, ${pk.D}] ${pk.format}` : formatShape(table.shape)}${first ? ` from id ${first}` : ''}, positions ${formatShape(pos.shape)})`;
  if (ids.dtype !== 'i32') throw new Error(`${name}: ids must be i32, got ${ids.dtype}`);
  if (pos.shape.length !== 2 || (!pk && table.shape.length !== 2)) throw new Error(`${name}: table and positions must be 2-D [rows, D]`);
  const [V, D] = pk ? [pk.rows, pk.D] : (table.shape as [number, number]);
  if (pk) checkPackedTable(name, table, pk);
  else if (table.dtype !== pos.dtype) throw new Error(`${name}: table, positions and out must share a dtype`);
  const L = ids.shape[ids.shape.length - 1]!;
  if (!(Number.isInteger(first) && first >= 0 && first + V <= 2 ** 31)) throw new Error(`${name}: first id ${first} out of range`);
  if (pos.shape[1] !== D) throw new Error(`${name}: position width ${pos.shape[1]} differs from table width ${D}`);
  if (pos.shape[0]! < L) throw new Error(`${name}: ${L} tokens but only ${pos.shape[0]} positions`);
  if (out.dtype !== pos.dtype) throw new Error(`${name}: table, positions and out must share a dtype`);
  if (pos.dtype !== 'f32' && pos.dtype !== 'f16') throw new Error(`${name}: positions must be f32 or f16, got ${pos.dtype}`);
  if (out.size !== ids.size * D) throw new Error(`${name}: out ${formatShape(out.shape)} needs ${ids.size * D} elements`);
  if (prev && (prev.size !== out.size || prev.dtype !== out.dtype)) throw new Error(`${name}: prev ${formatShape(prev.shape)} must match out ${formatShape(out.shape)}`);
  const esize = pos.dtype === 'f16' ? 2 : 4;
  return {
    kernel: EMBEDDING,
    spec: { dtype: pos.dtype, defines: { PREV: !!prev, ...weightDefines(pk) }, overrides: { WG } },
    tensors: [ids, table, pk?.scales ?? null, pos, prev, out],
    uniforms: EMBEDDING_UNIFORMS.pack({ n: out.size, L, D, first, rows: V, ld: pk ? pk.ld : D }),
    workgroups: foldWorkgroups(Math.ceil(out.size / WG), ctx.limits.maxComputeWorkgroupsPerDimension),
    flops: out.size,
    bytes: 4 * ids.size + esize * (prev ? 4 : 3) * out.size,
  };
}

/** Words and scales must cover every row a lookup can read (WebGPU would clamp a short read silently). */
function checkPackedTable(name: string, table: Tensor, pk: PackedTable): void {
  const what = `${name}: packed ${pk.format} table`;
  if (table.dtype !== 'u32') throw new Error(`${what} must be a u32 tensor of packed words, got ${table.dtype}`);
  const per = elementsPerWord(pk.format);
  if (pk.ld < pk.D || pk.ld % per !== 0 || (pk.group && pk.ld % pk.group !== 0)) throw new Error(`${what}: rows of ${pk.ld} elements cannot hold ${pk.D} in whole words and groups`);
  if (table.size * per < pk.rows * pk.ld) throw new Error(`${what}: ${table.size} words hold fewer than ${pk.rows} rows of ${pk.ld}`);
  const scales = pk.format === 'f16' ? 0 : pk.group ? (pk.rows * pk.ld) / pk.group : pk.rows;
  if (scales && (!pk.scales || pk.scales.dtype !== 'f32' || pk.scales.size < scales)) throw new Error(`${what}: needs ${scales} f32 scales, got ${pk.scales ? `${pk.scales.size} ${pk.scales.dtype}` : 'none'}`);
  if (!scales && pk.scales) throw new Error(`${what}: f16 tables have no scales`);
}

export function embeddingRef(ids: ArrayLike<number>, table: ArrayLike<number>, pos: ArrayLike<number>, L: number, D: number): Float64Array {
  const out = new Float64Array(ids.length * D);
  for (let t = 0; t < ids.length; t++) {
    for (let d = 0; d < D; d++) out[t * D + d] = table[ids[t]! * D + d]! + pos[(t % L) * D + d]!;
  }
  return out;
}
