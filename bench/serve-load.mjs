#!/usr/bin/env node
/**
 * Load test of `siglip-webgpu serve` and the `index` rate, with our own small closed-loop load generator (each of
 * C connections sends its next request when the previous answer arrives, for a fixed time after a warm-up).
 *
 *   node bench/serve-load.mjs [--model DIR] [--kind text|image|both] [--concurrency 1,8,32] [--seconds 20]
 *                             [--batches 1,32] [--max-wait-ms 0] [--index-images 200] [--out bench/results/lavapipe]
 *
 * For each --max-batch in --batches (1 = no batching, the baseline), a fresh server; for each concurrency and
 * request kind: requests/s, items/s, p50 and p99 latency. Then `index` over a folder of --index-images PNGs:
 * images/s and the share of time in forward passes. Prints a markdown table and writes JSON lines to --out.
 * Needs `npm run build` (dist/cli.js) first. Report figures with the adapter and CPU model it prints.
 */
import { spawn, execFileSync } from 'node:child_process';
import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const ROOT = join(import.meta.dirname, '..');
const CLI = join(ROOT, 'dist', 'cli.js');
const { values: a } = parseArgs({
  options: {
    model: { type: 'string', default: join(ROOT, 'test', 'fixtures', 'siglip-tiny') },
    kind: { type: 'string', default: 'both' },
    concurrency: { type: 'string', default: '1,8,32' },
    seconds: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '3' },
    batches: { type: 'string', default: '1,32' },
    'max-wait-ms': { type: 'string', default: '0' }, // serve's own default
    'index-images': { type: 'string', default: '200' },
    'index-batch': { type: 'string', default: '8' },
    out: { type: 'string' },
    label: { type: 'string', default: '' },
  },
});
const concurrencies = a.concurrency.split(',').map(Number);
const batches = a.batches.split(',').map(Number);
const kinds = a.kind === 'both' ? ['text', 'image'] : [a.kind];
const seconds = Number(a.seconds);
const warmup = Number(a.warmup);
const image = readFileSync(join(ROOT, 'test', 'fixtures', 'images', 'cats_crop_500x300.png'));
const body = {
  text: (i) => JSON.stringify({ input: `a photo of ${i % 97} cats on a sofa`, truncate: true }),
  image: () => JSON.stringify({ input: [{ image: `data:image/png;base64,${image.toString('base64')}` }] }),
};
const cpu = cpus()[0]?.model ?? 'unknown CPU';
const records = [];

function startServer(maxBatch) {
  const proc = spawn(process.execPath, [CLI, 'serve', '--model', a.model, '--port', '0', '--max-batch', String(maxBatch), '--max-wait-ms', a['max-wait-ms'], '--max-queue', '100000'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+) \(model [^,]*, (.*)\)\s*$/m.exec(out);
      if (m) resolve({ url: m[1], adapter: m[2], proc });
    });
    proc.once('exit', (c) => reject(new Error(`serve exited (${c}): ${err}`)));
  });
}

function pct(sorted, p) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;
}

/** C closed-loop clients for `seconds` after `warmup`: latency of every request finished in the window. */
async function load(url, kind, c) {
  const load0 = loadavg()[0];
  const lat = [];
  let errors = 0;
  const t0 = performance.now();
  const start = t0 + warmup * 1000;
  const end = start + seconds * 1000;
  let n = 0;
  await Promise.all(
    Array.from({ length: c }, async () => {
      while (performance.now() < end) {
        const s = performance.now();
        const res = await fetch(url + '/v1/embeddings', { method: 'POST', headers: { 'content-type': 'application/json' }, body: body[kind](n++) });
        await res.arrayBuffer();
        const e = performance.now();
        if (res.status !== 200) errors++;
        else if (s >= start && e <= end) lat.push(e - s);
      }
    }),
  );
  lat.sort((x, y) => x - y);
  // The machine's 1-minute load average before and after: on a shared machine, figures under load are not comparable.
  return { requests: lat.length, rps: lat.length / seconds, p50: pct(lat, 50), p99: pct(lat, 99), errors, load: [load0, loadavg()[0]] };
}

