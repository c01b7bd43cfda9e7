// matmul, variant `sg2d`: register tiles with both operands shared between a subgroup's lanes.
//
// One subgroup per workgroup computes an (SR·TM) × (SC·TN) tile of C. Its SG = SR·SC lanes form an SR × SC grid;
// lane (lr, lc) = (sl / SC, sl % SC) owns TM rows × TN columns of the tile: rows row0 + lr·TM + i, and columns
// interleaved across the grid's columns so that neighbouring lanes read neighbouring memory (coalesced):
//  - B as [K, N]: vec4 column groups g0 + j·SC + lc (j < TN/4), four columns each;
//  - B as [N, K] (TRANS_B): columns col0 + j·SC + lc (j < TN), each a row of B read along k.
// Per 4 k the tile needs SR·TM vec4s of A (along k) and SC·TN vec4s of B. Every lane loads an equal share of both
// (TM/SC of A, TN/SR of B: no element is loaded twice within a subgroup) and subgroupShuffle hands each lane the
// TM + TN vec4s it multiplies. `regsg` is the SR = 1 corner of this (A shared, B not).
//
// Why (napkin math, per 4 k and lane, for TM·TN = 256 accumulators): a lane multiply-adds 4·TM·TN pairs from
// 4·(TM/SC + TN/SR) loaded elements: regsg 16×16 (SR 1, SC 8) loads 72 for 1024, SR 2 × SC 4 at 16×16 loads 48 —
// 1.5× fewer. On CPU drivers (lavapipe) each element a lane loads is a bounds check, a scalar load and an insert
// (10–20 instructions per lane in the generated code) while a shuffle is one permute for all 8 lanes; on GPUs it is
// register blocking across the lanes of a warp, with every element of the subgroup's A and B tiles read once.
//
// The products of a k-step are summed before they reach the accumulator (acc += a.x·b0 + … + a.w·b3 with B as
// [K, N], acc += dot(a, b) with B as [N, K]): the accumulators are the only values carried from one k-step to the
// next, and each is written once per step. On lavapipe a loop-carried value is blended with the execution mask
// each time it is written (a vblendvps), so one write per four multiply-adds instead of one per multiply-add
// matters there; on GPUs it is the same arithmetic.
// The loops over the tile index their arrays by their own counters (2-D arrays rather than computed flat indices):
// that is what let lavapipe's compiler unroll the k-step completely and keep the tile in registers (with a flat
// index it kept the row loop, and the kernel ran at half the speed). The epilogue reads a copy of the
// accumulators, so that they are never indexed by a value only known at run time.
//
// Defines: TM (a multiple of SC), TN (a multiple of 4 and of SR), SR, SC (SR·SC = the adapter's fixed subgroup
// size; one subgroup per workgroup), TRANS_B, VEC_A, VEC_B, HAS_BIAS, HAS_RES, ACT.
// Bindings, loaders and the epilogue: matmul-common.wgsl (prepended by src/kernels/matmul.ts).

const SG = SR * SC;
const TN4 = TN / 4;
// vec4s of A and of B this lane loads per 4 k.
const A_PER = TM / SC;
const B_PER = TN / SR;

