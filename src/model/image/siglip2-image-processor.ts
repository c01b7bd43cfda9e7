/**
 * SigLIP 2 NaFlex preprocessing, equal to transformers' `Siglip2ImageProcessor` (v4.50, the slow PIL one): each image
 * keeps its aspect ratio and becomes a sequence of flattened patches.
 *   1. target size: the largest scale s (binary search on [1e-6, 100] to a 1e-5 interval, in double precision, as
 *      transformers' get_image_size_for_max_num_patches) at which H' = max(p, ⌈H·s/p⌉·p) and W' likewise give at
 *      most max_num_patches patches; it may upscale;
 *   2. PIL resize to W'×H' with `resample` (bilinear), then rescale and normalize as SiglipImageProcessor does (the
 *      same 256-entry tables, so the values are bit-identical);
 *   3. patches h = H'/p rows × w = W'/p columns, row-major, each flattened (row, column, channel) — channel fastest —
 *      then zero rows up to max_num_patches; `pixel_attention_mask` 1 for the h·w real rows; `spatial_shapes` (h, w).
 * Real NaFlex checkpoints name the torchvision-based Siglip2ImageProcessorFast, whose pixels differ from these by one
 * uint8 step in under 1 % of the values (test/fixtures/README.md); patch grids and masks are the same.
 */
import { decodeImage } from './decode.js';
import { buildTables, parsePreprocessorConfig, type PreprocessorConfig } from './image-processor.js';
import { FILTERS_BY_PIL_ID, resizeWith, type ResampleFilter } from './resize-bicubic.js';
import type { DecodeOptions, ImageInput, RgbImage } from './types.js';
import { readJson, type FileSource } from '../source.js';
import { InputError, parsingFile } from '../errors.js';

export interface Siglip2PreprocessorConfig extends Omit<PreprocessorConfig, 'size'> {
  patch_size: number;
  max_num_patches: number;
}

/** Patch counts people use with NaFlex checkpoints: 256 (the default), 576, 784, 1024, … up to this. */
export const MAX_NUM_PATCHES_LIMIT = 16384;

const CONFIG_FILE = 'preprocessor_config.json';

