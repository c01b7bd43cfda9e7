/**
 * Per-adapter tuning: a small search over each kernel family's variants (tile sizes, workgroup memory or not),
 * timed at a representative SigLIP-like shape, run once per adapter and cached — in a JSON file in Node
 * ($XDG_CACHE_HOME/siglip-webgpu/tuning.json, default ~/.cache/…), in localStorage in a browser. The same engine so
 * picks workgroup-memory tiles on a GPU and register-only tiles on a CPU driver, where barriers are expensive.
 * Every candidate computes the same result (the tests run them all); only speed differs.
 */
import { ATTENTION_CANDIDATES, attentionCall, type AttentionConfig, type AttentionGeometry } from '../kernels/attention.js';
import { layerNormCall, type LayerNormConfig } from '../kernels/layernorm.js';
import {
  configFits, MATMUL_CANDIDATES, MATMUL_CPU_CANDIDATES, matmulCall, matmulGeometry, NAIVE_MATMUL, regsgCandidates, sgmatCandidates,
  type MatmulConfig,
} from '../kernels/matmul.js';
import type { Engine } from './engine.js';
import type { KernelCall } from './kernel.js';
import type { Tensor } from './tensor.js';

/** Bump when kernels change in a way that invalidates cached choices. */
export const TUNING_VERSION = 6;

export interface TuningRecord {
  version: number;
  adapter: string;
  /** When the search ran (ISO time) and how long it took. */
  at: string;
  seconds: number;
  choices: Record<string, unknown>;
  /** Best ms of every candidate, for the curious; null with the reason for a candidate that was rejected. */
  timings: Record<string, Array<{ config: unknown; ms: number | null; rejected?: string }>>;
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

/** ‖x − y‖ / ‖y‖. */
function relDiff(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < y.length; i++) {
    const d = x[i]! - y[i]!;
    num += d * d;
    den += y[i]! * y[i]!;
  }
  return Number.isFinite(num) ? Math.sqrt(num / Math.max(den, 1e-30)) : Infinity;
}

/** Deterministic values in [-1, 1): candidates must agree on them (a constant input would hide index bugs). */
function patterned(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = ((x >>> 0) / 2 ** 32) * 2 - 1;
  }
  return out;
}

export interface TuningOptions {
  reps?: number;
  /** At most this many candidates per family (tests of the mechanism, not of the choice). */
  limit?: number;
  /** Replace the matmul candidates (tests). */
  matmulCandidates?: MatmulConfig[];
}

/**
 * Times the matmul candidates for one weight layout and dtype, each first checked against the naive kernel's
 * result on the same patterned inputs: a candidate that fails to compile or computes something else on this
 * adapter (the subgroup-matrix variant can only be verified on hardware that has it) is recorded as rejected and
 * never chosen.
 */