@compute @workgroup_size(SG, 1, 1)
fn main_sg2d(@builtin(workgroup_id) wid: vec3<u32>, @builtin(subgroup_invocation_id) sl: u32) {
  let bIdx = wid.z;
  let lr = sl / SC;
  let lc = sl % SC;
  let row0 = wid.y * (SR * TM);
  let aBase = p.offA + bIdx * p.strideA;
  let bBase = bIdx * p.strideB;

  // A: slot s of lane (lr, lc) holds tile row lr·TM + s·SC + lc; lane (r, ·) finds its row i in slot i / SC of
  // lane r·SC + i % SC.
  var aRow: array<u32, A_PER>;
  for (var s = 0u; s < A_PER; s++) { aRow[s] = aBase + min(row0 + lr * TM + s * SC + lc, p.M - 1u) * p.lda; }

#if TRANS_B
  // B: the lane's column j (tile column j·SC + lc) sits in slot j / SR of lane lc + SC·(j % SR).
  let col0 = wid.x * (SC * TN);
  var bRow: array<u32, B_PER>;
  for (var s = 0u; s < B_PER; s++) { bRow[s] = bBase + min(col0 + (s * SR + lr) * SC + lc, p.N - 1u) * p.ldb; }
#else
  // B: piece idx = q·TN/4 + j (row k + q, column group j of the lane's grid column) sits in slot idx / SR of lane
  // lc + SC·(idx % SR). Each lane's share: its row offset q and column, fixed for the whole k loop.
  let g0 = wid.x * (SC * TN4);
  let lastCol = p.N - 1u;
  var bQ: array<u32, B_PER>;
  var bCol: array<u32, B_PER>;
  for (var s = 0u; s < B_PER; s++) {
    let idx = s * SR + lr;
    bQ[s] = idx / TN4;
    bCol[s] = min((g0 + (idx % TN4) * SC + lc) * 4u, lastCol);
  }
#endif

  var acc: array<array<vec4<f32>, TN4>, TM>;
  for (var i = 0u; i < TM; i++) { for (var j = 0u; j < TN4; j++) { acc[i][j] = vec4<f32>(0.0); } }

  for (var k = 0u; k < p.K; k += 4u) {
    // The lane's rows of A at k .. k + 3, from the lanes that loaded them.
    var mineA: array<vec4<f32>, A_PER>;
    for (var s = 0u; s < A_PER; s++) { mineA[s] = loadA4(aRow[s], k); }
    var av: array<vec4<f32>, TM>;
    for (var i = 0u; i < TM; i++) { av[i] = subgroupShuffle(mineA[i / SC], lr * SC + i % SC); }
    var mineB: array<vec4<f32>, B_PER>;
#if TRANS_B
    for (var s = 0u; s < B_PER; s++) { mineB[s] = loadB4(bRow[s] + min(k, p.K - 1u), bRow[s] + p.K - 1u); }
    // bc[j][c]: the lane's column 4·j + c at k .. k + 3.
    var bc: array<array<vec4<f32>, 4>, TN4>;
    for (var j = 0u; j < TN4; j++) {
      for (var c = 0u; c < 4u; c++) {
        let col = 4u * j + c;
        bc[j][c] = subgroupShuffle(mineB[col / SR], lc + SC * (col % SR));
      }
    }
    for (var i = 0u; i < TM; i++) {
      let a = av[i];
      for (var j = 0u; j < TN4; j++) {
        acc[i][j] += vec4<f32>(dot(a, bc[j][0]), dot(a, bc[j][1]), dot(a, bc[j][2]), dot(a, bc[j][3]));
      }
    }
#else
    for (var s = 0u; s < B_PER; s++) {
      let rowStart = bBase + min(k + bQ[s], p.K - 1u) * p.ldb;
      mineB[s] = loadB4(rowStart + bCol[s], rowStart + lastCol);
    }
    // bq[q][j]: row k + q of B, the lane's column group j.
    var bq: array<array<vec4<f32>, TN4>, 4>;
    for (var q = 0u; q < 4u; q++) {
      for (var j = 0u; j < TN4; j++) {
        let idx = q * TN4 + j;
        bq[q][j] = subgroupShuffle(mineB[idx / SR], lc + SC * (idx % SR));
      }
    }
    for (var i = 0u; i < TM; i++) {
      let a = av[i];
      for (var j = 0u; j < TN4; j++) {
        acc[i][j] += fma(vec4<f32>(a.w), bq[3][j], fma(vec4<f32>(a.z), bq[2][j], fma(vec4<f32>(a.y), bq[1][j], vec4<f32>(a.x) * bq[0][j])));
      }
    }
#endif
  }

  // The epilogue's loops may stay loops (each store carries the activation): they index a copy.
  let res = acc;
  for (var i = 0u; i < TM; i++) {
    let row = row0 + lr * TM + i;
    for (var j = 0u; j < TN4; j++) {
      for (var c = 0u; c < 4u; c++) {
#if TRANS_B
        let col = col0 + (4u * j + c) * SC + lc;
#else
        let col = (g0 + j * SC + lc) * 4u + c;
#endif
        if (row < p.M && col < p.N) {
          out[bIdx * p.strideC + row * p.ldc + col] = epilogue(bIdx, row, col, res[i][j][c]);
        }
      }
    }
  }
}
