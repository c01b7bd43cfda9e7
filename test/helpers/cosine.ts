/** Embedding fidelity: worst row cosine (NaN fails), argmax per row, and the gates compact weights must pass. */

/**
 * Cosine of image/text embeddings against f32's, per dtype (issue 14): f16 storage 0.9999, int8 0.999, 4-bit 0.99.
 * f16 activations (shader-f16 adapters) round every intermediate too, so int8 with them is held to int8's gate.
 */
export const COSINE_GATE = { f16: 0.9999, int8: 0.999, q4: 0.99, f16Act: 0.999 } as const;

/** The smallest cosine between matching rows of a and b ([rows, dim]); NaN anywhere gives NaN (which fails ≥). */
export function worstCosine(a: ArrayLike<number>, b: ArrayLike<number>, dim: number): number {
  if (a.length !== b.length || a.length % dim) throw new Error(`cosine: lengths ${a.length} and ${b.length} are not matching rows of ${dim}`);
  let worst = 1;
  for (let r = 0; r < a.length / dim; r++) {
    let ab = 0, aa = 0, bb = 0;
    for (let i = 0; i < dim; i++) {
      const x = a[r * dim + i]!, y = b[r * dim + i]!;
      ab += x * y; aa += x * x; bb += y * y;
    }
    const c = ab / Math.sqrt(aa * bb);
    if (Number.isNaN(c)) return NaN;
    worst = Math.min(worst, c);
  }
  return worst;
}

/** Index of the largest value of each row of [rows, cols]. */
export function argmaxRows(x: ArrayLike<number>, cols: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < x.length / cols; r++) {
    let best = 0;
    for (let c = 1; c < cols; c++) if (x[r * cols + c]! > x[r * cols + best]!) best = c;
    out.push(best);
  }
  return out;
}