async function tuneMatmul(
  engine: Engine,
  layout: 'nk' | 'kn',
  dtype: 'f32' | 'f16',
  candidates: MatmulConfig[],
  reps: number,
): Promise<{ timings: TuningRecord['timings'][string]; best: { config: MatmulConfig; ms: number } | null }> {
  // SigLIP-large's MLP-in shape (about 2/3 of a pass's multiply-adds are in the MLP) on every adapter: on CPU
  // adapters a smaller one took seconds less but picked tiles that were slower at the model's real shapes.
  const [M, N, K] = [576, 4096, 1024];
  const scale = 1 / Math.sqrt(K);
  const a = engine.tensor(patterned(M * K, 1), [M, K], dtype);
  const w = engine.tensor(patterned(N * K, 2).map((v) => v * scale), layout === 'nk' ? [N, K] : [K, N], dtype);
  const bias = engine.tensor(patterned(N, 3), [N], dtype);
  const out = engine.empty([M, N], dtype);
  const timings: TuningRecord['timings'][string] = [];
  let best: { config: MatmulConfig; ms: number } | null = null;
  try {
    const { g } = matmulGeometry([M, K], w.shape, layout === 'nk');
    const call = (config: MatmulConfig) => matmulCall(engine, { a, b: w, bias, out, geometry: g, config });
    engine.submit([call(NAIVE_MATMUL)]);
    const ref = Float32Array.from(await out.read());
    const tol = dtype === 'f16' ? 1e-2 : 1e-4;
    for (const config of candidates) {
      try {
        engine.fill(out, Number.NaN);
        engine.submit([call(config)]);
        const err = relDiff(await out.read(), ref);
        if (!(err <= tol)) {
          timings.push({ config, ms: null, rejected: `wrong result: ‖out − ref‖/‖ref‖ = ${err.toExponential(2)}` });
          continue;
        }
        const ms = await timeOnce(engine, call(config), reps);
        timings.push({ config, ms });
        if (!best || ms < best.ms) best = { config, ms };
      } catch (e) {
        // A failed pipeline reports twice: its uses fail at once, the compiler's reason arrives later. Wait for
        // the reason (the root cause) so that it is recorded here and not thrown at the next, unrelated call.
        let reason = (e as Error).message;
        try {
          await engine.settled();
        } catch (e2) {
          reason = (e2 as Error).message;
        }
        timings.push({ config, ms: null, rejected: reason.split('\n')[0]! });
      }
    }
  } finally {
    for (const t of [a, w, bias, out]) t.dispose();
  }
  return { timings, best };
}

/** Runs the search. Small shapes on CPU adapters keep it to seconds there. */
export async function runTuning(engine: Engine, opts: TuningOptions = {}): Promise<TuningRecord> {
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
    // ([K, N], 'kn'); the faster layout becomes the one models store their weights in. On GPUs with shader-f16 the
    // f16 path is tuned apart ('matmul:nk:f16'): subgroup matrices often exist for f16 inputs only.
    const base = opts.matmulCandidates ?? [
      ...regsgCandidates(engine),
      ...(cpu ? MATMUL_CPU_CANDIDATES : MATMUL_CANDIDATES).filter((c) => configFits(engine, c) && c.variant !== 'naive'),
    ];
    const best: Record<string, { config: MatmulConfig; ms: number }> = {};
    for (const dtype of !cpu && engine.hasF16 ? (['f32', 'f16'] as const) : (['f32'] as const)) {
      for (const layout of ['nk', 'kn'] as const) {
        const key = dtype === 'f32' ? `matmul:${layout}` : `matmul:${layout}:${dtype}`;
        const candidates = cap([...base, ...(opts.matmulCandidates ? [] : sgmatCandidates(engine, dtype))]);
        const r = await tuneMatmul(engine, layout, dtype, candidates, reps);
        timings[key] = r.timings;
        if (!r.best) throw new Error(`tuning: no matmul candidate computed the right result on ${engine.info.name} (${key})`);
        choices[key] = r.best.config;
        if (dtype === 'f32') best[layout] = r.best;
      }
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
    choices.attention = timings.attention.reduce((b, x) => (x.ms! < b.ms! ? x : b)).config as AttentionConfig;

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
    choices.layernorm = timings.layernorm.reduce((b, x2) => (x2.ms! < b.ms! ? x2 : b)).config;
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
  opts: TuningOptions & { force?: boolean; searchIfMissing?: boolean } = {},
): Promise<{ record: TuningRecord | null; cached: boolean; where: string }> {
  const s = await store();
  const all = await s.read();
  const key = adapterKey(engine);
  let record = all[key];
  const cached = !!record && record.version === TUNING_VERSION && !opts.force;
  if (!cached && opts.searchIfMissing === false) return { record: null, cached: false, where: s.where };
  if (!cached) {
    record = await runTuning(engine, opts);
    all[key] = record;
    await s.write(all);
  }
  for (const [k, v] of Object.entries(record!.choices)) engine.tuning.set(k, v);
  return { record: record!, cached, where: s.where };
}
