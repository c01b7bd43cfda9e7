#!/usr/bin/env node
// Whole SigLIP passes of two or more builds of the library, alternated round by round in one process: the
// before/after of a change on a machine whose speed moves with its load (lavapipe shares the cores with everything
// else), where two benches run one after the other can differ by 2× for no reason of their own. Each build runs with
// its adapter defaults (no tuning: what a model load uses on CPU adapters), on synthetic full-size weights.
// usage: node bench/ab-builds.mjs [--rounds R] [--towers vision,text] [--preset NAME] BUILD_DIR... (each a checkout
//        with dist/ built: `node scripts/build.mjs --no-types`)
// Prints per round the pass times, then per build and tower the median, and the median of the per-round ratios to
// the first build.
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i < 0 ? dflt : args.splice(i, 2)[1];
};
const rounds = Number(opt('--rounds', '3'));
const towers = opt('--towers', 'vision,text').split(',');
const preset = opt('--preset', 'siglip-large-patch16-384');
if (!args.length) {
  console.error('usage: node bench/ab-builds.mjs [--rounds R] [--towers vision,text] [--preset NAME] BUILD_DIR...');
  process.exit(2);
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const builds = [];
for (const dir of args) {
  const lib = await import(pathToFileURL(resolve(dir, 'dist/index.js')).href);
  const config = lib.presetConfig(preset);
  const engine = await lib.createEngine();
  const model = await lib.SiglipModel.load(new lib.SyntheticSource(config, 0, preset), { engine, towers, tune: false, batch: 1 });
  const cfg = lib.parseSiglipConfig(config);
  const inputs = {
    vision: { pixelValues: { data: new Float32Array(3 * cfg.vision.imageSize ** 2).map((_, i) => Math.sin(i * 0.001)), shape: [1, 3, cfg.vision.imageSize, cfg.vision.imageSize] } },
    text: { inputIds: { data: Int32Array.from({ length: cfg.text.maxPositions }, (_, i) => (i * 7919) % cfg.text.vocabSize), shape: [1, cfg.text.maxPositions] } },
  };
  // One pass per tower first: plans compiled, pipelines built, caches warm.
  for (const t of towers) await model.forward(inputs[t]);
  builds.push({ dir, engine, model, inputs, times: Object.fromEntries(towers.map((t) => [t, []])) });
}
console.log(`adapter: ${builds[0].engine.info.name}; host: ${cpus()[0]?.model} × ${cpus().length}; ${preset}, batch 1, adapter defaults`);
for (let r = 0; r < rounds; r++) {
  const line = [`round ${r + 1} (load ${loadavg()[0].toFixed(1)})`];
  for (const t of towers) {
    for (const b of builds) {
      const t0 = performance.now();
      await b.model.forward(b.inputs[t]);
      const ms = performance.now() - t0;
      b.times[t].push(ms);
      line.push(`${t} ${b.dir}: ${(ms / 1000).toFixed(2)} s`);
    }
  }
  console.log(line.join('; '));
}
for (const t of towers) {
  for (const b of builds) {
    const ratios = b.times[t].map((ms, i) => builds[0].times[t][i] / ms);
    console.log(`${t} ${b.dir}: median ${(median(b.times[t]) / 1000).toFixed(2)} s, min ${(Math.min(...b.times[t]) / 1000).toFixed(2)} s; ${builds[0].dir} / this, median of per-round ratios: ${median(ratios).toFixed(2)}×`);
  }
}
for (const b of builds) {
  await b.model.dispose();
  b.engine.dispose();
}
