/**
 * The public SigLIP API: load a checkpoint (hub id, directory, URL, or browser files), then embed images and
 * texts, classify zero-shot, or run the raw forward pass with every output HF's SiglipModel gives. Calls on one
 * model are queued, so concurrent callers never interleave on the device; dispose() frees every GPU buffer.
 */
import { createEngine, tuneEngine, tuningDisabledByEnv, weightLayoutFor, type Engine, type EngineOptions } from '../ops/index.js';
import type { Profile } from '../runtime/executor.js';
import { parseSiglipConfig, type SiglipConfig } from './config.js';
import { openModelSource, type HubOptions } from './hub/index.js';
import type { ImageInput } from './image/index.js';
import { loadImageProcessor, preprocessImages, type ImageProcessor, type PreprocessedImages, type PreprocessOptions } from './image-inputs.js';
import { assertFinite, CheckpointError, InputError } from './errors.js';
import { checkConfigAgainstCheckpoint } from './config-check.js';
import { l2Normalize, sigmoid, siglipLogits } from './logits.js';
import { tuningShapes } from './siglip-graphs.js';
import { SiglipRunner, type RunOptions, type TensorData } from './siglip-runner.js';
import { hostTensors, siglipWeightPlan, SiglipWeights, type Tower, type WeightLayout } from './siglip-weights.js';
import { BlobSource, CompositeSource, readJson, UrlSource, type FileSource } from './source.js';
import { hasTokenizer, loadTokenizer, type TextTokenizer } from './tokenizer/index.js';
import { resolveDType, type ActivationDType, type DTypeOptions, type ModelDType } from './model-dtype.js';
import { convertedOptions, logicalEntries, readConvertedScheme } from './compact-checkpoint.js';
import { loadWeights, readCheckpointIndex, readHostTensor, readSmallTensor, type LoadProgress } from './weights.js';

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

