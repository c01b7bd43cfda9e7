// Shared by the matmul family (matmul.wgsl, matmul-sg2d.wgsl, matmul-sgmat.wgsl): the bindings, bounds-safe vec4
// loaders for A and B, and the epilogue (bias, activation, residual) applied to each output in f32.
// B is read only through loadB4 / loadB1, so every variant reads every weight format: T itself, or a packed weight
// (W_PACKED: f16, int8 or 4-bit words, unpacked in registers by shaders/weight-formats.wgsl, which is prepended).
// A per-group scale is applied as the element is loaded; a per-row one (int8 with one scale per output channel,
// W_ROW_SCALE) multiplies the finished sum in the epilogue, where it costs one multiply per output instead of one
// per weight: C[m, n] = s[n] · Σ_k A[m, k] · q[n, k].
// Defines: TRANS_B, VEC_A, VEC_B, HAS_BIAS, HAS_RES, ACT (an activation code: shaders/activations.wgsl), W_PACKED,
// W_F16, W_I8, W_Q4, W_GROUP, W_ROW_SCALE.
// `Params` (M, N, K, batch, row strides, batch strides, offA) is generated from MATMUL_UNIFORMS in
// src/kernels/matmul.ts and put in front of the shader: the packer and the struct come from that one schema.

#if VEC_A
@group(0) @binding(0) var<storage, read> a4: array<vec4<T>>;
#else
@group(0) @binding(0) var<storage, read> a1: array<T>;
#endif
#if W_PACKED
@group(0) @binding(1) var<storage, read> bw: array<u32>;
#else
#if VEC_B
@group(0) @binding(1) var<storage, read> b4: array<vec4<T>>;
#else
@group(0) @binding(1) var<storage, read> b1: array<T>;
#endif
#endif
// B's scales (packed int8 and 4-bit weights; unused otherwise).
@group(0) @binding(2) var<storage, read> bscale: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<T>;
@group(0) @binding(4) var<storage, read> res: array<T>;
@group(0) @binding(5) var<storage, read_write> out: array<T>;
@group(0) @binding(6) var<uniform> p: Params;

#if W_PACKED
// What shaders/weight-formats.wgsl reads through.
fn wWord(w: u32) -> u32 { return bw[w]; }
fn wScale(s: u32) -> f32 { return bscale[s]; }
#endif

// A[row, k..k+3] (row already clamped, `base` = its first element); zero past K.
fn loadA4(base: u32, k: u32) -> vec4<f32> {
#if VEC_A
  // K % 4 == 0 here, so a vec4 is wholly inside or wholly past K (only main_tiled's last BK tile goes past).
  // select, not an early return: no control flow, so loops around this unroll.
  return select(vec4<f32>(0.0), vec4<f32>(a4[(base + min(k, p.K - 4u)) / 4u]), k < p.K);
#else
  let kk = vec4<u32>(k, k + 1u, k + 2u, k + 3u);
  let i = min(vec4<u32>(base) + kk, vec4<u32>(arrayLength(&a1) - 1u));
  let v = vec4<f32>(f32(a1[i.x]), f32(a1[i.y]), f32(a1[i.z]), f32(a1[i.w]));
  return select(vec4<f32>(0.0), v, kk < vec4<u32>(p.K));
#endif
}

// Four consecutive elements of a B row starting at flat index `i` (within its row, clamped by the caller).
fn loadB4(i: u32, rowEnd: u32) -> vec4<f32> {
#if W_PACKED
#if VEC_B
  return wLoad4(i);
#else
  let j = min(vec4<u32>(i, i + 1u, i + 2u, i + 3u), vec4<u32>(rowEnd));
  return vec4<f32>(wLoad1(j.x), wLoad1(j.y), wLoad1(j.z), wLoad1(j.w));
#endif
#else
#if VEC_B
  return vec4<f32>(b4[i / 4u]);
#else
  let j = min(vec4<u32>(i, i + 1u, i + 2u, i + 3u), vec4<u32>(rowEnd));
  return vec4<f32>(f32(b1[j.x]), f32(b1[j.y]), f32(b1[j.z]), f32(b1[j.w]));
#endif
#endif
}

// One element of B at flat index i.
fn loadB1(i: u32) -> f32 {
#if W_PACKED
  return wLoad1(i);
#else
#if VEC_B
  return f32(b4[i / 4u][i % 4u]);
#else
  return f32(b1[i]);
#endif
#endif
}

fn epilogue(bIdx: u32, row: u32, col: u32, acc: f32) -> T {
  var v = acc;
#if W_ROW_SCALE
  v *= bscale[col];
#endif
#if HAS_BIAS
  v += f32(bias[col]);
#endif
  v = activate(v);
#if HAS_RES
  v += f32(res[bIdx * p.strideR + row * p.ldr + col]);
#endif
  return T(v);
}

