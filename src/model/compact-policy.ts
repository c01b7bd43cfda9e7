/**
 * Which format each weight matrix takes under a compact dtype, by its Hugging Face name — one rule for the loader
 * (quantizing at load) and the converter (writing a converted checkpoint), so both give the same bits.
 *
 * Under q4, the vision tower's first and last matrices stay int8 (one scale per output channel): the patch
 * embedding (every image token starts there, nothing averages its error away) and the attention-pooling head
 * (one probe query pools every token, then its MLP; a 4-bit error there lands on the embedding undamped). On the
 * fixtures, 4-bit everywhere gives image-embedding cosines of 0.982–0.99 against f32; with these int8, 0.998–0.999,
 * while text (4-bit throughout) stays ≥ 0.994. The cost is small: in SigLIP-large the head is 12·D² of the vision
 * tower's ~300·D² weights (4%), the patch embedding 0.8 M. llama.cpp's mixed q4 types keep sensitive tensors wider
 * for the same reason.
 */
import type { PackedFormat } from '../runtime/weight-format.js';

/** HF name prefixes that stay int8 (per output channel) when the model's dtype is q4. */
export const Q4_INT8_PREFIXES = ['vision_model.embeddings.patch_embedding.', 'vision_model.head.'] as const;

/**
 * The format (and group) of the matrix `hfName`, `cols` elements a row, when the model's matrices are packed as
 * `packed`. A group longer than the row would only pad it with zeros: int8 then takes one scale per row (which is
 * the same thing), q4 the largest group the row holds (32 at least).
 */
export function compactFormatFor(hfName: string, cols: number, packed: { format: PackedFormat; group: number }): { format: PackedFormat; group: number } {
  if (packed.format === 'q4' && Q4_INT8_PREFIXES.some((p) => hfName.startsWith(p))) return { format: 'int8', group: 0 };
  if (packed.group > cols) {
    if (packed.format === 'int8') return { format: 'int8', group: 0 };
    return { format: packed.format, group: cols >= 64 ? 64 : 32 };
  }
  return packed;
}
