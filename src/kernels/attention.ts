/**
 * attention: softmax(Q·Kᵀ·scale)·V per batch and head, fused (shaders/attention.wgsl). Operands are strided views
 * (`AttentionView`), so a packed QKV projection is read in place and a single query can be broadcast over a batch.
 */
import text from '../../shaders/attention.wgsl';
import { checkDispatch, formatShape, shader, uniformSchema, type UniformSchema, type KernelCall, type KernelContext, type KernelDef, type Tensor } from '../runtime/kernel.js';

/** Batch, lengths, heads; each view's offset, row and batch strides; the output's strides; the score scale. */
export const ATTENTION_UNIFORMS = uniformSchema([
  ['B', 'u32'], ['Lq', 'u32'], ['Lk', 'u32'], ['H', 'u32'],
  ['qOff', 'u32'], ['qRow', 'u32'], ['qBatch', 'u32'], ['scale', 'f32'],
  ['kOff', 'u32'], ['kRow', 'u32'], ['kBatch', 'u32'],
  ['vOff', 'u32'], ['vRow', 'u32'], ['vBatch', 'u32'],
  ['oRow', 'u32'], ['oBatch', 'u32'],
]);

const SOURCE = [shader('shaders/attention.wgsl', text)];
export const ATTENTION: KernelDef = { name: 'attention', source: SOURCE, inputs: 3, outputs: 1, uniforms: ATTENTION_UNIFORMS };
export const ATTENTION_QUAD: KernelDef = { name: 'attention_quad', source: SOURCE, inputs: 3, outputs: 1, entryPoint: 'main_quad', uniforms: ATTENTION_UNIFORMS };
/** The same two with a fourth input, keyLen [B] i32 (define KEY_LEN): item b attends to its first keyLen[b] keys. */
export const ATTENTION_KEYLEN: KernelDef = { ...ATTENTION, name: 'attention_keylen', inputs: 4 };
export const ATTENTION_QUAD_KEYLEN: KernelDef = { ...ATTENTION_QUAD, name: 'attention_quad_keylen', inputs: 4 };

/** Element offset of row 0 of batch 0, stride between rows (tokens), stride between batch items (0: broadcast). */
export interface AttentionView {
  offset: number;
  row: number;
  batch: number;
}

export interface AttentionGeometry {
  B: number;
  Lq: number;
  Lk: number;
  H: number;
  D: number;
  q: AttentionView;
  k: AttentionView;
  v: AttentionView;
  /** Output rows are H·D wide and contiguous: [B, Lq, H·D]. */
  scale: number;
}

export interface AttentionConfig {
  /** Invocations per workgroup. */
  wgq: number;
  /** Four queries per invocation (main_quad). */
  quad?: boolean;
  /** Keys per tile. */
  kt: number;
  sharedKV: boolean;
  /** main_quad: K/V rows shared between a subgroup's lanes by shuffles (where the subgroup size is fixed). */
  sgKV?: boolean;
}

export const ATTENTION_CANDIDATES: AttentionConfig[] = [
  { wgq: 64, kt: 16, sharedKV: false },
  { wgq: 64, kt: 32, sharedKV: true },
  { wgq: 32, kt: 16, sharedKV: true },
  { wgq: 64, kt: 8, sharedKV: false },
  { wgq: 8, quad: true, kt: 16, sharedKV: false },
  { wgq: 16, quad: true, kt: 16, sharedKV: true },
  { wgq: 16, quad: true, kt: 8, sharedKV: false },
  { wgq: 8, quad: true, kt: 16, sharedKV: false, sgKV: true },
  { wgq: 32, quad: true, kt: 16, sharedKV: false, sgKV: true },
];

/** Geometry for contiguous q [B|1, Lq, H·D], k/v [B, Lk, H·D]. */
export function attentionGeometry(qShape: readonly number[], kShape: readonly number[], vShape: readonly number[], heads: number, scale?: number): AttentionGeometry {
  const what = `attention(q ${formatShape(qShape)}, k ${formatShape(kShape)}, v ${formatShape(vShape)}, heads ${heads})`;
  if (qShape.length !== 3 || kShape.length !== 3 || vShape.length !== 3) throw new Error(`${what}: q, k and v must be [B, L, heads·headDim]`);
  if (!(Number.isInteger(heads) && heads >= 1)) throw new Error(`${what}: heads must be a positive integer`);
  const [qb, Lq, hd] = qShape as [number, number, number];
  const [B, Lk, khd] = kShape as [number, number, number];
  if (khd !== hd || vShape[2] !== hd) throw new Error(`${what}: q, k and v must have the same width`);
  if (vShape[0] !== B || vShape[1] !== Lk) throw new Error(`${what}: k and v must have the same batch and length`);
  if (qb !== B && qb !== 1) throw new Error(`${what}: q's batch must equal k's (${B}) or be 1 (broadcast)`);
  if (hd % heads !== 0) throw new Error(`${what}: width ${hd} is not divisible by ${heads} heads`);
  const D = hd / heads;
  return {
    B, Lq, Lk, H: heads, D,
    q: { offset: 0, row: hd, batch: qb === 1 ? 0 : Lq * hd },
    k: { offset: 0, row: hd, batch: Lk * hd },
    v: { offset: 0, row: hd, batch: Lk * hd },
    scale: scale ?? 1 / Math.sqrt(D),
  };
}

