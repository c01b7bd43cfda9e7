// Elementwise ops a ViT needs, one element per invocation (memory-bound: coalesced scalar access is enough).
//   OP 0  add:   out = x + y[i % ny]        (y broadcast over leading dimensions when smaller)
//   OP 1  mul:   out = x · y[i % ny]
//   OP 2  scale: out = alpha·x + beta
//   OP 3  activate: out = activate(x), the activation the code ACT names (shaders/activations.wgsl)
// Defines: OP, BINARY (ops 0–1 read y), ACT. The dispatch may be folded over x and y (see foldWorkgroups).
// `Params` (n, ny, alpha, beta): generated from ELEMENTWISE_UNIFORMS in src/kernels/elementwise.ts.

@group(0) @binding(0) var<storage, read> x: array<T>;
#if BINARY
@group(0) @binding(1) var<storage, read> y: array<T>;
@group(0) @binding(2) var<storage, read_write> out: array<T>;
@group(0) @binding(3) var<uniform> p: Params;
#else
@group(0) @binding(1) var<storage, read_write> out: array<T>;
@group(0) @binding(2) var<uniform> p: Params;
#endif

override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= p.n) { return; }
  let v = f32(x[i]);
#if BINARY
  let w = f32(y[i % p.ny]);
#endif
  var r: f32;
  if (OP == 0) {
#if BINARY
    r = v + w;
#endif
  } else if (OP == 1) {
#if BINARY
    r = v * w;
#endif
  } else if (OP == 2) {
    r = p.alpha * v + p.beta;
  } else {
    r = activate(v);
  }
  out[i] = T(r);
}
