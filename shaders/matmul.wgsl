// matmul family: C[b] = act(A[b]·B'[b] + bias) + R[b], with B' = B (B stored [K, N]) or Bᵀ (B stored [N, K],
// TRANS_B: how linear weights are stored). Any M, N, K; batched with per-operand batch strides (0 broadcasts a
// weight or a residual such as a position embedding over the batch); row strides and an A offset let A be a
// strided view (e.g. the last token of every sequence).
//
// Five entry points; which one (and its tiles) is picked per adapter above the kernels (src/ops/: the tuner and the
// adapter defaults; variants listed in src/kernels/matmul.ts):
//  - main_reg:   register tiling only. Each invocation computes TM×TN outputs from vec4 loads, no workgroup
//                memory, no barriers. Best on CPU drivers (lavapipe, SwiftShader) where a barrier is a context
//                switch; on GPUs it relies on the caches.
//  - main_reg_sg: main_reg with the loads of A shared between a subgroup's lanes (variant `regsg`; below).
//  - main_tiled: classic workgroup-memory tiling: a BM×BN tile per workgroup (BM = WG_Y·TM, BN = WG_X·TN),
//                A and B staged through workgroup memory BK deep, each invocation TM×TN outputs.
//  - main_rows:  a workgroup of TM rows, one column per invocation (an experiment for CPU drivers, kept as a
//                tuner candidate; see PERFORMANCE.md for why it lost on lavapipe).
//  - main_naive: one output per invocation: the benchmarks' baseline, never used for inference.
// All clamp load indices into range instead of branching (rows ≥ M and columns ≥ N read valid memory and are
// never stored; A is zeroed past K so the extra products vanish).
//
// Defines: TM, TN (TN % 4 == 0), TRANS_B, VEC_A (A rows vec4-aligned), VEC_B (B rows vec4-aligned along their
// contiguous axis), HAS_BIAS, HAS_RES, ACT (activation code, shaders/activations.wgsl), BK (main_tiled only), SHARE_A and SG (main_reg_sg).
// Napkin math, register tile TM×TN with vec4 loads: per 4 k, TM + TN/4·4 vec4 loads feed TM·TN multiply-adds.

// Bindings, loaders and the epilogue are in matmul-common.wgsl (prepended by src/kernels/matmul.ts).

override WG_X: u32 = 8u;
override WG_Y: u32 = 8u;

const TN4 = TN / 4;

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main_reg(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let bIdx = wid.z;
  let row0 = (wid.y * WG_Y + lid.y) * TM;
  let col0 = (wid.x * WG_X + lid.x) * TN;
  if (row0 >= p.M || col0 >= p.N) { return; }
  let aBase = p.offA + bIdx * p.strideA;
  let bBase = bIdx * p.strideB;

  var aRow: array<u32, TM>;
  for (var i = 0u; i < TM; i++) { aRow[i] = aBase + min(row0 + i, p.M - 1u) * p.lda; }

#if TRANS_B
  // B is [N, K]: both operands are read along k; acc holds per-lane partial sums, reduced at the end.
  var bRow: array<u32, TN>;
  for (var j = 0u; j < TN; j++) { bRow[j] = bBase + min(col0 + j, p.N - 1u) * p.ldb; }
  var acc: array<array<vec4<f32>, TN>, TM>;
  for (var k = 0u; k < p.K; k += 4u) {
    var av: array<vec4<f32>, TM>;
    for (var i = 0u; i < TM; i++) { av[i] = loadA4(aRow[i], k); }
    for (var j = 0u; j < TN; j++) {
      let bv = loadB4(bRow[j] + min(k, p.K - 1u), bRow[j] + p.K - 1u);
      for (var i = 0u; i < TM; i++) { acc[i][j] = fma(av[i], bv, acc[i][j]); }
    }
  }
  for (var i = 0u; i < TM; i++) {
    let row = row0 + i;
    if (row >= p.M) { break; }
    for (var j = 0u; j < TN; j++) {
      let col = col0 + j;
      if (col < p.N) {
        let s = acc[i][j];
        out[bIdx * p.strideC + row * p.ldc + col] = epilogue(bIdx, row, col, (s.x + s.y) + (s.z + s.w));
      }
    }
  }
#else
  // B is [K, N]: outer products of A's scalars with vec4 slices of B's rows.
  var acc: array<array<vec4<f32>, TN4>, TM>;
  let lastCol = p.N - 1u;
  for (var k = 0u; k < p.K; k += 4u) {
    var av: array<vec4<f32>, TM>;
    for (var i = 0u; i < TM; i++) { av[i] = loadA4(aRow[i], k); }
    for (var q = 0u; q < 4u; q++) {
      let rowStart = bBase + min(k + q, p.K - 1u) * p.ldb;
      for (var j = 0u; j < TN4; j++) {
        let bv = loadB4(rowStart + min(col0 + 4u * j, lastCol), rowStart + lastCol);
        for (var i = 0u; i < TM; i++) { acc[i][j] = fma(vec4<f32>(av[i][q]), bv, acc[i][j]); }
      }
    }
  }
  for (var i = 0u; i < TM; i++) {
    let row = row0 + i;
    if (row >= p.M) { break; }
    for (var j = 0u; j < TN4; j++) {
      for (var c = 0u; c < 4u; c++) {
        let col = col0 + 4u * j + c;
        if (col < p.N) {
          out[bIdx * p.strideC + row * p.ldc + col] = epilogue(bIdx, row, col, acc[i][j][c]);
        }
      }
    }
  }
#endif
}

