/** `embed --image … | --text …`: L2-normalized embeddings as JSON or safetensors. */
import { loadModel, maxNumPatches, print, rows, UsageError, writeSafetensors, type CommonOptions } from './common.js';

export async function embed(o: CommonOptions & { image?: string[]; text?: string[]; out?: string }): Promise<void> {
  const images = o.image ?? [];
  const texts = o.text ?? [];
  if (images.length === 0 && texts.length === 0) throw new UsageError('give --image PATH and/or --text "..." (repeatable)');
  if (!o.out && !o.json) throw new UsageError('choose an output: --out FILE.safetensors or --json');
  const patches = maxNumPatches(o);
  const towers = [...(images.length ? ['vision' as const] : []), ...(texts.length ? ['text' as const] : [])];
  const model = await loadModel(o, { towers });
  try {
    const result: Record<string, { data: Float32Array; shape: number[] }> = {};
    if (images.length) {
      const e = await model.embedImages(images, { maxNumPatches: patches });
      result.image_embeds = { data: e, shape: [images.length, e.length / images.length] };
    }
    if (texts.length) {
      const e = await model.embedTexts(texts);
      result.text_embeds = { data: e, shape: [texts.length, e.length / texts.length] };
    }
    if (o.out) {
      await writeSafetensors(o.out, Object.fromEntries(Object.entries(result).map(([k, v]) => [k, { dtype: 'F32' as const, shape: v.shape, data: v.data }])));
    }
    if (o.json) {
      const json: Record<string, unknown> = {};
      if (result.image_embeds) json.image_embeds = rows(result.image_embeds.data, images.length);
      if (result.text_embeds) json.text_embeds = rows(result.text_embeds.data, texts.length);
      print(JSON.stringify(json));
    } else {
      print(`wrote ${Object.keys(result).join(', ')} to ${o.out}`);
    }
  } finally {
    await model.dispose();
  }
}
