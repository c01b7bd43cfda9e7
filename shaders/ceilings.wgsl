// Ceiling probes for the roofline (bench/): what this adapter can do at best.
//  - main_fma:  register-only FMA throughput. 8 independent vec4 FMA chains per invocation (enough to hide FMA
//               latency), UNROLL rounds of them per loop iteration (a constant-trip inner loop that compilers
//               unroll: less loop overhead per FMA), ITERS iterations; each invocation stores one value so nothing
//               is optimized away. flops = invocations · ITERS · UNROLL · 8 chains · 4 lanes · 2.
//  - main_copy: memory bandwidth. One vec4 read and one vec4 write per invocation; bytes = 2 · 16 · n.
// Defines: ITERS, UNROLL.

// `Params` (n, seed): generated from CEILINGS_UNIFORMS in src/kernels/ceilings.ts.

@group(0) @binding(0) var<storage, read> src: array<vec4<T>>;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4<T>>;
@group(0) @binding(2) var<uniform> p: Params;

override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main_fma(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  let s = T(p.seed) * T(f32(lid & 7u));
  let m = vec4<T>(T(0.999));
  var a0 = vec4<T>(s); var a1 = a0 + T(1.0); var a2 = a0 + T(2.0); var a3 = a0 + T(3.0);
  var a4 = a0 + T(4.0); var a5 = a0 + T(5.0); var a6 = a0 + T(6.0); var a7 = a0 + T(7.0);
  let c = vec4<T>(T(0.001));
  for (var k = 0u; k < ITERS; k++) {
    for (var u = 0u; u < UNROLL; u++) {
      a0 = fma(a0, m, c); a1 = fma(a1, m, c); a2 = fma(a2, m, c); a3 = fma(a3, m, c);
      a4 = fma(a4, m, c); a5 = fma(a5, m, c); a6 = fma(a6, m, c); a7 = fma(a7, m, c);
    }
  }
  if (i < p.n) { dst[i] = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)); }
}

@compute @workgroup_size(WG)
fn main_copy(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i < p.n) { dst[i] = src[i]; }
}
