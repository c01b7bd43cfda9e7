/**
 * Per-adapter tuning: a small search over each kernel family's variants (tile sizes, workgroup memory or not),
 * timed at a representative SigLIP-like shape, run once per adapter and cached — in a JSON file in Node
 * ($XDG_CACHE_HOME/siglip-webgpu/tuning.json, default ~/.cache/…), in localStorage in a browser. The same engine so
 * picks workgroup-memory tiles on a GPU and register-only tiles on a CPU driver, where barriers are expensive.
 * Every candidate computes the same result (the tests run them all); only speed differs.
 */
import { ATTENTION_CANDIDATES, attentionCall, type AttentionConfig, type AttentionGeometry } from '../kernels/attention.js';
import { layerNormCall, type LayerNormConfig } from '../kernels/layernorm.js';
import { configFits, MATMUL_CANDIDATES, MATMUL_CPU_CANDIDATES, matmulCall, matmulGeometry, type MatmulConfig } from '../kernels/matmul.js';
import type { Engine } from './engine.js';
import type { KernelCall } from './kernel.js';
import type { Tensor } from './tensor.js';

/** Bump when kernels change in a way that invalidates cached choices. */
export const TUNING_VERSION = 4;

export interface TuningRecord {
  version: number;
  adapter: string;
  /** When the search ran (ISO time) and how long it took. */
  at: string;
  seconds: number;
  choices: Record<string, unknown>;
  /** Median ms of every candidate, for the curious. */
  timings: Record<string, Array<{ config: unknown; ms: number }>>;
}

function adapterKey(engine: Engine): string {
  const i = engine.info;
  return `${i.vendor}|${i.architecture}|${i.device}|${i.description}|${[...engine.features].sort().join(',')}`;
}

async function timeOnce(engine: Engine, call: KernelCall, reps: number): Promise<number> {
  const t: number[] = [];
  engine.submit([call]);
  await engine.sync();
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    engine.submit([call]);
    await engine.sync();
    t.push(performance.now() - t0);
  }
  return Math.min(...t);
}

/** Runs the search. Small shapes on CPU adapters keep it to seconds there. */
export async function runTuning(engine: Engine, opts: { reps?: number; limit?: number } = {}): Promise<TuningRecord> {
  // `limit`: at most this many candidates per family (tests of the mechanism, not of the choice).
  const cap = <T>(xs: T[]) => (opts.limit ? xs.slice(0, opts.limit) : xs);
  const t0 = performance.now();
  const cpu = engine.info.isCpu;
  const reps = opts.reps ?? (cpu ? 2 : 5);
  const keep: Tensor[] = [];
  const make = (shape: number[]) => {
    const t = engine.empty(shape);
    engine.fill(t, 0.01);
    keep.push(t);
    return t;
  };
  const timings: TuningRecord['timings'] = {};
  const choices: Record<string, unknown> = {};
  try {
    // matmul: tokens × hidden → MLP width, with the weights as HF stores them ([N, K], 'nk') and transposed
    // ([K, N], 'kn'); the faster layout becomes the one models store their weights in.
    // A SigLIP-sized shape even on CPU adapters: small shapes pick other tiles than the model's real ones.
    const [M, N, K] = cpu ? [576, 1024, 1024] : [576, 4096, 1024];
    const a = make([M, K]);
    const w = make([N, K]);
    const bias = make([N]);
    const out = make([M, N]);
    const best: Record<string, { config: MatmulConfig; ms: number }> = {};
    for (const layout of ['nk', 'kn'] as const) {
      const key = `matmul:${layout}`;
      const { g } = matmulGeometry([M, K], layout === 'nk' ? [N, K] : [K, N], layout === 'nk');
      timings[key] = [];
      for (const cfg of cap((cpu ? MATMUL_CPU_CANDIDATES : MATMUL_CANDIDATES).filter((c) => configFits(engine, c) && c.variant !== 'naive'))) {
        const ms = await timeOnce(engine, matmulCall(engine, { a, b: w, bias, out, geometry: g, config: cfg }), reps);
        timings[key].push({ config: cfg, ms });
      }
      const b = timings[key].reduce((x, y) => (y.ms < x.ms ? y : x));
      best[layout] = { config: b.config as MatmulConfig, ms: b.ms };
      choices[key] = b.config;
    }
    // A clear win only: transposing costs host memory and time at load.
    choices.weightLayout = best.kn!.ms < 0.9 * best.nk!.ms ? 'kn' : 'nk';

    // attention: one head group of a SigLIP layer.
    // SigLIP-large's 577 tokens (fewer heads on CPU adapters, to keep the search short).
    const L = 577;
    const H = cpu ? 2 : 16;
    const D = 64;
    const qkv = make([1, L, 3 * H * D]);
    const ao = make([1, L, H * D]);
    const view = (j: number) => ({ offset: j * H * D, row: 3 * H * D, batch: L * 3 * H * D });
    const geo: AttentionGeometry = { B: 1, Lq: L, Lk: L, H, D, q: view(0), k: view(1), v: view(2), scale: 0.125 };
    timings.attention = [];
    for (const cfg of cap(ATTENTION_CANDIDATES)) {
      if (cfg.wgq > engine.limits.maxComputeInvocationsPerWorkgroup) continue;
      const ms = await timeOnce(engine, attentionCall(engine, qkv, qkv, qkv, ao, geo, cfg), reps);
      timings.attention.push({ config: cfg, ms });
    }
    choices.attention = timings.attention.reduce((b, x) => (x.ms < b.ms ? x : b)).config as AttentionConfig;

    // layernorm: rows of the hidden size.
    const x = make([L, 1024]);
    const gm = make([1024]);
    const bt = make([1024]);
    const y = make([L, 1024]);
    timings.layernorm = [];
    const maxWg = Math.min(256, engine.limits.maxComputeInvocationsPerWorkgroup);
    for (const wg of cap((cpu ? [32, 64] : [64, 128, 256]).filter((v) => v <= maxWg))) {
      for (const subgroups of engine.features.has('subgroups') ? [false, true] : [false]) {
        const cfg: LayerNormConfig = { wg, subgroups };
        const ms = await timeOnce(engine, layerNormCall(engine, x, gm, bt, y, 1e-6, cfg), reps);
        timings.layernorm.push({ config: cfg, ms });
      }
    }
    choices.layernorm = timings.layernorm.reduce((b, x2) => (x2.ms < b.ms ? x2 : b)).config;
  } finally {
    for (const t of keep) t.dispose();
  }
  return { version: TUNING_VERSION, adapter: adapterKey(engine), at: new Date().toISOString(), seconds: (performance.now() - t0) / 1000, choices, timings };
}

