/**
 * Per-adapter tuning at the loaded model's own shapes. For each shape class the model needs (its MLP matmul, its
 * attention at its token count and head dim, its LayerNorm width) every candidate variant is, in order:
 *  1. built and run once on patterned inputs, its output poisoned with NaN first, inside the engine's compile
 *     error scope: a candidate that does not compile or fails validation is rejected with the compiler's reason;
 *  2. checked against the kernel's float64 CPU reference (sampled rows for the big shapes) and for unwritten or
 *     non-finite outputs: one that computes something else on this adapter is rejected;
 *  3. only then timed, on the GPU clock where the adapter has timestamp queries, from calls prepared once
 *     (pipelines, uniforms and bind groups made before the first timed run: nothing is allocated per run).
 * Rejections are recorded beside the timings and never chosen. Results are cached per (adapter, shape class)
 * (tuning-store.ts) and applied to the engine's tuning table, where choices.ts finds them.
 */
import { ATTENTION_CANDIDATES, attentionCall, attentionRef, type AttentionConfig, type AttentionGeometry } from '../kernels/attention.js';
import { layerNormCall, layerNormRef, type LayerNormConfig } from '../kernels/layernorm.js';
import {
  configFits, MATMUL_CANDIDATES, MATMUL_CPU_CANDIDATES, matmulCall, matmulGeometry, regsgCandidates, sg2dCandidates, sgmatCandidates, type MatmulConfig,
} from '../kernels/matmul.js';
import { PreparedCalls } from '../runtime/dispatch.js';
import type { Engine } from '../runtime/engine.js';
import type { KernelCall } from '../runtime/kernel.js';
import type { Tensor } from '../runtime/tensor.js';
import { adapterDefaults, type WeightLayout } from './adapter-defaults.js';
import { classKey, matmulKind, type TuningKind } from './choices.js';
import { PackedWeight } from './packed-weight.js';
import { packedLayout, packMatrix, unpackMatrix, type PackedFormat } from '../runtime/weight-format.js';
import { tuningStore, type CandidateResult, type ClassRecord, type TuningRecord } from './tuning-store.js';

export type { CandidateResult, ClassRecord, TuningRecord } from './tuning-store.js';

/** Bump when kernels change in a way that invalidates cached choices. */
export const TUNING_VERSION = 8;

/** The shapes a model runs, from which the shape classes to tune are taken (src/model: tuningShapes). */
export interface TuningShapes {
  /** A [M, K] times weights N×K: the model's heaviest matmul (its MLP). */
  matmul?: Array<{ M: number; N: number; K: number }>;
  /** L tokens, H heads of D. */
  attention?: Array<{ L: number; H: number; D: number }>;
  layernorm?: Array<{ rows: number; D: number }>;
  /**
   * Compact weight formats the model's matrices are stored in: each matmul shape is tuned (and checked) for each
   * as its own kind (`matmul:nk:wint8@…`), [N, K] as packed weights always are, in the model's activation dtype.
   */
  weightFormats?: Array<{ format: PackedFormat; group: number; dtype?: 'f32' | 'f16' }>;
}

export interface TuningOptions {
  /** Timed runs per candidate (after one warm-up); the fastest counts. */
  reps?: number;
  /** At most this many candidates per kind (tests of the mechanism, not of the choice). */
  limit?: number;
  /** Replace a kind's candidates (tests). */
  matmulCandidates?: MatmulConfig[];
  attentionCandidates?: AttentionConfig[];
  layernormCandidates?: LayerNormConfig[];
}

function adapterKey(engine: Engine): string {
  const i = engine.info;
  return `${i.vendor}|${i.architecture}|${i.device}|${i.description}|${[...engine.features].sort().join(',')}`;
}

/** Deterministic values in [-1, 1): candidates must agree on them (a constant input would hide index bugs). */
export function patterned(n: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = (((x >>> 0) / 2 ** 32) * 2 - 1) * scale;
  }
  return out;
}

/** ‖out − ref‖/‖ref‖ over the given rows of width `w` (all rows when none), or a reason when anything is not finite. */
function compare(out: ArrayLike<number>, ref: ArrayLike<number>, w: number, rows?: readonly number[]): { err: number } | { problem: string } {
  for (let i = 0; i < out.length; i++) {
    if (!Number.isFinite(out[i]!)) return { problem: `output ${i} is ${out[i]} (unwritten or non-finite)` };
  }
  let num = 0;
  let den = 0;
  for (const r of rows ?? Array.from({ length: ref.length / w }, (_, i) => i)) {
    for (let c = r * w; c < (r + 1) * w; c++) {
      const d = out[c]! - ref[c]!;
      num += d * d;
      den += ref[c]! * ref[c]!;
    }
  }
  return { err: Math.sqrt(num / Math.max(den, 1e-30)) };
}

