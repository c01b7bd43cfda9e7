/**
 * The layer above the kernels, as the model (and applications) use it: eager ops and the engine that carries
 * them, graph op builders, the tuner, adapter defaults, and the few kernel facts a model must know to validate its
 * config (which activations exist, the largest head dim, token ids in range). src/model imports from here, never
 * from src/kernels.
 */
export { ACTIVATION_NAMES, parseActivation, type Activation } from '../kernels/activations.js';
export { MAX_HEAD_DIM, type AttentionGeometry, type AttentionView } from '../kernels/attention.js';
export { checkTokenIds, embeddingPageRows } from '../kernels/embedding.js';
export { ADAPTER_DEFAULTS, adapterDefaults, type AdapterDefaults, type WeightLayout } from './adapter-defaults.js';
export { attentionConfigFor, layerNormConfigFor, matmulConfigFor, weightLayoutFor } from './choices.js';
export { EagerOps, submitCalls, type MatmulOptions } from './eager.js';
export { createEngine, Engine, type EngineOptions, type EngineStats } from './engine.js';
export { GraphOps, type EmbeddingPage, type LinearOptions, type LinearWeights, type MatmulNodeOptions } from './graph-ops.js';
export { defaultGroup, PackedWeight, type PackOptions } from './packed-weight.js';
export { tuneEngine, tuningDisabledByEnv, TUNING_VERSION, type TuneResult, type TuningOptions, type TuningShapes } from './tuner.js';
