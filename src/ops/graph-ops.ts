/**
 * Op builders for graphs: each adds one node to a Graph (src/runtime/graph.ts) whose call is made at compile time
 * with the variant chosen for the engine it compiles on (tuned or default, choices.ts). Weights may be given as
 * graph values or as tensors (added as weight values once each).
 *
 *   const ops = new GraphOps(graph);
 *   const h = ops.layerNorm('ln1', x, ln.weight, ln.bias, 1e-6);
 *   const y = ops.linear('fc1', h, { weight, bias, layout: 'kn' }, { activation: 'gelu_tanh' });
 */
import type { Activation } from '../kernels/activations.js';
import { attentionCall, type AttentionGeometry } from '../kernels/attention.js';
import { elementwiseCall } from '../kernels/elementwise.js';
import { embeddingCall } from '../kernels/embedding.js';
import { layerNormCall } from '../kernels/layernorm.js';
import { matmulCall, matmulGeometry, type MatmulGeometry } from '../kernels/matmul.js';
import { patchifyCall, patchifyShape } from '../kernels/patchify.js';
import type { Graph, Value } from '../runtime/graph.js';
import { formatShape, shapeSize, Tensor } from '../runtime/tensor.js';
import type { WeightLayout } from './adapter-defaults.js';
import { attentionConfigFor, layerNormConfigFor, matmulConfigFor } from './choices.js';
import { packedTable } from './eager.js';
import { PackedWeight } from './packed-weight.js';

export interface MatmulNodeOptions {
  transposeB?: boolean;
  bias?: Value;
  residual?: Value;
  activation?: Activation;
  /** Override parts of the geometry derived from shapes (strided views of A: offA, lda, M, batch). */
  geometry?: Partial<MatmulGeometry>;
  /** Output shape when the geometry is overridden. */
  outShape?: number[];
  /**
   * b holds the words of this packed weight (its logical shape, layout and format; scales as a value of their
   * own): every matmul variant unpacks it in registers.
   */
  packed?: { weight: PackedWeight; scales?: Value };
}

/** A linear layer's parameters as they sit on the device: the weight knows its layout. */
export interface LinearWeights {
  /**
   * [out, in] ('nk', as Hugging Face stores it) or [in, out] ('kn'); or a compact weight (f16, int8, 4-bit), which
   * says its own layout ([out, in], or [in, out] for f16 packed `kn`).
   */
  weight: Tensor | PackedWeight;
  bias?: Tensor;
  layout: WeightLayout;
}

/** Rows first .. first + rows − 1 of an embedding table split to fit storage bindings. */
export interface EmbeddingPage {
  table: Value | Tensor | PackedWeight;
  first: number;
}

export interface LinearOptions {
  activation?: Activation;
  residual?: Value;
  /** A strided view of x's rows (e.g. the last token of each sequence): parts of the matmul geometry. */
  geometry?: Partial<MatmulGeometry>;
  outShape?: number[];
}

export class GraphOps {
  private readonly weights = new Map<Tensor, Value>();

  constructor(readonly graph: Graph) {}

  /** A tensor as a weight value (one per tensor), or the value itself. */
  value(x: Value | Tensor, name?: string): Value {
    if (!(x instanceof Tensor)) return x;
    let v = this.weights.get(x);
    if (!v) {
      v = this.graph.weight(name ?? `weight${this.weights.size}`, x);
      this.weights.set(x, v);
    }
    return v;
  }

  matmul(name: string, a: Value, b: Value, opts: MatmulNodeOptions = {}): Value {
    const pw = opts.packed?.weight;
    const { g: shapes, outShape } = matmulGeometry(a.shape, pw ? pw.shape : b.shape, opts.transposeB ?? false);
    if (pw) shapes.ldb = pw.layout.ld;
    const g: MatmulGeometry = { ...shapes, ...(opts.geometry ?? {}) };
    const shape = opts.outShape ?? outShape;
    if (shapeSize(shape) < (g.batch - 1) * g.strideC + (g.M - 1) * g.ldc + g.N) throw new Error(`${name}: output shape ${formatShape(shape)} too small`);
    if (opts.residual && !opts.geometry?.strideR && shapeSize(opts.residual.shape) !== shapeSize(shape)) {
      // A residual smaller than the output is shared by the batch (e.g. position embeddings).
      g.strideR = 0;
    }
    const scales = opts.packed?.scales;
    const ins = [a, b, ...(scales ? [scales] : []), ...(opts.bias ? [opts.bias] : []), ...(opts.residual ? [opts.residual] : [])];
    const hasBias = !!opts.bias;
    const hasRes = !!opts.residual;
    if (a.dtype === 'i32' || a.dtype === 'u32') throw new Error(`${name}: ${a.dtype} tensors are not supported`);
    const dtype = a.dtype;
    const layout: WeightLayout = g.transposeB ? 'nk' : 'kn';
    return this.graph.node('matmul', name, ins, [{ shape, dtype }], (engine, t, [out]) => {
      let i = 2;
      const sc = scales ? t[i++]! : null;
      const bias = hasBias ? t[i++] : undefined;
      const residual = hasRes ? t[i++] : undefined;
      return matmulCall(engine.context, {
        a: t[0]!, b: t[1]!, out: out!, bias, residual,
        weight: pw ? { format: pw.format, group: pw.group, scales: sc } : undefined,
        activation: opts.activation ?? 'none',
        geometry: g,
        config: matmulConfigFor(engine, layout, dtype, { M: g.M * g.batch, N: g.N, K: g.K }, pw?.format),
      });
    })[0]!;
  }