export interface LoadOptions extends EngineOptions, Omit<HubOptions, 'onProgress'>, DTypeOptions {
  /**
   * How weights are stored (model-dtype.ts): 'f32' (default); 'f16' (f16 weights; f16 activations where the adapter
   * has shader-f16, else f16 words unpacked in registers and f32 compute); 'int8' (per-output-channel scales, or
   * per `group`); 'q4' (4-bit, scales per group of 32 by default). int8 and q4 quantize at load from f32/f16/bf16
   * checkpoints, or load a converted checkpoint as it is (which, with no dtype given, loads as its own dtype).
   */
  dtype?: ModelDType;
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
  /** [B, 3, H, W]; NaFlex: [B, L, 3·p·p] with pixelAttentionMask and spatialShapes. */
  pixelValues?: { data: Float32Array; shape: number[] };
  /** NaFlex: [B, L], 1 for real patches then 0 (padding at the end, as Siglip2ImageProcessor makes it). */
  pixelAttentionMask?: { data: Int32Array | number[]; shape: number[] };
  /** NaFlex: [B, 2], each image's patch grid (rows, columns). */
  spatialShapes?: { data: Int32Array | number[]; shape: number[] };
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
    /** How the weights are stored. */
    readonly dtype: ModelDType,
    /** What the pass computes in (activations, norms, biases, positions). */
    readonly activations: ActivationDType,
    readonly towers: Tower[],
    batch: number,
    private readonly tokenizerRef: TextTokenizer | null,
    private readonly processorRef: ImageProcessor,
    /** Seconds spent loading (config, tokenizer, weights). */
    readonly loadSeconds: number,
  ) {
    this.runner = new SiglipRunner(engine, config, weights, activations, batch);
  }

  /** Loads a checkpoint: a hub id ('google/siglip-large-patch16-384'), a local directory, a base URL, or files. */
  static async load(ref: ModelRef = DEFAULT_MODEL, opts: LoadOptions = {}): Promise<SiglipModel> {
    const t0 = performance.now();
    const source = typeof ref === 'string' || !isModelFiles(ref)
      ? await openModelSource(ref as string | FileSource, { ...opts, onProgress: opts.onProgress ? (p) => opts.onProgress!({ phase: 'download', file: p.file, loaded: p.loaded, total: p.total ?? 0 }) : undefined })
      : filesSource(ref);
    const config = parseSiglipConfig(await readJson(source, 'config.json'), source.locate('config.json'));
    // Refused before any download or device: a dtype that is no dtype (the rest once the checkpoint is known).
    resolveDType({ dtype: opts.dtype }, true, 'this adapter');
    const towers = opts.towers ?? ['vision', 'text'];
    const batch = opts.batch ?? 8;
    if (!(Number.isInteger(batch) && batch >= 1)) throw new Error(`batch must be a positive integer, got ${batch}`);
    const tokenizer = towers.includes('text') && (await hasTokenizer(source))
      ? await loadTokenizer(source, { maxLength: config.text.maxPositions, lowerCase: opts.lowerCase })
      : null;
    const processor = await loadImageProcessor(source, config.vision);
    // The checkpoint's headers, and the config against them, before a device is asked for anything.
    const metadata = new Map<string, Record<string, string>>();
    const entries = await readCheckpointIndex(source, metadata);
    // A converted checkpoint (compact-weights scheme): checked whole before anything else, and it decides the dtype.
    const scheme = await readConvertedScheme(source, entries, metadata);
    const converted = scheme ? convertedOptions(scheme, opts) : null;
    const dtypeOpts: DTypeOptions = converted ? { dtype: converted.dtype, group: converted.group, activations: opts.activations } : opts;
    checkConfigAgainstCheckpoint(config, scheme ? logicalEntries(entries, scheme) : entries, towers, source.locate('config.json'), (f) => source.locate(f));

    const engine = opts.engine ?? (await createEngine(opts));
    try {
      const { dtype, activations, packed } = resolveDType(dtypeOpts, engine.hasF16, engine.info.name);
      const shapes = tuningShapes(config, towers);
      // Compact weights: the matmul is tuned (and checked against float64) reading this format, at this model's shape.
      if (packed) shapes.weightFormats = [{ ...packed, dtype: activations }];
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
      const plan = siglipWeightPlan(config, towers, layout, { maxTensorBytes, elementBytes: activations === 'f16' ? 2 : 4, packed: packed ?? undefined, formatOf: converted?.formatOf ?? undefined });
      const host = new Map<string, Float32Array>();
      for (const h of hostTensors(config, towers)) host.set(h.key, await readHostTensor(source, entries, h.src, h.shape));
      const tensors = await loadWeights(engine, source, entries, plan, { dtype: activations, onProgress: opts.onProgress });
      const weights = new SiglipWeights(tensors, scale[0]!, bias[0]!, layout, host);
      return new SiglipModel(engine, !opts.engine, config, source, weights, dtype, activations, towers, batch, tokenizer, processor, (performance.now() - t0) / 1000);
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

  /** SiglipImageProcessor, or Siglip2ImageProcessor for NaFlex checkpoints. */
  get imageProcessor(): ImageProcessor {
    return this.processorRef;
  }

  /** SigLIP's head, logit = cos(image, text) · exp(logitScale) + logitBias: the checkpoint's two scalars. */
  get logitScale(): number {
    return this.weights.logitScale;
  }

  get logitBias(): number {
    return this.weights.logitBias;
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

  /**
   * pixel_values [B, 3, H, W] as SiglipImageProcessor gives them; for NaFlex models, Siglip2ImageProcessor's
   * pixel_values [B, maxNumPatches, 3·p·p], pixel_attention_mask and spatial_shapes (`maxNumPatches` per call).
   */
  preprocess(images: ImageInput[], opts: PreprocessOptions = {}): Promise<PreprocessedImages> {
    return preprocessImages(this.processorRef, images, opts);
  }

  /** NaFlex: the patch budget of calls that do not give one (preprocessor_config.json's max_num_patches); else 0. */
  get maxNumPatches(): number {
    return this.config.vision.naflex ? (this.processorRef as { maxNumPatches: number }).maxNumPatches : 0;
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
      for (const [k, t] of await this.runVision(inputs, opts)) out[k] = t;
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

  /** The vision pass on checked inputs: fixed-size pixel_values, or NaFlex's three tensors. */
  private runVision(inputs: ForwardInputs, opts: RunOptions): Promise<Map<string, TensorData>> {
    const { data, shape } = inputs.pixelValues!;
    const v = this.config.vision;
    if (!v.naflex) {
      const want = [v.numChannels, v.imageSize, v.imageSize];
      if (shape.length !== 4 || shape.slice(1).join(',') !== want.join(',')) {
        throw new InputError(`pixel_values has shape [${shape.join(', ')}]; this model takes [B, ${want.join(', ')}]`);
      }
      if (inputs.pixelAttentionMask || inputs.spatialShapes) throw new InputError('pixel_attention_mask and spatial_shapes are NaFlex inputs; this model takes fixed-size images');
      return this.runner.vision(data, shape[0]!, opts);
    }
    const F = v.numChannels * v.patchSize ** 2;
    if (shape.length !== 3 || shape[2] !== F) throw new InputError(`pixel_values has shape [${shape.join(', ')}]; this NaFlex model takes [B, L, ${F}] (flattened ${v.patchSize}×${v.patchSize} patches)`);
    const [B, L] = shape as [number, number];
    const { pixelAttentionMask: mask, spatialShapes: spatial } = inputs;
    if (!mask || !spatial) throw new InputError('a NaFlex model needs pixel_attention_mask [B, L] and spatial_shapes [B, 2] with pixel_values');
    if (mask.shape.join(',') !== `${B},${L}`) throw new InputError(`pixel_attention_mask has shape [${mask.shape.join(', ')}]; pixel_values needs [${B}, ${L}]`);
    if (spatial.shape.join(',') !== `${B},2`) throw new InputError(`spatial_shapes has shape [${spatial.shape.join(', ')}]; pixel_values needs [${B}, 2]`);
    const i32 = (x: Int32Array | number[]) => (x instanceof Int32Array ? x : Int32Array.from(x));
    return this.runner.naflex(data, i32(mask.data), i32(spatial.data), B, L, opts);
  }

  /** The forward inputs of preprocessed images. */
  /** forward()'s image inputs from preprocess()'s result (and from stackPreprocessed's, for batches made apart). */
  static imageInputs(p: PreprocessedImages): ForwardInputs {
    const B = p.shape[0]!;
    return {
      pixelValues: { data: p.pixelValues, shape: p.shape },
      ...(p.pixelAttentionMask ? { pixelAttentionMask: { data: p.pixelAttentionMask, shape: [B, p.shape[1]!] } } : {}),
      ...(p.spatialShapes ? { spatialShapes: { data: p.spatialShapes, shape: [B, 2] } } : {}),
    };
  }

  /**
   * L2-normalized image embeddings, [B, D] row-major. NaFlex models take `maxNumPatches` per call (256, 576, 784,
   * 1024 …: more patches, more detail, more time).
   */
  embedImages(images: ImageInput[], opts: PreprocessOptions = {}): Promise<Float32Array> {
    return this.serial(async () => {
      const out = await this.forwardNow(SiglipModel.imageInputs(await this.preprocess(images, opts)), {});
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
   * HF's pipeline default), then the tokenizer (which lower-cases, unless loaded with `lowerCase: false`), scores =
   * sigmoid(logit) per label as HF's pipeline reports them, best first. NaFlex models take `maxNumPatches`.
   */
  classify(image: ImageInput, labels: string[], opts: { template?: string; maxNumPatches?: number } = {}): Promise<ClassifyResult[]> {
    if (!Array.isArray(labels) || labels.length === 0) return Promise.reject(new InputError('classify() needs at least one label'));
    const template = opts.template ?? 'This is a photo of {}.';
    if (!template.includes('{}')) return Promise.reject(new InputError(`template "${template}" has no {} for the label`));
    return this.serial(async () => {
      const images = SiglipModel.imageInputs(await this.preprocess([image], { maxNumPatches: opts.maxNumPatches }));
      const { inputIds, shape: tshape } = this.tokenize(labels.map((l) => template.split('{}').join(l)));
      const out = await this.forwardNow({ ...images, inputIds: { data: inputIds, shape: tshape } }, {});
      const logits = out.logits_per_image!.data;
      return labels.map((label, i) => ({ label, score: sigmoid(logits[i]!) })).sort((a, b) => b.score - a.score);
    });
  }

  /**
   * One timed forward pass of a tower at a batch size on synthetic inputs: per-node and per-op GPU time. NaFlex:
   * images of `maxNumPatches` patches (default the model's), every one real (a square-ish grid, no padding).
   */
  profile(tower: Tower, batch = 1, opts: { maxNumPatches?: number } = {}): Promise<Profile> {
    this.need(tower);
    return this.serial(async () => {
      if (tower === 'vision' && this.config.vision.naflex) {
        const L = opts.maxNumPatches ?? this.maxNumPatches;
        const v = this.config.vision;
        const { h, w } = fullGrid(L);
        const spatial = new Int32Array(2 * batch).map((_, i) => (i % 2 ? w : h));
        const mask = new Int32Array(batch * L).map((_, i) => (i % L < h * w ? 1 : 0));
        await this.runner.naflex(new Float32Array(batch * L * v.numChannels * v.patchSize ** 2), mask, spatial, batch, L, { profile: true });
      } else if (tower === 'vision') {
        const v = this.config.vision;
        await this.runner.vision(new Float32Array(batch * v.numChannels * v.imageSize ** 2), batch, { profile: true });
      } else {
        const L = this.config.text.maxPositions;
        await this.runner.text(new Int32Array(batch * L).fill(this.config.text.padTokenId % this.config.text.vocabSize), batch, L, { profile: true });
      }
      return this.runner.lastProfile!;
    });
  }

  /** Activation memory of the planned graph for a tower and batch (bytes, after buffer reuse); NaFlex at `maxNumPatches`. */
  activationBytes(tower: Tower, batch: number, opts: { maxNumPatches?: number } = {}): Promise<number> {
    this.need(tower);
    const L = tower === 'vision' && this.config.vision.naflex ? (opts.maxNumPatches ?? this.maxNumPatches) : undefined;
    return this.serial(() => this.runner.activationBytes(tower, batch, L));
  }

  /**
   * Where this model's pass of a tower runs a slower kernel form than the adapter's chosen variant, in words (e.g.
   * head dim 72 on 8-lane subgroups: no K/V sharing by shuffles); empty when none. The bench prints these.
   */
  kernelNotes(tower: Tower, batch = 1, opts: { maxNumPatches?: number } = {}): Promise<string[]> {
    this.need(tower);
    const L = tower === 'vision' && this.config.vision.naflex ? (opts.maxNumPatches ?? this.maxNumPatches) : undefined;
    return this.serial(() => this.runner.kernelNotes(tower, batch, L));
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

/** The most nearly square patch grid h × w ≤ n with the most patches (synthetic NaFlex inputs). */
function fullGrid(n: number): { h: number; w: number } {
  let best = { h: 1, w: 1 };
  for (let h = 1; h * h <= n; h++) {
    const w = Math.floor(n / h);
    if (h * w > best.h * best.w || (h * w === best.h * best.w && Math.abs(w - h) < Math.abs(best.w - best.h))) best = { h, w };
  }
  return best;
}