/** Row indices spread over [0, n): the first and last, tile edges, and some between. */
function sampleRows(n: number, count = 8): number[] {
  const picks = new Set([0, n - 1, Math.min(n - 1, 7), Math.min(n - 1, 8), Math.floor(n / 2), Math.min(n - 1, 17)]);
  for (let i = 1; picks.size < Math.min(count, n); i++) picks.add(Math.floor((i * n) / (count + 1)) % n);
  return [...picks].sort((a, b) => a - b);
}

interface Problem<C> {
  candidates: C[];
  /** The call for a candidate (may throw: the candidate is rejected). */
  call(config: C): KernelCall;
  out: Tensor;
  /** null if right, else why not. */
  check(out: Float32Array | Int32Array): { err: number } | { problem: string };
  tol: number;
}

/** Checks, then times, every candidate of one problem; returns them all and the fastest correct one. */
async function search<C>(engine: Engine, p: Problem<C>, reps: number): Promise<{ timings: CandidateResult[]; best: { config: C; ms: number } | null }> {
  const timings: CandidateResult[] = [];
  let best: { config: C; ms: number } | null = null;
  for (const config of p.candidates) {
    let prepared: PreparedCalls | null = null;
    try {
      prepared = new PreparedCalls(engine, [p.call(config)], 'tuning');
      engine.fill(p.out, Number.NaN);
      prepared.submit();
      await engine.settled();
      const c = p.check(await p.out.read());
      if ('problem' in c) {
        timings.push({ config, ms: null, rejected: `wrong result: ${c.problem}` });
        continue;
      }
      if (!(c.err <= p.tol)) {
        timings.push({ config, ms: null, err: c.err, rejected: `wrong result: ‖out − ref‖/‖ref‖ = ${c.err.toExponential(2)}` });
        continue;
      }
      await prepared.timeOnce();
      let ms = Infinity;
      let clock: CandidateResult['clock'] = 'wall';
      for (let r = 0; r < reps; r++) {
        const t = await prepared.timeOnce();
        ms = Math.min(ms, t.ms);
        clock = t.clock;
      }
      timings.push({ config, ms, clock, err: c.err });
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
      timings.push({ config, ms: null, rejected: reason.split('\n').slice(0, 3).join(' | ') });
    } finally {
      prepared?.dispose();
    }
  }
  return { timings, best };
}

/**
 * The matmul candidates for this adapter and dtype: register tiles on CPU adapters, everything on GPUs; the
 * subgroup-sharing ones (sg2d, regsg) where the subgroup size is fixed, subgroup matrices where the adapter has them.
 */
export function matmulCandidates(engine: Engine, dtype: 'f32' | 'f16'): MatmulConfig[] {
  const base = engine.info.isCpu ? MATMUL_CPU_CANDIDATES : MATMUL_CANDIDATES;
  return [
    ...sg2dCandidates(engine.context),
    ...regsgCandidates(engine.context),
    ...base.filter((c) => c.variant !== 'naive' && configFits(engine.context, c)),
    ...sgmatCandidates(engine.context, dtype),
  ];
}

export function layerNormCandidates(engine: Engine): LayerNormConfig[] {
  const maxWg = Math.min(256, engine.limits.maxComputeInvocationsPerWorkgroup);
  const out: LayerNormConfig[] = [];
  for (const wg of (engine.info.isCpu ? [32, 64] : [64, 128, 256]).filter((v) => v <= maxWg)) {
    for (const subgroups of engine.features.has('subgroups') ? [false, true] : [false]) out.push({ wg, subgroups });
  }
  return out;
}

type Search = { key: string; record: ClassRecord; best: unknown };

/**
 * A matmul with packed [N, K] weights: the candidates read the words and scales as the model's weights are read,
 * checked against float64 on the dequantized matrix (code · scale, exact) at fp32 tolerance (1e-2 with f16
 * activations), so a variant that unpacks wrongly on this adapter is rejected before it is timed.
 */
