// Compact weights, unpacked in registers to f32: the one place shaders read the packed formats that
// src/runtime/weight-format.ts writes (that file states the layout; the tests hold the two to each other).
//   f16   two halves per u32 word (unpack2x16float), no scales;
//   int8  four two's-complement bytes per word, element j in bits 8j..8j+7, w = q · scale;
//   q4    eight two's-complement nibbles per word, element j in bits 4j..4j+3, w = q · scale.
// Indices are flat element indices into the padded matrix (rows of `ld` elements, a multiple of the elements per
// word and of the group), so the word of element i is i / (elements per word) and its group's scale is i / W_GROUP.
// Sign extension is two shifts on i32 (left to the top bits, arithmetic right): core WGSL on every adapter.
//
// Defines: W_PACKED (the weight is packed; everything below is dropped otherwise), exactly one of W_F16, W_I8, W_Q4,
// and W_GROUP (elements per scale; 0: no per-element scale here — int8 with one scale per row applies it to the
// result, f16 has none).
// The including kernel defines: fn wWord(w: u32) -> u32 (word w of the packed data) and fn wScale(s: u32) -> f32.

#if W_PACKED
// The scale of the group holding element i (1 when scales are per row or absent).
fn wGroupScale(i: u32) -> f32 {
#if W_GROUP
  return wScale(i / W_GROUP);
#else
  return 1.0;
#endif
}

// Elements a .. a + 3 of the packed data, a = i rounded down to a multiple of 4 (as a vec4<T> array indexed by i / 4
// would read them). A group is a multiple of 4 elements, so the four share one scale.
fn wLoad4(i: u32) -> vec4<f32> {
  let a = i - i % 4u;
#if W_F16
  return vec4<f32>(unpack2x16float(wWord(a / 2u)), unpack2x16float(wWord(a / 2u + 1u)));
#endif
#if W_I8
  let q = (vec4<i32>(bitcast<i32>(wWord(a / 4u))) << vec4<u32>(24u, 16u, 8u, 0u)) >> vec4<u32>(24u);
  return vec4<f32>(q) * wGroupScale(a);
#endif
#if W_Q4
  let q = (vec4<i32>(bitcast<i32>(wWord(a / 8u))) << (vec4<u32>(28u, 24u, 20u, 16u) - vec4<u32>((a % 8u) * 4u))) >> vec4<u32>(28u);
  return vec4<f32>(q) * wGroupScale(a);
#endif
}

// Element i.
fn wLoad1(i: u32) -> f32 {
#if W_F16
  return unpack2x16float(wWord(i / 2u))[i % 2u];
#endif
#if W_I8
  return f32((bitcast<i32>(wWord(i / 4u)) << (24u - 8u * (i % 4u))) >> 24u) * wGroupScale(i);
#endif
#if W_Q4
  return f32((bitcast<i32>(wWord(i / 8u)) << (28u - 4u * (i % 8u))) >> 28u) * wGroupScale(i);
#endif
}
#endif
