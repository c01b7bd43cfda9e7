/**
 * The public SigLIP API: load a checkpoint (hub id, directory, URL, or browser files), then embed images and
 * texts, classify zero-shot, or run the raw forward pass with every output HF's SiglipModel gives. Calls on one
 * model are queued, so concurrent callers never interleave on the device; dispose() frees every GPU buffer.
 */
import { createEngine, tuneEngine, tuningDisabledByEnv, weightLayoutFor, type Engine, type EngineOptions } from '../ops/index.js';
import type { DType } from '../runtime/dtype.js';
import type { Profile } from '../runtime/executor.js';
import { parseSiglipConfig, type SiglipConfig } from './config.js';
import { openModelSource, type HubOptions } from './hub/index.js';
import { SiglipImageProcessor, type ImageInput } from './image/index.js';
import { assertFinite, CheckpointError, InputError } from './errors.js';
import { checkConfigAgainstCheckpoint } from './config-check.js';
import { l2Normalize, sigmoid, siglipLogits } from './logits.js';
import { tuningShapes } from './siglip-graphs.js';
import { SiglipRunner, type RunOptions, type TensorData } from './siglip-runner.js';
import { siglipWeightPlan, SiglipWeights, type Tower, type WeightLayout } from './siglip-weights.js';
import { BlobSource, CompositeSource, readJson, UrlSource, type FileSource } from './source.js';
import { hasTokenizer, loadTokenizer, type TextTokenizer } from './tokenizer/index.js';
import { loadWeights, readCheckpointIndex, readSmallTensor, type LoadProgress } from './weights.js';

export const DEFAULT_MODEL = 'google/siglip-large-patch16-384';

/** Browser form: the files themselves. `weights` may be a Blob/File or a URL string. */
export interface ModelFiles {
  config: object | Blob;
  weights: Blob | string;
  tokenizer?: Blob;
  tokenizerConfig?: object | Blob;
  preprocessor?: object | Blob;
}

export type ModelRef = string | FileSource | ModelFiles;

export interface LoadOptions extends EngineOptions, Omit<HubOptions, 'onProgress'> {
  /** 'f32' (default) or 'f16' (needs shader-f16): weights and activations in f16, f32 accumulation. */
  dtype?: DType;
  /** Run on this engine (shared; the model does not dispose it). Default: a new engine, owned by the model. */
  engine?: Engine;
  /** Load only these towers (default both). */
  towers?: Tower[];
  /** Most items per pass (default 8); passes are split further to fit the device's limits. */
  batch?: number;
  onProgress?: (p: LoadProgress) => void;
  /**
   * Per-adapter kernel tuning at this model's own shapes (its MLP, its attention's token count and head dim, its
   * LayerNorm width): true (default) applies this adapter's cached choices, searching the shape classes not yet
   * cached — on GPUs; CPU adapters (lavapipe, SwiftShader) would spend minutes compiling candidates, so there the
   * search runs only when asked ('force', or `siglip-webgpu bench --tune`) and the adapter defaults are used
   * otherwise. 'force' searches again; false keeps the adapter defaults.
   */
  tune?: boolean | 'force';
  /** Layout of linear weights on the device; default: the tuner's choice for this adapter ('nk' untuned). */
  weightLayout?: WeightLayout;
  /**
   * Lower-case texts before tokenizing. Default true: SigLIP's tokenizer does (do_lower_case), and SigLIP 2 was
   * trained on lower-cased text — though transformers' GemmaTokenizer (≤ 4.5x) does not lower-case; pass false for
   * its ids.
   */
  lowerCase?: boolean;
}

export interface ClassifyResult {
  label: string;
  score: number;
}

export interface ForwardInputs {
  pixelValues?: { data: Float32Array; shape: number[] };
  inputIds?: { data: Int32Array | number[]; shape: number[] };
}

function isModelFiles(x: unknown): x is ModelFiles {
  return !!x && typeof x === 'object' && 'config' in x && 'weights' in x;
}

function jsonBlob(x: object | Blob): Blob {
  return typeof Blob !== 'undefined' && x instanceof Blob ? x : new Blob([JSON.stringify(x)], { type: 'application/json' });
}

