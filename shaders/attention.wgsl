// Multi-head attention, fused: out = softmax(Q·Kᵀ·scale)·V for every (batch, head), without ever storing the
// [heads, Lq, Lk] score matrix. Flash-style: one invocation per query row, keys visited in tiles of KT with an
// online softmax (running max m and sum l; the accumulator is rescaled once per tile, not once per key).
// Q, K and V are strided views (offset, row stride, batch stride; a batch stride of 0 broadcasts, e.g. the pooling
// head's single learned query), so a packed [B, L, 3·H·D] QKV projection is read in place. Head h occupies
// columns h·D .. h·D + D − 1 of each row, as HF's reshape(B, L, H, D) lays it out.
//
// Defines: D (head dim), KT (keys per tile), VEC (D, offsets and strides multiples of 4: vec4 loads),
// SHARED_KV (stage each K/V tile in workgroup memory: one global read per workgroup instead of one per
// invocation), QUAD (four queries per invocation, entry point main_quad: every K/V element loaded serves four
// queries — what pays on CPU drivers, where each per-invocation load costs a bounds check and an insert),
// SG_KV with SG (main_quad: the lanes of a subgroup, which all read the same keys, load ⌈DV / SG⌉ vec4s of each K
// and V row apiece and pass them around with subgroupShuffle instead of each loading the whole row; needs the
// `subgroups` feature, a fixed subgroup size SG and WGQ a multiple of SG. When SG does not divide DV — head dim 72
// is 18 vec4s over 8 lanes — the last round of loads is done by the first DV % SG lanes only: each vec4 of a row is
// still loaded once per subgroup).
// KEY_LEN (a fourth input, keyLen [B]: batch item b attends to its first keyLen[b] keys only — NaFlex's padding,
// masked as transformers' additive −∞ mask masks it: exp(−∞) = 0, so skipping the keys is exact).
// Override: WGQ (invocations per workgroup).
// Napkin math per (query, key): 2·D multiply-adds (score + weighted V), 1 exp; 2·D loads (D/2 with QUAD).
// Both entry points keep their per-query state in separate variables rather than arrays indexed by query:
// lavapipe's JIT took 20× longer to compile the array form.

// `Params` (B, Lq, Lk, H, each view's offset and strides, the output's strides, scale) is generated from
// ATTENTION_UNIFORMS in src/kernels/attention.ts.

#if VEC
@group(0) @binding(0) var<storage, read> q4: array<vec4<T>>;
@group(0) @binding(1) var<storage, read> k4: array<vec4<T>>;
@group(0) @binding(2) var<storage, read> v4: array<vec4<T>>;
#else
@group(0) @binding(0) var<storage, read> q1: array<T>;
@group(0) @binding(1) var<storage, read> k1: array<T>;
@group(0) @binding(2) var<storage, read> v1: array<T>;
#endif
#if KEY_LEN
@group(0) @binding(3) var<storage, read> keyLen: array<i32>;
@group(0) @binding(4) var<storage, read_write> out: array<T>;
@group(0) @binding(5) var<uniform> p: Params;
#else
@group(0) @binding(3) var<storage, read_write> out: array<T>;
@group(0) @binding(4) var<uniform> p: Params;
#endif

// Keys batch item b attends to (validated on the CPU to 1..Lk; clamped so a bug cannot read past the tensor).
fn keyCount(b: u32) -> u32 {
#if KEY_LEN
  return u32(clamp(keyLen[b], 1, i32(p.Lk)));
#else
  return p.Lk;
#endif
}

override WGQ: u32 = 64u;
const DV = (D + 3) / 4;
// SG_KV: rounds of loads of a K or V row (SG vec4s each), and how many lanes load in the last one (0: all).
const RPL = (DV + SG - 1) / SG;
const SG_REM = DV % SG;

// Elements c·4 .. c·4 + 3 of a head's row starting at flat index `base`; zero past D.
#if VEC
fn loadQ(base: u32, c: u32) -> vec4<f32> { return vec4<f32>(q4[base / 4u + c]); }
fn loadK(base: u32, c: u32) -> vec4<f32> { return vec4<f32>(k4[base / 4u + c]); }
fn loadV(base: u32, c: u32) -> vec4<f32> { return vec4<f32>(v4[base / 4u + c]); }
#else
fn gather4(base: u32, c: u32, which: u32) -> vec4<f32> {
  var r = vec4<f32>(0.0);
  for (var e = 0u; e < 4u; e++) {
    let d = 4u * c + e;
    if (d < D) {
      if (which == 0u) { r[e] = f32(q1[base + d]); }
      else if (which == 1u) { r[e] = f32(k1[base + d]); }
      else { r[e] = f32(v1[base + d]); }
    }
  }
  return r;
}
fn loadQ(base: u32, c: u32) -> vec4<f32> { return gather4(base, c, 0u); }
fn loadK(base: u32, c: u32) -> vec4<f32> { return gather4(base, c, 1u); }
fn loadV(base: u32, c: u32) -> vec4<f32> { return gather4(base, c, 2u); }
#endif

