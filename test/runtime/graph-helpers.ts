/** A toy kernel for runtime tests that need no real kernel: out = x·a + y·b (y optional), elementwise. */
import { uniformSchema, type KernelCall, type KernelDef, type Tensor } from '../../src/runtime/kernel.js';
import type { Graph, Value } from '../../src/runtime/graph.js';

const U = uniformSchema([['n', 'u32'], ['a', 'f32'], ['b', 'f32']]);
const text = `@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> y: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  if (g.x >= p.n) { return; }
  var v = x[g.x] * p.a;
  if (p.b != 0.0) { v += y[g.x] * p.b; }
  out[g.x] = v;
}`;
const AXPBY: KernelDef = { name: 'test_axpby', source: [{ file: 'test-axpby.wgsl', text }], inputs: 2, outputs: 1, uniforms: U };

export function axpbyCall(x: Tensor, y: Tensor | null, out: Tensor, a: number, b: number): KernelCall {
  return { kernel: AXPBY, spec: {}, tensors: [x, y, out], uniforms: U.pack({ n: out.size, a, b: y ? b : 0 }), workgroups: [Math.ceil(out.size / 64), 1, 1], flops: 2 * out.size, bytes: 12 * out.size };
}

/** A node computing x·a + y·b in a graph. */
export function axpby(g: Graph, name: string, x: Value, y: Value | null, a: number, b = 0): Value {
  return g.node('axpby', name, y ? [x, y] : [x], [{ shape: x.shape, dtype: 'f32' }], (_e, [tx, ty], [out]) => axpbyCall(tx!, y ? ty! : null, out!, a, b))[0]!;
}
