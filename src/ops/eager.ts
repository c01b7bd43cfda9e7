/**
 * Eager ops: one kernel per call, output allocated and returned, work submitted at once. This is the API for
 * using single kernels (and how the kernel bench and outside checks drive them); SigLIP itself runs through graphs.
 *
 *   const y = engine.ops.matmul(a, w, { transposeB: true, bias, activation: 'gelu_tanh', residual });
 *   const out = await y.read();
 */
import { parseActivation } from '../kernels/activations.js';
import { attentionCall, attentionGeometry, type AttentionConfig } from '../kernels/attention.js';
import { elementwiseCall, type ElementwiseOp, type ElementwiseOptions } from '../kernels/elementwise.js';
import { embeddingCall } from '../kernels/embedding.js';
import { layerNormCall, type LayerNormConfig } from '../kernels/layernorm.js';
import { matmulCall, matmulGeometry, type MatmulConfig } from '../kernels/matmul.js';
import { patchifyCall, patchifyShape } from '../kernels/patchify.js';
import { PreparedCalls } from '../runtime/dispatch.js';
import type { Engine } from '../runtime/engine.js';
import type { KernelCall } from '../runtime/kernel.js';
import { formatShape, type Tensor } from '../runtime/tensor.js';
import { attentionConfigFor, layerNormConfigFor, matmulConfigFor } from './choices.js';
import { PackedWeight, type PackOptions } from './packed-weight.js';

export interface MatmulOptions {
  /** b is [N, K] (a linear layer's weight) rather than [K, N]. A PackedWeight says its own layout. */
  transposeB?: boolean;
  /** [N], added to every row. */
  bias?: Tensor;
  /** Applied after the bias: 'none' (default), 'gelu_tanh' (HF's gelu_pytorch_tanh), 'quick_gelu' (CLIP's). */
  activation?: string;
  /** Added last: the output's shape, or [M, N] shared by every batch item. */
  residual?: Tensor;
  /** Force a kernel variant (benchmarks, tests); default: the adapter's tuned choice. */
  config?: MatmulConfig;
}

/** Encodes calls into one pass and submits them, with a uniform buffer that lives until the submit. */
export function submitCalls(engine: Engine, calls: KernelCall[]): void {
  if (!calls.length) return;
  const prepared = new PreparedCalls(engine, calls, 'eager');
  try {
    prepared.submit();
  } finally {
    // Destroying after submit is allowed: the queue keeps it alive until the work is done.
    prepared.dispose();
  }
}

export class EagerOps {
  constructor(private readonly engine: Engine) {}

  private run(out: Tensor, call: () => KernelCall): Tensor {
    try {
      submitCalls(this.engine, [call()]);
      return out;
    } catch (e) {
      out.dispose();
      throw e;
    }
  }

  private checkLive(op: string, ...ts: (Tensor | undefined)[]): void {
    this.engine.check();
    ts.forEach((t, i) => {
      if (t && t.isDisposed) throw new Error(`${op}: argument ${i} ${t} has been disposed`);
    });
  }

