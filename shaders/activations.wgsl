// Activation functions shared by kernels that fuse them (the matmul epilogue, elementwise): `activate` applies the
// one the define ACT names, by code (src/kernels/activations.ts: 0 none, 1 gelu_tanh, 2 quick_gelu); ACT is a
// constant, so the compiler keeps only that branch. Listed first among a kernel's shader files.

// GELU, tanh approximation (PyTorch's gelu(approximate='tanh'), HF's `gelu_pytorch_tanh`):
//   0.5·x·(1 + tanh(u)),  u = √(2/π)·(x + 0.044715·x³)
// computed as x / (1 + exp(−2u)), the same function (1 + tanh(u) = 2 / (1 + e^(−2u))) without its two losses
// of precision: 1 + tanh(u) cancels to 0 for u < −9 (at x = −6 the true value is −9.2e-11, the textbook form
// gives 0), and builtin tanh's error is absolute (lavapipe: ±3e-8 near 0). Both tails are exact limits here:
// exp overflowing to +inf gives −0, x³ overflowing gives x; NaN stays NaN.
fn gelu_tanh(x: f32) -> f32 {
  let u = 0.7978845608028654 * (x + 0.044715 * x * x * x);
  return x / (1.0 + exp(-2.0 * u));
}

// CLIP's quick GELU (HF's `quick_gelu`): x·σ(1.702·x), written as x / (1 + e^(−1.702·x)) for the same reasons:
// exact tails (−0 when exp overflows), no cancellation.
fn quick_gelu(x: f32) -> f32 {
  return x / (1.0 + exp(-1.702 * x));
}

fn activate(x: f32) -> f32 {
  if (ACT == 1) { return gelu_tanh(x); }
  if (ACT == 2) { return quick_gelu(x); }
  return x;
}
