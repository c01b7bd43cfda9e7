#!/usr/bin/env node
// Compact weights, per dtype, in one process: device memory of the weights (engine.stats), the bytes a pass reads,
// load time, and batch-1 pass time (median of --rounds after one warm-up pass), the dtypes alternated round by
// round so that a machine whose speed moves with its load (lavapipe, SwiftShader: the host's cores) moves them all
// alike — compare the ratios. Synthetic full-size weights by default (no download), or a checkpoint directory
// (a converted one loads as its own dtype: give --dtypes with just that one).
// usage: node scripts/build.mjs --no-types   (once: the script runs dist/)
//        node bench/compact.mjs [--preset siglip-large-patch16-384] [--model DIR] [--dtypes f32,f16,int8,q4]
//                               [--tower vision|text] [--rounds 3] [--adapter NAME] [--no-f16] [--json]
// --adapter picks a Dawn adapter by name (e.g. SwiftShader where Dawn was built with it; lavapipe by default here).
// Prints a markdown table (and, with --json, one JSON record per dtype); quote the CPU model with CPU-adapter figures.
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i < 0 ? dflt : args.splice(i, 2)[1];
};
const flag = (name) => {
  const i = args.indexOf(name);
  if (i >= 0) args.splice(i, 1);
  return i >= 0;
};
const preset = opt('--preset', 'siglip-large-patch16-384');
const modelDir = opt('--model', undefined);
const dtypes = opt('--dtypes', 'f32,f16,int8,q4').split(',');
const tower = opt('--tower', 'vision');
const rounds = Number(opt('--rounds', '3'));
const adapter = opt('--adapter', undefined);
const json = flag('--json');
// --no-f16: an engine made without shader-f16 (what SwiftShader offers): f16 weights are stored f16, computed in f32.
const noF16 = flag('--no-f16');
if (args.length || !['vision', 'text'].includes(tower) || !(rounds >= 1)) {
  console.error('usage: node bench/compact.mjs [--preset NAME] [--model DIR] [--dtypes f32,f16,int8,q4] [--tower vision|text] [--rounds R] [--adapter NAME] [--no-f16] [--json]');
  process.exit(2);
}
const lib = await import(pathToFileURL(resolve(import.meta.dirname, '..', 'dist/index.js')).href);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const mib = (n) => `${(n / 2 ** 20).toFixed(0)} MiB`;

const runs = [];
for (const dtype of dtypes) {
  // An engine per dtype: its stats count this model's buffers alone. f16 on an adapter without shader-f16 is
  // stored f16 and computed in f32; the record says which.
  const engine = await lib.createEngine({ adapter, ...(noF16 ? { features: ['subgroups', 'timestamp-query'] } : {}) });
  const source = modelDir ?? new lib.SyntheticSource(lib.presetConfig(preset), 0, preset, lib.presetPreprocessorConfig(preset));
  const t0 = performance.now();
  const model = await lib.SiglipModel.load(source, { engine, dtype, towers: [tower], tune: false, batch: 1 });
  const loadS = (performance.now() - t0) / 1000;
  const cfg = model.config;
  const inputs = tower === 'vision'
    ? cfg.vision.naflex
      ? null
      : { pixelValues: { data: new Float32Array(3 * cfg.vision.imageSize ** 2).map((_, i) => Math.sin(i * 0.001)), shape: [1, 3, cfg.vision.imageSize, cfg.vision.imageSize] } }
    : { inputIds: { data: Int32Array.from({ length: cfg.text.maxPositions }, (_, i) => (i * 7919) % cfg.text.vocabSize), shape: [1, cfg.text.maxPositions] } };
  if (!inputs) throw new Error('NaFlex models: use `siglip-webgpu bench --synthetic NAME --dtype …` (it runs patch budgets)');
  const gpuBytes = engine.stats.liveBytes;
  const t1 = performance.now();
  await model.forward(inputs); // plans compiled, pipelines built, caches warm
  const firstS = (performance.now() - t1) / 1000;
  runs.push({ dtype, engine, model, inputs, loadS, firstS, gpuBytes, times: [] });
  process.stderr.write(`${dtype}: loaded in ${loadS.toFixed(1)} s, ${mib(gpuBytes)} on the device, first pass ${firstS.toFixed(1)} s\n`);
}
const host = `${cpus()[0]?.model ?? 'unknown CPU'} × ${cpus().length}`;
for (let r = 0; r < rounds; r++) {
  const line = [`round ${r + 1} (load avg ${loadavg()[0].toFixed(1)})`];
  for (const run of runs) {
    const t0 = performance.now();
    await run.model.forward(run.inputs);
    const ms = performance.now() - t0;
    run.times.push(ms);
    line.push(`${run.dtype} ${(ms / 1000).toFixed(2)} s`);
  }
  process.stderr.write(line.join('; ') + '\n');
}
const base = runs[0];
const records = runs.map((run) => ({
  kind: 'compact',
  preset: modelDir ? undefined : preset,
  model: modelDir,
  tower,
  dtype: run.model.dtype,
  activations: run.model.activations,
  adapter: run.engine.info.name,
  host,
  weight_bytes: run.model.weightBytes,
  gpu_bytes_after_load: run.gpuBytes,
  load_s: +run.loadS.toFixed(2),
  first_pass_s: +run.firstS.toFixed(2),
  median_ms: +median(run.times).toFixed(1),
  min_ms: +Math.min(...run.times).toFixed(1),
  rounds,
  ratio_to_first: +(median(run.times.map((t, i) => base.times[i] / t))).toFixed(3),
}));
if (json) for (const r of records) console.log(JSON.stringify(r));
console.log(`\nadapter: ${records[0].adapter}; host: ${host}; ${modelDir ?? preset} ${tower} tower, batch 1, adapter defaults (no tuning), ${rounds} rounds\n`);
console.log('| dtype | computes in | weights on the device | vs f32 | load | pass (median) | first dtype / this |');
console.log('|---|---|---|---|---|---|---|');
for (const r of records) {
  console.log(`| ${r.dtype} | ${r.activations} | ${mib(r.gpu_bytes_after_load)} | ${(r.gpu_bytes_after_load / records[0].gpu_bytes_after_load).toFixed(3)} | ${r.load_s.toFixed(1)} s | ${(r.median_ms / 1000).toFixed(2)} s | ${r.ratio_to_first.toFixed(2)}× |`);
}
for (const run of runs) {
  await run.model.dispose();
  run.engine.dispose();
}
