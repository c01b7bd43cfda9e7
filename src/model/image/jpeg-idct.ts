/**
 * The "accurate integer" inverse DCT (JDCT_ISLOW, libjpeg's default and what PIL uses): the Loeffler–Ligtenberg–
 * Moschytz factorization in 13-bit fixed point, columns first with 2 extra bits of precision (PASS1_BITS), then
 * rows, each output rounded with DESCALE (add half, arithmetic shift). Dequantization happens in the column pass.
 * The arithmetic is the same integer arithmetic as libjpeg-turbo's jidctint.c and its x86 SIMD versions, so the
 * samples are identical. The final clamp to 0..255 follows the SIMD code (saturating packs), which is what PIL on
 * x86-64 runs; the C version wraps instead, which differs only for absurd coefficients (|x| ≥ 512).
 */

// FIX(x) = round(x · 2^13)
const F_0_298631336 = 2446;
const F_0_390180644 = 3196;
const F_0_541196100 = 4433;
const F_0_765366865 = 6270;
const F_0_899976223 = 7373;
const F_1_175875602 = 9633;
const F_1_501321110 = 12299;
const F_1_847759065 = 15137;
const F_1_961570560 = 16069;
const F_2_053119869 = 16819;
const F_2_562915447 = 20995;
const F_3_072711026 = 25172;
const SCALE13 = 8192; // << CONST_BITS, written as a multiply so large values cannot wrap in int32

const ws = new Int32Array(64);

/**
 * One 8×8 block: `coefs[off..off+64)` (natural order) × `quant` → 8×8 samples at `out[o]`, rows `stride` apart.
 */
