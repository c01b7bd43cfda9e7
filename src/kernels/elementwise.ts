/** Elementwise ops (shaders/elementwise.wgsl): add and mul with broadcasting, scale, and any fusable activation. */
import text from '../../shaders/elementwise.wgsl';
import { foldWorkgroups, formatShape, shader, uniformSchema, type UniformSchema, type KernelCall, type KernelContext, type KernelDef, type Tensor } from '../runtime/kernel.js';
import { ACTIVATION_CODE, ACTIVATIONS_WGSL, activationRef, type Activation } from './activations.js';

export const ELEMENTWISE_UNIFORMS = uniformSchema([['n', 'u32'], ['ny', 'u32'], ['alpha', 'f32'], ['beta', 'f32']]);
const SOURCE = [ACTIVATIONS_WGSL, shader('shaders/elementwise.wgsl', text)];
const UNARY: KernelDef = { name: 'elementwise_unary', source: SOURCE, inputs: 1, outputs: 1, uniforms: ELEMENTWISE_UNIFORMS };
const BINARY: KernelDef = { name: 'elementwise_binary', source: SOURCE, inputs: 2, outputs: 1, uniforms: ELEMENTWISE_UNIFORMS };

/** `activate` applies opts.activation (gelu_tanh, quick_gelu, …). */
export type ElementwiseOp = 'add' | 'mul' | 'scale' | 'activate';
const OP_CODE: Record<ElementwiseOp, number> = { add: 0, mul: 1, scale: 2, activate: 3 };
const WG = 256;

export interface ElementwiseOptions {
  y?: Tensor;
  alpha?: number;
  beta?: number;
  activation?: Activation;
}

/**
 * y broadcasts over x's leading dimensions: y's shape must equal the trailing dimensions of x's
 * (x [B, L, D] + y [L, D] or [D]), exactly or after dropping y's leading 1s.
 */
export function checkBroadcast(op: string, x: Tensor, y: Tensor): void {
  const ys = [...y.shape];
  while (ys.length > 1 && ys[0] === 1) ys.shift();
  const tail = x.shape.slice(x.shape.length - ys.length);
  if (ys.length > x.shape.length || tail.join(',') !== ys.join(',')) {
    throw new Error(`${op}(x ${formatShape(x.shape)}, y ${formatShape(y.shape)}): y must match x or x's trailing dimensions`);
  }
}

export function elementwiseCall(ctx: KernelContext, op: ElementwiseOp, x: Tensor, out: Tensor, opts: ElementwiseOptions = {}): KernelCall {
  const binary = op === 'add' || op === 'mul';
  const act = op === 'activate' ? opts.activation ?? 'none' : 'none';
  const name = op === 'activate' ? act : op;
  if (x.dtype === 'i32' || x.dtype === 'u32') throw new Error(`${name}: ${x.dtype} tensors are not supported`);
  if (out.dtype !== x.dtype) throw new Error(`${name}: out is ${out.dtype}, x is ${x.dtype}`);
  if (out.size !== x.size) throw new Error(`${name}: out ${formatShape(out.shape)} must match x ${formatShape(x.shape)}`);
  const y = opts.y;
  if (binary) {
    if (!y) throw new Error(`${op} needs a second operand`);
    if (y.dtype !== x.dtype) throw new Error(`${op}(x ${x.dtype}, y ${y.dtype}): dtypes differ`);
    checkBroadcast(op, x, y);
  }
  const alpha = opts.alpha ?? 1;
  const beta = opts.beta ?? 0;
  if (!Number.isFinite(alpha) || !Number.isFinite(beta)) throw new Error(`${name}: alpha and beta must be finite numbers`);
  return {
    kernel: binary ? BINARY : UNARY,
    spec: { dtype: x.dtype, defines: { OP: OP_CODE[op], BINARY: binary, ACT: ACTIVATION_CODE[act] }, overrides: { WG } },
    tensors: binary ? [x, y!, out] : [x, out],
    uniforms: ELEMENTWISE_UNIFORMS.pack({ n: x.size, ny: binary ? y!.size : 1, alpha, beta }),
    workgroups: foldWorkgroups(Math.ceil(x.size / WG), ctx.limits.maxComputeWorkgroupsPerDimension),
    flops: op === 'activate' ? 10 * x.size : x.size,
    bytes: (x.dtype === 'f16' ? 2 : 4) * (2 * x.size + (binary ? y!.size : 0)),
  };
}

export function elementwiseRef(op: ElementwiseOp, x: ArrayLike<number>, opts: { y?: ArrayLike<number>; alpha?: number; beta?: number; activation?: Activation } = {}): Float64Array {
  const out = new Float64Array(x.length);
  const y = opts.y;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (op === 'add') out[i] = v + y![i % y!.length]!;
    else if (op === 'mul') out[i] = v * y![i % y!.length]!;
    else if (op === 'scale') out[i] = (opts.alpha ?? 1) * v + (opts.beta ?? 0);
    else out[i] = activationRef(opts.activation ?? 'none', v);
  }
  return out;
}
