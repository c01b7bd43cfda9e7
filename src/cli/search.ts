/** `search INDEX... (--text T | --image P) [--top K] [--json]`: the index's best matches for a query. */
import { IndexReader } from '../apps/index-reader.js';
import { IndexSearcher } from '../apps/searcher.js';
import { sigmoid } from '../model/logits.js';
import { loadModel, parsePositiveInt, print, UsageError, type CommonOptions } from './common.js';

export interface SearchCliOptions extends CommonOptions {
  text?: string;
  image?: string;
  top?: string;
}

export async function searchCommand(indexes: string[], o: SearchCliOptions): Promise<void> {
  if ((o.text === undefined) === (o.image === undefined)) throw new UsageError('give exactly one query: --text "…" or --image PATH');
  const top = parsePositiveInt(o.top, '--top', 10);
  const reader = await IndexReader.open(indexes);
  const model = await loadModel({ ...o, model: o.model ?? reader.model.id }, { towers: [o.text !== undefined ? 'text' : 'vision'] });
  try {
    const query = o.text !== undefined ? await model.embedTexts([o.text]) : await model.embedImages([o.image!]);
    if (query.length !== reader.dim) throw new Error(`the model gives ${query.length}-dimensional embeddings, the index holds ${reader.dim}: search with the model that built it (${reader.model.id})`);
    const searcher = new IndexSearcher(reader, model.engine);
    const t0 = performance.now();
    const [hits] = await searcher.search(query, top);
    const ms = performance.now() - t0;
    searcher.dispose();
    const scale = Math.exp(model.logitScale);
    const rows = hits!.map((h) => ({
      path: h.path,
      score: h.score,
      ...(o.text !== undefined ? { probability: sigmoid(h.score * scale + model.logitBias) } : {}),
      width: h.meta.width,
      height: h.meta.height,
    }));
    if (o.json) return print(JSON.stringify({ query: o.text !== undefined ? { text: o.text } : { image: o.image }, searched: reader.count, ms: Math.round(ms), results: rows }));
    print(`${reader.count} images searched in ${ms.toFixed(0)} ms on ${model.engine.info.name}`);
    for (const r of rows) print(`${r.score.toFixed(4)}${'probability' in r ? `  p=${(r.probability as number).toFixed(4)}` : ''}  ${r.path}`);
  } finally {
    await model.dispose();
  }
}
