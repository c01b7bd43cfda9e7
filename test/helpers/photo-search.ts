/**
 * What Node's search gives for a query over a folder of photos: the photos' embeddings (SiglipModel.embedImages,
 * one file at a time, so a file that cannot be read is left out as the page leaves it out), the query's
 * (embedTexts, or a photo's own embedding for "more like this"), and the photos ranked by the dot product of the
 * L2-normalized embeddings — the similarity SigLIP's logits are made of (logit = dot · exp(scale) + bias, the same
 * order) — best first, ties by path. The browser's photo search must rank the same way (photo-search.test.ts).
 *
 * `searchRanking` runs the real thing too: `search`'s library code (siglip-webgpu/apps: indexImages, then
 * IndexSearcher on the GPU) over the same folder.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { indexImages, IndexReader, IndexSearcher } from '../../src/apps/index.js';
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

/** What `search INDEX --text QUERY` gives over `folder` (indexed here with `index`'s code), every row ranked, paths
 *  named as the page names them: relative to the folder's parent ("photos/2019/cats.png"). */
export async function searchRanking(model: SiglipModel, folder: string, query: string): Promise<Ranked[]> {
  const out = await mkdtemp(join(tmpdir(), 'photo-index-'));
  try {
    const summary = await indexImages(model, [folder], { out: join(out, 'index'), workers: 0 });
    const reader = await IndexReader.open([join(out, 'index')]);
    const searcher = new IndexSearcher(reader, model.engine);
    try {
      const [hits] = await searcher.search(await model.embedTexts([query]), summary.count);
      const root = dirname(folder);
      return hits!.map((h) => ({ path: relative(root, h.path).split('\\').join('/'), score: h.score })).filter((r) => r.path.startsWith(basename(folder) + '/'));
    } finally {
      searcher.dispose();
    }
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}