let adapter = '';
for (const maxBatch of batches) {
  const s = await startServer(maxBatch);
  adapter = s.adapter;
  try {
    for (const kind of kinds) {
      for (const c of concurrencies) {
        const r = await load(s.url, kind, c);
        const rec = { kind: 'serve', model: a.model, label: a.label, request: kind, max_batch: maxBatch, max_wait_ms: Number(a['max-wait-ms']), concurrency: c, seconds, ...r, adapter, cpu };
        records.push(rec);
        console.error(`max-batch ${maxBatch}, ${kind}, concurrency ${c}: ${r.rps.toFixed(1)} req/s, p50 ${r.p50.toFixed(0)} ms, p99 ${r.p99.toFixed(0)} ms${r.errors ? `, ${r.errors} errors` : ''} (load ${r.load.map((x) => x.toFixed(1)).join(' → ')})`);
      }
    }
  } finally {
    s.proc.kill('SIGTERM');
    await new Promise((r) => s.proc.once('exit', r));
  }
}

// index rate: a folder of PNG copies (distinct paths; decode cost is real, the content repeats)
const nImages = Number(a['index-images']);
if (nImages > 0) {
  const tmp = mkdtempSync(join(tmpdir(), 'bench-index-'));
  try {
    const src = join(ROOT, 'test', 'fixtures', 'images');
    for (let i = 0; i < nImages; i++) {
      const dir = join(tmp, 'photos', String(i % 10));
      mkdirSync(dir, { recursive: true });
      copyFileSync(join(src, ['cats.png', 'cats_crop_500x300.png', 'noise_80x60.png'][i % 3]), join(dir, `${i}.png`));
    }
    const load0 = loadavg()[0];
    const out = execFileSync(process.execPath, [CLI, 'index', join(tmp, 'photos'), '--out', join(tmp, 'idx'), '--model', a.model, '--batch', a['index-batch'], '--json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const s = JSON.parse(out.trim().split('\n').at(-1));
    const rec = { kind: 'index', model: a.model, label: a.label, images: s.embedded, batch: Number(a['index-batch']), images_per_s: s.imagesPerSecond, gpu_busy: s.gpuBusy, seconds: s.seconds, adapter: s.adapter, cpu, load: [load0, loadavg()[0]] };
    records.push(rec);
    console.error(`index: ${s.embedded} images, ${s.imagesPerSecond.toFixed(1)} images/s, forward passes busy ${(s.gpuBusy * 100).toFixed(0)}%`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

console.log(`\nAdapter: ${adapter}; CPU: ${cpu} (${cpus().length} cores); model ${a.model}; ${seconds} s per point after ${warmup} s warm-up\n`);
console.log('| request | max batch | concurrency | req/s | p50 ms | p99 ms | requests | load avg |');
console.log('|---|---:|---:|---:|---:|---:|---:|---|');
for (const r of records.filter((x) => x.kind === 'serve')) {
  console.log(`| ${r.request} | ${r.max_batch} | ${r.concurrency} | ${r.rps.toFixed(1)} | ${r.p50.toFixed(0)} | ${r.p99.toFixed(0)} | ${r.requests} | ${r.load.map((x) => x.toFixed(1)).join(' → ')} |`);
}
for (const r of records.filter((x) => x.kind === 'index')) {
  console.log(`\nindex: ${r.images} images at batch ${r.batch}: ${r.images_per_s.toFixed(1)} images/s, forward passes busy ${(r.gpu_busy * 100).toFixed(0)}% of the time (load avg ${r.load.map((x) => x.toFixed(1)).join(' → ')})`);
}
if (a.out) {
  mkdirSync(a.out, { recursive: true });
  for (const r of records) appendFileSync(join(a.out, 'serve-load.jsonl'), JSON.stringify({ ...r, date: new Date().toISOString() }) + '\n');
}