/** Turns the browser form into a source with checkpoint file names. */
function filesSource(files: ModelFiles): FileSource {
  const blobs: Record<string, Blob> = { 'config.json': jsonBlob(files.config) };
  if (files.preprocessor) blobs['preprocessor_config.json'] = jsonBlob(files.preprocessor);
  if (files.tokenizerConfig) blobs['tokenizer_config.json'] = jsonBlob(files.tokenizerConfig);
  if (files.tokenizer) {
    // spiece.model (SigLIP), tokenizer.model (SigLIP 2's Gemma tokenizer) or tokenizer.json, by the file's name.
    const name = (files.tokenizer as Blob & { name?: string }).name ?? '';
    blobs[name.endsWith('.json') ? 'tokenizer.json' : name.endsWith('tokenizer.model') ? 'tokenizer.model' : 'spiece.model'] = files.tokenizer;
  }
  const local = new BlobSource(blobs);
  const map: Record<string, { source: FileSource; name: string }> = {};
  for (const n of Object.keys(blobs)) map[n] = { source: local, name: n };
  if (typeof files.weights === 'string') {
    const url = new URL(files.weights, typeof location !== 'undefined' ? location.href : undefined);
    const base = url.href.slice(0, url.href.lastIndexOf('/') + 1);
    map['model.safetensors'] = { source: new UrlSource(base), name: url.href.slice(base.length) };
  } else {
    map['model.safetensors'] = { source: new BlobSource({ 'model.safetensors': files.weights }), name: 'model.safetensors' };
  }
  return new CompositeSource(map);
}

export class SiglipModel {
  private queue: Promise<unknown> = Promise.resolve();
  private disposed = false;
  private readonly runner: SiglipRunner;

  private constructor(
    readonly engine: Engine,
    private readonly ownsEngine: boolean,
    readonly config: SiglipConfig,
    readonly source: FileSource,
    private readonly weights: SiglipWeights,
    readonly dtype: DType,
    readonly towers: Tower[],
    batch: number,
    private readonly tokenizerRef: TextTokenizer | null,
    private readonly processorRef: SiglipImageProcessor,
    /** Seconds spent loading (config, tokenizer, weights). */
    readonly loadSeconds: number,
  ) {
    this.runner = new SiglipRunner(engine, config, weights, dtype, batch);
  }

  /** Loads a checkpoint: a hub id ('google/siglip-large-patch16-384'), a local directory, a base URL, or files. */
  static async load(ref: ModelRef = DEFAULT_MODEL, opts: LoadOptions = {}): Promise<SiglipModel> {
    const t0 = performance.now();
    const source = typeof ref === 'string' || !isModelFiles(ref)
      ? await openModelSource(ref as string | FileSource, { ...opts, onProgress: opts.onProgress ? (p) => opts.onProgress!({ phase: 'download', file: p.file, loaded: p.loaded, total: p.total ?? 0 }) : undefined })
      : filesSource(ref);
    const config = parseSiglipConfig(await readJson(source, 'config.json'), source.locate('config.json'));
    const dtype = opts.dtype ?? 'f32';
    if (dtype !== 'f32' && dtype !== 'f16') throw new Error(`dtype "${dtype}" is not supported (f32 or f16)`);
    const towers = opts.towers ?? ['vision', 'text'];
    const batch = opts.batch ?? 8;
    if (!(Number.isInteger(batch) && batch >= 1)) throw new Error(`batch must be a positive integer, got ${batch}`);
    const tokenizer = towers.includes('text') && (await hasTokenizer(source))
      ? await loadTokenizer(source, { maxLength: config.text.maxPositions, lowerCase: opts.lowerCase })
      : null;
    const processor = (await source.has('preprocessor_config.json'))
      ? await SiglipImageProcessor.fromSource(source)
      : SiglipImageProcessor.fromConfig({ size: { height: config.vision.imageSize, width: config.vision.imageSize } });
    if (processor.size.height !== config.vision.imageSize || processor.size.width !== config.vision.imageSize) {
      const file = source.locate('preprocessor_config.json');
      throw new CheckpointError(`${file}: size ${processor.size.height}×${processor.size.width} differs from the model's image_size ${config.vision.imageSize}`, { file, field: 'size' });
    }
    // The checkpoint's headers, and the config against them, before a device is asked for anything.
    const entries = await readCheckpointIndex(source);
    checkConfigAgainstCheckpoint(config, entries, towers, source.locate('config.json'), (f) => source.locate(f));

    const engine = opts.engine ?? (await createEngine(opts));
    try {
      if (dtype === 'f16' && !engine.hasF16) throw new Error(`dtype f16 needs the shader-f16 feature, which ${engine.info.name} lacks; use dtype f32`);
      const shapes = tuningShapes(config, towers);
      if (opts.tune === 'force') await tuneEngine(engine, shapes, { force: true, searchIfMissing: true });
      else if (opts.tune !== false && !tuningDisabledByEnv()) await tuneEngine(engine, shapes);
      const scale = await readSmallTensor(source, entries, 'logit_scale', [1]);
      const bias = await readSmallTensor(source, entries, 'logit_bias', [1]);
      // Tuned at this model's MLP shape, else the adapter default ([in, out] on lavapipe and SwiftShader, whose
      // kernels read it about twice as fast; HF's [out, in] on GPUs).
      const layout = opts.weightLayout ?? weightLayoutFor(engine, shapes.matmul?.[0]);
      if (layout !== 'nk' && layout !== 'kn') throw new Error(`weightLayout must be 'nk' or 'kn', got ${JSON.stringify(layout)}`);
      // Tensors up to what one binding (and one buffer) holds; the token table is paged to fit (256k vocabularies).
      const maxTensorBytes = Math.min(engine.limits.maxStorageBufferBindingSize, engine.limits.maxBufferSize);
      const plan = siglipWeightPlan(config, towers, layout, { maxTensorBytes, elementBytes: dtype === 'f16' ? 2 : 4 });
      const tensors = await loadWeights(engine, source, entries, plan, { dtype, onProgress: opts.onProgress });
      const weights = new SiglipWeights(tensors, scale[0]!, bias[0]!, layout);
      return new SiglipModel(engine, !opts.engine, config, source, weights, dtype, towers, batch, tokenizer, processor, (performance.now() - t0) / 1000);
    } catch (e) {
      if (!opts.engine) engine.dispose();
      throw e;
    }
  }