async function tuneMatmulPacked(engine: Engine, s: { M: number; N: number; K: number }, fmt: { format: PackedFormat; group: number }, dtype: 'f32' | 'f16', candidates: MatmulConfig[], reps: number): Promise<Search & { ms: number }> {
  const t0 = performance.now();
  const { M, N, K } = s;
  const l = packedLayout(fmt.format, N, K, fmt.group);
  const values = patterned(N * K, 2, 1 / Math.sqrt(K));
  const { words, scales } = packMatrix(l, values, 'tuning weight');
  const w = PackedWeight.upload(engine, l, words, scales);
  const a = engine.tensor(patterned(M * K, 1), [M, K], dtype);
  const bias = engine.tensor(patterned(N, 3), [N], dtype);
  const out = engine.empty([M, N], dtype);
  try {
    const { g } = matmulGeometry([M, K], [N, K], true);
    g.ldb = l.ld;
    const deq = unpackMatrix(l, words, scales);
    const [ha, hb] = await Promise.all([a.read(), bias.read()]);
    const rows = sampleRows(M);
    const ref = new Float64Array(M * N);
    for (const m of rows) {
      for (let n = 0; n < N; n++) {
        let acc = hb[n]!;
        for (let k = 0; k < K; k++) acc += ha[m * K + k]! * deq[n * K + k]!;
        ref[m * N + n] = acc;
      }
    }
    const r = await search(engine, {
      candidates,
      call: (config) => matmulCall(engine.context, { a, b: w.data, bias, out, geometry: g, config, weight: { format: l.format, group: l.group, scales: w.scales } }),
      out,
      check: (o) => compare(o, ref, N, rows),
      tol: dtype === 'f16' ? 1e-2 : 1e-4,
    }, reps);
    const key = classKey(matmulKind('nk', dtype, l.format), { M, N, K });
    if (!r.best) throw new Error(`tuning: no matmul candidate computed the right result with ${l.format} weights on ${engine.info.name} (${key}): ${JSON.stringify(r.timings.map((t) => t.rejected))}`);
    return { key, best: r.best.config, ms: r.best.ms, record: { at: new Date().toISOString(), seconds: (performance.now() - t0) / 1000, choice: r.best.config, timings: r.timings } };
  } finally {
    for (const t of [a, bias, out]) t.dispose();
    w.dispose();
  }
}

async function tuneMatmul(engine: Engine, s: { M: number; N: number; K: number }, dtype: 'f32' | 'f16', layout: WeightLayout, candidates: MatmulConfig[], reps: number): Promise<Search & { ms: number }> {
  const t0 = performance.now();
  const { M, N, K } = s;
  const a = engine.tensor(patterned(M * K, 1), [M, K], dtype);
  const w = engine.tensor(patterned(N * K, 2, 1 / Math.sqrt(K)), layout === 'nk' ? [N, K] : [K, N], dtype);
  const bias = engine.tensor(patterned(N, 3), [N], dtype);
  const out = engine.empty([M, N], dtype);
  try {
    const { g } = matmulGeometry([M, K], w.shape, layout === 'nk');
    // The reference sees what the GPU sees (f16-rounded inputs when dtype is f16), on sampled rows.
    const [ha, hw, hb] = await Promise.all([a.read(), w.read(), bias.read()]);
    const rows = sampleRows(M);
    const ref = new Float64Array(M * N);
    for (const m of rows) {
      for (let n = 0; n < N; n++) {
        let acc = hb[n]!;
        for (let k = 0; k < K; k++) acc += ha[m * K + k]! * (layout === 'nk' ? hw[n * K + k]! : hw[k * N + n]!);
        ref[m * N + n] = acc;
      }
    }
    const r = await search(engine, {
      candidates,
      call: (config) => matmulCall(engine.context, { a, b: w, bias, out, geometry: g, config }),
      out,
      check: (o) => compare(o, ref, N, rows),
      tol: dtype === 'f16' ? 1e-2 : 1e-4,
    }, reps);
    const kind = (dtype === 'f32' ? `matmul:${layout}` : `matmul:${layout}:${dtype}`) as TuningKind;
    const key = classKey(kind, { M, N, K });
    if (!r.best) throw new Error(`tuning: no matmul candidate computed the right result on ${engine.info.name} (${key}): ${JSON.stringify(r.timings.map((t) => t.rejected))}`);
    return { key, best: r.best.config, ms: r.best.ms, record: { at: new Date().toISOString(), seconds: (performance.now() - t0) / 1000, choice: r.best.config, timings: r.timings } };
  } finally {
    for (const t of [a, w, bias, out]) t.dispose();
  }
}

