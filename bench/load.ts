/**
 * Loading a checkpoint from disk: time, and the process's peak JS heap + ArrayBuffer memory while it streams
 * (sampled every 20 ms), which must stay far below the checkpoint's size. On a CPU adapter the GPU buffers live in
 * host memory too; they are not JS memory and are reported separately (peak_gpu_bytes).
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SiglipModel } from '../src/model/siglip-model.js';
import type { ModelDType } from '../src/model/model-dtype.js';
import type { Engine } from '../src/ops/index.js';
import { round, type BenchRecord } from './records.js';

export async function benchLoad(engine: Engine, dir: string, dtype: ModelDType | undefined): Promise<BenchRecord> {
  const fileBytes = (await stat(join(dir, 'model.safetensors')).catch(() => null))?.size ?? NaN;
  const js = () => {
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  const before = js();
  let peak = before;
  const timer = setInterval(() => (peak = Math.max(peak, js())), 20);
  const t0 = performance.now();
  let model: SiglipModel | null = null;
  try {
    model = await SiglipModel.load(dir, { engine, dtype });
    peak = Math.max(peak, js());
    const s = (performance.now() - t0) / 1000;
    return {
      kind: 'model',
      name: 'load',
      shape: dir,
      dtype: model.dtype,
      activations: model.activations,
      adapter: engine.info.name,
      median_ms: round(s * 1000),
      reps: 1,
      clock: 'wall',
      file_bytes: fileBytes,
      gbps: round(fileBytes / s / 1e9, 3),
      peak_js_bytes: peak,
      js_bytes_before: before,
      weight_bytes: model.weightBytes,
      peak_gpu_bytes: engine.stats.peakLiveBytes,
    };
  } finally {
    clearInterval(timer);
    await model?.dispose();
  }
}
