/// <reference types="@webgpu/types" preserve="true" />
/**
 * The worker-mode entry (`siglip-webgpu/worker`, dist/worker.js): SiglipWorkerModel, the SiglipModel API with the
 * engine in a dedicated Web Worker (dist/siglip-webgpu.worker.js, started by it). Browsers only. Light: the page
 * loads the protocol and the error classes; the engine, the decoders and the weights live in the worker.
 */
export { SiglipWorkerModel, type WorkerLoadOptions, type EmbedSettledOptions, type SettledEmbedding } from './worker/client.js';