  /** Queues `fn` behind every earlier call on this model. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(() => {
      if (this.disposed) throw new Error('this SiglipModel has been disposed');
      return fn();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** SiglipTokenizer (SigLIP) or GemmaTokenizer (SigLIP 2), as the checkpoint has. */
  get tokenizer(): TextTokenizer {
    if (!this.tokenizerRef) throw new Error(`${this.source.description}: no tokenizer (spiece.model, tokenizer.model or tokenizer.json) was found, or the text tower was not loaded`);
    return this.tokenizerRef;
  }

  get imageProcessor(): SiglipImageProcessor {
    return this.processorRef;
  }

  /** Embedding width of image and text embeddings. */
  get embedDim(): number {
    return this.config.vision.hiddenSize;
  }

  /**
   * Token ids as the checkpoint's tokenizer gives them with padding='max_length', truncation=True (lower-cased
   * unless the model was loaded with `lowerCase: false`).
   */
  tokenize(texts: string[]): { inputIds: Int32Array; shape: [number, number] } {
    if (!Array.isArray(texts)) throw new InputError('tokenize() takes an array of strings');
    return this.tokenizer.call(texts, { maxLength: this.config.text.maxPositions });
  }

  /** pixel_values [B, 3, H, W] as SiglipImageProcessor gives them. */
  preprocess(images: ImageInput[]): Promise<{ pixelValues: Float32Array; shape: [number, number, number, number] }> {
    if (!Array.isArray(images)) throw new InputError('preprocess() takes an array of images');
    return this.processorRef.preprocess(images);
  }

  private need(tower: Tower): void {
    if (!this.towers.includes(tower)) throw new Error(`the ${tower} tower was not loaded (load with towers: [..., '${tower}'])`);
  }

  /**
   * The forward pass, as HF's SiglipModel computes it: vision.* and text.* hidden states and pooled outputs,
   * image_embeds / text_embeds (L2-normalized) and, when both are given, logits_per_image / logits_per_text.
   */
  forward(inputs: ForwardInputs, opts: RunOptions = {}): Promise<Record<string, TensorData>> {
    return this.serial(() => this.forwardNow(inputs, opts));
  }

