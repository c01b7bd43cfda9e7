/** `tokenize` and `preprocess`: the model's inputs, from text and image files, without loading any weights. */
import { openModelSource } from '../model/hub/index.js';
import { SiglipImageProcessor } from '../model/image/index.js';
import { parseSiglipConfig } from '../model/config.js';
import { readJson } from '../model/source.js';
import { SiglipTokenizer } from '../model/tokenizer/index.js';
import { DEFAULT_MODEL } from '../model/siglip-model.js';
import { print, rows, UsageError, writeSafetensors, type CommonOptions } from './common.js';

export async function tokenize(o: CommonOptions & { text?: string[] }): Promise<void> {
  const texts = o.text ?? [];
  if (texts.length === 0) throw new UsageError('give --text "..." (repeatable)');
  const source = await openModelSource(o.model ?? DEFAULT_MODEL);
  // The model's text length (max_position_embeddings) when a config is there; the tokenizer's own otherwise.
  const maxLength = (await source.has('config.json'))
    ? parseSiglipConfig(await readJson(source, 'config.json'), source.locate('config.json')).text.maxPositions
    : undefined;
  const tok = await SiglipTokenizer.fromSource(source, { maxLength });
  const { inputIds, shape } = tok.call(texts, { maxLength });
  if (o.json) return print(JSON.stringify({ input_ids: rows(inputIds, shape[0]) }));
  for (const [i, r] of rows(inputIds, shape[0]).entries()) print(`${JSON.stringify(texts[i])}: ${r.join(' ')}`);
}

export async function preprocess(o: CommonOptions & { image?: string[]; out?: string }): Promise<void> {
  const images = o.image ?? [];
  if (images.length === 0) throw new UsageError('give --image PATH (repeatable)');
  if (!o.out) throw new UsageError('--out FILE.safetensors is required');
  const source = await openModelSource(o.model ?? DEFAULT_MODEL);
  const proc = await SiglipImageProcessor.fromSource(source);
  const { pixelValues, shape } = await proc.preprocess(images);
  await writeSafetensors(o.out, { pixel_values: { dtype: 'F32', shape: [...shape], data: pixelValues } });
  if (o.json) print(JSON.stringify({ out: o.out, pixel_values: shape }));
  else print(`wrote pixel_values [${shape.join(', ')}] to ${o.out}`);
}
