/**
 * What Node's search gives for a query over a folder of photos: the photos' embeddings (SiglipModel.embedImages,
 * one file at a time, so a file that cannot be read is left out as the page leaves it out), the query's
 * (embedTexts, or a photo's own embedding for "more like this"), and the photos ranked by the dot product of the
 * L2-normalized embeddings — the similarity SigLIP's logits are made of (logit = dot · exp(scale) + bias, the same
 * order) — best first, ties by path. The browser's photo search must rank the same way (photo-search.test.ts).
 *
 * Kept small on purpose: when the CLI's `search` (issue 12) lands, `rankByText` can run it over the same folder
 * instead and compare its printed ranking.
 */
import type { SiglipModel } from '../../src/model/siglip-model.js';

export interface Ranked {
  path: string;
  score: number;
}

/** path (relative to the folder) → embedding, for the files that decode. */
export async function embedFolder(model: SiglipModel, files: { path: string; file: string }[]): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const f of files) {
    try {
      out.set(f.path, await model.embedImages([f.file]));
    } catch {
      // unreadable: not in the index
    }
  }
  return out;
}

export function rankBy(query: Float32Array, index: Map<string, Float32Array>, exclude?: string): Ranked[] {
  const out: Ranked[] = [];
  for (const [path, e] of index) {
    if (path === exclude) continue;
    let s = 0;
    for (let i = 0; i < query.length; i++) s += query[i]! * e[i]!;
    out.push({ path, score: s });
  }
  return out.sort((a, b) => b.score - a.score || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

export async function rankByText(model: SiglipModel, index: Map<string, Float32Array>, query: string): Promise<Ranked[]> {
  return rankBy(await model.embedTexts([query]), index);
}
