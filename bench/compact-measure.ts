/**
 * The measuring half of the compact-weights bench (bench/compact-weights.ts), written once for both places it runs: in Node
 * (Dawn: lavapipe without a GPU) and in a page of headless Chromium (SwiftShader), where bench/compact-page.ts
 * bundles it. It imports only what the browser bundle has.
 *
 * Every variant's model is loaded into one engine (each load measured once, with the engine's live bytes before and
 * after it), every pass is run once to warm up (plans, pipelines), then rounds alternate the variants (order rotated
 * each round) so that two variants' passes are seconds apart: on a shared CPU their ratio holds still while the
 * absolute times move with the machine's load.
 */
import { parseSiglipConfig } from '../src/model/config.js';
import { presetConfig, presetPreprocessorConfig } from '../src/model/presets.js';
import { SiglipModel, type ForwardInputs } from '../src/model/siglip-model.js';
import type { Tower } from '../src/model/siglip-weights.js';
import { SyntheticSource } from '../src/model/synthetic.js';
import { createEngine } from '../src/ops/index.js';

/**
 * What each variant loads: a dtype, and for f16 on an adapter with shader-f16 (lavapipe) also the packed form that
 * adapters without it use (f16 words unpacked in registers, f32 compute), so both are measured on one adapter.
 */
export const VARIANTS: Record<string, { dtype: 'f32' | 'f16' | 'int8' | 'q4'; activations?: 'f32' }> = {
  f32: { dtype: 'f32' },
  f16: { dtype: 'f16' },
  'f16-packed': { dtype: 'f16', activations: 'f32' },
  int8: { dtype: 'int8' },
  q4: { dtype: 'q4' },
};

export interface MeasureOptions {
  preset: string;
  /** Encoder layers per tower instead of the preset's (a smaller model of the same widths, for slow adapters). */
  layers?: number;
  variants: string[];
  rounds: number;
  towers: Tower[];
}

export interface VariantLoad {
  dtype: string;
  activations: string;
  loadS: number;
  /** engine.stats.liveBytes after the load minus before it. */
  gpuBytes: number;
  weightBytes: number;
}

export interface Measured {
  adapter: string;
  hasF16: boolean;
  loads: Record<string, VariantLoad>;
  /** Per round, "variant/tower" → ms. */
  rounds: Record<string, number>[];
  /** The variants actually run (on an adapter without shader-f16, 'f16' already is the packed form: listed once). */
  variants: string[];
}

/** The preset's config, with `layers` encoder layers per tower when given. */
export function benchConfig(preset: string, layers?: number): Record<string, unknown> {
  const config = presetConfig(preset) as Record<string, Record<string, unknown>>;
  if (layers === undefined) return config;
  return { ...config, text_config: { ...config.text_config, num_hidden_layers: layers }, vision_config: { ...config.vision_config, num_hidden_layers: layers } };
}

export async function measureCompact(o: MeasureOptions, log: (line: string) => void = console.log): Promise<Measured> {
  for (const v of o.variants) if (!VARIANTS[v]) throw new Error(`variant ${v} is not one of ${Object.keys(VARIANTS).join(', ')}`);
  const config = benchConfig(o.preset, o.layers);
  const cfg = parseSiglipConfig(config);
  const engine = await createEngine();
  const variants = engine.hasF16 ? o.variants : o.variants.filter((v) => v !== 'f16-packed');
  const T = cfg.text.maxPositions;
  const v = cfg.vision;
  const inputs: Record<Tower, ForwardInputs> = {
    vision: { pixelValues: { data: new Float32Array(3 * v.imageSize ** 2).map((_, i) => Math.sin(i * 0.001)), shape: [1, 3, v.imageSize, v.imageSize] } },
    text: { inputIds: { data: Int32Array.from({ length: T }, (_, i) => (i * 7919) % cfg.text.vocabSize), shape: [1, T] } },
  };
  const models = new Map<string, SiglipModel>();
  const loads: Record<string, VariantLoad> = {};
  try {
    for (const name of variants) {
      const before = engine.stats.liveBytes;
      const t0 = performance.now();
      const source = new SyntheticSource(config, 0, o.preset, presetPreprocessorConfig(o.preset));
      const model = await SiglipModel.load(source, { engine, ...VARIANTS[name], batch: 1, towers: o.towers, tune: false });
      const loadS = (performance.now() - t0) / 1000;
      models.set(name, model);
      loads[name] = { dtype: model.dtype, activations: model.activations, loadS, gpuBytes: engine.stats.liveBytes - before, weightBytes: model.weightBytes };
      log(`  loaded ${name} (dtype ${model.dtype}, ${model.activations} compute): ${loadS.toFixed(1)} s, ${(model.weightBytes / 1e6).toFixed(1)} MB of weights on the device`);
    }
    for (const name of variants) for (const t of o.towers) await models.get(name)!.forward(inputs[t]);
    log('  warmed up');
    const rounds: Record<string, number>[] = [];
    for (let r = 0; r < o.rounds; r++) {
      const times: Record<string, number> = {};
      for (let i = 0; i < variants.length; i++) {
        const name = variants[(i + r) % variants.length]!;
        for (const t of o.towers) {
          const s = performance.now();
          const out = await models.get(name)!.forward(inputs[t]);
          times[`${name}/${t}`] = performance.now() - s;
          const emb = out[t === 'vision' ? 'image_embeds' : 'text_embeds']!.data;
          for (const x of emb) if (!Number.isFinite(x)) throw new Error(`${name} ${t}: non-finite embedding`);
        }
      }
      rounds.push(times);
      log(`  round ${r + 1}: ${Object.entries(times).map(([k, ms]) => `${k} ${ms.toFixed(0)} ms`).join(', ')}`);
    }
    return { adapter: engine.info.name, hasF16: engine.hasF16, loads, rounds, variants };
  } finally {
    for (const m of models.values()) await m.dispose();
    engine.dispose();
  }
}