async function tuneAttention(engine: Engine, s: { L: number; H: number; D: number }, candidates: AttentionConfig[], reps: number): Promise<Search> {
  const t0 = performance.now();
  const { L, D } = s;
  // Heads run side by side, so two tell as much as sixteen about a variant on a CPU adapter, in an eighth of the time.
  const H = engine.info.isCpu ? Math.min(s.H, 2) : s.H;
  const HD = H * D;
  // A packed QKV projection read through strided views, as the encoder reads it; scores of a realistic spread.
  const qkv = engine.tensor(patterned(L * 3 * HD, 4, 1.5), [1, L, 3 * HD]);
  const out = engine.empty([1, L, HD]);
  try {
    const view = (j: number) => ({ offset: j * HD, row: 3 * HD, batch: L * 3 * HD });
    const g: AttentionGeometry = { B: 1, Lq: L, Lk: L, H, D, q: view(0), k: view(1), v: view(2), scale: 1 / Math.sqrt(D) };
    const host = await qkv.read();
    const rows = sampleRows(L);
    const ref = attentionRef(host, host, host, g, rows);
    const r = await search(engine, {
      candidates: candidates.filter((c) => c.wgq <= engine.limits.maxComputeInvocationsPerWorkgroup),
      call: (config) => attentionCall(engine.context, qkv, qkv, qkv, out, g, config),
      out,
      check: (o) => compare(o, ref, HD, rows),
      tol: 1e-4,
    }, reps);
    const key = classKey('attention', { L, D });
    if (!r.best) throw new Error(`tuning: no attention candidate computed the right result on ${engine.info.name} (${key})`);
    return { key, best: r.best.config, record: { at: new Date().toISOString(), seconds: (performance.now() - t0) / 1000, choice: r.best.config, timings: r.timings } };
  } finally {
    qkv.dispose();
    out.dispose();
  }
}

async function tuneLayerNorm(engine: Engine, s: { rows: number; D: number }, candidates: LayerNormConfig[], reps: number): Promise<Search> {
  const t0 = performance.now();
  const { rows, D } = s;
  const hx = patterned(rows * D, 5, 3);
  const hg = patterned(D, 6).map((v) => 1 + 0.1 * v);
  const hb = patterned(D, 7, 0.1);
  const x = engine.tensor(hx, [rows, D]);
  const gm = engine.tensor(hg, [D]);
  const bt = engine.tensor(hb, [D]);
  const out = engine.empty([rows, D]);
  try {
    const ref = layerNormRef(hx, hg, hb, D, 1e-6);
    const r = await search(engine, {
      candidates,
      call: (config) => layerNormCall(engine.context, x, gm, bt, out, 1e-6, config),
      out,
      check: (o) => compare(o, ref, D),
      tol: 1e-5,
    }, reps);
    const key = classKey('layernorm', { D });
    if (!r.best) throw new Error(`tuning: no layerNorm candidate computed the right result on ${engine.info.name} (${key})`);
    return { key, best: r.best.config, record: { at: new Date().toISOString(), seconds: (performance.now() - t0) / 1000, choice: r.best.config, timings: r.timings } };
  } finally {
    for (const t of [x, gm, bt, out]) t.dispose();
  }
}

/** The shape-class keys `shapes` need on this engine (what tuneEngine searches when they are missing). */
export function neededClasses(engine: Engine, shapes: TuningShapes): string[] {
  const keys: string[] = [];
  const dtypes = !engine.info.isCpu && engine.hasF16 ? (['f32', 'f16'] as const) : (['f32'] as const);
  for (const m of shapes.matmul ?? []) {
    for (const dtype of dtypes) for (const layout of ['nk', 'kn'] as const) keys.push(classKey((dtype === 'f32' ? `matmul:${layout}` : `matmul:${layout}:f16`) as TuningKind, m));
    keys.push(classKey('weightLayout', m));
    for (const f of shapes.weightFormats ?? []) keys.push(classKey(matmulKind('nk', f.dtype ?? 'f32', f.format), m));
  }
  for (const a of shapes.attention ?? []) keys.push(classKey('attention', { L: a.L, D: a.D }));
  for (const l of shapes.layernorm ?? []) keys.push(classKey('layernorm', { D: l.D }));
  return [...new Set(keys)];
}

/**
 * Searches the shape classes of `shapes` that `skip` does not hold: matmul for both weight layouts (and f16 apart
 * on GPUs with shader-f16: subgroup matrices often exist for f16 inputs only), then which layout models should
 * store their weights in, attention, LayerNorm. Returns a class record per key.
 */
