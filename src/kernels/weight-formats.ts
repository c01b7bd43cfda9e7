/**
 * How kernels read packed weights (shaders/weight-formats.wgsl; the bit layout is src/runtime/weight-format.ts's):
 * the shader part, the defines that select a format, and what a kernel call is told about a packed operand. The
 * matmul family and the embedding lookup both read weights through it.
 */
import weightFormats from '../../shaders/weight-formats.wgsl';
import { shader, type PackedFormat, type ShaderPart, type Tensor } from '../runtime/kernel.js';

/** The WGSL of the formats (wLoad4, wLoad1), put before the kernel's own files. */
export const WEIGHT_FORMATS_WGSL: ShaderPart = shader('shaders/weight-formats.wgsl', weightFormats);

/**
 * A weight operand stored as packed words (a u32 tensor) rather than as a tensor of the activations' dtype: its
 * format, elements per scale along a row (0: one per row for int8, none for f16), and its f32 scales.
 */
export interface PackedB {
  format: PackedFormat;
  group: number;
  /** One per row when group is 0 (int8), one per group of the padded rows otherwise; null for f16. */
  scales: Tensor | null;
}

/** The defines that select how a weight is read (all false: it is a tensor of T). */
export function weightDefines(w: { format: PackedFormat; group: number } | undefined): Record<string, number | boolean> {
  return {
    W_PACKED: !!w,
    W_F16: w?.format === 'f16',
    W_I8: w?.format === 'int8',
    W_Q4: w?.format === 'q4',
    W_GROUP: w?.group ?? 0,
    // int8 with one scale per row: applied once per output (matmul epilogue, embedding row) rather than per weight.
    W_ROW_SCALE: !!w && w.format !== 'f16' && !w.group,
  };
}
