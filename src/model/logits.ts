/** SigLIP's heads on the CPU (tiny next to the towers): L2 normalization and the sigmoid logits. */

/** Rows of x divided by their L2 norm (accumulated in float64). */
export function l2Normalize(x: Float32Array, dim: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let r = 0; r < x.length / dim; r++) {
    let s = 0;
    for (let i = 0; i < dim; i++) s += x[r * dim + i]! ** 2;
    const inv = 1 / Math.sqrt(s);
    for (let i = 0; i < dim; i++) out[r * dim + i] = x[r * dim + i]! * inv;
  }
  return out;
}

/**
 * logits_per_text[t, i] = text_t · image_i · exp(logit_scale) + logit_bias (embeddings already normalized);
 * logits_per_image is its transpose. Probabilities are sigmoid(logits), each pair on its own — not a softmax.
 */
export function siglipLogits(text: Float32Array, image: Float32Array, dim: number, logitScale: number, logitBias: number): { perText: Float32Array; perImage: Float32Array } {
  const T = text.length / dim;
  const B = image.length / dim;
  const scale = Math.exp(logitScale);
  const perText = new Float32Array(T * B);
  const perImage = new Float32Array(B * T);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < B; i++) {
      let s = 0;
      for (let k = 0; k < dim; k++) s += text[t * dim + k]! * image[i * dim + k]!;
      const v = s * scale + logitBias;
      perText[t * B + i] = v;
      perImage[i * T + t] = v;
    }
  }
  return { perText, perImage };
}

export function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}
