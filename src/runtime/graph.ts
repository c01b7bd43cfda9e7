/**
 * Graph IR: values (inputs, weights, intermediates) and nodes (one kernel launch each), built once per
 * (tower, batch size, dtype) and compiled into a plan (executor.ts). Builders here only describe work; each node
 * carries a function that makes its KernelCall from the tensors the planner assigns, so the IR stays independent of
 * any one model and the kernels of any one graph.
 */
import { attentionCall, type AttentionGeometry } from '../kernels/attention.js';
import { elementwiseCall } from '../kernels/elementwise.js';
import { embeddingCall } from '../kernels/embedding.js';
import { layerNormCall } from '../kernels/layernorm.js';
import { matmulCall, matmulGeometry, type Activation, type MatmulGeometry } from '../kernels/matmul.js';
import { patchifyCall, patchifyShape } from '../kernels/patchify.js';
import type { DType } from './dtype.js';
import type { Engine } from './engine.js';
import type { KernelCall } from './kernel.js';
import { formatShape, shapeSize, type Tensor } from './tensor.js';

export type ValueKind = 'input' | 'weight' | 'temp';

export interface Value {
  readonly id: number;
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly kind: ValueKind;
  /** Weights: the tensor, owned by whoever loaded it (the model), never by the graph. */
  readonly tensor?: Tensor;
  /** A reshape: same storage as this value. */
  readonly aliasOf?: number;
}

export interface GraphNode {
  readonly index: number;
  /** Op type, for profiles: 'matmul', 'attention', … */
  readonly op: string;
  /** Names the node in profiles and errors: 'vision.layers.3.mlp.fc1'. */
  readonly name: string;
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
  readonly makeCall: (engine: Engine, inputs: Tensor[], outputs: Tensor[]) => KernelCall;
}

export interface MatmulNodeOptions {
  transposeB?: boolean;
  bias?: Value;
  residual?: Value;
  activation?: Activation;
  /** Override parts of the geometry derived from shapes (strided views of A: offA, lda, M, batch). */
  geometry?: Partial<MatmulGeometry>;
  /** Output shape when the geometry is overridden. */
  outShape?: number[];
}

export class Graph {
  readonly values: Value[] = [];
  readonly nodes: GraphNode[] = [];
  readonly outputs = new Map<string, number>();
  private scope: string[] = [];

  constructor(readonly name: string) {}

  /** Prefixes node names made inside `fn` with `prefix.` (for readable profiles). */
  within<T>(prefix: string, fn: () => T): T {
    this.scope.push(prefix);
    try {
      return fn();
    } finally {
      this.scope.pop();
    }
  }

  private qualified(name: string): string {
    return [...this.scope, name].join('.');
  }

  private addValue(v: Omit<Value, 'id'>): Value {
    const value = { ...v, id: this.values.length };
    this.values.push(value);
    return value;
  }

  input(name: string, shape: readonly number[], dtype: DType): Value {
    return this.addValue({ name, shape: [...shape], dtype, kind: 'input' });
  }

  weight(name: string, tensor: Tensor): Value {
    return this.addValue({ name, shape: tensor.shape, dtype: tensor.dtype, kind: 'weight', tensor });
  }

  output(name: string, v: Value): void {
    if (v.kind === 'weight') throw new Error(`graph ${this.name}: output ${name} cannot be a weight`);
    this.outputs.set(name, v.id);
  }

  /** The same storage under another shape. */
  reshape(v: Value, shape: readonly number[]): Value {
    if (shapeSize(shape) !== shapeSize(v.shape)) throw new Error(`reshape ${formatShape(v.shape)} → ${formatShape(shape)}: sizes differ`);
    if (v.kind === 'weight') return this.addValue({ name: `${v.name}:reshaped`, shape: [...shape], dtype: v.dtype, kind: 'weight', tensor: v.tensor!.reshape(shape) });
    return this.addValue({ name: `${v.name}:reshaped`, shape: [...shape], dtype: v.dtype, kind: v.kind, aliasOf: v.aliasOf ?? v.id });
  }