#if SHARED_KV
var<workgroup> kTile: array<vec4<f32>, KT * DV>;
var<workgroup> vTile: array<vec4<f32>, KT * DV>;

// Keys k0 .. k0 + KT − 1 (clamped to the last) into workgroup memory, all invocations sharing the copy.
fn stageTile(k0: u32, kBase: u32, vBase: u32, lid: u32) {
  for (var e = lid; e < KT * DV; e += WGQ) {
    let key = min(k0 + e / DV, p.Lk - 1u);
    kTile[e] = loadK(kBase + key * p.kRow, e % DV);
    vTile[e] = loadV(vBase + key * p.vRow, e % DV);
  }
  workgroupBarrier();
}
#endif

@compute @workgroup_size(WGQ, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let b = wid.z;
  let h = wid.y;
  let qi = wid.x * WGQ + lid;
  // Rows past Lq compute on a clamped row (they still take part in the barriers) and store nothing.
  let qr = min(qi, p.Lq - 1u);
  let qBase = p.qOff + b * p.qBatch + qr * p.qRow + h * D;
  let kBase = p.kOff + b * p.kBatch + h * D;
  let vBase = p.vOff + b * p.vBatch + h * D;
  let Lk = keyCount(b);

  var q: array<vec4<f32>, DV>;
  var acc: array<vec4<f32>, DV>;
  for (var c = 0u; c < DV; c++) { q[c] = loadQ(qBase, c) * p.scale; }
  var m = -3.0e38;
  var l = 0.0;

  for (var k0 = 0u; k0 < Lk; k0 += KT) {
    let n = min(KT, Lk - k0);
#if SHARED_KV
    stageTile(k0, kBase, vBase, lid);
#endif
    var s: array<f32, KT>;
    var tmax = m;
    for (var j = 0u; j < KT; j++) {
      if (j < n) {
        var d = vec4<f32>(0.0);
        for (var c = 0u; c < DV; c++) {
#if SHARED_KV
          d = fma(q[c], kTile[j * DV + c], d);
#else
          d = fma(q[c], loadK(kBase + (k0 + j) * p.kRow, c), d);
#endif
        }
        s[j] = (d.x + d.y) + (d.z + d.w);
        tmax = max(tmax, s[j]);
      }
    }
    let corr = exp(m - tmax);
    l *= corr;
    for (var c = 0u; c < DV; c++) { acc[c] *= corr; }
    m = tmax;
    for (var j = 0u; j < KT; j++) {
      if (j < n) {
        let pj = exp(s[j] - m);
        l += pj;
        for (var c = 0u; c < DV; c++) {
#if SHARED_KV
          acc[c] = fma(vec4<f32>(pj), vTile[j * DV + c], acc[c]);
#else
          acc[c] = fma(vec4<f32>(pj), loadV(vBase + (k0 + j) * p.vRow, c), acc[c]);
#endif
        }
      }
    }
#if SHARED_KV
    workgroupBarrier();
#endif
  }

  if (qi < p.Lq) {
    let oBase = b * p.oBatch + qi * p.oRow + h * D;
    let inv = 1.0 / l;
    for (var c = 0u; c < DV; c++) {
      let r = acc[c] * inv;
      for (var e = 0u; e < 4u; e++) {
        if (4u * c + e < D) { out[oBase + 4u * c + e] = T(r[e]); }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------- main_quad
// Four queries per invocation (rows 4·i .. 4·i + 3): scores, running maxima and sums are vec4s, one component
// per query; each K and V element is loaded once for the four.
@compute @workgroup_size(WGQ, 1, 1)
#if SG_KV
fn main_quad(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32,
             @builtin(subgroup_invocation_id) sl: u32) {
#else
fn main_quad(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
#endif
  let b = wid.z;
  let h = wid.y;
  let q0 = (wid.x * WGQ + lid) * 4u;
  let kBase = p.kOff + b * p.kBatch + h * D;
  let vBase = p.vOff + b * p.vBatch + h * D;
  let Lk = keyCount(b);
  let rows = min(vec4<u32>(q0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(p.Lq - 1u));
  let qb = vec4<u32>(p.qOff + b * p.qBatch + h * D) + rows * p.qRow;

  var qa: array<vec4<f32>, DV>;
  var qc: array<vec4<f32>, DV>;
  var qd: array<vec4<f32>, DV>;
  var qe: array<vec4<f32>, DV>;
  var aa = array<vec4<f32>, DV>();
  var ac = array<vec4<f32>, DV>();
  var ad = array<vec4<f32>, DV>();
  var ae = array<vec4<f32>, DV>();
  for (var c = 0u; c < DV; c++) {
    qa[c] = loadQ(qb.x, c) * p.scale;
    qc[c] = loadQ(qb.y, c) * p.scale;
    qd[c] = loadQ(qb.z, c) * p.scale;
    qe[c] = loadQ(qb.w, c) * p.scale;
  }
  var m = vec4<f32>(-3.0e38);
  var l = vec4<f32>(0.0);

  for (var k0 = 0u; k0 < Lk; k0 += KT) {
    let n = min(KT, Lk - k0);
#if SHARED_KV
    stageTile(k0, kBase, vBase, lid);
#endif
    var s = array<vec4<f32>, KT>();
    var tmax = m;
    for (var j = 0u; j < KT; j++) {
      if (j < n) {
        var da = vec4<f32>(0.0);
        var dc = vec4<f32>(0.0);
        var dd = vec4<f32>(0.0);
        var de = vec4<f32>(0.0);
#if SG_KV
        // Every lane needs the whole key row: each loads ⌈DV / SG⌉ of its vec4s (none past the row's end), shuffles hand
        // over the rest.
        var kMine = array<vec4<f32>, RPL>();
        for (var r = 0u; r < RPL; r++) {
          if (SG_REM == 0 || r + 1u < RPL || sl < SG_REM) { kMine[r] = loadK(kBase + (k0 + j) * p.kRow, r * SG + sl); }
        }
        // The whole row first, then the products: two short loops rather than one long one (compilers unroll loops
        // up to a budget; a single loop over head dim 72's 18 vec4s, shuffles and products together, was not
        // unrolled on lavapipe and ran at a third of the speed).
        var kRow: array<vec4<f32>, DV>;
        for (var c = 0u; c < DV; c++) { kRow[c] = subgroupShuffle(kMine[c / SG], c % SG); }
#endif
        for (var c = 0u; c < DV; c++) {
#if SHARED_KV
          let kv = kTile[j * DV + c];
#else
#if SG_KV
          let kv = kRow[c];
#else
          let kv = loadK(kBase + (k0 + j) * p.kRow, c);
#endif
#endif
          da = fma(qa[c], kv, da);
          dc = fma(qc[c], kv, dc);
          dd = fma(qd[c], kv, dd);
          de = fma(qe[c], kv, de);
        }
        let sj = vec4<f32>(dot(da, vec4<f32>(1.0)), dot(dc, vec4<f32>(1.0)), dot(dd, vec4<f32>(1.0)), dot(de, vec4<f32>(1.0)));
        s[j] = sj;
        tmax = max(tmax, sj);
      }
    }
    let corr = exp(m - tmax);
    l *= corr;
    for (var c = 0u; c < DV; c++) {
      aa[c] *= corr.x;
      ac[c] *= corr.y;
      ad[c] *= corr.z;
      ae[c] *= corr.w;
    }
    m = tmax;
    for (var j = 0u; j < KT; j++) {
      if (j < n) {
        let pj = exp(s[j] - m);
        l += pj;
#if SG_KV
        var vMine = array<vec4<f32>, RPL>();
        for (var r = 0u; r < RPL; r++) {
          if (SG_REM == 0 || r + 1u < RPL || sl < SG_REM) { vMine[r] = loadV(vBase + (k0 + j) * p.vRow, r * SG + sl); }
        }
        var vRow: array<vec4<f32>, DV>;
        for (var c = 0u; c < DV; c++) { vRow[c] = subgroupShuffle(vMine[c / SG], c % SG); }
#endif
        for (var c = 0u; c < DV; c++) {
#if SHARED_KV
          let vv = vTile[j * DV + c];
#else
#if SG_KV
          let vv = vRow[c];
#else
          let vv = loadV(vBase + (k0 + j) * p.vRow, c);
#endif
#endif
          aa[c] = fma(vec4<f32>(pj.x), vv, aa[c]);
          ac[c] = fma(vec4<f32>(pj.y), vv, ac[c]);
          ad[c] = fma(vec4<f32>(pj.z), vv, ad[c]);
          ae[c] = fma(vec4<f32>(pj.w), vv, ae[c]);
        }
      }
    }
#if SHARED_KV
    workgroupBarrier();
#endif
  }

  let inv = 1.0 / l;
  for (var c = 0u; c < DV; c++) {
    for (var e = 0u; e < 4u; e++) {
      let d = 4u * c + e;
      if (d < D) {
        let col = h * D + d;
        if (q0 < p.Lq) { out[b * p.oBatch + q0 * p.oRow + col] = T(aa[c][e] * inv.x); }
        if (q0 + 1u < p.Lq) { out[b * p.oBatch + (q0 + 1u) * p.oRow + col] = T(ac[c][e] * inv.y); }
        if (q0 + 2u < p.Lq) { out[b * p.oBatch + (q0 + 2u) * p.oRow + col] = T(ad[c][e] * inv.z); }
        if (q0 + 3u < p.Lq) { out[b * p.oBatch + (q0 + 3u) * p.oRow + col] = T(ae[c][e] * inv.w); }
      }
    }
  }
}
