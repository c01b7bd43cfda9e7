/** `classify <image...> --labels a,b,c`: zero-shot labels with SigLIP's sigmoid scores. */
import { loadModel, maxNumPatches, print, UsageError, type CommonOptions } from './common.js';

export async function classify(images: string[], o: CommonOptions & { labels?: string; template?: string }): Promise<void> {
  if (!o.labels) throw new UsageError('--labels is required (comma-separated, e.g. --labels "2 cats,2 dogs")');
  const labels = o.labels.split(',').map((s) => s.trim()).filter(Boolean);
  if (labels.length === 0) throw new UsageError('--labels has no labels');
  if (images.length === 0) throw new UsageError('give at least one image path');
  const patches = maxNumPatches(o);
  const model = await loadModel(o);
  try {
    const results = [];
    for (const image of images) {
      const t0 = performance.now();
      const scores = await model.classify(image, labels, { template: o.template, maxNumPatches: patches });
      results.push({ image, scores, ms: Math.round(performance.now() - t0) });
    }
    if (o.json) return print(JSON.stringify(results, null, 2));
    for (const r of results) {
      print(`${r.image}  (${r.ms} ms on ${model.engine.info.name})`);
      const width = Math.max(...labels.map((l) => l.length));
      for (const s of r.scores) {
        const bar = '█'.repeat(Math.round(s.score * 30));
        print(`  ${s.label.padEnd(width)}  ${s.score.toFixed(4)}  ${bar}`);
      }
    }
  } finally {
    await model.dispose();
  }
}