// ------------------------------------------------------------------------------------------------- cache

interface TuningStore {
  read(): Promise<Record<string, TuningRecord>>;
  write(all: Record<string, TuningRecord>): Promise<void>;
  where: string;
}

async function nodeStore(): Promise<TuningStore> {
  const { homedir } = await import('node:os');
  const { join, dirname } = await import('node:path');
  const fs = await import('node:fs/promises');
  const base = process.env.SIGLIP_WEBGPU_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'siglip-webgpu');
  const file = join(base, 'tuning.json');
  return {
    where: file,
    async read() {
      try {
        return JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, TuningRecord>;
      } catch {
        return {};
      }
    },
    async write(all) {
      await fs.mkdir(dirname(file), { recursive: true });
      // Atomic: a concurrent reader sees the old file or the new one, never half of one.
      const tmp = `${file}.${process.pid}.tmp`;
      await fs.writeFile(tmp, JSON.stringify(all, null, 2));
      await fs.rename(tmp, file);
    },
  };
}

function browserStore(): TuningStore {
  const key = 'siglip-webgpu:tuning';
  const ls = (globalThis as { localStorage?: Storage }).localStorage;
  return {
    where: `localStorage["${key}"]`,
    async read() {
      try {
        return JSON.parse(ls?.getItem(key) ?? '{}') as Record<string, TuningRecord>;
      } catch {
        return {};
      }
    },
    async write(all) {
      try {
        ls?.setItem(key, JSON.stringify(all));
      } catch {
        // Storage full or disabled: tuning simply runs again next time.
      }
    },
  };
}

async function store(): Promise<TuningStore> {
  const isNode = typeof process !== 'undefined' && !!process.versions?.node && typeof window === 'undefined';
  return isNode ? nodeStore() : browserStore();
}

/**
 * Applies this adapter's cached choices to the engine, running the search first when there are none (or when
 * `force`). Returns the record and where it is kept.
 */
/** SIGLIP_WEBGPU_TUNE=off (or 0) keeps kernels at their built-in defaults: the tests set it, for speed. */
export function tuningDisabledByEnv(): boolean {
  const v = typeof process !== 'undefined' ? process.env?.SIGLIP_WEBGPU_TUNE : undefined;
  return v === 'off' || v === '0' || v === 'false';
}

export async function tuneEngine(
  engine: Engine,
  opts: { force?: boolean; reps?: number; limit?: number; searchIfMissing?: boolean } = {},
): Promise<{ record: TuningRecord | null; cached: boolean; where: string }> {
  const s = await store();
  const all = await s.read();
  const key = adapterKey(engine);
  let record = all[key];
  const cached = !!record && record.version === TUNING_VERSION && !opts.force;
  if (!cached && opts.searchIfMissing === false) return { record: null, cached: false, where: s.where };
  if (!cached) {
    record = await runTuning(engine, { reps: opts.reps, limit: opts.limit });
    all[key] = record;
    await s.write(all);
  }
  for (const [k, v] of Object.entries(record!.choices)) engine.tuning.set(k, v);
  return { record: record!, cached, where: s.where };
}
