/**
 * The library (siglip-webgpu/apps) from its sources, with decoding inline (no worker script beside a .ts file):
 * indexImages equals embedImages; IndexSearcher streams an index in small chunks, some kept on the GPU and some
 * read per query, and returns exactly the brute-force top k.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { indexImages } from '../../src/apps/indexer.js';
import { IndexReader } from '../../src/apps/index-reader.js';
import { IndexSearcher } from '../../src/apps/searcher.js';
import { SiglipModel } from '../../src/model/siglip-model.js';
import { createEngine } from '../../src/ops/index.js';
import { copyCorpus, maxAbsDiff, TINY } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'apps-lib-'));
let model: SiglipModel;
let files: string[];

beforeAll(async () => {
  // poison: every GPU output starts as NaN, so a score the matmul did not write fails
  model = await SiglipModel.load(TINY, { engine: await createEngine({ poison: true }) });
  files = copyCorpus(join(tmp, 'photos'), 23);
});
afterAll(async () => {
  const engine = model?.engine;
  await model?.dispose();
  engine?.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

describe('siglip-webgpu/apps', () => {
  test('indexImages (inline decoding) equals embedImages; progress reaches the total', async () => {
    const seen: number[] = [];
    const s = await indexImages(model, [join(tmp, 'photos')], { out: join(tmp, 'idx'), batch: 4, shardRows: 6, workers: 0, onProgress: (p) => p.phase === 'embed' && seen.push(p.done) });
    expect(s).toMatchObject({ embedded: 23, errors: 0, count: 23, stopped: false });
    expect(seen.at(-1)).toBe(23);
    const rows = await (await IndexReader.open([join(tmp, 'idx')])).toMap();
    const ref = await model.embedImages(files);
    files.forEach((f, i) => expect(maxAbsDiff(rows.get(f)!.embedding, ref.subarray(i * 64, (i + 1) * 64)), f).toBeLessThanOrEqual(1e-6));
  });

  test('IndexSearcher: streamed chunks, partly resident, equal the brute-force top k for several queries', async () => {
    const reader = await IndexReader.open([join(tmp, 'idx')]);
    const all = await reader.toMap();
    const queries = await model.embedTexts(['a photo', 'two cats', 'noise']);
    const searcher = new IndexSearcher(reader, model.engine, { chunkRows: 5, residentBytes: 2 * 5 * 64 * 4 }); // 2 of 5 chunks resident
    await searcher.warm();
    expect(searcher.fullyResident).toBe(false);
    for (let round = 0; round < 2; round++) {
      const hits = await searcher.search(queries, 7);
      hits.forEach((h, q) => {
        const qv = queries.subarray(q * 64, (q + 1) * 64);
        const brute = new Map([...all].map(([path, e]) => [path, e.embedding.reduce((s, v, k) => s + v * qv[k]!, 0)]));
        const want = [...brute.values()].sort((a, b) => b - a).slice(0, 7);
        // the k best scores (ties between identical images may come in either order), each that row's own score
        h.forEach((x, i) => {
          expect(Math.abs(x.score - want[i]!), `rank ${i}`).toBeLessThanOrEqual(1e-5);
          expect(Math.abs(x.score - brute.get(x.path)!), x.path).toBeLessThanOrEqual(1e-5);
        });
        expect(new Set(h.map((x) => x.path)).size).toBe(7);
      });
    }
    searcher.dispose();
    await expect(searcher.search(queries, 1)).rejects.toThrow(/disposed/);
  });
});