  private node(op: string, name: string, inputs: Value[], outShapes: { shape: readonly number[]; dtype: DType }[], makeCall: GraphNode['makeCall']): Value[] {
    const full = this.qualified(name);
    const outs = outShapes.map((o, i) => this.addValue({ name: outShapes.length > 1 ? `${full}:${i}` : full, shape: [...o.shape], dtype: o.dtype, kind: 'temp' }));
    this.nodes.push({ index: this.nodes.length, op, name: full, inputs: inputs.map((v) => v.id), outputs: outs.map((v) => v.id), makeCall });
    return outs;
  }

  matmul(name: string, a: Value, b: Value, opts: MatmulNodeOptions = {}): Value {
    const { g, outShape } = matmulGeometry(a.shape, b.shape, opts.transposeB ?? false);
    Object.assign(g, opts.geometry ?? {});
    const shape = opts.outShape ?? outShape;
    if (shapeSize(shape) < (g.batch - 1) * g.strideC + (g.M - 1) * g.ldc + g.N) throw new Error(`${name}: output shape ${formatShape(shape)} too small`);
    if (opts.residual && !opts.geometry?.strideR && shapeSize(opts.residual.shape) !== shapeSize(shape)) {
      // A residual smaller than the output is shared by the batch (e.g. position embeddings).
      g.strideR = 0;
    }
    const ins = [a, b, ...(opts.bias ? [opts.bias] : []), ...(opts.residual ? [opts.residual] : [])];
    const hasBias = !!opts.bias;
    const hasRes = !!opts.residual;
    return this.node('matmul', name, ins, [{ shape, dtype: a.dtype }], (engine, t, [out]) =>
      matmulCall(engine, {
        a: t[0]!, b: t[1]!, out: out!,
        bias: hasBias ? t[2] : undefined,
        residual: hasRes ? t[hasBias ? 3 : 2] : undefined,
        activation: opts.activation ?? 'none',
        geometry: g,
      }),
    )[0]!;
  }

  layerNorm(name: string, x: Value, gamma: Value, beta: Value, eps: number): Value {
    return this.node('layernorm', name, [x, gamma, beta], [{ shape: x.shape, dtype: x.dtype }], (engine, [tx, tg, tb], [out]) =>
      layerNormCall(engine, tx!, tg!, tb!, out!, eps),
    )[0]!;
  }

  /** q, k, v may be the same value (a packed projection) read through the geometry's views. */
  attention(name: string, q: Value, k: Value, v: Value, g: AttentionGeometry): Value {
    return this.node('attention', name, [q, k, v], [{ shape: [g.B, g.Lq, g.H * g.D], dtype: q.dtype }], (engine, [tq, tk, tv], [out]) =>
      attentionCall(engine, tq!, tk!, tv!, out!, g),
    )[0]!;
  }

  embedding(name: string, ids: Value, table: Value, positions: Value): Value {
    return this.node('embedding', name, [ids, table, positions], [{ shape: [...ids.shape, table.shape[1]!], dtype: table.dtype }], (engine, [i, t, p], [out]) =>
      embeddingCall(engine, i!, t!, p!, out!),
    )[0]!;
  }

  patchify(name: string, pixels: Value, patch: number): Value {
    return this.node('patchify', name, [pixels], [{ shape: patchifyShape(pixels.shape, patch), dtype: pixels.dtype }], (engine, [x], [out]) =>
      patchifyCall(engine, x!, out!, patch),
    )[0]!;
  }

  add(name: string, x: Value, y: Value): Value {
    return this.node('add', name, [x, y], [{ shape: x.shape, dtype: x.dtype }], (engine, [tx, ty], [out]) =>
      elementwiseCall(engine, 'add', tx!, out!, { y: ty! }),
    )[0]!;
  }
}
