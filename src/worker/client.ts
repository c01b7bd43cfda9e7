/**
 * Worker mode (`siglip-webgpu/worker`): the SiglipModel API with the device, the weights, image decoding and every
 * forward pass in a dedicated Web Worker, so none of it runs on the page's main thread.
 *
 *   import { SiglipWorkerModel } from 'siglip-webgpu/worker';
 *   const model = await SiglipWorkerModel.load('google/siglip-base-patch16-224', { onProgress });
 *   const scores = await model.classify(file, ['a cat', 'a dog']);
 *   await model.dispose();   // frees the GPU memory and ends the worker
 *
 * Calls are promises, as on SiglipModel (tokenize too, here); images cross once at most (images.ts); results come
 * back with their buffers transferred; load progress arrives as events; errors arrive as the same classes with the
 * same messages and fields (protocol.ts). One model per worker.
 *
 * The worker is `new Worker(new URL('./siglip-webgpu.worker.js', import.meta.url), { type: 'module' })`, a pattern
 * Vite, webpack 5 and others build on their own, and that a plain static server serves as it is (no eval, no blob:
 * URL, so a strict Content-Security-Policy needs only `worker-src 'self'`). `worker:` takes another URL of that
 * script (a self-hosted copy) or a Worker made by the app.
 *
 * This module is light on purpose: the page loads the protocol and the error classes, not the engine.
 */
import type { ClassifyResult, ForwardInputs, LoadOptions, ModelFiles, ModelRef } from '../model/siglip-model.js';
import type { SiglipConfig } from '../model/config.js';
import type { PreprocessedImages, PreprocessOptions } from '../model/image-inputs.js';
import type { ImageInput } from '../model/image/types.js';
import type { Tower } from '../model/siglip-weights.js';
import type { RunOptions, TensorData } from '../model/siglip-runner.js';
import type { LoadProgress } from '../model/weights.js';
import type { AdapterDescription } from '../runtime/device.js';
import type { ActivationDType, ModelDType } from '../model/model-dtype.js';
import type { Profile } from '../runtime/executor.js';
import type { EmbedSettledOptions, SettledEmbedding } from './embed-settled.js';
import { absoluteUrl, imageForWorker, imagesForWorker, ownArray } from './images.js';
import { fromWire, type FromWorker, type ToWorker, type WireError, type WorkerMethod, type WorkerModelInfo } from './protocol.js';

/** SiglipModel's load options that can cross to a worker, and where the worker comes from. */
export interface WorkerLoadOptions
  extends Omit<LoadOptions, 'engine' | 'fetch' | 'cacheStorage' | 'storageManager' | 'gpu' | 'acquired'> {
  /**
   * The worker to run in. Default: a new module worker of the package's `siglip-webgpu.worker.js` (beside this file).
   * A string or URL: that script instead (e.g. a copy on your own origin). A Worker: one you made from that script
   * (the model takes it over and ends it on dispose).
   */
  worker?: Worker | string | URL;
  /** null: no browser cache (the default is the Cache API, in the worker). */
  cacheStorage?: null;
  /** null: no quota check (the default asks navigator.storage, in the worker). */
  storageManager?: null;
}

/** Options that hold objects of this thread (functions, devices, caches): they cannot cross to a worker. */
const PAGE_ONLY = ['engine', 'fetch', 'gpu', 'acquired'] as const;

const DISPOSED = 'this SiglipModel has been disposed';

interface Pending {
  resolve(value: unknown): void;
  reject(e: Error): void;
  onProgress?: (p: LoadProgress) => void;
}

/** One worker: requests by id, answers, progress, and the worker's questions to the page. */
class Connection {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private failure: Error | null = null;
  readonly ready: Promise<void>;