  /**
   * act(a·b + bias) + residual; a [...batch, M, K]; b [K, N], [N, K] (transposeB) or batched like a; or a
   * PackedWeight (f16, int8 or 4-bit; [N, K] unless packed with `kn`), unpacked in registers by the kernel.
   */
  matmul(a: Tensor, b: Tensor | PackedWeight, opts: MatmulOptions = {}): Tensor {
    const packed = b instanceof PackedWeight ? b : null;
    if (packed?.isDisposed) throw new Error(`matmul: argument 1 ${packed} has been disposed`);
    const data = packed ? packed.data : (b as Tensor);
    this.checkLive('matmul', a, data, opts.bias, opts.residual);
    if (packed && opts.transposeB !== undefined && opts.transposeB !== !packed.kn) {
      throw new Error(`matmul: ${packed} is stored ${packed.kn ? '[K, N]' : '[N, K]'}; transposeB ${opts.transposeB} contradicts it (leave it out)`);
    }
    const transposeB = packed ? !packed.kn : (opts.transposeB ?? false);
    const { g, outShape } = matmulGeometry(a.shape, packed ? packed.shape : data.shape, transposeB);
    if (packed) g.ldb = packed.layout.ld;
    const activation = parseActivation(opts.activation);
    const r = opts.residual;
    if (r) {
      const full = r.shape.join(',') === outShape.join(',');
      const shared = r.shape.length === 2 && r.shape[0] === g.M && r.shape[1] === g.N;
      if (!full && !shared) {
        throw new Error(`matmul: residual ${formatShape(r.shape)} must be the output's shape ${formatShape(outShape)} or [M, N] = [${g.M}, ${g.N}]`);
      }
      if (!full) g.strideR = 0;
    }
    if (a.dtype === 'i32' || a.dtype === 'u32') throw new Error(`matmul: ${a.dtype} tensors are not supported`);
    const config = opts.config ?? matmulConfigFor(this.engine, transposeB ? 'nk' : 'kn', a.dtype, { M: g.M * g.batch, N: g.N, K: g.K }, packed?.format);
    const out = this.engine.empty(outShape, a.dtype);
    const weight = packed ? { format: packed.format, group: packed.group, scales: packed.scales } : undefined;
    return this.run(out, () => matmulCall(this.engine.context, { a, b: data, weight, out, bias: opts.bias, residual: r, activation, geometry: g, config }));
  }

  /** Packs (and quantizes) a [rows, cols] float matrix into a compact weight on this engine (PackedWeight.pack). */
  packWeight(values: ArrayLike<number>, shape: readonly [number, number], opts: PackOptions): PackedWeight {
    this.engine.check();
    return PackedWeight.pack(this.engine, values, shape, opts);
  }

  /** LayerNorm over the last dimension. */
  layerNorm(x: Tensor, gamma: Tensor, beta: Tensor, opts: { eps?: number; config?: LayerNormConfig } = {}): Tensor {
    this.checkLive('layerNorm', x, gamma, beta);
    const out = this.engine.empty(x.shape, x.dtype);
    const config = opts.config ?? layerNormConfigFor(this.engine, x.shape[x.shape.length - 1]!);
    return this.run(out, () => layerNormCall(this.engine.context, x, gamma, beta, out, opts.eps ?? 1e-5, config));
  }

  /**
   * softmax(q·kᵀ·scale)·v per head: q [B|1, Lq, H·D], k/v [B, Lk, H·D] → [B, Lq, H·D]; scale defaults to 1/√D.
   * `keyLengths` [B] i32: item b attends to its first keyLengths[b] keys only (each 1..Lk).
   */
  attention(q: Tensor, k: Tensor, v: Tensor, opts: { heads: number; scale?: number; config?: AttentionConfig; keyLengths?: Tensor }): Tensor {
    this.checkLive('attention', q, k, v, opts?.keyLengths);
    if (!opts || opts.heads === undefined) throw new Error('attention: options { heads } are required');
    const g = attentionGeometry(q.shape, k.shape, v.shape, opts.heads, opts.scale);
    const config = opts.config ?? attentionConfigFor(this.engine, { L: g.Lk, D: g.D });
    const out = this.engine.empty([g.B, g.Lq, g.H * g.D], q.dtype);
    return this.run(out, () => attentionCall(this.engine.context, q, k, v, out, g, config, opts.keyLengths ?? null));
  }

  private elementwise(op: ElementwiseOp, x: Tensor, opts: ElementwiseOptions = {}): Tensor {
    this.checkLive(op, x, opts.y);
    const out = this.engine.empty(x.shape, x.dtype);
    return this.run(out, () => elementwiseCall(this.engine.context, op, x, out, opts));
  }

