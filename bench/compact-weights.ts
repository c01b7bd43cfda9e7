/**
 * Compact weights, per dtype (f32, f16, int8, q4), on synthetic full-size weights (src/model/synthetic.ts: no
 * download), in Node on this machine's WebGPU adapter (lavapipe without a GPU) or, with --browser, in headless
 * Chromium (SwiftShader, which lacks shader-f16): GPU memory of the weights (engine.stats), checkpoint bytes (f32 vs
 * the converted scheme's), load time (quantized at load), image and text pass time at batch 1, and the bytes of
 * weights a pass reads with the batch-1 latency that bandwidth alone predicts on an H100 SXM (compact-bytes.ts).
 *
 * The variants' passes alternate round by round in one engine (compact-measure.ts): on a shared CPU the machine's
 * load moves absolute times by 2× in minutes, while the ratio of two passes run seconds apart holds still. Compare
 * the ratios (the median of per-round ratios to f32), not the absolute times, across runs.
 *
 * usage (bench/compact-weights.mjs builds this file and runs it):
 *   node bench/compact-weights.mjs [--browser] [--preset siglip-large-patch16-384] [--dtypes f32,f16,f16-packed,int8,q4]
 *                          [--layers N] [--rounds 3] [--towers vision,text] [--out DIR]
 *   writes DIR/compact-<preset>[-<N>layers].jsonl and .md; --layers N: N encoder layers per tower (the preset's
 *   widths: a smaller model for SwiftShader, which takes about a minute for one SigLIP-base image pass).
 * f16-packed: f16 words with f32 compute where the adapter has shader-f16 (on SwiftShader that is what f16 is).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { BROWSER } from '../scripts/build-options.mjs';
import { parseSiglipConfig } from '../src/model/config.js';
import { presetPreprocessorConfig } from '../src/model/presets.js';
import { readSafetensorsHeader } from '../src/model/safetensors.js';
import type { Tower } from '../src/model/siglip-weights.js';
import { SyntheticSource } from '../src/model/synthetic.js';
import { byteAccount, H100_SXM_BYTES_PER_S } from './compact-bytes.js';
import { benchConfig, measureCompact, VARIANTS, type Measured, type MeasureOptions } from './compact-measure.js';
import { compactTable, type CompactRow } from './compact-report.js';
import { round } from './records.js';
import { median } from './timing.js';

/** The host CPU's model name (/proc/cpuinfo; os.cpus() elsewhere) × logical cores. */
export function hostCpu(): string {
  let name = cpus()[0]?.model ?? 'unknown CPU';
  try {
    name = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? name;
  } catch {
    /* not Linux */
  }
  return `${name} × ${cpus().length}`;
}

const load = () => loadavg().map((x) => x.toFixed(1)).join(' ');

function arg(argv: string[], name: string, dflt: string): string {
  const i = argv.indexOf(name);
  return i < 0 ? dflt : argv.splice(i, 2)[1]!;
}

/** bench/ (this file runs bundled from node_modules/.cache: bench/compact-weights.mjs says where it was). */
const BENCH_DIR = process.env.SIGLIP_BENCH_DIR ?? join(process.cwd(), 'bench');

/** Chromium's flags for WebGPU on SwiftShader headless (test/browser/harness.ts says why each). */
const CHROMIUM_FLAGS = ['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader', '--disable-vulkan-surface', '--no-sandbox', '--disable-dev-shm-usage'];