  constructor(
    readonly worker: Worker,
    private readonly description: string,
    private readonly answer: (question: 'persist') => Promise<unknown>,
  ) {
    let started = false;
    this.ready = new Promise<void>((resolve, reject) => {
      worker.addEventListener('message', (ev: MessageEvent) => {
        const msg = ev.data as FromWorker;
        if (msg?.type === 'hello') {
          started = true;
          resolve();
        } else this.receive(msg);
      });
      worker.addEventListener('error', (ev: Event) => {
        const detail = (ev as ErrorEvent).message;
        const e = started
          ? new Error(`the siglip-webgpu worker (${this.description}) failed: ${detail || 'an uncaught error'}`)
          : new Error(
              `the siglip-webgpu worker (${this.description}) could not start: ${detail || 'its script did not load or run'}. ` +
                "A 404, a Content-Security-Policy whose worker-src (or script-src) does not allow it, or a URL of another origin " +
                '(workers must be same-origin: copy siglip-webgpu.worker.js to your site and pass its URL as `worker`).',
            );
        ev.preventDefault?.();
        reject(e);
        this.fail(e);
      });
      worker.addEventListener('messageerror', () => this.fail(new Error(`the siglip-webgpu worker (${this.description}) sent a message that could not be read`)));
    });
    this.ready.catch(() => {});
  }

  private receive(msg: FromWorker): void {
    if (msg.type === 'hello') return;
    if (msg.type === 'ask') {
      void this.answer(msg.question).then(
        (value) => this.worker.postMessage({ type: 'reply', id: msg.id, value } satisfies ToWorker),
        () => this.worker.postMessage({ type: 'reply', id: msg.id, value: false } satisfies ToWorker),
      );
      return;
    }
    const p = this.pending.get(msg.id);
    if (!p) return;
    if (msg.type === 'progress') {
      p.onProgress?.(msg.progress);
      return;
    }
    this.pending.delete(msg.id);
    if (msg.type === 'result') p.resolve(msg.value);
    else p.reject(fromWire(msg.error));
  }

