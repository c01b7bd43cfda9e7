/**
 * What a model's `dtype` means on an adapter: how its weights are stored and what its activations compute in.
 *
 *   dtype  weights (matrices: linear, patch embedding, token table)      activations (and norms, biases, positions)
 *   f32    f32                                                          f32
 *   f16    f16 tensors (with shader-f16), else f16 packed words        f16 with shader-f16, else f32
 *   int8   int8 codes, f32 scales per group of 128 (or per channel)    f32 (f16 on request, with shader-f16)
 *   q4     4-bit codes, f32 scales per group of 32 (or 64, 128)        f32 (f16 on request, with shader-f16)
 *
 * Packed weights are always [out, in] (scales run along the reduction axis) and are unpacked in registers by every
 * matmul variant.
 */
import type { Engine } from '../ops/index.js';
import { GROUP_SIZES, type PackedFormat } from '../runtime/weight-format.js';

export type ModelDType = 'f32' | 'f16' | 'int8' | 'q4';
export type ActivationDType = 'f32' | 'f16';

export const MODEL_DTYPES: readonly ModelDType[] = ['f32', 'f16', 'int8', 'q4'];

export function isModelDType(x: unknown): x is ModelDType {
  return (MODEL_DTYPES as readonly unknown[]).includes(x);
}

export interface DTypeOptions {
  dtype?: ModelDType;
  /** int8: 128 (default), 64, 32, or 0 (one scale per output channel); q4: 32 (default), 64 or 128. */
  group?: number;
  /** Default: f16 for dtype 'f16' on an adapter with shader-f16, else f32. */
  activations?: ActivationDType;
}

/**
 * The model's default groups. int8: 128, not one scale per output channel — a row's max is set by its few outlier
 * input channels and tail weights, and at SigLIP-large's depth that costs its text embedding the 0.999 cosine
 * (0.9989 per channel on realistic synthetic weights, 0.9996 in groups of 128; compact-fidelity-full.test.ts), for
 * 1/32 bit per weight more. q4: 32, the smallest group the format has.
 */
export const MODEL_DEFAULT_GROUP: Readonly<Record<'int8' | 'q4', number>> = { int8: 128, q4: 32 };

export interface ResolvedDType {
  dtype: ModelDType;
  activations: ActivationDType;
  /** How weight matrices are packed; null: plain tensors in the activation dtype. */
  packed: { format: PackedFormat; group: number } | null;
}

/** Resolves the options against the adapter; throws naming what is wrong and what to do instead. */
export function resolveDType(opts: DTypeOptions, hasF16: boolean, adapter: string): ResolvedDType {
  const dtype = opts.dtype ?? 'f32';
  if (!isModelDType(dtype)) throw new Error(`dtype ${JSON.stringify(dtype)} is not one of ${MODEL_DTYPES.join(', ')}`);
  const act = opts.activations ?? (dtype === 'f16' && hasF16 ? 'f16' : 'f32');
  if (act !== 'f32' && act !== 'f16') throw new Error(`activations ${JSON.stringify(act)} must be f32 or f16`);
  if (act === 'f16' && !hasF16) throw new Error(`f16 activations need the shader-f16 feature, which ${adapter} lacks; use activations 'f32' (weights may still be stored compact)`);
  if (dtype === 'f32' && act === 'f16') throw new Error("dtype 'f32' computes in f32; for f16 activations load with dtype 'f16' (or int8/q4 with activations 'f16')");
  if (opts.group !== undefined && dtype !== 'int8' && dtype !== 'q4') throw new Error(`group applies to int8 and q4 weights, not ${dtype}`);
  if (dtype === 'f32') return { dtype, activations: 'f32', packed: null };
  // f16 weights with f16 activations are plain f16 tensors (the native path); with f32 activations, packed words.
  if (dtype === 'f16') return { dtype, activations: act, packed: act === 'f16' ? null : { format: 'f16', group: 0 } };
  const group = opts.group ?? MODEL_DEFAULT_GROUP[dtype];
  if (!(GROUP_SIZES as readonly number[]).includes(group)) throw new Error(`group ${group} is not one of ${GROUP_SIZES.join(', ')} (0: one scale per output channel, int8 only)`);
  if (dtype === 'q4' && group === 0) throw new Error('q4 weights need a group size (32, 64 or 128): one scale per output channel loses too much');
  return { dtype, activations: act, packed: { format: dtype, group } };
}

export interface DTypeSupport {
  dtype: ModelDType;
  /** What weight matrices are stored as on this adapter. */
  weights: string;
  /** What the pass computes in by default. */
  computes: ActivationDType;
}

/** Which dtypes an engine runs and how (the CLI's `info`): every one, f16's compute depending on shader-f16. */
export function dtypeSupport(engine: Pick<Engine, 'hasF16'>): DTypeSupport[] {
  const f16 = engine.hasF16;
  return [
    { dtype: 'f32', weights: 'f32', computes: 'f32' },
    { dtype: 'f16', weights: f16 ? 'f16' : 'f16 (packed words, unpacked in registers)', computes: f16 ? 'f16' : 'f32' },
    { dtype: 'int8', weights: 'int8 + f32 scales per group of 128', computes: 'f32' },
    { dtype: 'q4', weights: '4-bit + f32 scales per group of 32', computes: 'f32' },
  ];
}