function positiveInt(j: Record<string, unknown>, key: string, fallback: number, max: number): number {
  const v = j[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) {
    throw new Error(`preprocessor config: ${key} must be an integer from 1 to ${max}, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** Validates a (partial) Siglip2ImageProcessor config and fills its defaults (bilinear, patch 16, 256 patches). */
export function parseSiglip2PreprocessorConfig(json: Record<string, unknown>): Siglip2PreprocessorConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error('preprocessor config: expected a JSON object');
  // The rescale / normalize / resample fields are SiglipImageProcessor's, with bilinear as the default here.
  const { size: _size, ...base } = parsePreprocessorConfig({ ...json, resample: json.resample ?? 2, size: undefined });
  return { ...base, patch_size: positiveInt(json, 'patch_size', 16, 1024), max_num_patches: positiveInt(json, 'max_num_patches', 256, MAX_NUM_PATCHES_LIMIT) };
}

/** transformers' get_image_size_for_max_num_patches: (height, width) in pixels, multiples of the patch size. */
export function sizeForMaxNumPatches(height: number, width: number, patch: number, maxNumPatches: number, eps = 1e-5): { height: number; width: number } {
  const scaled = (scale: number, size: number) => Math.max(patch, Math.ceil((size * scale) / patch) * patch);
  let lo = eps / 10;
  let hi = 100.0;
  while (hi - lo >= eps) {
    const scale = (lo + hi) / 2;
    const n = (scaled(scale, height) / patch) * (scaled(scale, width) / patch);
    if (n <= maxNumPatches) lo = scale;
    else hi = scale;
  }
  return { height: scaled(lo, height), width: scaled(lo, width) };
}

/** What the processor returns for a batch, as transformers names it. */
export interface NaflexInputs {
  /** [B, maxNumPatches, 3·p·p], float32. */
  pixelValues: Float32Array;
  shape: [number, number, number];
  /** [B, maxNumPatches]: 1 for real patches, 0 for padding. */
  pixelAttentionMask: Int32Array;
  /** [B, 2]: each image's patch grid (rows h, columns w). */
  spatialShapes: Int32Array;
}

export class Siglip2ImageProcessor {
  readonly config: Siglip2PreprocessorConfig;
  readonly patchSize: number;
  /** Default of `preprocess`'s maxNumPatches. */
  readonly maxNumPatches: number;
  private readonly filter: ResampleFilter;
  private readonly tables: Float32Array[];

  private constructor(config: Siglip2PreprocessorConfig) {
    this.config = config;
    this.patchSize = config.patch_size;
    this.maxNumPatches = config.max_num_patches;
    this.filter = FILTERS_BY_PIL_ID[config.resample]!;
    this.tables = buildTables(config);
  }

  static fromConfig(json: Record<string, unknown> = {}): Siglip2ImageProcessor {
    return new Siglip2ImageProcessor(parseSiglip2PreprocessorConfig(json));
  }

  static async fromSource(source: FileSource): Promise<Siglip2ImageProcessor> {
    const json = await readJson<Record<string, unknown>>(source, CONFIG_FILE);
    return parsingFile(source.locate(CONFIG_FILE), () => Siglip2ImageProcessor.fromConfig(json));
  }

  /** Checks a per-call patch budget. */
  checkMaxNumPatches(n: number): number {
    if (!(Number.isInteger(n) && n >= 1 && n <= MAX_NUM_PATCHES_LIMIT)) throw new InputError(`maxNumPatches must be an integer from 1 to ${MAX_NUM_PATCHES_LIMIT}, got ${n}`);
    return n;
  }

  /** One decoded image at its NaFlex size (a multiple of the patch size, at most maxNumPatches patches). */
  resize(img: RgbImage, maxNumPatches = this.maxNumPatches): RgbImage {
    const p = this.patchSize;
    if (!this.config.do_resize) {
      if (img.height % p || img.width % p) throw new InputError(`image is ${img.width}×${img.height}; with do_resize false its sides must be multiples of the patch size ${p}`);
      if ((img.height / p) * (img.width / p) > maxNumPatches) throw new InputError(`image is ${img.width}×${img.height}: ${(img.height / p) * (img.width / p)} patches, over maxNumPatches ${maxNumPatches} (do_resize is false)`);
      return img;
    }
    const { height, width } = sizeForMaxNumPatches(img.height, img.width, p, maxNumPatches);
    return resizeWith(img, width, height, this.filter);
  }

  /**
   * Decodes and turns a batch into pixel_values [B, maxNumPatches, 3·p·p], pixel_attention_mask and spatial_shapes.
   * Images are processed one at a time, so peak memory is one decoded image plus the output.
   */
  async preprocess(images: ImageInput[], opts: DecodeOptions & { maxNumPatches?: number } = {}): Promise<NaflexInputs> {
    if (!Array.isArray(images) || images.length === 0) throw new Error('preprocess: expected a non-empty array of images');
    const L = this.checkMaxNumPatches(opts.maxNumPatches ?? this.maxNumPatches);
    const p = this.patchSize;
    const F = 3 * p * p;
    const B = images.length;
    const pixelValues = new Float32Array(B * L * F);
    const pixelAttentionMask = new Int32Array(B * L);
    const spatialShapes = new Int32Array(B * 2);
    for (let b = 0; b < B; b++) {
      const img = this.resize(await decodeImage(images[b], opts), L);
      const h = img.height / p;
      const w = img.width / p;
      spatialShapes[2 * b] = h;
      spatialShapes[2 * b + 1] = w;
      pixelAttentionMask.fill(1, b * L, b * L + h * w);
      this.writePatches(img, pixelValues, b * L * F);
    }
    return { pixelValues, shape: [B, L, F], pixelAttentionMask, spatialShapes };
  }

  /** Patch (i, j) → row i·w + j; inside it, pixel (y, x) channel c at (y·p + x)·3 + c. */
  private writePatches(img: RgbImage, out: Float32Array, base: number): void {
    const p = this.patchSize;
    const w = img.width / p;
    const [t0, t1, t2] = this.tables as [Float32Array, Float32Array, Float32Array];
    const d = img.data;
    for (let y = 0; y < img.height; y++) {
      const i = Math.floor(y / p);
      const py = y % p;
      for (let x = 0; x < img.width; x++) {
        const j = Math.floor(x / p);
        const o = base + ((i * w + j) * p * p + py * p + (x % p)) * 3;
        const s = (y * img.width + x) * 3;
        out[o] = t0[d[s]!]!;
        out[o + 1] = t1[d[s + 1]!]!;
        out[o + 2] = t2[d[s + 2]!]!;
      }
    }
  }
}
