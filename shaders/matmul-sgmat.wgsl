// matmul on subgroup matrices (tensor cores / simdgroup matrices), Dawn's `chromium_experimental_subgroup_matrix`:
// the same C = act(A·B' + bias) + R as matmul.wgsl, for adapters that offer the feature. Bindings, loaders and
// the epilogue are matmul-common.wgsl's.
//
// One subgroup per workgroup (WG invocations = the adapter's maximum subgroup size, as the extension requires):
// every matrix offset then derives from the workgroup id and loop counters alone, so it is truly uniform. WGSL's
// analysis cannot prove the same of matrices loaded from workgroup memory, so src/kernels/matmul.ts compiles this
// kernel with the chromium.subgroup_matrix_uniformity diagnostic off. The workgroup computes a TILE_M × TILE_N tile as
// RM × RN result matrices of SM × SN (the adapter's M × N), K-steps of SK:
//  1. stage A[m0.., k0..k0+BK) and B'[k0.., n0..) into workgroup memory, converted to the component type CT and
//     zero-padded past M, N and K (so loads of whole matrices never leave the tile, whatever the shape);
//  2. per SK-step, load RM left and RN right matrices from the staged tiles and multiply-accumulate (result type
//     RT: f32, so f16 inputs still accumulate in f32);
//  3. store each result matrix to a small workgroup buffer and apply the epilogue element by element, writing only
//     elements inside M × N.
//
// Defines: SM, SN, SK (one of the adapter's subgroup-matrix configurations), RM, RN (result matrices per tile),
// BK (staged depth, a multiple of SK and of 4), WG (invocations), SGMAT (true: the hardware builtins; false: a
// plain-WGSL stand-in with the builtins' exact semantics, one invocation doing a whole matrix — for testing this
// kernel's tiling on adapters without the feature, never for speed), and matmul-common's defines.
// Aliases: CT (matrix component type, = T), RT (result type).

const TILE_M = RM * SM;
const TILE_N = RN * SN;
// B' staged k-major ([BK][TILE_N], row-major right matrices) when B is [K, N]; n-major ([TILE_N][BK], read as
// column-major right matrices) when B is [N, K], so both layouts stage with contiguous loads along B's rows.
const B_COL_MAJOR = TRANS_B;
const B_STRIDE = select(TILE_N, BK, TRANS_B);

var<workgroup> Sa: array<CT, TILE_M * BK>;
var<workgroup> Sb: array<CT, BK * TILE_N>;
var<workgroup> Sc: array<RT, SM * SN>;

#if SGMAT
alias LeftM = subgroup_matrix_left<CT, SK, SM>;
alias RightM = subgroup_matrix_right<CT, SN, SK>;
alias AccM = subgroup_matrix_result<RT, SN, SM>;

fn zeroAcc() -> AccM { return AccM(); }
// Sa is row-major [TILE_M][BK]: the left matrix at `off` has row stride BK.
fn loadLeft(off: u32) -> LeftM { return subgroupMatrixLoad<LeftM>(&Sa, off, false, BK); }
fn loadRight(off: u32) -> RightM { return subgroupMatrixLoad<RightM>(&Sb, off, B_COL_MAJOR, B_STRIDE); }
fn mma(a: LeftM, b: RightM, c: AccM) -> AccM { return subgroupMatrixMultiplyAccumulate(a, b, c); }
// `lane` is unused: the store is a subgroup operation.
fn storeAcc(c: AccM, lane: u32) { subgroupMatrixStore(&Sc, 0u, c, false, SN); }
#else
// Stand-ins: each invocation holds whole matrices (row-major arrays) and computes the whole product; the store is
// split over the lanes so that no two invocations write the same element.
struct LeftM { v: array<f32, SM * SK> }
struct RightM { v: array<f32, SK * SN> }
struct AccM { v: array<f32, SM * SN> }

