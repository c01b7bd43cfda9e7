/**
 * Activations a kernel can fuse (the matmul epilogue, the elementwise kernel), by code: the code is the `ACT`
 * define that shaders/activations.wgsl switches on, so a new activation is a line here, a function there and its
 * float64 reference below — no new flag in any kernel.
 */
import text from '../../shaders/activations.wgsl';
import { shader, type ShaderPart } from '../runtime/kernel.js';

export const ACTIVATIONS_WGSL: ShaderPart = shader('shaders/activations.wgsl', text);

export type Activation = 'none' | 'gelu_tanh' | 'quick_gelu';

export const ACTIVATION_CODE: Readonly<Record<Activation, number>> = { none: 0, gelu_tanh: 1, quick_gelu: 2 };

/** Hugging Face `hidden_act` names (and our own) for each activation. */
const NAMES: Readonly<Record<string, Activation>> = {
  none: 'none',
  gelu_tanh: 'gelu_tanh',
  gelu_pytorch_tanh: 'gelu_tanh',
  gelu_new: 'gelu_tanh',
  // 0.5·x·(1 + tanh(√(2/π)·x·(1 + 0.044715·x²))): the same function.
  gelu_fast: 'gelu_tanh',
  quick_gelu: 'quick_gelu',
};

export const ACTIVATION_NAMES: readonly string[] = Object.keys(NAMES);

export function parseActivation(a: string | undefined): Activation {
  if (a === undefined) return 'none';
  const act = NAMES[a];
  if (!act) throw new Error(`unsupported activation "${a}" (supported: ${ACTIVATION_NAMES.join(', ')})`);
  return act;
}

export function geluTanhRef(x: number): number {
  return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
}

export function quickGeluRef(x: number): number {
  return x / (1 + Math.exp(-1.702 * x));
}

/** The float64 reference of an activation. */
export function activationRef(act: Activation, x: number): number {
  if (act === 'gelu_tanh') return geluTanhRef(x);
  if (act === 'quick_gelu') return quickGeluRef(x);
  return x;
}
