/// <reference types="@webgpu/types" preserve="true" />
/**
 * siglip-webgpu: SigLIP on raw WebGPU. The same API in Node (Dawn through the `webgpu` package) and in browsers
 * (the browser bundle is built from src/browser.ts, which re-exports this).
 *
 * The reference above stays in the published declarations (dist/types/index.d.ts): the API names WebGPU's types
 * (GPUDevice, GPUAdapter, …), so a consumer's TypeScript needs `@webgpu/types`, a dependency of this package.
 */
export { SiglipModel, DEFAULT_MODEL, type LoadOptions, type ModelRef, type ModelFiles, type ClassifyResult, type ForwardInputs } from './model/siglip-model.js';
export type { TensorData, RunOptions } from './model/siglip-runner.js';
// Compact weights: the dtypes a model loads in, and the packed weight format the engine reads.
export { MODEL_DTYPES, dtypeSupport, type ModelDType, type ActivationDType, type DTypeOptions, type DTypeSupport } from './model/model-dtype.js';
export { PackedWeight, type PackOptions } from './ops/packed-weight.js';
export { packedLayout, packMatrix, unpackMatrix, type PackedFormat, type PackedLayout } from './runtime/weight-format.js';
export { CheckpointError, InputError, NonFiniteOutputError, type CheckpointErrorDetails } from './model/errors.js';
export { parseSiglipConfig, type SiglipConfig, type VisionConfig, type TextConfig } from './model/config.js';
export { SiglipTokenizer, GemmaTokenizer, loadTokenizer, type TextTokenizer, type TokenizerLoadOptions } from './model/tokenizer/index.js';
export { SiglipImageProcessor, Siglip2ImageProcessor, decodeImage, resizeBicubic, ImageDecodeError, type DecodeOptions, type ImageInput, type RgbImage, type PreprocessorConfig, type Siglip2PreprocessorConfig, type NaflexInputs } from './model/image/index.js';
export type { ImageProcessor, PreprocessedImages, PreprocessOptions } from './model/image-inputs.js';
export { openModelSource, HubError, HubHttpError, HubUnreachableError, HubDownloadError, UnsafeHubValueError, CachePathError, type HubOptions } from './model/hub/index.js';
// The browser's weights cache: what it holds, deleting it, and the storage quota it lives in.
export { listCachedFiles, deleteCachedFiles, StorageQuotaError, storageState, requestPersistence, BROWSER_CACHE_NAME, type CachedFile, type StorageState } from './model/hub/index.js';
export { UrlSource, BlobSource, CompositeSource, type FileSource } from './model/source.js';
export { SyntheticSource } from './model/synthetic.js';
export { PRESETS, presetConfig, presetPreprocessorConfig } from './model/presets.js';
export { encodeSafetensors, readSafetensorsHeader, readSafetensorsFile } from './model/safetensors.js';
export type { LoadProgress } from './model/weights.js';
// Compact weights: `convert` (Node only; loaded when called) and the scheme a converted checkpoint carries.
export { convertCheckpoint, type ConvertOptions, type ConvertProgress, type ConvertResult } from './model/convert.js';
export { readCompactScheme, COMPACT_SCHEME, COMPACT_VERSIONS, type CompactScheme, type CompactTensor } from './model/compact-scheme.js';
// What worker mode's embedImagesSettled does, on a SiglipModel in this thread (siglip-webgpu/worker: in a worker).
export { embedImagesSettled, type EmbedSettledOptions, type SettledEmbedding } from './worker/embed-settled.js';

export { createEngine, Engine, type EngineOptions, type EngineStats } from './ops/engine.js';
export { Tensor } from './runtime/tensor.js';
export type { DType } from './runtime/dtype.js';
export type { DeviceOptions, AdapterDescription } from './runtime/device.js';
export type { MatmulOptions } from './ops/eager.js';
export { Graph } from './runtime/graph.js';
export { GraphPlan, type Profile } from './runtime/executor.js';
