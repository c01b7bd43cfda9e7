/**
 * Comparing engine output with float64 references: ‖out − ref‖/‖ref‖ and max |out − ref|, the worst index, and
 * NaN (which never passes). Tolerances live in one table with the reason for each.
 */
import { expect } from 'vitest';

export const TOL = {
  /** fp32 kernels vs float64: rounding of K-long sums lands near 1e-7..1e-6; the issue asks ≤ 1e-5. */
  kernelF32: 1e-5,
  /** Whole fp32 models vs transformers in float64 (fixtures): 1e-4 per the house rules. */
  modelF32: 1e-4,
  /** f16 storage (11-bit mantissa) with f32 accumulation. */
  f16: 1e-2,
} as const;

export interface Diff {
  rel: number;
  maxAbs: number;
  worst: number;
  nan: number;
}

export function diff(out: ArrayLike<number>, ref: ArrayLike<number>): Diff {
  if (out.length !== ref.length) throw new Error(`length ${out.length} vs reference ${ref.length}`);
  let num = 0;
  let den = 0;
  let maxAbs = 0;
  let worst = -1;
  let nan = 0;
  for (let i = 0; i < out.length; i++) {
    const o = out[i]!;
    const r = ref[i]!;
    if (!Number.isFinite(o)) {
      nan++;
      if (worst < 0) worst = i;
      continue;
    }
    const d = Math.abs(o - r);
    num += d * d;
    den += r * r;
    if (d > maxAbs) {
      maxAbs = d;
      worst = i;
    }
  }
  return { rel: Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-30), maxAbs, worst, nan };
}

export function expectClose(out: ArrayLike<number>, ref: ArrayLike<number>, tol: number, what: string): Diff {
  const d = diff(out, ref);
  const msg =
    `${what}: rel ${d.rel.toExponential(2)} (tol ${tol.toExponential(0)}), max|Δ| ${d.maxAbs.toExponential(2)}, ` +
    `non-finite ${d.nan}, worst index ${d.worst} (out ${out[d.worst]}, ref ${ref[d.worst]})`;
  if (process.env.VERBOSE) console.log(msg);
  expect(d.nan, msg).toBe(0);
  expect(d.rel, msg).toBeLessThanOrEqual(tol);
  return d;
}
