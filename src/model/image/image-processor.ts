/**
 * SigLIP's image preprocessing, equal to transformers' `SiglipImageProcessor` (v4.44.2, the slow PIL one) fed by
 * `load_image`:
 *   RGB uint8 → PIL resize to exactly (height, width) with `resample` (no aspect ratio kept, no crop)
 *   → `x.astype(float64) * rescale_factor`, cast to float32 → `(x − mean) / std` in float32 → channels first.
 * Each uint8 value maps to one float32 per channel, so the arithmetic is done once into a 256-entry table with
 * `Math.fround` at the same points where numpy rounds to float32; the output is bit-identical to the reference.
 */
import { decodeImage } from './decode.js';
import { FILTERS_BY_PIL_ID, resizeWith, type ResampleFilter } from './resize-bicubic.js';
import type { DecodeOptions, ImageInput, RgbImage } from './types.js';
import { readJson, type FileSource } from '../source.js';
import { parsingFile } from '../errors.js';

/** The fields of a checkpoint's preprocessor_config.json that SigLIP uses (names as in the file). */
export interface PreprocessorConfig {
  do_resize: boolean;
  size: { height: number; width: number };
  /** PIL `Resampling` id: 3 = BICUBIC (SigLIP; bit-exact). 1 LANCZOS, 2 BILINEAR, 4 BOX, 5 HAMMING also work. */
  resample: number;
  do_rescale: boolean;
  rescale_factor: number;
  do_normalize: boolean;
  image_mean: [number, number, number];
  image_std: [number, number, number];
}

/** SiglipImageProcessor's defaults (used for fields a config leaves out). */
export const SIGLIP_DEFAULTS: PreprocessorConfig = {
  do_resize: true,
  size: { height: 224, width: 224 },
  resample: 3,
  do_rescale: true,
  rescale_factor: 1 / 255,
  do_normalize: true,
  image_mean: [0.5, 0.5, 0.5],
  image_std: [0.5, 0.5, 0.5],
};

const CONFIG_FILE = 'preprocessor_config.json';

function bad(field: string, why: string): Error {
  return new Error(`preprocessor config: ${field} ${why}`);
}

function bool(json: Record<string, unknown>, key: keyof PreprocessorConfig): boolean {
  const v = json[key];
  if (v === undefined || v === null) return SIGLIP_DEFAULTS[key] as boolean;
  if (typeof v !== 'boolean') throw bad(key, `must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

function triple(json: Record<string, unknown>, key: 'image_mean' | 'image_std'): [number, number, number] {
  const v = json[key];
  if (v === undefined || v === null) return SIGLIP_DEFAULTS[key];
  const arr = typeof v === 'number' ? [v, v, v] : v; // transformers accepts one float for all channels
  if (!Array.isArray(arr) || arr.length !== 3 || !arr.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    throw bad(key, `must be 3 numbers (one per RGB channel), got ${JSON.stringify(v)}`);
  }
  if (key === 'image_std' && arr.some((x) => x === 0)) throw bad(key, 'must not contain 0');
  return [arr[0], arr[1], arr[2]];
}

function parseSize(v: unknown): { height: number; width: number } {
  if (v === undefined || v === null) return { ...SIGLIP_DEFAULTS.size };
  let h: unknown;
  let w: unknown;
  if (Array.isArray(v) && v.length === 2) [h, w] = v; // get_size_dict: (height, width)
  else if (typeof v === 'object' && v !== null && 'height' in v && 'width' in v) ({ height: h, width: w } = v as Record<string, unknown>);
  else throw bad('size', `must be {"height": H, "width": W} for SigLIP (no aspect-ratio resize), got ${JSON.stringify(v)}`);
  const ok = (x: unknown) => typeof x === 'number' && Number.isInteger(x) && x > 0 && x <= 16384;
  if (!ok(h) || !ok(w)) throw bad('size', `height and width must be positive integers, got ${JSON.stringify(v)}`);
  return { height: h as number, width: w as number };
}

/** Validates a (partial) preprocessor_config.json and fills SigLIP's defaults. Unknown keys are ignored. */
export function parsePreprocessorConfig(json: Partial<PreprocessorConfig> | Record<string, unknown>): PreprocessorConfig {
  const j = json as Record<string, unknown>;
  if (typeof j !== 'object' || j === null || Array.isArray(j)) throw new Error('preprocessor config: expected a JSON object');
  const type = j.image_processor_type;
  if (typeof type === 'string' && !type.startsWith('Siglip')) {
    throw bad('image_processor_type', `is "${type}"; only SiglipImageProcessor preprocessing is implemented`);
  }
  if (j.do_center_crop === true) throw bad('do_center_crop', 'is true; SigLIP preprocessing has no center crop');
  const resample = j.resample ?? SIGLIP_DEFAULTS.resample;
  if (typeof resample !== 'number' || !FILTERS_BY_PIL_ID[resample]) {
    throw bad(
      'resample',
      `${JSON.stringify(resample)} is not supported: use 3 (BICUBIC, SigLIP's, bit-exact with PIL), or 2 (BILINEAR), ` +
        '1 (LANCZOS), 4 (BOX), 5 (HAMMING); 0 (NEAREST) is not supported',
    );
  }
  const factor = j.rescale_factor ?? SIGLIP_DEFAULTS.rescale_factor;
  if (typeof factor !== 'number' || !Number.isFinite(factor)) throw bad('rescale_factor', `must be a number, got ${JSON.stringify(factor)}`);
  return {
    do_resize: bool(j, 'do_resize'),
    size: parseSize(j.size),
    resample,
    do_rescale: bool(j, 'do_rescale'),
    rescale_factor: factor,
    do_normalize: bool(j, 'do_normalize'),
    image_mean: triple(j, 'image_mean'),
    image_std: triple(j, 'image_std'),
  };
}