export const MAX_HEAD_DIM = 256;

/** What a config runs at a given shape on an adapter: the parts of it that apply, and why any does not. */
export interface AttentionPlan {
  quad: boolean;
  wgq: number;
  sharedKV: boolean;
  sgKV: boolean;
  /** vec4 loads (head dim, offsets and strides multiples of 4). */
  vec: boolean;
  /** What the config asked for that this shape or adapter does not allow: a slower path runs (the bench says so). */
  fallbacks: string[];
}

export function attentionPlan(ctx: KernelContext, g: AttentionGeometry, cfg: AttentionConfig): AttentionPlan {
  const fallbacks: string[] = [];
  const views = [g.q, g.k, g.v];
  const vec = g.D % 4 === 0 && views.every((w) => w.offset % 4 === 0 && w.row % 4 === 0 && w.batch % 4 === 0);
  if (!vec) fallbacks.push(`scalar loads (head dim ${g.D}, offsets and strides must be multiples of 4 for vec4 loads)`);
  // One query (the pooling probe) gains nothing from four per invocation; fewer queries than a workgroup holds
  // get a smaller workgroup.
  const quad = !!cfg.quad && g.Lq > 1;
  const tq = quad ? 4 : 1;
  let wgq = cfg.wgq;
  while (wgq > 8 && (wgq / 2) * tq >= g.Lq) wgq /= 2;
  wgq = Math.min(wgq, ctx.limits.maxComputeInvocationsPerWorkgroup, ctx.limits.maxComputeWorkgroupSizeX);
  const sharedBytes = 2 * cfg.kt * Math.ceil(g.D / 4) * 16;
  const sharedKV = cfg.sharedKV && sharedBytes <= ctx.limits.maxComputeWorkgroupStorageSize;
  if (cfg.sharedKV && !sharedKV) fallbacks.push(`K/V tiles of ${sharedBytes} bytes exceed the workgroup memory (${ctx.limits.maxComputeWorkgroupStorageSize})`);
  // Subgroup sharing where it applies (else the same kernel loading whole rows): four queries per invocation, vec4
  // rows, a fixed subgroup size, whole subgroups per workgroup. Any head dim: when the subgroup size does not divide
  // the row's vec4 count (head dim 72: 18 over 8 lanes), the last round of loads is done by the first DV % SG lanes.
  const sg = ctx.subgroupSize;
  const sgKV = !!cfg.sgKV && quad && !sharedKV && vec && sg > 0 && wgq % sg === 0;
  if (cfg.sgKV && !sgKV) {
    const why = !quad ? 'one query per invocation' : sharedKV ? 'K/V staged in workgroup memory' : !vec ? 'no vec4 loads' : !sg ? 'no fixed subgroup size' : `workgroup of ${wgq} is not whole subgroups of ${sg}`;
    fallbacks.push(`K/V rows not shared by shuffles (${why}): every lane loads whole rows`);
  }
  return { quad, wgq, sharedKV, sgKV, vec, fallbacks };
}

/**
 * `config`: the variant (the tuner's or the adapter default's, src/ops/adapter-defaults.ts). `keyLengths` [B] i32:
 * item b attends to its first keyLengths[b] keys only (NaFlex padding; the caller validates them to 1..Lk).
 */