/** Bundles compact-page.ts for the browser, serves it on 127.0.0.1 and runs measureCompact in a headless page. */
async function measureInChromium(o: MeasureOptions): Promise<Measured> {
  const dir = mkdtempSync(join(tmpdir(), 'siglip-compact-bench-'));
  const server = http.createServer((req, res) => {
    const file = req.url === '/' ? null : /^\/([\w./-]+\.js)$/.exec(req.url ?? '')?.[1];
    if (file?.includes('..')) return void res.writeHead(404).end();
    if (!file) return void res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>compact bench</title>');
    try {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(join(dir, file)));
    } catch {
      res.writeHead(404).end();
    }
  });
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_FLAGS });
  try {
    await build({ ...BROWSER, entryPoints: { page: join(BENCH_DIR, 'compact-page.ts') }, outdir: dir });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const page = await browser.newPage();
    page.setDefaultTimeout(0);
    page.on('console', (msg) => console.log(`${msg.text()} (load average ${load()})`));
    page.on('pageerror', (e) => console.error(`[page error] ${e.message}`));
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    await page.addScriptTag({ type: 'module', url: '/page.js' });
    await page.waitForFunction(() => 'measureCompact' in window);
    return await page.evaluate((opts) => (window as unknown as { measureCompact: typeof measureCompact }).measureCompact(opts), o);
  } finally {
    await browser.close();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const bi = argv.indexOf('--browser');
  const browser = bi >= 0 && argv.splice(bi, 1).length > 0;
  const preset = arg(argv, '--preset', 'siglip-large-patch16-384');
  const variants = arg(argv, '--dtypes', 'f32,f16,f16-packed,int8,q4').split(',');
  const rounds = Number(arg(argv, '--rounds', '3'));
  const towers = arg(argv, '--towers', 'vision,text').split(',') as Tower[];
  const outDir = arg(argv, '--out', '');
  const layersArg = arg(argv, '--layers', '');
  const layers = layersArg ? Number(layersArg) : undefined;
  if (layers !== undefined && !(Number.isInteger(layers) && layers >= 1)) throw new Error(`--layers must be a positive integer, got ${layersArg}`);
  if (argv.length) throw new Error(`unknown arguments: ${argv.join(' ')}`);
  for (const d of variants) if (!VARIANTS[d]) throw new Error(`--dtypes: ${d} is not one of ${Object.keys(VARIANTS).join(', ')}`);
  if (!variants.includes('f32')) throw new Error('--dtypes must include f32: the ratios are to its passes');
  if (!(Number.isInteger(rounds) && rounds >= 1)) throw new Error(`--rounds must be a positive integer, got ${rounds}`);

  const config = benchConfig(preset, layers);
  const model = layers ? `${preset} with ${layers} layers per tower` : preset;
  const cfg = parseSiglipConfig(config);
  const host = hostCpu();
  const loadStart = load();
  console.log(`host: ${host}; load average ${loadStart}; ${browser ? 'in Chromium (SwiftShader)' : 'in Node (Dawn)'}`);
  console.log(`${model}, synthetic weights; variants ${variants.join(', ')}; ${rounds} rounds of batch-1 passes (${towers.join(', ')})`);
  const opts: MeasureOptions = { preset, variants, rounds, towers, layers };
  const m = browser ? await measureInChromium(opts) : await measureCompact(opts, (l) => console.log(`${l} (load average ${load()})`));
  const dtypes = m.variants;

  const header = await readSafetensorsHeader(new SyntheticSource(config, 0, preset, presetPreprocessorConfig(preset)), 'model.safetensors');
  const tensors = [...header.entries.values()].map((e) => ({ name: e.name, shape: e.shape }));
  const T = cfg.text.maxPositions;
  const times = new Map<string, number[]>();
  const ratios = new Map<string, number[]>();
  for (const round_ of m.rounds) {
    for (const [k, ms] of Object.entries(round_)) {
      times.set(k, [...(times.get(k) ?? []), ms]);
      const base = round_[`f32/${k.split('/')[1]}`];
      if (base) ratios.set(k, [...(ratios.get(k) ?? []), ms / base]);
    }
  }
  {
    const f32Ckpt = header.fileBytes;
    const rows: CompactRow[] = [];
    const records: Record<string, unknown>[] = [];
    for (const d of dtypes) {
      const l = m.loads[d]!;
      const acct = byteAccount(tensors, VARIANTS[d]!.dtype, T);
      const row: CompactRow = {
        dtype: `${d} (${l.activations} compute)`,
        gpuBytes: l.gpuBytes,
        weightBytes: l.weightBytes,
        accountBytes: towers.length === 2 ? acct.device.total : towers.reduce((s, t) => s + acct.device[t], 0),
        checkpointBytes: d === 'f32' ? f32Ckpt : acct.checkpoint,
        checkpointMeasured: d === 'f32',
        f32CheckpointBytes: f32Ckpt,
        loadS: l.loadS,
        passMs: {},
        ratio: {},
        readBytes: {},
        predictedMs: {},
      };
      for (const t of towers) {
        row.passMs[t] = median(times.get(`${d}/${t}`)!);
        const rs = ratios.get(`${d}/${t}`);
        if (rs) row.ratio[t] = median(rs);
        row.readBytes[t] = acct.perPass[t];
        row.predictedMs[t] = (acct.perPass[t] / H100_SXM_BYTES_PER_S) * 1000;
      }
      rows.push(row);
      records.push({
        kind: 'model', name: 'compact-weights', shape: 'batch 1', dtype: d, activations: l.activations, adapter: m.adapter, host, preset, ...(layers ? { layers } : {}),
        median_ms: round(row.passMs.vision ?? row.passMs.text ?? NaN), reps: rounds, clock: 'wall',
        vision_ms: row.passMs.vision !== undefined ? round(row.passMs.vision) : undefined,
        text_ms: row.passMs.text !== undefined ? round(row.passMs.text) : undefined,
        round_ms: Object.fromEntries(towers.map((t) => [t, times.get(`${d}/${t}`)!.map((x) => round(x))])),
        vision_ratio_to_f32: row.ratio.vision !== undefined ? round(row.ratio.vision) : undefined,
        text_ratio_to_f32: row.ratio.text !== undefined ? round(row.ratio.text) : undefined,
        gpu_bytes: row.gpuBytes, weight_bytes: row.weightBytes, account_bytes: row.accountBytes,
        checkpoint_bytes: row.checkpointBytes, checkpoint_measured: row.checkpointMeasured,
        load_s: round(row.loadS, 2), read_bytes_per_pass: row.readBytes,
        h100_sxm_predicted_ms: Object.fromEntries(Object.entries(row.predictedMs).map(([k, x]) => [k, round(x, 4)])),
        load_average: [loadStart, load()],
      });
    }
    const table = compactTable(rows, towers);
    const head = `${model} (synthetic weights), ${m.adapter}${browser ? ' in Chromium' : ''}, host ${host}; load average ${loadStart} at the start, ${load()} at the end; ${rounds} alternating rounds, batch 1`;
    console.log(`\n${head}\n\n${table}`);
    if (outDir) {
      mkdirSync(outDir, { recursive: true });
      const base = join(outDir, `compact-${preset}${layers ? `-${layers}layers` : ''}`);
      const cmd = `node bench/compact-weights.mjs${browser ? ' --browser' : ''} --preset ${preset}${layers ? ` --layers ${layers}` : ''} --rounds ${rounds} --out ${outDir}`;
      writeFileSync(`${base}.jsonl`, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
      writeFileSync(`${base}.md`, `# Compact weights: ${head}\n\nMade by \`${cmd}\` on ${new Date().toISOString()}.\n\n${table}\n`);
      console.log(`wrote ${base}.jsonl and ${base}.md`);
    }
  }
}

await main();