export async function runTuning(engine: Engine, shapes: TuningShapes, opts: TuningOptions & { skip?: ReadonlySet<string> } = {}): Promise<Record<string, ClassRecord>> {
  const cap = <T>(xs: T[]) => (opts.limit ? xs.slice(0, opts.limit) : xs);
  const reps = opts.reps ?? (engine.info.isCpu ? 2 : 5);
  const skip = opts.skip ?? new Set<string>();
  const out: Record<string, ClassRecord> = {};
  const dtypes = !engine.info.isCpu && engine.hasF16 ? (['f32', 'f16'] as const) : (['f32'] as const);
  for (const m of shapes.matmul ?? []) {
    const layoutKey = classKey('weightLayout', m);
    const best: Partial<Record<WeightLayout, number>> = {};
    for (const dtype of dtypes) {
      for (const layout of ['nk', 'kn'] as const) {
        const key = classKey((dtype === 'f32' ? `matmul:${layout}` : `matmul:${layout}:f16`) as TuningKind, m);
        if (skip.has(key) && skip.has(layoutKey)) continue;
        const r = await tuneMatmul(engine, m, dtype, layout, cap(opts.matmulCandidates ?? matmulCandidates(engine, dtype)), reps);
        out[r.key] = r.record;
        if (dtype === 'f32') best[layout] = r.ms;
      }
    }
    for (const f of shapes.weightFormats ?? []) {
      const dtype = f.dtype ?? 'f32';
      if (skip.has(classKey(matmulKind('nk', dtype, f.format), m))) continue;
      const r = await tuneMatmulPacked(engine, m, f, dtype, cap(opts.matmulCandidates ?? matmulCandidates(engine, dtype)), reps);
      out[r.key] = r.record;
    }
    if (best.kn !== undefined && best.nk !== undefined) {
      // A clear win only: transposing costs host memory and time at load.
      const choice: WeightLayout = best.kn < 0.9 * best.nk ? 'kn' : 'nk';
      out[layoutKey] = { at: new Date().toISOString(), seconds: 0, choice, timings: [{ config: 'kn', ms: best.kn }, { config: 'nk', ms: best.nk }] };
    }
  }
  for (const a of shapes.attention ?? []) {
    if (skip.has(classKey('attention', { L: a.L, D: a.D }))) continue;
    const r = await tuneAttention(engine, a, cap(opts.attentionCandidates ?? ATTENTION_CANDIDATES), reps);
    out[r.key] = r.record;
  }
  for (const l of shapes.layernorm ?? []) {
    if (skip.has(classKey('layernorm', { D: l.D }))) continue;
    const r = await tuneLayerNorm(engine, l, cap(opts.layernormCandidates ?? layerNormCandidates(engine)), reps);
    out[r.key] = r.record;
  }
  return out;
}

/** SIGLIP_WEBGPU_TUNE=off (or 0) keeps kernels at their built-in defaults: the tests set it, for speed. */
export function tuningDisabledByEnv(): boolean {
  const v = typeof process !== 'undefined' ? process.env?.SIGLIP_WEBGPU_TUNE : undefined;
  return v === 'off' || v === '0' || v === 'false';
}

export interface TuneResult {
  /** This adapter's record after the call (every shape class tuned on it so far). */
  record: TuningRecord;
  /** Shape classes searched by this call (none: everything came from the cache). */
  searched: string[];
  /** Shape classes `shapes` needed that are neither cached nor searched (searchIfMissing false). */
  missing: string[];
  where: string;
}

/**
 * Applies this adapter's cached choices to the engine, searching first the shape classes of `shapes` that are not
 * cached (all of them with `force`; none with `searchIfMissing: false`, as CPU adapters do at load:
 * adapter-defaults.ts `tuneAtLoad`).
 */
export async function tuneEngine(engine: Engine, shapes: TuningShapes, opts: TuningOptions & { force?: boolean; searchIfMissing?: boolean } = {}): Promise<TuneResult> {
  const s = await tuningStore();
  const key = adapterKey(engine);
  const stored = (await s.read())[key];
  const record: TuningRecord = stored && stored.version === TUNING_VERSION && stored.classes ? stored : { version: TUNING_VERSION, adapter: key, classes: {} };
  const needed = neededClasses(engine, shapes);
  const cached = new Set(opts.force ? [] : Object.keys(record.classes));
  const todo = needed.filter((k) => !cached.has(k));
  const search = opts.searchIfMissing ?? adapterDefaults(engine.info).tuneAtLoad;
  let searched: string[] = [];
  if (todo.length && search) {
    const found = await runTuning(engine, shapes, { ...opts, skip: cached });
    searched = Object.keys(found);
    Object.assign(record.classes, found);
    // Read again just before writing: another process may have tuned other classes meanwhile.
    const all = await s.read();
    const theirs = all[key];
    if (theirs && theirs.version === TUNING_VERSION && theirs.classes) record.classes = { ...theirs.classes, ...record.classes };
    all[key] = record;
    await s.write(all);
  }
  for (const [k, c] of Object.entries(record.classes)) engine.tuning.set(k, c.choice);
  return { record, searched, missing: search ? [] : todo, where: s.where };
}
