/** `tokenize` and `preprocess`: the model's inputs, from text and image files, without loading any weights. */
import { openModelSource } from '../model/hub/index.js';
import { Siglip2ImageProcessor, SiglipImageProcessor } from '../model/image/index.js';
import { loadImageProcessor, preprocessImages, type ImageProcessor } from '../model/image-inputs.js';
import { parseSiglipConfig } from '../model/config.js';
import { readJson, type FileSource } from '../model/source.js';
import { loadTokenizer } from '../model/tokenizer/index.js';
import { DEFAULT_MODEL } from '../model/siglip-model.js';
import { maxNumPatches, print, rows, UsageError, writeSafetensors, type CommonOptions } from './common.js';

export async function tokenize(o: CommonOptions & { text?: string[] }): Promise<void> {
  const texts = o.text ?? [];
  if (texts.length === 0) throw new UsageError('give --text "..." (repeatable)');
  const source = await openModelSource(o.model ?? DEFAULT_MODEL);
  // The model's text length (max_position_embeddings) when a config is there; the tokenizer's own otherwise.
  const maxLength = (await source.has('config.json'))
    ? parseSiglipConfig(await readJson(source, 'config.json'), source.locate('config.json')).text.maxPositions
    : undefined;
  const tok = await loadTokenizer(source, { maxLength, lowerCase: o.lowerCase === false ? false : undefined });
  const { inputIds, shape } = tok.call(texts, { maxLength });
  if (o.json) return print(JSON.stringify({ input_ids: rows(inputIds, shape[0]) }));
  for (const [i, r] of rows(inputIds, shape[0]).entries()) print(`${JSON.stringify(texts[i])}: ${r.join(' ')}`);
}

/** The checkpoint's image processor: as its config.json says (NaFlex or not), else as preprocessor_config.json names it. */
async function processorOf(source: FileSource): Promise<ImageProcessor> {
  if (await source.has('config.json')) return loadImageProcessor(source, parseSiglipConfig(await readJson(source, 'config.json'), source.locate('config.json')).vision);
  const type = (await readJson<Record<string, unknown>>(source, 'preprocessor_config.json'))?.image_processor_type;
  return typeof type === 'string' && type.startsWith('Siglip2') ? Siglip2ImageProcessor.fromSource(source) : SiglipImageProcessor.fromSource(source);
}

export async function preprocess(o: CommonOptions & { image?: string[]; out?: string }): Promise<void> {
  const images = o.image ?? [];
  if (images.length === 0) throw new UsageError('give --image PATH (repeatable)');
  if (!o.out) throw new UsageError('--out FILE.safetensors is required');
  const patches = maxNumPatches(o);
  const source = await openModelSource(o.model ?? DEFAULT_MODEL);
  const proc = await processorOf(source);
  const p = await preprocessImages(proc, images, { maxNumPatches: patches });
  const B = p.shape[0]!;
  await writeSafetensors(o.out, {
    pixel_values: { dtype: 'F32', shape: [...p.shape], data: p.pixelValues },
    // NaFlex: int32, as transformers' processor returns the mask (spatial_shapes are int64 there; int32 here).
    ...(p.pixelAttentionMask ? { pixel_attention_mask: { dtype: 'I32' as const, shape: [B, p.shape[1]!], data: p.pixelAttentionMask } } : {}),
    ...(p.spatialShapes ? { spatial_shapes: { dtype: 'I32' as const, shape: [B, 2], data: p.spatialShapes } } : {}),
  });
  if (o.json) {
    print(JSON.stringify({ out: o.out, pixel_values: p.shape, ...(p.spatialShapes ? { pixel_attention_mask: [B, p.shape[1]], spatial_shapes: rows(p.spatialShapes, B) } : {}) }));
  } else {
    print(`wrote pixel_values [${p.shape.join(', ')}]${p.spatialShapes ? `, pixel_attention_mask and spatial_shapes (patch grids ${rows(p.spatialShapes, B).map((r) => r.join('×')).join(', ')})` : ''} to ${o.out}`);
  }
}
