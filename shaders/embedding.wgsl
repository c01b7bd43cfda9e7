// Token embedding lookup plus learned position embedding: out[b, l, :] = table[ids[b, l], :] + pos[l, :].
// Ids are validated on the CPU before upload (WebGPU clamps out-of-bounds reads silently, which would hide a bad
// id); the clamp here only keeps a bug from reading another buffer's memory.

// `Params` (n, L, D, vocab): generated from EMBEDDING_UNIFORMS in src/kernels/embedding.ts.

@group(0) @binding(0) var<storage, read> ids: array<i32>;
@group(0) @binding(1) var<storage, read> table: array<T>;
@group(0) @binding(2) var<storage, read> pos: array<T>;
@group(0) @binding(3) var<storage, read_write> out: array<T>;
@group(0) @binding(4) var<uniform> p: Params;

override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= p.n) { return; }
  let d = i % p.D;
  let t = i / p.D;
  let l = t % p.L;
  let id = u32(clamp(ids[t], 0, i32(p.vocab) - 1));
  out[i] = T(f32(table[id * p.D + d]) + f32(pos[l * p.D + d]));
}
