/**
 * The byte account of compact weights, from a checkpoint's tensor list alone (names and shapes): what each dtype
 * stores on the device per tower, what a batch-1 pass of each tower reads of it, and what a converted checkpoint
 * holds on disk (the compact-weights scheme: docs/compact-weights.md). The benches print it beside what the engine
 * measured (engine.stats, model.weightBytes), so the two accounts check each other.
 *
 * Napkin math for the bandwidth prediction: at batch 1 a pass reads every weight of its tower once (the text tower
 * reads only the token table's rows it looks up), and nothing else of comparable size (SigLIP-large's vision
 * activations at 577 tokens × 1024 are ~2.4 MB a layer, its weights ~50 MB a layer in f32). So
 * weight bytes / memory bandwidth is a floor on the pass time of a bandwidth-bound GPU: 1.2 GB / 3.35 TB/s (H100
 * SXM's HBM3) = 0.36 ms for SigLIP-large's vision tower in f32.
 */
import { compactFormatFor } from '../src/model/compact-policy.js';
import { isCompactTarget } from '../src/model/compact-scheme.js';
import { MODEL_DEFAULT_GROUP } from '../src/model/model-dtype.js';
import { packedBytes, packedLayout, type PackedFormat } from '../src/runtime/weight-format.js';

export type BenchDType = 'f32' | 'f16' | 'int8' | 'q4';
export const BENCH_DTYPES: readonly BenchDType[] = ['f32', 'f16', 'int8', 'q4'];

/** H100 SXM (HBM3): 3.35 TB/s, NVIDIA's datasheet figure. */
export const H100_SXM_BYTES_PER_S = 3.35e12;

/** The default group of each compact dtype (model-dtype.ts: int8 groups of 128, q4 groups of 32; f16 has none). */
const GROUP: Record<Exclude<BenchDType, 'f32'>, number> = { f16: 0, ...MODEL_DEFAULT_GROUP };

export interface TensorInfo {
  name: string;
  shape: number[];
}

/** A weight matrix the compact dtypes pack (the scheme's rule, compact-scheme.ts). */
export function isMatrix(t: TensorInfo): boolean {
  return isCompactTarget(t.name, t.shape);
}

const numel = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Bytes of `rows` rows of matrix t in dtype d (f32: plain; others: codes and scales of their packed layout). */
function matrixBytes(t: TensorInfo, d: BenchDType, rows = t.shape[0]!): number {
  const cols = numel(t.shape) / t.shape[0]!;
  if (d === 'f32') return 4 * rows * cols;
  const f = compactFormatFor(t.name, cols, { format: d as PackedFormat, group: GROUP[d] });
  return packedBytes(packedLayout(f.format, rows, cols, f.group));
}

export interface ByteAccount {
  /** Device bytes of the weights, per tower and in all (an f32 checkpoint's non-matrix tensors stay f32). */
  device: { vision: number; text: number; total: number };
  /** Bytes a batch-1 pass of each tower reads: its weights, and `tokens` rows of the token table. */
  perPass: { vision: number; text: number };
  /** Bytes of the tensors of a converted checkpoint (f32: the source), headers excluded. */
  checkpoint: number;
}

/** The account of dtype d for a checkpoint whose tensors are `tensors` (all F32), text passes of `tokens` tokens. */
export function byteAccount(tensors: TensorInfo[], d: BenchDType, tokens: number): ByteAccount {
  const device = { vision: 0, text: 0, total: 0 };
  const perPass = { vision: 0, text: 0 };
  let checkpoint = 0;
  for (const t of tensors) {
    const tower = t.name.startsWith('vision_model.') ? 'vision' : t.name.startsWith('text_model.') ? 'text' : null;
    const matrix = isMatrix(t);
    const bytes = matrix ? matrixBytes(t, d) : 4 * numel(t.shape);
    // On disk, f16 keeps the original shape as F16 (no padding to the packed row), int8/q4 are the device's bytes.
    checkpoint += matrix && d === 'f16' ? 2 * numel(t.shape) : bytes;
    device.total += bytes;
    if (!tower) continue;
    device[tower] += bytes;
    perPass[tower] += t.name.endsWith('token_embedding.weight') ? matrixBytes(t, d, tokens) : bytes;
  }
  return { device, perPass, checkpoint };
}