// ---------------------------------------------------------------------------------------------- main_reg_sg
// main_reg with A shared through the subgroup (B as [K, N] or [N, K] alike): all lanes of a workgroup row compute
// the same TM rows, so instead of every lane loading all TM rows of A, lane l loads rows l, l + SG, … and
// subgroupShuffle hands each lane the rest. Per 4 k a lane then loads TM/SG + TN vec4s instead of TM + TN: on a
// CPU driver, where every per-lane load is a scalar loop, that is the cost; on a GPU it saves load bandwidth the
// way register blocking across a warp does. Needs the `subgroups` feature and a fixed subgroup size SG (TM % SG
// == 0, WG_X % SG == 0). No early return: subgroup operations need every lane of the subgroup.
// Why a second entry point and not `#if` blocks in main_reg: the merged form (tried, same arithmetic) took lavapipe
// 10× longer to compile and ran at 2/3 of this one's speed (20–22 against 30–31 GFLOP/s at 576×4096×1024).
#if SHARE_A
@compute @workgroup_size(WG_X, 1, 1)
fn main_reg_sg(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
               @builtin(subgroup_invocation_id) sl: u32) {
  let bIdx = wid.z;
  let row0 = wid.y * TM;
  let col0 = (wid.x * WG_X + lid.x) * TN;
  let aBase = p.offA + bIdx * p.strideA;
  let bBase = bIdx * p.strideB;
  const RPL = TM / SG;
  var aRow: array<u32, RPL>;
  for (var r = 0u; r < RPL; r++) { aRow[r] = aBase + min(row0 + r * SG + sl, p.M - 1u) * p.lda; }
#if TRANS_B
  var bRow: array<u32, TN>;
  for (var j = 0u; j < TN; j++) { bRow[j] = bBase + min(col0 + j, p.N - 1u) * p.ldb; }
  var acc: array<array<vec4<f32>, TN>, TM>;
  for (var i = 0u; i < TM; i++) { for (var j = 0u; j < TN; j++) { acc[i][j] = vec4<f32>(0.0); } }
  for (var k = 0u; k < p.K; k += 4u) {
    var mine: array<vec4<f32>, RPL>;
    for (var r = 0u; r < RPL; r++) { mine[r] = loadA4(aRow[r], k); }
    var av: array<vec4<f32>, TM>;
    for (var i = 0u; i < TM; i++) { av[i] = subgroupShuffle(mine[i / SG], i % SG); }
    for (var j = 0u; j < TN; j++) {
      let bv = loadB4(bRow[j] + min(k, p.K - 1u), bRow[j] + p.K - 1u);
      for (var i = 0u; i < TM; i++) { acc[i][j] = fma(av[i], bv, acc[i][j]); }
    }
  }
  for (var i = 0u; i < TM; i++) {
    let row = row0 + i;
    for (var j = 0u; j < TN; j++) {
      let col = col0 + j;
      if (row < p.M && col < p.N) {
        let s = acc[i][j];
        out[bIdx * p.strideC + row * p.ldc + col] = epilogue(bIdx, row, col, (s.x + s.y) + (s.z + s.w));
      }
    }
  }
#else
  var acc: array<array<vec4<f32>, TN4>, TM>;
  for (var i = 0u; i < TM; i++) { for (var j = 0u; j < TN4; j++) { acc[i][j] = vec4<f32>(0.0); } }
  let lastCol = p.N - 1u;
  for (var k = 0u; k < p.K; k += 4u) {
    var mine: array<vec4<f32>, RPL>;
    for (var r = 0u; r < RPL; r++) { mine[r] = loadA4(aRow[r], k); }
    var av: array<vec4<f32>, TM>;
    for (var i = 0u; i < TM; i++) { av[i] = subgroupShuffle(mine[i / SG], i % SG); }
    for (var q = 0u; q < 4u; q++) {
      let rowStart = bBase + min(k + q, p.K - 1u) * p.ldb;
      for (var j = 0u; j < TN4; j++) {
        let bv = loadB4(rowStart + min(col0 + 4u * j, lastCol), rowStart + lastCol);
        for (var i = 0u; i < TM; i++) { acc[i][j] = fma(vec4<f32>(av[i][q]), bv, acc[i][j]); }
      }
    }
  }
  for (var i = 0u; i < TM; i++) {
    let row = row0 + i;
    for (var j = 0u; j < TN4; j++) {
      for (var c = 0u; c < 4u; c++) {
        let col = col0 + 4u * j + c;
        if (row < p.M && col < p.N) {
          out[bIdx * p.strideC + row * p.ldc + col] = epilogue(bIdx, row, col, acc[i][j][c]);
        }
      }
    }
  }
#endif
}
#endif

