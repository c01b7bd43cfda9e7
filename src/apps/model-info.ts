/** What index.json records about the model, and the fingerprint that keeps a resumed run on the same weights. */
import { createHash } from 'node:crypto';
import type { SiglipModel } from '../model/siglip-model.js';
import type { ModelInfo } from './index-format.js';

export async function modelInfo(model: SiglipModel, id?: string): Promise<ModelInfo> {
  const src = model.source;
  const h = createHash('sha256');
  h.update(await src.read('config.json'));
  for (const name of ['model.safetensors', 'model.safetensors.index.json']) {
    if (await src.has(name)) h.update(`\n${name}:${await src.size(name)}`);
  }
  const revision = /snapshots\/([0-9a-f]{40})(\/|$)/.exec(src.locate('config.json'))?.[1] ?? null;
  return { id: id ?? src.description, revision, fingerprint: h.digest('hex') };
}