fn zeroAcc() -> AccM {
  var c: AccM;
  for (var e = 0u; e < SM * SN; e++) { c.v[e] = 0.0; }
  return c;
}
fn loadLeft(off: u32) -> LeftM {
  var m: LeftM;
  for (var r = 0u; r < SM; r++) {
    for (var c = 0u; c < SK; c++) { m.v[r * SK + c] = f32(Sa[off + r * BK + c]); }
  }
  return m;
}
fn loadRight(off: u32) -> RightM {
  var m: RightM;
  for (var r = 0u; r < SK; r++) {
    for (var c = 0u; c < SN; c++) {
      let i = select(off + r * B_STRIDE + c, off + c * B_STRIDE + r, B_COL_MAJOR);
      m.v[r * SN + c] = f32(Sb[i]);
    }
  }
  return m;
}
fn mma(a: LeftM, b: RightM, c: AccM) -> AccM {
  var d = c;
  for (var r = 0u; r < SM; r++) {
    for (var n = 0u; n < SN; n++) {
      var s = d.v[r * SN + n];
      for (var k = 0u; k < SK; k++) { s = fma(a.v[r * SK + k], b.v[k * SN + n], s); }
      d.v[r * SN + n] = s;
    }
  }
  return d;
}
fn storeAcc(c: AccM, lane: u32) {
  for (var e = lane; e < SM * SN; e += WG) { Sc[e] = RT(c.v[e]); }
}
#endif

@compute @workgroup_size(WG, 1, 1)
fn main_sgmat(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let bIdx = wid.z;
  let m0 = wid.y * TILE_M;
  let n0 = wid.x * TILE_N;
  let aBase = p.offA + bIdx * p.strideA;
  let bBase = bIdx * p.strideB;

  var acc: array<array<AccM, RN>, RM>;
  for (var i = 0u; i < RM; i++) {
    for (var j = 0u; j < RN; j++) { acc[i][j] = zeroAcc(); }
  }

  for (var k0 = 0u; k0 < p.K; k0 += BK) {
    // Stage A: rows past M are zeros (not clamped copies), so every staged product is a real one or zero.
    for (var l = lane; l < TILE_M * BK / 4u; l += WG) {
      let r = l / (BK / 4u);
      let kq = (l % (BK / 4u)) * 4u;
      let row = m0 + r;
      let v = select(vec4<f32>(0.0), loadA4(aBase + min(row, p.M - 1u) * p.lda, k0 + kq), row < p.M);
      for (var c = 0u; c < 4u; c++) { Sa[r * BK + kq + c] = CT(v[c]); }
    }
#if TRANS_B
    for (var l = lane; l < TILE_N * BK / 4u; l += WG) {
      let r = l / (BK / 4u);
      let kq = (l % (BK / 4u)) * 4u;
      let col = n0 + r;
      let rowStart = bBase + min(col, p.N - 1u) * p.ldb;
      let kk = vec4<u32>(k0 + kq) + vec4<u32>(0u, 1u, 2u, 3u);
      let v = select(vec4<f32>(0.0), loadB4(rowStart + min(k0 + kq, p.K - 1u), rowStart + p.K - 1u),
                     (kk < vec4<u32>(p.K)) & vec4<bool>(col < p.N));
      for (var c = 0u; c < 4u; c++) { Sb[r * BK + kq + c] = CT(v[c]); }
    }
#else
    for (var l = lane; l < TILE_N * BK / 4u; l += WG) {
      let kr = l / (TILE_N / 4u);
      let cq = (l % (TILE_N / 4u)) * 4u;
      let rowStart = bBase + min(k0 + kr, p.K - 1u) * p.ldb;
      let cols = vec4<u32>(n0 + cq) + vec4<u32>(0u, 1u, 2u, 3u);
      let v = select(vec4<f32>(0.0), loadB4(rowStart + min(n0 + cq, p.N - 1u), rowStart + p.N - 1u),
                     (cols < vec4<u32>(p.N)) & vec4<bool>(k0 + kr < p.K));
      for (var c = 0u; c < 4u; c++) { Sb[kr * TILE_N + cq + c] = CT(v[c]); }
    }
#endif
    workgroupBarrier();
    for (var kk = 0u; kk < BK; kk += SK) {
      for (var j = 0u; j < RN; j++) {
        let b = loadRight(select(kk * TILE_N + j * SN, j * SN * BK + kk, TRANS_B));
        for (var i = 0u; i < RM; i++) {
          acc[i][j] = mma(loadLeft(i * SM * BK + kk), b, acc[i][j]);
        }
      }
    }
    workgroupBarrier();
  }

  for (var i = 0u; i < RM; i++) {
    for (var j = 0u; j < RN; j++) {
      storeAcc(acc[i][j], lane);
      workgroupBarrier();
      for (var e = lane; e < SM * SN; e += WG) {
        let row = m0 + i * SM + e / SN;
        let col = n0 + j * SN + e % SN;
        if (row < p.M && col < p.N) {
          out[bIdx * p.strideC + row * p.ldc + col] = epilogue(bIdx, row, col, f32(Sc[e]));
        }
      }
      workgroupBarrier();
    }
  }
}
