/**
 * `bench`: the adapter's ceilings, kernels at SigLIP-large's shapes and whole forward passes on synthetic weights.
 * Prints a table; --json writes one JSON object per line to stdout; --out DIR also writes results.jsonl,
 * results.md and roofline.svg there.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { measureCeilings } from '../../bench/ceilings.js';
import { benchKernels } from '../../bench/kernels.js';
import { benchModel } from '../../bench/model.js';
import { benchLoad } from '../../bench/load.js';
import type { BenchRecord } from '../../bench/records.js';
import { markdownTable, rooflineSvg } from '../../bench/report.js';
import { cpus } from 'node:os';
import { parseSiglipConfig } from '../model/config.js';
import { PRESETS, presetConfig } from '../model/presets.js';
import { tuningShapes } from '../model/siglip-graphs.js';
import { createEngine, tuneEngine } from '../ops/index.js';
import { engineOptions, parseGroup, parseIntList, parseModelDtype, parsePositiveInt, print, UsageError, type CommonOptions } from './common.js';
import type { Tower } from '../model/siglip-weights.js';

interface BenchOptions extends CommonOptions {
  kernels?: boolean;
  modelOnly?: boolean;
  synthetic?: string;
  towers?: string;
  reps?: string;
  full?: boolean;
  filter?: string;
  out?: string;
  load?: string;
  tune?: boolean;
  maxNumPatches?: string;
  /** commander's --no-search: false when given. */
  search?: boolean;
}

export async function bench(o: BenchOptions): Promise<void> {
  // --dtype is the model's (f32, f16, int8, q4); the kernels and ceilings run in what it computes in.
  const modelDtype = parseModelDtype(o.dtype);
  const group = parseGroup(o.group);
  const batches = parseIntList(o.batch ?? '1', '--batch');
  const towers = (o.towers ?? 'vision,text').split(',').map((t) => t.trim()) as Tower[];
  for (const t of towers) if (t !== 'vision' && t !== 'text') throw new UsageError(`--towers takes vision and/or text, got "${t}"`);
  const reps = o.reps === undefined ? undefined : parsePositiveInt(o.reps, '--reps', 1);
  try {
    presetConfig(o.synthetic ?? 'siglip-large-patch16-384');
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const engine = await createEngine(engineOptions(o));
  const dtype = modelDtype === 'f16' && engine.hasF16 ? 'f16' : 'f32';
  const records: BenchRecord[] = [];
  // lavapipe and SwiftShader run on the host CPU: its model says as much about a figure as the adapter does.
  const host = `${cpus()[0]?.model ?? 'unknown CPU'} × ${cpus().length}`;
  const emit = (r: BenchRecord) => {
    r.host = host;
    records.push(r);
    if (o.json) print(JSON.stringify(r));
    else if (process.stderr.isTTY) process.stderr.write(`  ${r.kind} ${r.name} ${r.shape}: ${Number.isFinite(r.median_ms) ? r.median_ms.toFixed(1) + ' ms' : 'skipped'}\n`);
    // Slower kernel forms than the adapter's variant are said at once, also when stderr is not a terminal.
    if (!o.json) for (const n of (r.kernel_notes as string[] | undefined) ?? []) process.stderr.write(`  note (${r.name} ${r.shape}): slower path: ${n}\n`);
  };
  try {
    if (!o.json) print(`adapter: ${engine.info.name}\nhost: ${host}\n`);
    // The bench measures tuned kernels, tuned at the shapes of the model it runs: it searches the shape classes
    // this adapter has no cached choice for.
    const preset = o.synthetic ?? 'siglip-large-patch16-384';
    const shapes = tuningShapes(parseSiglipConfig(presetConfig(preset)), towers);
    // --no-search: cached choices and the adapter defaults only (a search costs minutes per new model on CPU adapters).
    const tuned = await tuneEngine(engine, shapes, { force: o.tune, searchIfMissing: o.search !== false });
    const classes = tuned.record.classes;
    const seconds = tuned.searched.reduce((s, k) => s + (classes[k]?.seconds ?? 0), 0);
    emit({
      kind: 'ceiling', name: 'tuning', shape: tuned.searched.length ? `searched ${tuned.searched.length} shape classes in ${seconds.toFixed(1)} s, saved to ${tuned.where}` : `cached in ${tuned.where}`,
      dtype: 'f32', adapter: engine.info.name, median_ms: NaN,
      choices: Object.fromEntries(Object.entries(classes).map(([k, c]) => [k, c.choice])),
      timings: Object.fromEntries(Object.entries(classes).map(([k, c]) => [k, c.timings])),
    });
    if (o.load) {
      emit(await benchLoad(engine, o.load, modelDtype));
      if (!o.json) print(markdownTable(records));
      return;
    }
    const { records: ceil, ceilings } = await measureCeilings(engine, { reps });
    ceil.forEach(emit);
    if (!o.modelOnly) (await benchKernels(engine, ceilings, { dtype, reps, full: o.full, filter: o.filter })).forEach(emit);
    if (!o.kernels) {
      const maxNumPatches = o.maxNumPatches === undefined ? undefined : parseIntList(o.maxNumPatches, '--max-num-patches');
      await benchModel(engine, ceilings, { preset, dtype: modelDtype ?? 'f32', group, batches, towers, reps, maxNumPatches, onRecord: emit });
    }
    const table = markdownTable(records);
    if (!o.json) print(table);
    if (o.out) {
      await mkdir(o.out, { recursive: true });
      await writeFile(join(o.out, 'results.jsonl'), records.map((r) => JSON.stringify(r)).join('\n') + '\n');
      await writeFile(join(o.out, 'results.md'), `Adapter: ${engine.info.name}\nHost CPU: ${host}\n\n${table}`);
      await writeFile(join(o.out, 'roofline.svg'), rooflineSvg(records, ceilings, dtype, engine.info.name));
      if (!o.json) print(`wrote results.jsonl, results.md and roofline.svg to ${o.out}`);
    }
  } finally {
    engine.dispose();
  }
}

export function registerBench(program: Command, withCommon: (c: Command, o?: { model?: boolean; dtype?: boolean; batch?: boolean }) => Command): void {
  withCommon(program.command('bench'), { model: false, dtype: true, batch: false })
    .description('ceilings, kernel and end-to-end benchmarks on this adapter (synthetic weights: no download)')
    .option('--kernels', 'ceilings and kernels only')
    .option('--model-only', 'ceilings and the end-to-end model only')
    .option('--synthetic <preset>', `model for the end-to-end runs: ${Object.keys(PRESETS).join(', ')}`, 'siglip-large-patch16-384')
    .option('--max-num-patches <list>', 'NaFlex presets: patch budgets to run at, e.g. 256,576,1024', '256,1024')
    .option('--batch <list>', 'batch sizes for the end-to-end runs, e.g. 1,8,32', '1')
    .option('--towers <list>', 'vision,text', 'vision,text')
    .option('--reps <n>', 'timed repeats (default: 7 for kernels, 5 for models; fewer for big work on CPU adapters)')
    .option('--full', 'run every kernel shape even on CPU adapters (slow)')
    .option('--filter <text>', 'only kernel cases whose name or shape contains this')
    .option('--out <dir>', 'also write results.jsonl, results.md and roofline.svg here')
    .option('--tune', 'run the per-adapter kernel search again (otherwise its cached result is used)')
    .option('--no-search', 'search no kernel variant: cached choices where there are some, the adapter defaults elsewhere')
    .option('--load <dir>', 'only: load this checkpoint directory and report time and peak JS memory')
    .action((o: BenchOptions) => bench(o));
}