export function attentionCall(ctx: KernelContext, q: Tensor, k: Tensor, v: Tensor, out: Tensor, g: AttentionGeometry, config: AttentionConfig, keyLengths: Tensor | null = null): KernelCall {
  const name = `attention(B ${g.B}, Lq ${g.Lq}, Lk ${g.Lk}, heads ${g.H}, headDim ${g.D}${keyLengths ? ', key lengths' : ''})`;
  if (keyLengths && (keyLengths.dtype !== 'i32' || keyLengths.size !== g.B)) throw new Error(`${name}: key lengths must be [${g.B}] i32, got ${formatShape(keyLengths.shape)} ${keyLengths.dtype}`);
  for (const [t, n] of [[k, 'k'], [v, 'v'], [out, 'out']] as const) {
    if (t.dtype !== q.dtype) throw new Error(`${name}: ${n} is ${t.dtype}, q is ${q.dtype}`);
  }
  if (q.dtype === 'i32' || q.dtype === 'u32') throw new Error(`${name}: ${q.dtype} tensors are not supported`);
  if (!(g.D >= 1 && g.D <= MAX_HEAD_DIM)) throw new Error(`${name}: head dim must be within 1..${MAX_HEAD_DIM}`);
  const HD = g.H * g.D;
  const need = (t: Tensor, n: string, view: AttentionView, L: number) => {
    const last = view.offset + (g.B - 1) * view.batch + (L - 1) * view.row + HD;
    if (last > t.size) throw new Error(`${name}: ${n} ${formatShape(t.shape)} is too small for this view (needs ${last} elements)`);
  };
  need(q, 'q', g.q, g.Lq);
  need(k, 'k', g.k, g.Lk);
  need(v, 'v', g.v, g.Lk);
  if (out.size < g.B * g.Lq * HD) throw new Error(`${name}: out ${formatShape(out.shape)} needs ${g.B * g.Lq * HD} elements`);
  const { quad, wgq, sharedKV, sgKV, vec, fallbacks } = attentionPlan(ctx, g, config);
  const cfg = config;
  const tq = quad ? 4 : 1;
  const sg = ctx.subgroupSize;
  const workgroups: [number, number, number] = [Math.ceil(g.Lq / (wgq * tq)), g.H, g.B];
  checkDispatch(ctx, name, workgroups);
  // Said, not silent: where this shape cannot take the faster form the variant asked for (the plan's fallbacks).
  const notes = fallbacks.map((f) => `attention, head dim ${g.D}: ${f}`);
  return {
    kernel: keyLengths ? (quad ? ATTENTION_QUAD_KEYLEN : ATTENTION_KEYLEN) : quad ? ATTENTION_QUAD : ATTENTION,
    spec: {
      dtype: q.dtype,
      enables: sgKV ? ['subgroups'] : [],
      defines: { D: g.D, KT: cfg.kt, VEC: vec, SHARED_KV: sharedKV, SG_KV: sgKV, SG: sgKV ? sg : 1, KEY_LEN: !!keyLengths },
      overrides: { WGQ: wgq },
    },
    tensors: keyLengths ? [q, k, v, keyLengths, out] : [q, k, v, out],
    uniforms: ATTENTION_UNIFORMS.pack({
      B: g.B, Lq: g.Lq, Lk: g.Lk, H: g.H,
      qOff: g.q.offset, qRow: g.q.row, qBatch: g.q.batch, scale: g.scale,
      kOff: g.k.offset, kRow: g.k.row, kBatch: g.k.batch,
      vOff: g.v.offset, vRow: g.v.row, vBatch: g.v.batch,
      oRow: HD, oBatch: g.Lq * HD,
    }),
    workgroups,
    flops: 4 * g.B * g.H * g.Lq * g.Lk * g.D,
    bytes: (q.dtype === 'f16' ? 2 : 4) * g.B * HD * (2 * g.Lq + 2 * g.Lk),
    ...(notes.length ? { notes } : {}),
  };
}

/**
 * float64 reference with the plain two-pass softmax (no online rescaling): an independent formulation. With
 * `queries`, only those query rows are computed (the others stay 0): how the tuner checks big shapes quickly.
 */
export function attentionRef(q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>, g: AttentionGeometry, queries?: readonly number[], keyLengths?: ArrayLike<number>): Float64Array {
  const HD = g.H * g.D;
  const out = new Float64Array(g.B * g.Lq * HD);
  const s = new Float64Array(g.Lk);
  const rows = queries ?? Array.from({ length: g.Lq }, (_, i) => i);
  for (let b = 0; b < g.B; b++) {
    // Keys past keyLengths[b] are masked with −∞: they get no weight at all.
    const Lk = keyLengths ? keyLengths[b]! : g.Lk;
    for (let h = 0; h < g.H; h++) {
      for (const i of rows) {
        const qb = g.q.offset + b * g.q.batch + i * g.q.row + h * g.D;
        let max = -Infinity;
        for (let j = 0; j < Lk; j++) {
          const kb = g.k.offset + b * g.k.batch + j * g.k.row + h * g.D;
          let d = 0;
          for (let c = 0; c < g.D; c++) d += q[qb + c]! * k[kb + c]!;
          s[j] = d * g.scale;
          if (s[j]! > max) max = s[j]!;
        }
        let sum = 0;
        for (let j = 0; j < Lk; j++) sum += s[j] = Math.exp(s[j]! - max);
        const ob = b * g.Lq * HD + i * HD + h * g.D;
        for (let j = 0; j < Lk; j++) {
          const vb = g.v.offset + b * g.v.batch + j * g.v.row + h * g.D;
          const w = s[j]! / sum;
          for (let c = 0; c < g.D; c++) out[ob + c] += w * v[vb + c]!;
        }
      }
    }
  }
  return out;
}