  private async forwardNow(inputs: ForwardInputs, opts: RunOptions): Promise<Record<string, TensorData>> {
    const out: Record<string, TensorData> = {};
    let imageEmbeds: Float32Array | null = null;
    let textEmbeds: Float32Array | null = null;
    const D = this.embedDim;
    if (inputs.pixelValues) {
      this.need('vision');
      const { data, shape } = inputs.pixelValues;
      const v = this.config.vision;
      const want = [v.numChannels, v.imageSize, v.imageSize];
      if (shape.length !== 4 || shape.slice(1).join(',') !== want.join(',')) {
        throw new InputError(`pixel_values has shape [${shape.join(', ')}]; this model takes [B, ${want.join(', ')}]`);
      }
      for (const [k, t] of await this.runner.vision(data, shape[0]!, opts)) out[k] = t;
      const pooled = out['vision.pooler_output'];
      // A pass's final output must be numbers: NaN or ±Inf (a corrupt checkpoint) is an error, never a result.
      const last = pooled ?? out['vision.last_hidden_state'];
      if (last) assertFinite(last.data, 'vision', pooled ? 'pooler_output' : 'last_hidden_state');
      if (pooled) {
        imageEmbeds = l2Normalize(pooled.data, pooled.shape[1]!);
        out.image_embeds = { data: imageEmbeds, shape: pooled.shape };
      }
    }
    if (inputs.inputIds) {
      this.need('text');
      const { data, shape } = inputs.inputIds;
      if (shape.length !== 2) throw new InputError(`input_ids has shape [${shape.join(', ')}]; expected [T, L]`);
      const ids = data instanceof Int32Array ? data : Int32Array.from(data);
      for (const [k, t] of await this.runner.text(ids, shape[0]!, shape[1]!, opts)) out[k] = t;
      const pooled = out['text.pooler_output']!;
      assertFinite(pooled.data, 'text', 'pooler_output');
      textEmbeds = l2Normalize(pooled.data, pooled.shape[1]!);
      out.text_embeds = { data: textEmbeds, shape: pooled.shape };
    }
    if (imageEmbeds && textEmbeds) {
      if (this.config.text.projectionSize !== D) throw new Error(`text projection ${this.config.text.projectionSize} and image width ${D} differ: no logits`);
      const { perText, perImage } = siglipLogits(textEmbeds, imageEmbeds, D, this.weights.logitScale, this.weights.logitBias);
      assertFinite(perImage, 'logits', 'logits_per_image');
      const T = textEmbeds.length / D;
      const B = imageEmbeds.length / D;
      out.logits_per_text = { data: perText, shape: [T, B] };
      out.logits_per_image = { data: perImage, shape: [B, T] };
    }
    return out;
  }

  /** L2-normalized image embeddings, [B, D] row-major. */
  embedImages(images: ImageInput[]): Promise<Float32Array> {
    return this.serial(async () => {
      const { pixelValues, shape } = await this.preprocess(images);
      const out = await this.forwardNow({ pixelValues: { data: pixelValues, shape } }, {});
      return out.image_embeds!.data;
    });
  }

  /** L2-normalized text embeddings, [T, D] row-major. */
  embedTexts(texts: string[]): Promise<Float32Array> {
    return this.serial(async () => {
      const { inputIds, shape } = this.tokenize(texts);
      const out = await this.forwardNow({ inputIds: { data: inputIds, shape } }, {});
      return out.text_embeds!.data;
    });
  }

  /**
   * Zero-shot classification of one image: each label through the template (default 'This is a photo of {}.',
   * HF's pipeline default), scores = sigmoid(logit) per label as HF's pipeline reports them, best first.
   */
  classify(image: ImageInput, labels: string[], opts: { template?: string } = {}): Promise<ClassifyResult[]> {
    if (!Array.isArray(labels) || labels.length === 0) return Promise.reject(new InputError('classify() needs at least one label'));
    const template = opts.template ?? 'This is a photo of {}.';
    if (!template.includes('{}')) return Promise.reject(new InputError(`template "${template}" has no {} for the label`));
    return this.serial(async () => {
      const { pixelValues, shape } = await this.preprocess([image]);
      const { inputIds, shape: tshape } = this.tokenize(labels.map((l) => template.split('{}').join(l)));
      const out = await this.forwardNow({ pixelValues: { data: pixelValues, shape }, inputIds: { data: inputIds, shape: tshape } }, {});
      const logits = out.logits_per_image!.data;
      return labels.map((label, i) => ({ label, score: sigmoid(logits[i]!) })).sort((a, b) => b.score - a.score);
    });
  }

  /** One timed forward pass of a tower at a batch size on synthetic inputs: per-node and per-op GPU time. */
  profile(tower: Tower, batch = 1): Promise<Profile> {
    this.need(tower);
    return this.serial(async () => {
      if (tower === 'vision') {
        const v = this.config.vision;
        await this.runner.vision(new Float32Array(batch * v.numChannels * v.imageSize ** 2), batch, { profile: true });
      } else {
        const L = this.config.text.maxPositions;
        await this.runner.text(new Int32Array(batch * L).fill(this.config.text.padTokenId % this.config.text.vocabSize), batch, L, { profile: true });
      }
      return this.runner.lastProfile!;
    });
  }

  /** Activation memory of the planned graph for a tower and batch (bytes, after buffer reuse). */
  activationBytes(tower: Tower, batch: number): Promise<number> {
    this.need(tower);
    return this.serial(() => this.runner.activationBytes(tower, batch));
  }

  /** Bytes of weights on the device. */
  get weightBytes(): number {
    return this.weights.bytes;
  }

  /** Frees every GPU buffer (plans, weights; the engine too when the model made it). Waits for queued calls. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    await this.queue;
    this.disposed = true;
    this.runner.dispose();
    this.weights.dispose();
    if (this.ownsEngine) this.engine.dispose();
  }
}