  /** Sends a request; resolves with the worker's answer. */
  request(msg: DistributiveOmit<ToWorker, 'id'>, transfer: Transferable[] = [], onProgress?: (p: LoadProgress) => void): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onProgress });
      try {
        this.worker.postMessage({ ...msg, id } as ToWorker, transfer);
      } catch (e) {
        // A DataCloneError: something in the arguments cannot cross (a function, a DOM node).
        this.pending.delete(id);
        reject(e);
      }
    });
  }

  /** Rejects every open request with `e`; later requests get it too. */
  fail(e: Error): void {
    this.failure ??= e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  terminate(reason: Error): void {
    this.fail(reason);
    this.worker.terminate();
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

function isModelFiles(x: unknown): x is ModelFiles {
  return !!x && typeof x === 'object' && 'config' in x && 'weights' in x;
}

/** The model reference as it crosses: relative URLs made absolute against the page. */
function refForWorker(ref: ModelRef | undefined): unknown {
  if (ref === undefined || typeof ref === 'string') return ref === undefined ? undefined : absoluteUrl(ref);
  if (isModelFiles(ref)) return { ...ref, weights: typeof ref.weights === 'string' ? absoluteUrl(ref.weights) : ref.weights };
  throw new TypeError('worker mode loads a hub id, a URL or files ({ config, weights, … }); a FileSource object cannot cross to a worker');
}

function startWorker(spec: WorkerLoadOptions['worker']): { worker: Worker; description: string } {
  if (spec === undefined) {
    // Bundlers see this exact pattern and build the worker script as a worker entry of the app.
    const worker = new Worker(new URL('./siglip-webgpu.worker.js', import.meta.url), { type: 'module', name: 'siglip-webgpu' });
    return { worker, description: 'siglip-webgpu.worker.js' };
  }
  if (typeof spec === 'string' || spec instanceof URL) {
    const url = typeof spec === 'string' ? absoluteUrl(spec) : spec.href;
    return { worker: new Worker(url, { type: 'module', name: 'siglip-webgpu' }), description: url };
  }
  if (typeof Worker !== 'undefined' && spec instanceof Worker) return { worker: spec, description: 'the given Worker' };
  throw new TypeError('worker: expected a Worker, or the URL of siglip-webgpu.worker.js');
}

export class SiglipWorkerModel {
  readonly config: SiglipConfig;
  /** How the weights are stored (SiglipModel: `model.dtype`). */
  readonly dtype: ModelDType;
  /** What the pass computes in (SiglipModel: `model.activations`). */
  readonly activations: ActivationDType;
  readonly towers: Tower[];
  /** Seconds spent loading in the worker (config, tokenizer, weights). */
  readonly loadSeconds: number;
  /** Embedding width of image and text embeddings. */
  readonly embedDim: number;
  /** Bytes of weights on the device. */
  readonly weightBytes: number;
  /** The WebGPU adapter the worker's engine runs on (SiglipModel: `model.engine.info`). */
  readonly adapter: AdapterDescription;
  /** Where the weights came from (SiglipModel: `model.source`). */
  readonly source: { readonly description: string };
  /** NaFlex models: the default patch budget per image (0 for fixed-resolution models), as SiglipModel's. */
  readonly maxNumPatches: number;
  private disposed = false;

  private constructor(
    private readonly conn: Connection,
    info: WorkerModelInfo,
  ) {
    this.config = info.config;
    this.dtype = info.dtype;
    this.activations = info.activations;
    this.towers = info.towers;
    this.loadSeconds = info.loadSeconds;
    this.embedDim = info.embedDim;
    this.weightBytes = info.weightBytes;
    this.adapter = info.adapter;
    this.source = { description: info.source };
    this.maxNumPatches = info.maxNumPatches;
  }

  /**
   * Starts a worker and loads a checkpoint in it: a hub id, a base URL (relative to the page, or absolute), or files
   * ({ config, weights: File | Blob | URL, tokenizer, preprocessor }). Options as SiglipModel.load's, but those that
   * hold objects of the page (engine, fetch, gpu, a CacheStorage); `onProgress` is called in the page.
   */
  static async load(ref?: ModelRef, opts: WorkerLoadOptions = {}): Promise<SiglipWorkerModel> {
    const { worker: spec, onProgress, persistentStorage, ...rest } = opts;
    for (const k of PAGE_ONLY) {
      if ((rest as Record<string, unknown>)[k] !== undefined) throw new TypeError(`option ${k} cannot be used in worker mode: it holds an object of the page, and the engine lives in the worker`);
    }
    for (const k of ['cacheStorage', 'storageManager'] as const) {
      if (rest[k] !== undefined && rest[k] !== null) throw new TypeError(`option ${k}: only null (none) can be given in worker mode; the worker uses its own`);
    }
    const wireRef = refForWorker(ref);
    const wireOpts: Record<string, unknown> = { ...rest };
    if (persistentStorage === false) wireOpts.persistentStorage = false;
    const { worker, description } = startWorker(spec);
    const conn = new Connection(worker, description, async (question) => {
      if (question !== 'persist') return false;
      if (typeof persistentStorage === 'function') return persistentStorage();
      return (await navigator.storage?.persist?.()) ?? false;
    });
    try {
      await conn.ready;
      const info = (await conn.request({ type: 'load', ref: wireRef, opts: wireOpts, askPersist: persistentStorage !== false }, [], onProgress)) as WorkerModelInfo;
      return new SiglipWorkerModel(conn, info);
    } catch (e) {
      conn.terminate(new Error('the model failed to load'));
      throw e;
    }
  }

  private call<T>(method: WorkerMethod, args: unknown[], transfer: Transferable[] = []): Promise<T> {
    if (this.disposed) return Promise.reject(new Error(DISPOSED));
    return this.conn.request({ type: 'call', method, args }, transfer) as Promise<T>;
  }

  /** L2-normalized image embeddings, [B, D] row-major. Buffers and ImageBitmaps given are handed to the worker.
   *  NaFlex models take `maxNumPatches` per call, as SiglipModel.embedImages. */
  async embedImages(images: ImageInput[], opts: PreprocessOptions = {}): Promise<Float32Array> {
    const transfer: Transferable[] = [];
    return this.call('embedImages', [await imagesForWorker(images, transfer), opts], transfer);
  }

  /** L2-normalized text embeddings, [T, D] row-major. */
  embedTexts(texts: string[]): Promise<Float32Array> {
    return this.call('embedTexts', [texts]);
  }

  /** Zero-shot scores of one image (sigmoid of each label's logit, best first), as SiglipModel.classify. */
  async classify(image: ImageInput, labels: string[], opts: { template?: string; maxNumPatches?: number } = {}): Promise<ClassifyResult[]> {
    const transfer: Transferable[] = [];
    return this.call('classify', [await imageForWorker(image, transfer), labels, opts], transfer);
  }

  /** The forward pass, as SiglipModel.forward. The inputs' buffers are handed to the worker (views of part of a
   *  buffer are copied first). */
  forward(inputs: ForwardInputs, opts: RunOptions = {}): Promise<Record<string, TensorData>> {
    const transfer: Transferable[] = [];
    // Every input crosses (NaFlex's pixel_attention_mask and spatial_shapes too); typed arrays are handed over.
    const wire = { ...inputs } as Record<string, { data: unknown; shape: number[] } | undefined>;
    for (const [k, v] of Object.entries(wire)) {
      if (v && ArrayBuffer.isView(v.data)) wire[k] = { ...v, data: ownArray(v.data as Float32Array | Int32Array, transfer) };
    }
    return this.call('forward', [wire as ForwardInputs, opts], transfer);
  }

  /** Token ids, as SiglipModel.tokenize (a promise here: the tokenizer lives in the worker). */
  tokenize(texts: string[]): Promise<{ inputIds: Int32Array; shape: [number, number] }> {
    return this.call('tokenize', [texts]);
  }

  /** pixel_values [B, 3, H, W] (NaFlex: [B, maxNumPatches, 3·p·p] with pixel_attention_mask and spatial_shapes), as
   *  SiglipModel.preprocess. */
  async preprocess(images: ImageInput[], opts: PreprocessOptions = {}): Promise<PreprocessedImages> {
    const transfer: Transferable[] = [];
    return this.call('preprocess', [await imagesForWorker(images, transfer), opts], transfer);
  }

  /**
   * Embeddings of a batch of photos where some may be corrupt or unsupported: one result per image, in order,
   * `{ status: 'fulfilled', embedding, width, height, thumbnail? }` or `{ status: 'rejected', reason }` (an
   * ImageDecodeError, say); the good ones run as one batch. `thumbnailSize`: also a JPEG of that many pixels a side,
   * made from the pixels already decoded.
   */
  async embedImagesSettled(images: ImageInput[], opts: EmbedSettledOptions = {}): Promise<SettledEmbedding[]> {
    const transfer: Transferable[] = [];
    const results = await this.call<Array<SettledEmbedding | { status: 'rejected'; reason: WireError }>>('embedImagesSettled', [await imagesForWorker(images, transfer), opts], transfer);
    return results.map((r) => (r.status === 'rejected' ? { status: 'rejected', reason: fromWire(r.reason as WireError) } : r));
  }

  /** One timed forward pass of a tower on synthetic inputs: per-node and per-op GPU time. */
  profile(tower: Tower, batch = 1, opts: { maxNumPatches?: number } = {}): Promise<Profile> {
    return this.call('profile', [tower, batch, opts]);
  }

  /** Activation memory of the planned graph for a tower and batch (bytes, after buffer reuse). */
  activationBytes(tower: Tower, batch: number, opts: { maxNumPatches?: number } = {}): Promise<number> {
    return this.call('activationBytes', [tower, batch, opts]);
  }

  /** Tests: destroys the worker's GPU device as a lost device would; the next call reports the loss. */
  destroyDeviceForTesting(): Promise<void> {
    if (this.disposed) return Promise.reject(new Error(DISPOSED));
    return this.conn.request({ type: 'destroy-device' }) as Promise<void>;
  }

  /** Waits for the calls already made, frees every GPU buffer and the device in the worker, and ends the worker. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    try {
      await this.conn.request({ type: 'dispose' });
    } catch {
      // A worker that already failed has nothing left to free: it is ended below either way.
    } finally {
      this.conn.terminate(new Error(DISPOSED));
    }
  }
}

export type { EmbedSettledOptions, SettledEmbedding } from './embed-settled.js';
