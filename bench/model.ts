/**
 * End-to-end SigLIP benchmarks on synthetic full-size weights (no download): load time, latency and throughput
 * per batch size, the time split per op type (one profiled pass), activation and peak GPU memory.
 */
import { parseSiglipConfig, textFlopsPerText, visionFlopsPerImage } from '../src/model/config.js';
import { presetConfig } from '../src/model/presets.js';
import { SiglipModel } from '../src/model/siglip-model.js';
import type { Tower } from '../src/model/siglip-weights.js';
import { SyntheticSource } from '../src/model/synthetic.js';
import type { Engine } from '../src/ops/index.js';
import type { Ceilings } from './ceilings.js';
import { round, type BenchRecord } from './records.js';
import { median } from './timing.js';

export interface ModelBenchOptions {
  preset: string;
  dtype: 'f32' | 'f16';
  batches: number[];
  towers: Tower[];
  reps?: number;
  /** Called after each record, so long runs show progress. */
  onRecord?: (r: BenchRecord) => void;
}

export async function benchModel(engine: Engine, ceilings: Ceilings, opts: ModelBenchOptions): Promise<BenchRecord[]> {
  const records: BenchRecord[] = [];
  const config = presetConfig(opts.preset);
  const cfg = parseSiglipConfig(config);
  const t0 = performance.now();
  const model = await SiglipModel.load(new SyntheticSource(config, 0, opts.preset), { engine, dtype: opts.dtype, batch: Math.max(...opts.batches), towers: opts.towers });
  const loadS = (performance.now() - t0) / 1000;
  const adapter = engine.info.name;
  try {
    for (const tower of opts.towers) {
      for (const B of opts.batches) {
        const inputs = tower === 'vision'
          ? { pixelValues: { data: new Float32Array(B * 3 * cfg.vision.imageSize ** 2).map((_, i) => Math.sin(i * 0.001)), shape: [B, 3, cfg.vision.imageSize, cfg.vision.imageSize] } }
          : { inputIds: { data: Int32Array.from({ length: B * cfg.text.maxPositions }, (_, i) => (i * 7919) % cfg.text.vocabSize), shape: [B, cfg.text.maxPositions] } };
        const flops = B * (tower === 'vision' ? visionFlopsPerImage(cfg.vision) : textFlopsPerText(cfg.text));
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
        const profile = await model.profile(tower, B);
        const ms = median(times);
        const gflops = flops / ms / 1e6;
        const rec: BenchRecord = {
          kind: 'model',
          name: `siglip-${tower}`,
          shape: `batch ${B}`,
          dtype: opts.dtype,
          adapter,
          preset: opts.preset,
          median_ms: round(ms),
          min_ms: round(Math.min(...times)),
          max_ms: round(Math.max(...times)),
          reps,
          clock: 'wall',
          first_ms: round(firstMs),
          gflops: round(gflops, 2),
          fraction_of_ceiling: ceilings.fma[opts.dtype] ? round(gflops / ceilings.fma[opts.dtype]!, 3) : undefined,
          [tower === 'vision' ? 'images_per_s' : 'texts_per_s']: round((1000 * B) / ms, 3),
          ms_per_item: round(ms / B),
          per_op: Object.fromEntries(Object.entries(profile.byOp).map(([op, e]) => [op, { share: round(e.share, 4), ms: round(e.ms), count: e.count }])),
          profile_clock: profile.clock,
          activation_bytes: await model.activationBytes(tower, B),
          weight_bytes: model.weightBytes,
          peak_gpu_bytes: engine.stats.peakLiveBytes,
          load_s: round(loadS, 2),
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
