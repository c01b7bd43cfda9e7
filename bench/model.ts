/**
 * End-to-end SigLIP benchmarks on synthetic full-size weights (no download): load time, latency and throughput
 * per batch size, the time split per op type (one profiled pass), activation and peak GPU memory.
 */
import { parseSiglipConfig, textFlopsPerText, visionFlopsPerImage } from '../src/model/config.js';
import { presetConfig, presetPreprocessorConfig } from '../src/model/presets.js';
import { SiglipModel, type ForwardInputs } from '../src/model/siglip-model.js';
import type { Tower } from '../src/model/siglip-weights.js';
import { SyntheticSource } from '../src/model/synthetic.js';
import type { ModelDType } from '../src/model/model-dtype.js';
import type { Engine } from '../src/ops/index.js';
import type { Ceilings } from './ceilings.js';
import { round, type BenchRecord } from './records.js';
import { median } from './timing.js';

export interface ModelBenchOptions {
  preset: string;
  /** How weights are stored: f32, f16, int8, q4 (compact weights: model-dtype.ts). */
  dtype: ModelDType;
  /** int8/q4: elements per scale (default: the model's). */
  group?: number;
  batches: number[];
  towers: Tower[];
  reps?: number;
  /** NaFlex presets: patch budgets to run at (default 256 and 1024); ignored for fixed-resolution models. */
  maxNumPatches?: number[];
  /** Called after each record, so long runs show progress. */
  onRecord?: (r: BenchRecord) => void;
}

/** A NaFlex batch of `B` images of L patches each, every patch real (a square-ish grid), deterministic pixels. */
function naflexInputs(B: number, L: number, F: number): ForwardInputs {
  let h = Math.floor(Math.sqrt(L));
  while (L % h) h--;
  const w = L / h;
  return {
    pixelValues: { data: new Float32Array(B * L * F).map((_, i) => Math.sin(i * 0.001)), shape: [B, L, F] },
    pixelAttentionMask: { data: new Int32Array(B * L).fill(1), shape: [B, L] },
    spatialShapes: { data: new Int32Array(2 * B).map((_, i) => (i % 2 ? w : h)), shape: [B, 2] },
  };
}

export async function benchModel(engine: Engine, ceilings: Ceilings, opts: ModelBenchOptions): Promise<BenchRecord[]> {
  const records: BenchRecord[] = [];
  const config = presetConfig(opts.preset);
  const cfg = parseSiglipConfig(config);
  const t0 = performance.now();
  const liveBefore = engine.stats.liveBytes;
  const model = await SiglipModel.load(new SyntheticSource(config, 0, opts.preset, presetPreprocessorConfig(opts.preset)), { engine, dtype: opts.dtype, group: opts.group, batch: Math.max(...opts.batches), towers: opts.towers });
  const loadS = (performance.now() - t0) / 1000;
  // What the weights hold on the device, as the engine counts its live buffers (engine.stats).
  const weightGpuBytes = engine.stats.liveBytes - liveBefore;
  const act = model.activations;
  const adapter = engine.info.name;
  try {
    for (const tower of opts.towers) {
      // NaFlex images run at each patch budget asked for; everything else at its one fixed shape.
      const budgets: (number | undefined)[] = tower === 'vision' && cfg.vision.naflex ? (opts.maxNumPatches ?? [256, 1024]) : [undefined];
      for (const L of budgets) for (const B of opts.batches) {
        const v = cfg.vision;
        const inputs: ForwardInputs = tower === 'text'
          ? { inputIds: { data: Int32Array.from({ length: B * cfg.text.maxPositions }, (_, i) => (i * 7919) % cfg.text.vocabSize), shape: [B, cfg.text.maxPositions] } }
          : L !== undefined
            ? naflexInputs(B, L, v.numChannels * v.patchSize ** 2)
            : { pixelValues: { data: new Float32Array(B * 3 * v.imageSize ** 2).map((_, i) => Math.sin(i * 0.001)), shape: [B, 3, v.imageSize, v.imageSize] } };
        const flops = B * (tower === 'vision' ? visionFlopsPerImage(v, L ?? v.numPatches) : textFlopsPerText(cfg.text));
        const heavy = engine.info.isCpu && flops > 50e9;
        const reps = opts.reps ?? (heavy ? 1 : 5);
        const tw = performance.now();
        await model.forward(inputs); // compiles the plan, warms the caches
        const firstMs = performance.now() - tw;
        const times: number[] = [];
        for (let r = 0; r < reps; r++) {
          const s = performance.now();
          await model.forward(inputs);
          times.push(performance.now() - s);
        }
        const profile = await model.profile(tower, B, { maxNumPatches: L });
        const ms = median(times);
        const gflops = flops / ms / 1e6;
        // Where this pass runs a slower kernel form than the adapter's chosen variant (e.g. head dim 72 on 8-lane
        // subgroups): said in the record and the table, never silent.
        const notes = await model.kernelNotes(tower, B, { maxNumPatches: L });
        const rec: BenchRecord = {
          kind: 'model',
          name: `siglip-${tower}`,
          shape: `batch ${B}${L !== undefined ? `, ${L} patches` : ''}`,
          dtype: opts.dtype,
          activations: act,
          adapter,
          preset: opts.preset,
          ...(L !== undefined ? { max_num_patches: L } : {}),
          median_ms: round(ms),
          min_ms: round(Math.min(...times)),
          max_ms: round(Math.max(...times)),
          reps,
          clock: 'wall',
          first_ms: round(firstMs),
          gflops: round(gflops, 2),
          fraction_of_ceiling: ceilings.fma[act] ? round(gflops / ceilings.fma[act]!, 3) : undefined,
          [tower === 'vision' ? 'images_per_s' : 'texts_per_s']: round((1000 * B) / ms, 3),
          ms_per_item: round(ms / B),
          per_op: Object.fromEntries(Object.entries(profile.byOp).map(([op, e]) => [op, { share: round(e.share, 4), ms: round(e.ms), count: e.count }])),
          profile_clock: profile.clock,
          activation_bytes: await model.activationBytes(tower, B, { maxNumPatches: L }),
          weight_bytes: model.weightBytes,
          weight_gpu_bytes: weightGpuBytes,
          peak_gpu_bytes: engine.stats.peakLiveBytes,
          load_s: round(loadS, 2),
          kernel_notes: notes,
          // Every weight is read at least once per pass: FLOP per weight byte.
          intensity: round(flops / model.weightBytes, 2),
        };
        records.push(rec);
        opts.onRecord?.(rec);
      }
    }
  } finally {
    await model.dispose();
  }
  return records;
}