// ---------------------------------------------------------------------------------------------- main_tiled
// Workgroup tile BM×BN, staged BK deep: As is [BK][BM] and Bs is [BK][BN] (k-major), so that an invocation reads
// its TM rows / TN columns at one k as contiguous runs.
const BM = TM * 16;
const BN = TN * 16;
var<workgroup> As: array<f32, BK * BM>;
var<workgroup> Bs: array<f32, BK * BN>;

@compute @workgroup_size(16, 16, 1)
fn main_tiled(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
              @builtin(local_invocation_index) t: u32) {
  let bIdx = wid.z;
  let m0 = wid.y * BM;
  let n0 = wid.x * BN;
  let aBase = p.offA + bIdx * p.strideA;
  let bBase = bIdx * p.strideB;
  var acc: array<array<f32, TN>, TM>;

  for (var k0 = 0u; k0 < p.K; k0 += BK) {
    // Stage A[m0.., k0..k0+BK): BM·BK/4 vec4 loads along k, 256 invocations.
    for (var l = t; l < BM * BK / 4u; l += 256u) {
      let r = l / (BK / 4u);
      let kq = (l % (BK / 4u)) * 4u;
      let v = loadA4(aBase + min(m0 + r, p.M - 1u) * p.lda, k0 + kq);
      for (var c = 0u; c < 4u; c++) { As[(kq + c) * BM + r] = v[c]; }
    }
#if TRANS_B
    // B is [N, K]: stage rows n0.. along k, transposing into Bs.
    for (var l = t; l < BN * BK / 4u; l += 256u) {
      let r = l / (BK / 4u);
      let kq = (l % (BK / 4u)) * 4u;
      let rowStart = bBase + min(n0 + r, p.N - 1u) * p.ldb;
      let v = loadB4(rowStart + min(k0 + kq, p.K - 1u), rowStart + p.K - 1u);
      for (var c = 0u; c < 4u; c++) { Bs[(kq + c) * BN + r] = v[c]; }
    }
#else
    for (var l = t; l < BN * BK / 4u; l += 256u) {
      let kr = l / (BN / 4u);
      let cq = (l % (BN / 4u)) * 4u;
      let rowStart = bBase + min(k0 + kr, p.K - 1u) * p.ldb;
      let v = loadB4(rowStart + min(n0 + cq, p.N - 1u), rowStart + p.N - 1u);
      for (var c = 0u; c < 4u; c++) { Bs[kr * BN + cq + c] = v[c]; }
    }
#endif
    workgroupBarrier();
    for (var kk = 0u; kk < BK; kk++) {
      var av: array<f32, TM>;
      for (var i = 0u; i < TM; i++) { av[i] = As[kk * BM + lid.y * TM + i]; }
      for (var j = 0u; j < TN; j++) {
        let bv = Bs[kk * BN + lid.x * TN + j];
        for (var i = 0u; i < TM; i++) { acc[i][j] = fma(av[i], bv, acc[i][j]); }
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < TM; i++) {
    let row = m0 + lid.y * TM + i;
    if (row >= p.M) { break; }
    for (var j = 0u; j < TN; j++) {
      let col = n0 + lid.x * TN + j;
      if (col < p.N) {
        out[bIdx * p.strideC + row * p.ldc + col] = epilogue(bIdx, row, col, acc[i][j]);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------- main_rows
// For CPU drivers that run invocations as SIMD lanes (lavapipe, SwiftShader): a workgroup covers TM rows and WG_X
// columns, one column per invocation. A's addresses depend only on the workgroup, so the driver loads each A
// element once and broadcasts it; only B (one element per lane and k) needs a per-lane load, which there is a
// scalar load, a bounds check and an insert. Per k: TM multiply-adds per per-lane load.
@compute @workgroup_size(WG_X, 1, 1)
fn main_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let bIdx = wid.z;
  let row0 = wid.y * TM;
  let col = min(wid.x * WG_X + lid, p.N - 1u);
  let aBase = p.offA + bIdx * p.strideA;
  let bBase = bIdx * p.strideB;
  var acc: array<f32, TM>;
  for (var k = 0u; k < p.K; k += 4u) {
#if TRANS_B
    let rowStart = bBase + col * p.ldb;
    let bv = loadB4(rowStart + min(k, p.K - 1u), rowStart + p.K - 1u);
#else
    var bv: vec4<f32>;
    for (var q = 0u; q < 4u; q++) { bv[q] = loadB1(bBase + min(k + q, p.K - 1u) * p.ldb + col); }
#endif
    for (var i = 0u; i < TM; i++) {
      let av = loadA4(aBase + min(row0 + i, p.M - 1u) * p.lda, k);
      acc[i] = fma(av.x, bv.x, acc[i]);
      acc[i] = fma(av.y, bv.y, acc[i]);
      acc[i] = fma(av.z, bv.z, acc[i]);
      acc[i] = fma(av.w, bv.w, acc[i]);
    }
  }
  let c = wid.x * WG_X + lid;
  if (c >= p.N) { return; }
  for (var i = 0u; i < TM; i++) {
    let row = row0 + i;
    if (row < p.M) { out[bIdx * p.strideC + row * p.ldc + c] = epilogue(bIdx, row, c, acc[i]); }
  }
}

// ---------------------------------------------------------------------------------------------- main_naive
// The textbook kernel, one output per invocation and a scalar loop over k: the baseline the benchmarks compare
// the tiled variants against. Not used for inference.
@compute @workgroup_size(WG_X, WG_Y, 1)
fn main_naive(@builtin(global_invocation_id) gid: vec3<u32>) {
  let col = gid.x;
  let row = gid.y;
  let bIdx = gid.z;
  if (row >= p.M || col >= p.N) { return; }
  let aBase = p.offA + bIdx * p.strideA + row * p.lda;
  var acc = 0.0;
  for (var k = 0u; k < p.K; k++) {
#if TRANS_B
    let bi = bIdx * p.strideB + col * p.ldb + k;
#else
    let bi = bIdx * p.strideB + k * p.ldb + col;
#endif
#if VEC_A
    let av = f32(a4[(aBase + k) / 4u][(aBase + k) % 4u]);
#else
    let av = f32(a1[aBase + k]);
#endif
    acc = fma(av, loadB1(bi), acc);
  }
  out[bIdx * p.strideC + row * p.ldc + col] = epilogue(bIdx, row, col, acc);
}
