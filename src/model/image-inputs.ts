/**
 * A checkpoint's image processor and what it gives: SiglipImageProcessor (fixed resolution: pixel_values
 * [B, 3, S, S]) or, for NaFlex checkpoints, Siglip2ImageProcessor (pixel_values [B, max_num_patches, 3·p·p] with
 * pixel_attention_mask and spatial_shapes). Checked against the model's config before any weight is loaded.
 */
import type { VisionConfig } from './config.js';
import { CheckpointError, InputError } from './errors.js';
import { Siglip2ImageProcessor, SiglipImageProcessor, type DecodeOptions, type ImageInput, type PreprocessorConfig, type Siglip2PreprocessorConfig } from './image/index.js';
import { readJson, type FileSource } from './source.js';

export type ImageProcessor = SiglipImageProcessor | Siglip2ImageProcessor;

/** `preprocess`'s result, by transformers' names. */
export interface PreprocessedImages {
  /** [B, 3, H, W] (fixed resolution), or [B, maxNumPatches, 3·p·p] (NaFlex). */
  pixelValues: Float32Array;
  shape: number[];
  /** NaFlex: [B, maxNumPatches], 1 for each image's real patches, then 0. */
  pixelAttentionMask?: Int32Array;
  /** NaFlex: [B, 2], each image's patch grid (rows, columns). */
  spatialShapes?: Int32Array;
}

export interface PreprocessOptions extends DecodeOptions {
  /** NaFlex: the patch budget of this call (default: the model's, from preprocessor_config.json, else 256). */
  maxNumPatches?: number;
}

/** The processor for a model: preprocessor_config.json when the checkpoint has one, else the class's defaults. */
export async function loadImageProcessor(source: FileSource, v: VisionConfig): Promise<ImageProcessor> {
  const has = await source.has('preprocessor_config.json');
  const file = source.locate('preprocessor_config.json');
  if (v.naflex) {
    const proc = has ? await Siglip2ImageProcessor.fromSource(source) : Siglip2ImageProcessor.fromConfig({ patch_size: v.patchSize });
    if (proc.patchSize !== v.patchSize) throw new CheckpointError(`${file}: patch_size ${proc.patchSize} differs from the model's patch_size ${v.patchSize}`, { file, field: 'patch_size' });
    return proc;
  }
  if (has) {
    const type = (await readJson<Record<string, unknown>>(source, 'preprocessor_config.json'))?.image_processor_type;
    if (typeof type === 'string' && type.startsWith('Siglip2')) {
      throw new CheckpointError(`${file}: image_processor_type "${type}" is NaFlex preprocessing, but config.json's model_type is "siglip" (fixed resolution)`, { file, field: 'image_processor_type' });
    }
  }
  const proc = has ? await SiglipImageProcessor.fromSource(source) : SiglipImageProcessor.fromConfig({ size: { height: v.imageSize, width: v.imageSize } });
  if (proc.size.height !== v.imageSize || proc.size.width !== v.imageSize) {
    throw new CheckpointError(`${file}: size ${proc.size.height}×${proc.size.width} differs from the model's image_size ${v.imageSize}`, { file, field: 'size' });
  }
  return proc;
}

/** Runs the processor; a per-call maxNumPatches only means something to NaFlex. */
export async function preprocessImages(proc: ImageProcessor, images: ImageInput[], opts: PreprocessOptions = {}): Promise<PreprocessedImages> {
  if (!Array.isArray(images)) throw new InputError('preprocess() takes an array of images');
  if (proc instanceof Siglip2ImageProcessor) {
    const r = await proc.preprocess(images, opts);
    return { pixelValues: r.pixelValues, shape: r.shape, pixelAttentionMask: r.pixelAttentionMask, spatialShapes: r.spatialShapes };
  }
  if (opts.maxNumPatches !== undefined) throw new InputError('maxNumPatches applies to NaFlex models (SigLIP 2, model_type "siglip2"); this model takes fixed-size images');
  const r = await proc.preprocess(images, opts);
  return { pixelValues: r.pixelValues, shape: r.shape };
}

/** What it takes to make the same processor elsewhere (a decode worker thread): its kind and config, plain data. */
export type ProcessorSpec = { kind: 'fixed'; config: PreprocessorConfig } | { kind: 'naflex'; config: Siglip2PreprocessorConfig };

export function processorSpec(proc: ImageProcessor): ProcessorSpec {
  return proc instanceof Siglip2ImageProcessor ? { kind: 'naflex', config: proc.config } : { kind: 'fixed', config: proc.config };
}

export function processorFromSpec(spec: ProcessorSpec): ImageProcessor {
  return spec.kind === 'naflex' ? Siglip2ImageProcessor.fromConfig({ ...spec.config }) : SiglipImageProcessor.fromConfig(spec.config);
}

/** Several preprocessed batches (of one processor and one patch budget) as one, along the batch dimension. */
export function stackPreprocessed(parts: readonly PreprocessedImages[]): PreprocessedImages {
  if (parts.length === 0) throw new InputError('no images to stack');
  const rest = parts[0]!.shape.slice(1);
  for (const p of parts) {
    if (p.shape.slice(1).join(',') !== rest.join(',')) throw new InputError(`images of shapes [${p.shape.join(', ')}] and [${parts[0]!.shape.join(', ')}] cannot share a batch`);
  }
  const B = parts.reduce((n, p) => n + p.shape[0]!, 0);
  const cat = <T extends Float32Array | Int32Array>(arrays: T[], make: (n: number) => T): T => {
    const out = make(arrays.reduce((n, a) => n + a.length, 0));
    let o = 0;
    for (const a of arrays) (out.set(a, o), (o += a.length));
    return out;
  };
  const naflex = parts[0]!.pixelAttentionMask !== undefined;
  return {
    pixelValues: cat(parts.map((p) => p.pixelValues), (n) => new Float32Array(n)),
    shape: [B, ...rest],
    ...(naflex
      ? {
          pixelAttentionMask: cat(parts.map((p) => p.pixelAttentionMask!), (n) => new Int32Array(n)),
          spatialShapes: cat(parts.map((p) => p.spatialShapes!), (n) => new Int32Array(n)),
        }
      : {}),
  };
}
