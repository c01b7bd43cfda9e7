#!/usr/bin/env node
// Reads `siglip-webgpu bench --json` output (one JSON object per line; partial files from a run that was cut off
// are fine) and prints the figures issue 6 sets GPU targets for, as a markdown table, plus what the tuner chose.
// usage: node scripts/bench-summary.mjs f32.jsonl [f16.jsonl ...]
import { existsSync, readFileSync } from 'node:fs';

const records = [];
for (const file of process.argv.slice(2)) {
  if (!existsSync(file)) {
    console.log(`(no ${file})`);
    continue;
  }
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      records.push(JSON.parse(line));
    } catch {
      // A line cut off by a timeout.
    }
  }
}
if (!records.length) {
  console.log('no benchmark records');
  process.exit(1);
}

const find = (kind, name, dtype, shape) => records.find((r) => r.kind === kind && r.name === name && r.dtype === dtype && (!shape || r.shape === shape));
const fmt = (x, d = 1) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(d) : '—');
const pct = (x) => (typeof x === 'number' && Number.isFinite(x) ? `${(100 * x).toFixed(0)} %` : '—');
const rows = [];
const row = (what, value, target) => rows.push(`| ${what} | ${value} | ${target} |`);

console.log(`adapter: ${records[0].adapter}\n`);
for (const dt of ['f32', 'f16']) {
  const fma = find('ceiling', `fma_${dt}`, dt);
  if (fma) row(`FMA ceiling ${dt}`, `${fmt(fma.gflops, 0)} GFLOP/s`, '');
}
const copy = find('ceiling', 'copy', 'f32');
if (copy) row('copy ceiling', `${fmt(copy.gbps, 0)} GB/s`, '');
for (const dt of ['f32', 'f16']) {
  for (const b of [1, 32]) {
    const m = find('kernel', 'matmul', dt, `576x4096x1024 b${b}`);
    if (m) {
      row(`matmul 576×4096×1024 × ${b}, ${dt} (${m.variant?.variant ?? '?'})`, `${fmt(m.gflops, 0)} GFLOP/s, ${pct(m.fraction_of_ceiling)} of FMA`, dt === 'f32' && b === 32 ? '≥ 50 % (f32)' : '');
    }
  }
  const v1 = find('model', 'siglip-vision', dt, 'batch 1');
  const v32 = find('model', 'siglip-vision', dt, 'batch 32');
  if (v32) row(`SigLIP-large images/s, batch 32, ${dt}`, fmt(v32.images_per_s, 0), dt === 'f32' ? '≥ 120' : '≥ 400');
  if (v1 && v32) {
    const r = v1.median_ms / v32.ms_per_item;
    row(`batch-1 latency / per-image time at batch 32, ${dt}`, `${fmt(v1.median_ms)} ms / ${fmt(v32.ms_per_item)} ms = ${fmt(r, 2)}×`, '≤ 1.3×');
  }
  const t32 = find('model', 'siglip-text', dt, 'batch 32');
  if (t32) row(`SigLIP-large texts/s, batch 32, ${dt}`, fmt(t32.texts_per_s, 0), '');
}
for (const m of records.filter((r) => r.kind === 'model' && Number.isFinite(r.median_ms))) {
  const rate = m.images_per_s ?? m.texts_per_s;
  row(`${m.name} ${m.shape}, ${m.dtype}`, `${fmt(m.median_ms)} ms, ${fmt(rate, 1)}/s, ${pct(m.fraction_of_ceiling)} of FMA`, '');
}
console.log('| figure | measured | target |\n|---|---|---|');
for (const r of rows) console.log(r);

const tuning = records.find((r) => r.name === 'tuning' && r.choices);
if (tuning) {
  console.log('\ntuner choices:');
  for (const [k, v] of Object.entries(tuning.choices)) console.log(`  ${k}: ${JSON.stringify(v)}`);
  const rejected = Object.entries(tuning.timings ?? {}).flatMap(([k, list]) => list.filter((t) => t.rejected).map((t) => `  ${k} ${JSON.stringify(t.config)}: ${t.rejected}`));
  const sgmat = Object.values(tuning.timings ?? {}).flat().filter((t) => t.config?.variant === 'sgmat');
  console.log(`subgroup-matrix candidates: ${sgmat.length} (${sgmat.filter((t) => t.ms !== null).length} passed the check)`);
  if (rejected.length) console.log(`rejected:\n${rejected.join('\n')}`);
}
