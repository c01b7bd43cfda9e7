// Activation functions shared by kernels that fuse them (matmul epilogue, elementwise). Prepended to those
// shaders' text by their kernel modules (src/kernels/*.ts), the only concatenation the engine does.

// GELU, tanh approximation (PyTorch's gelu(approximate='tanh'), HF's `gelu_pytorch_tanh`):
//   0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
// What matters is tanh's *absolute* error (it is added to 1). The builtin tanh keeps it near 1.5e-7 on lavapipe,
// while (1 − e)/(1 + e) with e = exp(−2|u|) loses it to cancellation for small u (measured 4e-5 relative at
// x = −0.0034). The clamp keeps tanh's argument where every implementation is finite (a naive
// (exp(2u) − 1)/(exp(2u) + 1) is inf/inf past |u| ≈ 44); tanh(±10) is ±1 in f32 already.
fn gelu_tanh(x: f32) -> f32 {
  let u = 0.7978845608028654 * (x + 0.044715 * x * x * x);
  return 0.5 * x * (1.0 + tanh(clamp(u, -10.0, 10.0)));
}
