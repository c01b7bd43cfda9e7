// Token embedding lookup plus learned position embedding: out[b, l, :] = table[ids[b, l], :] + pos[l, :].
// Ids are validated on the CPU before upload (WebGPU clamps out-of-bounds reads silently, which would hide a bad
// id); the range check here only keeps a bug from reading another buffer's memory.
//
// Paged tables: a vocabulary too big for one storage binding (SigLIP 2's 256000 × 1152 f32 rows are 1.1 GiB;
// bindings stop at 128 MiB on lavapipe and SwiftShader) is split into pages of rows, each its own buffer, and looked
// up by one dispatch per page: the page holding ids first .. first + rows − 1 writes their rows, and every other
// element is copied from the previous page's output (PREV), or zeroed on the first page. The last page's output is
// then complete. Napkin math: each extra page moves the [tokens, D] activations once more (64 × 1152 × 4 B = 0.3 MB
// a text), against a text tower of ~25 GFLOP: nothing.
// Compact tables (W_PACKED): rows of `ld` packed elements (f16, int8 or 4-bit, shaders/weight-formats.wgsl, prepended),
// unpacked as they are read; an int8 table with one scale per row (W_ROW_SCALE) multiplies the row by it.
// Defines: PREV (an earlier page's output to copy from), the weight-format defines (src/kernels/weight-formats.ts).
// Override: WG.

// `Params` (n, L, D, first, rows, ld): generated from EMBEDDING_UNIFORMS in src/kernels/embedding.ts.

@group(0) @binding(0) var<storage, read> ids: array<i32>;
#if W_PACKED
@group(0) @binding(1) var<storage, read> tw: array<u32>;
#else
@group(0) @binding(1) var<storage, read> table: array<T>;
#endif
@group(0) @binding(2) var<storage, read> tscale: array<f32>;
@group(0) @binding(3) var<storage, read> pos: array<T>;
@group(0) @binding(4) var<storage, read> prev: array<T>;
@group(0) @binding(5) var<storage, read_write> out: array<T>;
@group(0) @binding(6) var<uniform> p: Params;

#if W_PACKED
fn wWord(w: u32) -> u32 { return tw[w]; }
fn wScale(s: u32) -> f32 { return tscale[s]; }
#endif

// Element d of the page's row r, in f32.
fn tableAt(r: u32, d: u32) -> f32 {
#if W_PACKED
#if W_ROW_SCALE
  return wLoad1(r * p.ld + d) * tscale[r];
#else
  return wLoad1(r * p.ld + d);
#endif
#else
  return f32(table[r * p.D + d]);
#endif
}

override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= p.n) { return; }
  let d = i % p.D;
  let t = i / p.D;
  let l = t % p.L;
  let r = ids[t] - i32(p.first);
  if (r >= 0 && u32(r) < p.rows) {
    out[i] = T(tableAt(u32(r), d) + f32(pos[l * p.D + d]));
  } else {
#if PREV
    out[i] = prev[i];
#else
    out[i] = T(0.0);
#endif
  }
}
