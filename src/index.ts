/** siglip-webgpu: the public entry point (Node and browser). */
export { createEngine, Engine, type EngineOptions, type EngineStats } from './runtime/engine.js';
export { Tensor } from './runtime/tensor.js';
export type { DType } from './runtime/dtype.js';
export type { DeviceOptions, AdapterDescription } from './runtime/device.js';
export type { MatmulOptions } from './runtime/ops.js';
