/**
 * Which variant a kernel call runs: the tuner's choice for the nearest shape class tuned on this adapter, else the
 * adapter default (adapter-defaults.ts). Choices live in the engine's tuning table under keys
 * `kind@dim=value,…` — e.g. `matmul:kn@M=576,N=4096,K=1024`, `attention@L=577,D=72`, `layernorm@D=1024` — one per
 * (kernel kind, shape class) the tuner measured, so a model tuned at its own shapes does not borrow a choice
 * measured at another model's. Dimensions that change the code (attention's head dim) must match exactly;
 * the others are matched by the smallest log-ratio distance.
 */
import { configFits, sgmatProblem, type MatmulConfig } from '../kernels/matmul.js';
import type { AttentionConfig } from '../kernels/attention.js';
import type { LayerNormConfig } from '../kernels/layernorm.js';
import type { Engine } from '../runtime/engine.js';
import type { Tuning } from '../runtime/tuning.js';
import type { PackedFormat } from '../runtime/weight-format.js';
import { adapterDefaults, type WeightLayout } from './adapter-defaults.js';

/**
 * A matmul's tuning kind: the weight layout, `:f16` for f16 activations, `:w<format>` for packed weights —
 * `matmul:nk`, `matmul:kn:f16`, `matmul:nk:wint8`, `matmul:nk:f16:wq4`: each weight dtype is tuned (and checked) apart.
 */
export type MatmulKind = `matmul:${WeightLayout}${'' | ':f16'}${'' | `:w${PackedFormat}`}`;

export type TuningKind = MatmulKind | 'attention' | 'layernorm' | 'weightLayout';

export function matmulKind(layout: WeightLayout, dtype: 'f32' | 'f16', format?: PackedFormat): MatmulKind {
  return `matmul:${layout}${dtype === 'f16' ? ':f16' : ''}${format ? `:w${format}` : ''}` as MatmulKind;
}

export type Dims = Readonly<Record<string, number>>;

export function classKey(kind: TuningKind, dims: Dims): string {
  return `${kind}@${Object.entries(dims).map(([k, v]) => `${k}=${v}`).join(',')}`;
}

export function parseClassKey(key: string): { kind: string; dims: Record<string, number> } | null {
  const at = key.indexOf('@');
  if (at < 0) return null;
  const dims: Record<string, number> = {};
  for (const part of key.slice(at + 1).split(',')) {
    const [k, v] = part.split('=');
    if (!k || v === undefined || !Number.isFinite(Number(v))) return null;
    dims[k] = Number(v);
  }
  return { kind: key.slice(0, at), dims };
}

/** The choice tuned for `kind` at the shape class nearest `dims` (`exact` dims must be equal), if any. */
export function nearestChoice<T>(tuning: Tuning, kind: TuningKind, dims: Dims, exact: readonly string[] = []): T | undefined {
  let best: { d: number; v: T } | undefined;
  for (const [key, value] of Object.entries(tuning.toJSON())) {
    const k = parseClassKey(key);
    if (!k || k.kind !== kind) continue;
    if (exact.some((e) => k.dims[e] !== dims[e])) continue;
    let d = 0;
    for (const [name, v] of Object.entries(dims)) {
      const t = k.dims[name];
      if (t !== undefined && t > 0 && v > 0) d += Math.abs(Math.log2(v / t));
    }
    if (!best || d < best.d) best = { d, v: value as T };
  }
  return best?.v;
}

function matmulFits(engine: Engine, c: MatmulConfig, dtype: 'f32' | 'f16'): boolean {
  return c.variant === 'sgmat' ? sgmatProblem(engine.context, c, dtype) === null : configFits(engine.context, c);
}

/**
 * The matmul variant for B stored `layout` (packed as `format`, if given) with `dtype` activations at shape M×N×K:
 * the choice tuned for exactly that (f16 activations and each weight format apart where the tuner measured them —
 * subgroup matrices may exist for one dtype only, and unpacking changes what is fastest), else the one tuned for the
 * plain weight of that layout, else the adapter default that fits.
 */
export function matmulConfigFor(engine: Engine, layout: WeightLayout, dtype: 'f32' | 'f16', dims: { M: number; N: number; K: number }, format?: PackedFormat): MatmulConfig {
  const kinds = [...new Set([matmulKind(layout, dtype, format), matmulKind(layout, dtype), matmulKind(layout, 'f32')])];
  let tuned: MatmulConfig | undefined;
  for (const k of kinds) if ((tuned = nearestChoice<MatmulConfig>(engine.tuning, k, dims))) break;
  if (tuned && matmulFits(engine, tuned, dtype)) return tuned;
  const list = adapterDefaults(engine.info).matmul[layout];
  const fallback: MatmulConfig = { variant: 'reg', tm: 4, tn: 4, wgx: 8, wgy: 8, bk: 16 };
  return list.find((c) => matmulFits(engine, c, dtype)) ?? fallback;
}

export function attentionConfigFor(engine: Engine, dims: { L: number; D: number }): AttentionConfig {
  return nearestChoice<AttentionConfig>(engine.tuning, 'attention', dims, ['D']) ?? adapterDefaults(engine.info).attention;
}

export function layerNormConfigFor(engine: Engine, D: number): LayerNormConfig {
  return nearestChoice<LayerNormConfig>(engine.tuning, 'layernorm', { D }) ?? adapterDefaults(engine.info).layernorm;
}

/** How a model should store its linear weights here: the tuner's choice at the nearest shape, else the default. */
export function weightLayoutFor(engine: Engine, dims?: { M: number; N: number; K: number }): WeightLayout {
  const tuned = dims ? nearestChoice<WeightLayout>(engine.tuning, 'weightLayout', dims) : undefined;
  if (tuned) return tuned;
  // Without a shape: any tuned choice (a model loaded before), else the adapter's default.
  const any = Object.entries(engine.tuning.toJSON()).find(([k]) => k.startsWith('weightLayout@'));
  return (any?.[1] as WeightLayout | undefined) ?? adapterDefaults(engine.info).weightLayout;
}