  /** GELU, tanh approximation (HF's gelu_pytorch_tanh). */
  gelu(x: Tensor): Tensor {
    return this.elementwise('activate', x, { activation: 'gelu_tanh' });
  }

  /** x·σ(1.702·x) (CLIP's quick_gelu). */
  quickGelu(x: Tensor): Tensor {
    return this.elementwise('activate', x, { activation: 'quick_gelu' });
  }

  /** Any activation by name (HF `hidden_act` names: gelu_pytorch_tanh, quick_gelu, …). */
  activation(x: Tensor, name: string): Tensor {
    return this.elementwise('activate', x, { activation: parseActivation(name) });
  }

  /** x + y, y broadcast over x's leading dimensions. */
  add(x: Tensor, y: Tensor): Tensor {
    return this.elementwise('add', x, { y });
  }

  /** x · y elementwise, y broadcast over x's leading dimensions. */
  mul(x: Tensor, y: Tensor): Tensor {
    return this.elementwise('mul', x, { y });
  }

  /** alpha·x + beta. */
  scale(x: Tensor, alpha: number, beta = 0): Tensor {
    return this.elementwise('scale', x, { alpha, beta });
  }

  /**
   * table[ids] + positions[l]: ids [B, L] i32, table [V, D] (a tensor, or a PackedWeight), positions [≥ L, D] →
   * [B, L, D] in the positions' dtype. The table may be given as pages of rows ({ table, first }, together covering
   * the vocabulary): one dispatch per page, in one pass.
   */
  embedding(ids: Tensor, table: Tensor | PackedWeight | readonly { table: Tensor | PackedWeight; first: number }[], positions: Tensor): Tensor {
    const pages = Array.isArray(table) ? (table as readonly { table: Tensor | PackedWeight; first: number }[]) : [{ table: table as Tensor | PackedWeight, first: 0 }];
    for (const p of pages) if (p.table instanceof PackedWeight && p.table.isDisposed) throw new Error(`embedding: ${p.table} has been disposed`);
    const words = pages.map((p) => (p.table instanceof PackedWeight ? p.table.data : p.table));
    this.checkLive('embedding', ids, positions, ...words);
    if (!pages.length) throw new Error('embedding: no table');
    const D = pages[0]!.table.shape[1]!;
    const shape = [...ids.shape, D];
    const outs = pages.map(() => this.engine.empty(shape, positions.dtype));
    try {
      submitCalls(this.engine, pages.map((p, j) => embeddingCall(this.engine.context, ids, words[j]!, positions, outs[j]!, { first: p.first, prev: j ? outs[j - 1]! : null, packed: packedTable(p.table) })));
    } catch (e) {
      for (const o of outs) o.dispose();
      throw e;
    }
    // Earlier pages' outputs are only read by the queued work: destroying them now is allowed (as for uniforms).
    for (const o of outs.slice(0, -1)) o.dispose();
    return outs[outs.length - 1]!;
  }

  /** pixels [B, C, H, W] → patches [B, L, C·P·P] for a P×P stride-P convolution. */
  patchify(pixels: Tensor, patch: number): Tensor {
    this.checkLive('patchify', pixels);
    const out = this.engine.empty(patchifyShape(pixels.shape, patch), pixels.dtype);
    return this.run(out, () => patchifyCall(this.engine.context, pixels, out, patch));
  }
}

/** What the embedding kernel is told about a packed table (undefined for a plain tensor). */
export function packedTable(t: Tensor | PackedWeight): { format: PackedWeight['format']; group: number; scales: Tensor | null; rows: number; D: number; ld: number } | undefined {
  if (!(t instanceof PackedWeight)) return undefined;
  if (t.kn) throw new Error(`embedding: ${t} is stored [K, N]; a table is [rows, D]`);
  return { format: t.format, group: t.group, scales: t.scales, rows: t.layout.rows, D: t.layout.cols, ld: t.layout.ld };
}
