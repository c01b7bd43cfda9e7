/**
 * Graph IR: values (inputs, weights, intermediates) and nodes (one kernel launch each), built once per
 * (tower, batch size, dtype) and compiled into a plan (executor.ts). The IR knows no kernel and no model: a node
 * carries a function that makes its KernelCall from the tensors the planner assigns. The op builders that add
 * nodes (matmul, linear, attention, …) live above the kernels, in src/ops/graph-ops.ts.
 */
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

  /** A name inside the current `within` scopes: "vision.layers.3.fc1". */
  qualified(name: string): string {
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

  /**
   * Adds a node computing `outShapes` from `inputs` with the call `makeCall` builds at compile time; returns its
   * output values. Op builders (src/ops/graph-ops.ts) are the callers.
   */
  node(op: string, name: string, inputs: Value[], outShapes: { shape: readonly number[]; dtype: DType }[], makeCall: GraphNode['makeCall']): Value[] {
    const full = this.qualified(name);
    const outs = outShapes.map((o, i) => this.addValue({ name: outShapes.length > 1 ? `${full}:${i}` : full, shape: [...o.shape], dtype: o.dtype, kind: 'temp' }));
    this.nodes.push({ index: this.nodes.length, op, name: full, inputs: inputs.map((v) => v.id), outputs: outs.map((v) => v.id), makeCall });
    return outs;
  }
}
