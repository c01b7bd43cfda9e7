// LayerNorm over the last dimension: y = (x − mean)·rsqrt(var + eps)·gamma + beta, biased variance as PyTorch.
// One workgroup per row; accumulation in f32 whatever T is. Two passes over the row (mean, then the mean of
// squared deviations) instead of E[x²] − E[x]², which cancels catastrophically when |mean| ≫ std.
// Reductions: SUBGROUPS → subgroupAdd then one workgroup step; otherwise a tree in workgroup memory.
// Defines: SUBGROUPS. Overrides: WG (a power of two ≤ the adapter's maxComputeInvocationsPerWorkgroup).

// `Params` (rows, D, eps): generated from LAYERNORM_UNIFORMS in src/kernels/layernorm.ts.

@group(0) @binding(0) var<storage, read> x: array<T>;
@group(0) @binding(1) var<storage, read> gamma: array<T>;
@group(0) @binding(2) var<storage, read> beta: array<T>;
@group(0) @binding(3) var<storage, read_write> out: array<T>;
@group(0) @binding(4) var<uniform> p: Params;

override WG: u32 = 256u;
var<workgroup> partial: array<f32, WG>;

#if SUBGROUPS
fn workgroupSum(v: f32, lid: u32, sgid: u32, sgsize: u32) -> f32 {
  let s = subgroupAdd(v);
  if (sgid == 0u) { partial[lid / sgsize] = s; }
  workgroupBarrier();
  var total = 0.0;
  let n = (WG + sgsize - 1u) / sgsize;
  for (var i = 0u; i < n; i++) { total += partial[i]; }
  workgroupBarrier();
  return total;
}
#else
fn workgroupSum(v: f32, lid: u32, sgid: u32, sgsize: u32) -> f32 {
  partial[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { partial[lid] += partial[lid + s]; }
    workgroupBarrier();
  }
  let total = partial[0];
  workgroupBarrier();
  return total;
}
#endif

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32
#if SUBGROUPS
        , @builtin(subgroup_invocation_id) sgid: u32, @builtin(subgroup_size) sgsize: u32
#endif
        ) {
#if !SUBGROUPS
  let sgid = 0u;
  let sgsize = 1u;
#endif
  let row = wid.x + wid.y * nwg.x;
  // Uniform across the workgroup, so every invocation reaches the barriers or none does.
  if (row >= p.rows) { return; }
  let base = row * p.D;
  var s = 0.0;
  for (var i = lid; i < p.D; i += WG) { s += f32(x[base + i]); }
  let mean = workgroupSum(s, lid, sgid, sgsize) / f32(p.D);
  var q = 0.0;
  for (var i = lid; i < p.D; i += WG) {
    let d = f32(x[base + i]) - mean;
    q += d * d;
  }
  let inv = inverseSqrt(workgroupSum(q, lid, sgid, sgsize) / f32(p.D) + p.eps);
  for (var i = lid; i < p.D; i += WG) {
    out[base + i] = T((f32(x[base + i]) - mean) * inv * f32(gamma[i]) + f32(beta[i]));
  }
}
