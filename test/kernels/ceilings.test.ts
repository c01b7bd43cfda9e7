/** The roofline probes compute what they claim (so their FLOP counts are real work), checked in float64. */
import { describe, expect, test } from 'vitest';
import { copyCall, fmaCall } from '../../src/kernels/ceilings.js';
import { submitCalls } from '../../src/ops/index.js';
import { expectClose, TOL } from '../helpers/compare.js';
import { testEngine } from '../helpers/engine.js';
import { makeRng, randn, testSeed } from '../helpers/random.js';

const engine = await testEngine();
const rng = makeRng(testSeed('ceilings'));

/** main_fma's chains for invocation i: a_j = s + j, then ITERS·UNROLL times a = a·0.999 + 0.001, summed in pairs. */
function fmaRef(invocations: number, steps: number): Float64Array {
  const out = new Float64Array(invocations * 4);
  for (let i = 0; i < invocations; i++) {
    const s = Math.fround(0.5) * ((i % 256) & 7);
    const a = Array.from({ length: 8 }, (_, j) => s + j);
    for (let k = 0; k < steps; k++) for (let j = 0; j < 8; j++) a[j] = a[j]! * 0.999 + 0.001;
    const v = a[0]! + a[1]! + (a[2]! + a[3]!) + (a[4]! + a[5]! + (a[6]! + a[7]!));
    out.fill(v, i * 4, i * 4 + 4);
  }
  return out;
}

describe('ceiling probes', () => {
  for (const [invocations, iters, unroll] of [[1, 1, 1], [7, 3, 1], [300, 5, 4], [65, 2, 8]] as const) {
    test(`fma: ${invocations} invocations × ${iters} iterations × ${unroll} rounds`, async () => {
      const dst = engine.empty([invocations * 4]);
      const call = fmaCall(engine.context, engine.empty([4]), dst, invocations, iters, unroll);
      expect(call.flops).toBe(invocations * iters * unroll * 8 * 4 * 2);
      submitCalls(engine, [call]);
      expectClose(await dst.read(), fmaRef(invocations, iters * unroll), TOL.kernelF32, 'fma probe');
    });
  }

  test('copy moves every element (odd and round sizes)', async () => {
    for (const n of [4, 28, 4 * 577]) {
      const data = randn(rng, n);
      const src = engine.tensor(data, [n]);
      const dst = engine.empty([n]);
      const call = copyCall(engine.context, src, dst);
      expect(call.bytes).toBe(2 * n * 4);
      submitCalls(engine, [call]);
      expect(Array.from(await dst.read())).toEqual(Array.from(Float32Array.from(data)));
    }
  });
});
