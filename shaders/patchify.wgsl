// im2col for a P×P stride-P convolution (ViT patch embedding): pixels [B, C, H, W] → patches [B, L, C·P·P],
// L = (H/P)·(W/P) in row-major patch order, features in (c, ky, kx) order: the order of a Conv2d weight
// [D, C, P, P] flattened, so the convolution becomes patches · weightᵀ (a matmul with TRANS_B).

// `Params` (n, C, H, W, P, gw, L, F): generated from PATCHIFY_UNIFORMS in src/kernels/patchify.ts.

@group(0) @binding(0) var<storage, read> x: array<T>;
@group(0) @binding(1) var<storage, read_write> out: array<T>;
@group(0) @binding(2) var<uniform> p: Params;

override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= p.n) { return; }
  let f = i % p.F;
  let t = i / p.F;
  let l = t % p.L;
  let b = t / p.L;
  let pp = p.P * p.P;
  let c = f / pp;
  let ky = (f % pp) / p.P;
  let kx = f % p.P;
  let y = (l / p.gw) * p.P + ky;
  let xx = (l % p.gw) * p.P + kx;
  out[i] = x[((b * p.C + c) * p.H + y) * p.W + xx];
}