/** value(c, v) for v = 0..255, c = channel: the exact float32 numpy produces (also Siglip2ImageProcessor's). */
export function buildTables(cfg: Pick<PreprocessorConfig, 'do_rescale' | 'rescale_factor' | 'do_normalize' | 'image_mean' | 'image_std'>): Float32Array[] {
  return [0, 1, 2].map((c) => {
    const t = new Float32Array(256);
    const mean = Math.fround(cfg.image_mean[c]);
    const std = Math.fround(cfg.image_std[c]);
    for (let v = 0; v < 256; v++) {
      let x = cfg.do_rescale ? Math.fround(v * cfg.rescale_factor) : v; // float64 product, then astype(float32)
      if (cfg.do_normalize) x = Math.fround(Math.fround(x - mean) / std); // float32 subtract, float32 divide
      t[v] = x;
    }
    return t;
  });
}

export class SiglipImageProcessor {
  readonly config: PreprocessorConfig;
  readonly size: { height: number; width: number };
  private readonly filter: ResampleFilter;
  private readonly tables: Float32Array[];

  private constructor(config: PreprocessorConfig) {
    this.config = config;
    this.size = { ...config.size };
    this.filter = FILTERS_BY_PIL_ID[config.resample];
    this.tables = buildTables(config);
  }

  static fromConfig(json: Partial<PreprocessorConfig> | Record<string, unknown> = {}): SiglipImageProcessor {
    return new SiglipImageProcessor(parsePreprocessorConfig(json));
  }

  /** Reads `preprocessor_config.json` from a checkpoint (directory, URL, browser files, hub cache). */
  static async fromSource(source: FileSource): Promise<SiglipImageProcessor> {
    const json = await readJson<Record<string, unknown>>(source, CONFIG_FILE);
    return parsingFile(source.locate(CONFIG_FILE), () => SiglipImageProcessor.fromConfig(json));
  }

  /** Resizes (if configured) one decoded image to the model's input size. */
  resize(img: RgbImage): RgbImage {
    if (!this.config.do_resize) return img;
    return resizeWith(img, this.size.width, this.size.height, this.filter);
  }

  /**
   * Decodes, resizes, rescales and normalizes a batch into `pixel_values` [B, 3, H, W] (float32, channels first).
   * Images are processed one at a time, so peak memory is one decoded image plus the output.
   */
  async preprocess(
    images: ImageInput[],
    opts: DecodeOptions = {},
  ): Promise<{ pixelValues: Float32Array; shape: [number, number, number, number] }> {
    if (!Array.isArray(images) || images.length === 0) throw new Error('preprocess: expected a non-empty array of images');
    let out: Float32Array | null = null;
    let H = this.size.height;
    let W = this.size.width;
    for (let b = 0; b < images.length; b++) {
      const img = this.resize(await decodeImage(images[b], opts));
      if (!out) {
        ({ height: H, width: W } = img); // without do_resize the first image sets the batch size
        out = new Float32Array(images.length * 3 * H * W);
      } else if (img.width !== W || img.height !== H) {
        throw new Error(`preprocess: image ${b} is ${img.width}×${img.height}, others ${W}×${H} (do_resize is false, sizes must match)`);
      }
      this.writeChannelsFirst(img, out, b * 3 * H * W);
    }
    return { pixelValues: out!, shape: [images.length, 3, H, W] };
  }

  private writeChannelsFirst(img: RgbImage, out: Float32Array, base: number): void {
    const n = img.width * img.height;
    const [t0, t1, t2] = this.tables;
    const d = img.data;
    for (let i = 0, s = 0; i < n; i++, s += 3) {
      out[base + i] = t0[d[s]];
      out[base + n + i] = t1[d[s + 1]];
      out[base + 2 * n + i] = t2[d[s + 2]];
    }
  }
}