export function idctBlock(coefs: Int16Array, off: number, quant: Uint16Array, out: Uint8Array, o: number, stride: number): void {
  for (let col = 0; col < 8; col++) {
    const c = off + col;
    if (
      coefs[c + 8] === 0 && coefs[c + 16] === 0 && coefs[c + 24] === 0 && coefs[c + 32] === 0 &&
      coefs[c + 40] === 0 && coefs[c + 48] === 0 && coefs[c + 56] === 0
    ) {
      const dc = coefs[c] * quant[col] * 4; // << PASS1_BITS
      for (let r = 0; r < 64; r += 8) ws[col + r] = dc;
      continue;
    }
    // Even part.
    let z2 = coefs[c + 16] * quant[col + 16];
    let z3 = coefs[c + 48] * quant[col + 48];
    let z1 = (z2 + z3) * F_0_541196100;
    let tmp2 = z1 - z3 * F_1_847759065;
    let tmp3 = z1 + z2 * F_0_765366865;
    z2 = coefs[c] * quant[col];
    z3 = coefs[c + 32] * quant[col + 32];
    let tmp0 = (z2 + z3) * SCALE13;
    let tmp1 = (z2 - z3) * SCALE13;
    const tmp10 = tmp0 + tmp3;
    const tmp13 = tmp0 - tmp3;
    const tmp11 = tmp1 + tmp2;
    const tmp12 = tmp1 - tmp2;
    // Odd part.
    tmp3 = coefs[c + 8] * quant[col + 8];
    tmp2 = coefs[c + 24] * quant[col + 24];
    tmp1 = coefs[c + 40] * quant[col + 40];
    tmp0 = coefs[c + 56] * quant[col + 56];
    let z4 = tmp1 + tmp3;
    z3 = tmp0 + tmp2;
    z2 = tmp1 + tmp2;
    z1 = tmp0 + tmp3;
    const z5 = (z3 + z4) * F_1_175875602;
    tmp3 *= F_1_501321110;
    tmp2 *= F_3_072711026;
    tmp1 *= F_2_053119869;
    tmp0 *= F_0_298631336;
    z4 = z5 - z4 * F_0_390180644;
    z3 = z5 - z3 * F_1_961570560;
    z1 *= -F_0_899976223;
    z2 *= -F_2_562915447;
    tmp3 += z1 + z4;
    tmp2 += z2 + z3;
    tmp1 += z2 + z4;
    tmp0 += z1 + z3;
    // DESCALE(x, CONST_BITS - PASS1_BITS = 11)
    ws[col] = (tmp10 + tmp3 + 1024) >> 11;
    ws[col + 56] = (tmp10 - tmp3 + 1024) >> 11;
    ws[col + 8] = (tmp11 + tmp2 + 1024) >> 11;
    ws[col + 48] = (tmp11 - tmp2 + 1024) >> 11;
    ws[col + 16] = (tmp12 + tmp1 + 1024) >> 11;
    ws[col + 40] = (tmp12 - tmp1 + 1024) >> 11;
    ws[col + 24] = (tmp13 + tmp0 + 1024) >> 11;
    ws[col + 32] = (tmp13 - tmp0 + 1024) >> 11;
  }
  for (let row = 0; row < 64; row += 8, o += stride) {
    const w0 = ws[row];
    if (
      ws[row + 1] === 0 && ws[row + 2] === 0 && ws[row + 3] === 0 && ws[row + 4] === 0 &&
      ws[row + 5] === 0 && ws[row + 6] === 0 && ws[row + 7] === 0
    ) {
      const v = sample((w0 + 16) >> 5); // DESCALE(x, PASS1_BITS + 3)
      for (let i = 0; i < 8; i++) out[o + i] = v;
      continue;
    }
    let z2 = ws[row + 2];
    let z3 = ws[row + 6];
    let z1 = (z2 + z3) * F_0_541196100;
    let tmp2 = z1 - z3 * F_1_847759065;
    let tmp3 = z1 + z2 * F_0_765366865;
    let tmp0 = (w0 + ws[row + 4]) * SCALE13;
    let tmp1 = (w0 - ws[row + 4]) * SCALE13;
    const tmp10 = tmp0 + tmp3;
    const tmp13 = tmp0 - tmp3;
    const tmp11 = tmp1 + tmp2;
    const tmp12 = tmp1 - tmp2;
    tmp3 = ws[row + 1];
    tmp2 = ws[row + 3];
    tmp1 = ws[row + 5];
    tmp0 = ws[row + 7];
    let z4 = tmp1 + tmp3;
    z3 = tmp0 + tmp2;
    z2 = tmp1 + tmp2;
    z1 = tmp0 + tmp3;
    const z5 = (z3 + z4) * F_1_175875602;
    tmp3 *= F_1_501321110;
    tmp2 *= F_3_072711026;
    tmp1 *= F_2_053119869;
    tmp0 *= F_0_298631336;
    z4 = z5 - z4 * F_0_390180644;
    z3 = z5 - z3 * F_1_961570560;
    z1 *= -F_0_899976223;
    z2 *= -F_2_562915447;
    tmp3 += z1 + z4;
    tmp2 += z2 + z3;
    tmp1 += z2 + z4;
    tmp0 += z1 + z3;
    // DESCALE(x, CONST_BITS + PASS1_BITS + 3 = 18)
    const R = 1 << 17;
    out[o] = sample((tmp10 + tmp3 + R) >> 18);
    out[o + 7] = sample((tmp10 - tmp3 + R) >> 18);
    out[o + 1] = sample((tmp11 + tmp2 + R) >> 18);
    out[o + 6] = sample((tmp11 - tmp2 + R) >> 18);
    out[o + 2] = sample((tmp12 + tmp1 + R) >> 18);
    out[o + 5] = sample((tmp12 - tmp1 + R) >> 18);
    out[o + 3] = sample((tmp13 + tmp0 + R) >> 18);
    out[o + 4] = sample((tmp13 - tmp0 + R) >> 18);
  }
}

function sample(x: number): number {
  x += 128;
  return x < 0 ? 0 : x > 255 ? 255 : x;
}