  /** A packed weight's words and scales as weight values (once each). */
  packedValues(w: PackedWeight, name: string): { data: Value; scales?: Value } {
    return { data: this.value(w.data, name), scales: w.scales ? this.value(w.scales, `${name}:scales`) : undefined };
  }

  /** x·Wᵀ + b (then activation, then residual), reading W in the layout (and format) it was stored in. */
  linear(name: string, x: Value, w: LinearWeights, opts: LinearOptions = {}): Value {
    const wname = this.graph.qualified(`${name}.weight`);
    const pw = w.weight instanceof PackedWeight ? w.weight : null;
    const pv = pw ? this.packedValues(pw, wname) : null;
    return this.matmul(name, x, pv ? pv.data : this.value(w.weight as Tensor, wname), {
      transposeB: pw ? !pw.kn : w.layout === 'nk',
      packed: pw ? { weight: pw, scales: pv!.scales } : undefined,
      bias: w.bias && this.value(w.bias, this.graph.qualified(`${name}.bias`)),
      activation: opts.activation,
      residual: opts.residual,
      geometry: opts.geometry,
      outShape: opts.outShape,
    });
  }

  layerNorm(name: string, x: Value, gamma: Value | Tensor, beta: Value | Tensor, eps: number): Value {
    const D = x.shape[x.shape.length - 1]!;
    return this.graph.node('layernorm', name, [x, this.value(gamma, this.graph.qualified(`${name}.weight`)), this.value(beta, this.graph.qualified(`${name}.bias`))], [{ shape: x.shape, dtype: x.dtype }], (engine, [tx, tg, tb], [out]) =>
      layerNormCall(engine.context, tx!, tg!, tb!, out!, eps, layerNormConfigFor(engine, D)),
    )[0]!;
  }

  /**
   * q, k, v may be the same value (a packed projection) read through the geometry's views. `keyLengths` [B] i32:
   * item b attends to its first keyLengths[b] keys only (padding masked; the values must be 1..Lk).
   */
  attention(name: string, q: Value, k: Value, v: Value, g: AttentionGeometry, keyLengths?: Value): Value {
    const ins = keyLengths ? [q, k, v, keyLengths] : [q, k, v];
    return this.graph.node('attention', name, ins, [{ shape: [g.B, g.Lq, g.H * g.D], dtype: q.dtype }], (engine, [tq, tk, tv, tl], [out]) =>
      attentionCall(engine.context, tq!, tk!, tv!, out!, g, attentionConfigFor(engine, { L: g.Lk, D: g.D }), keyLengths ? tl! : null),
    )[0]!;
  }

  /**
   * table[ids] + positions; a table split into pages of rows (`{ table, first }`, first ids ascending, together
   * covering the vocabulary) is looked up one node per page, each completing the previous page's output.
   */
  embedding(name: string, ids: Value, table: Value | Tensor | readonly EmbeddingPage[], positions: Value | Tensor): Value {
    const pages = Array.isArray(table) ? (table as readonly EmbeddingPage[]) : [{ table: table as Value | Tensor, first: 0 }];
    if (!pages.length) throw new Error(`${name}: no embedding table`);
    const pos = this.value(positions, `${name}.positions`);
    let prev: Value | null = null;
    pages.forEach((page, j) => {
      const tname = pages.length > 1 ? `${name}.table@${page.first}` : `${name}.table`;
      const pw = page.table instanceof PackedWeight ? page.table : null;
      const pv = pw ? this.packedValues(pw, tname) : null;
      const t = pv ? pv.data : this.value(page.table as Value | Tensor, tname);
      const ins = [ids, t, ...(pv?.scales ? [pv.scales] : []), pos, ...(prev ? [prev] : [])];
      const hasPrev = !!prev;
      const D = pw ? pw.shape[1] : t.shape[1]!;
      prev = this.graph.node('embedding', pages.length > 1 ? `${name}.page${j}` : name, ins, [{ shape: [...ids.shape, D], dtype: pos.dtype }], (engine, tensors, [out]) => {
        let i = 2;
        const packed = pw ? { ...packedTable(pw)!, scales: pv!.scales ? tensors[i++]! : null } : undefined;
        const tpos = tensors[i++]!;
        return embeddingCall(engine.context, tensors[0]!, tensors[1]!, tpos, out!, { first: page.first, prev: hasPrev ? tensors[i] : null, packed });
      })[0]!;
    });
    return prev!;
  }

  patchify(name: string, pixels: Value, patch: number): Value {
    return this.graph.node('patchify', name, [pixels], [{ shape: patchifyShape(pixels.shape, patch), dtype: pixels.dtype }], (engine, [x], [out]) =>
      patchifyCall(engine.context, x!, out!, patch),
    )[0]!;
  }

  add(name: string, x: Value, y: Value): Value {
    return this.graph.node('add', name, [x, y], [{ shape: x.shape, dtype: x.dtype }], (engine, [tx, ty], [out]) =>
      elementwiseCall(engine.context, 'add', tx!, out!, { y: ty! }),
    )[0]!;
  }
}
