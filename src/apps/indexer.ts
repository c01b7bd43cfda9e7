/**
 * `index`: embeds every image of some folders / file lists into an index directory (index-writer.ts), resumably.
 *
 *   scan     walk the inputs (walk.ts), keep this worker's shard (shard.ts), skip files already indexed with the same
 *            size and mtime (and, unless retryErrors, files that failed before with the same size and mtime)
 *   embed    decode + preprocess on worker threads (preprocess-pool.ts), a window of images ahead of the GPU;
 *            batches of `batch` images go through the vision tower while the next batch decodes; each batch is
 *            appended to the journal when its pass returns
 *   finish   the journal becomes a shard, superseded rows are dropped, index.json is committed
 *
 * `signal` stops after the batch in flight (what the CLI does on Ctrl-C / SIGTERM); the index stays resumable.
 */
import { stat } from 'node:fs/promises';
import { SiglipModel } from '../model/siglip-model.js';
import { processorSpec, stackPreprocessed, type PreprocessedImages } from '../model/image-inputs.js';
import { DEFAULT_MAX_PIXELS } from '../model/image/index.js';
import type { IndexJson, RowMeta } from './index-format.js';
import { IndexWriter } from './index-writer.js';
import { modelInfo } from './model-info.js';
import type { NpyDtype } from './npy.js';
import { PreprocessPool } from './preprocess-pool.js';
import type { PreprocessResult } from './preprocess-task.js';
import { shardOf, type ShardSpec } from './shard.js';
import { walkInputs, type FoundFile } from './walk.js';

export interface IndexOptions {
  out: string;
  /** Shard dtype: 'f32' (default) or 'f16'. */
  dtype?: NpyDtype;
  /** Images per forward pass (default 8). */
  batch?: number;
  shard?: ShardSpec | null;
  shardRows?: number;
  /** Decode threads (default: cores − 1, at most 8); 0 decodes on the main thread. */
  workers?: number;
  workerUrl?: URL;
  /** Largest file read (default 256 MiB). */
  maxBytes?: number;
  /** Largest image decoded, in pixels (default PIL's limit). */
  maxPixels?: number;
  extensions?: string[];
  /** Try files that failed before again even if unchanged. */
  retryErrors?: boolean;
  /** Name of the model in index.json (default: where it was loaded from). */
  modelId?: string;
  durable?: boolean;
  signal?: AbortSignal;
  onProgress?: (p: IndexProgress) => void;
  /** Standard input for the `-` input. */
  stdin?: NodeJS.ReadableStream;
}

export interface IndexProgress {
  phase: 'scan' | 'embed' | 'finish';
  /** Files found so far (scan) or in this worker's part. */
  found: number;
  /** Files to embed in this run. */
  total: number;
  /** Of those, handled so far (embedded or failed). */
  done: number;
  errors: number;
  seconds: number;
}

export interface IndexSummary {
  out: string;
  /** Files in this worker's part of the inputs. */
  found: number;
  /** Found, but another shard's. */
  otherShards: number;
  embedded: number;
  /** Already in the index with the same size and mtime. */
  unchanged: number;
  /** Failed in this run (reasons in errors.jsonl). */
  errors: number;
  /** Failed before and unchanged since: not tried again. */
  knownErrors: number;
  /** Live rows in the index after this run. */
  count: number;
  seconds: number;
  imagesPerSecond: number;
  /** Share of the embedding phase the model spent in forward passes (GPU work plus upload and readback). */
  gpuBusy: number;
  stopped: boolean;
  index: IndexJson;
}

interface Ready {
  file: FoundFile;
  /** One image as the model's processor gives it (NaFlex: with its mask and patch grid). */
  images: PreprocessedImages;
  width: number;
  height: number;
}

export async function indexImages(model: SiglipModel, inputs: string[], opts: IndexOptions): Promise<IndexSummary> {
  const batch = opts.batch ?? 8;
  if (!Number.isInteger(batch) || batch < 1) throw new Error(`batch must be a positive integer, got ${batch}`);
  if (inputs.length === 0) throw new Error('give at least one folder, image or file list to index');
  for (const input of inputs) {
    // Before the output folder is made: a mistyped input should not leave an empty index behind.
    if (input !== '-') await stat(input).catch(() => Promise.reject(new Error(`${input}: no such file or folder`)));
  }
  const t0 = performance.now();
  const seconds = () => (performance.now() - t0) / 1000;
  const processor = model.imageProcessor;
  const writer = await IndexWriter.open(opts.out, {
    model: await modelInfo(model, opts.modelId),
    dim: model.embedDim,
    dtype: opts.dtype ?? 'f32',
    preprocessing: { ...processor.config, exif_orientation: true },
    shard: opts.shard ?? null,
    shardRows: opts.shardRows,
    durable: opts.durable,
  });
  const pool = new PreprocessPool(processorSpec(processor), { workers: opts.workers, workerUrl: opts.workerUrl });
  let finished = false;
  try {
    // scan
    const todo: FoundFile[] = [];
    let found = 0;
    let otherShards = 0;
    let unchanged = 0;
    let knownErrors = 0;
    let errors = 0;
    for await (const item of walkInputs(inputs, { extensions: opts.extensions, stdin: opts.stdin })) {
      if (item.kind === 'problem') {
        await writer.recordError({ path: item.path, size: null, mtime: null, error: item.error });
        errors++;
        continue;
      }
      if (opts.shard && shardOf(item.key, opts.shard.count) !== opts.shard.index) {
        otherShards++;
        continue;
      }
      found++;
      const k = writer.known(item.path);
      const bad = writer.knownError(item.path);
      if (k && k.size === item.size && k.mtime === item.mtime) unchanged++;
      else if (!opts.retryErrors && bad && bad.size === item.size && bad.mtime === item.mtime) knownErrors++;
      else todo.push(item);
      if (found % 1000 === 0) opts.onProgress?.({ phase: 'scan', found, total: 0, done: 0, errors, seconds: seconds() });
    }

    // embed
    const maxBytes = opts.maxBytes ?? 256 << 20;
    const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
    const window = batch * 2 + pool.threads * 2;
    const results: (Promise<PreprocessResult> | undefined)[] = new Array(todo.length);
    let submitted = 0;
    const submit = (consumed: number) => {
      while (submitted < todo.length && submitted - consumed < window) {
        results[submitted] = pool.run({ path: todo[submitted]!.path, maxBytes, maxPixels });
        submitted++;
      }
    };
    const tEmbed = performance.now();
    let gpuMs = 0;
    let embedded = 0;
    let done = 0;
    const report = () => opts.onProgress?.({ phase: 'embed', found, total: todo.length, done, errors, seconds: seconds() });
    const runBatch = async (items: Ready[]) => {
      const inputs = SiglipModel.imageInputs(stackPreprocessed(items.map((it) => it.images)));
      const g0 = performance.now();
      const out = await model.forward(inputs);
      gpuMs += performance.now() - g0;
      const metas: Omit<RowMeta, 'row'>[] = items.map((it) => ({ path: it.file.path, size: it.file.size, mtime: it.file.mtime, width: it.width, height: it.height }));
      await writer.append(out.image_embeds!.data, metas);
      embedded += items.length;
      done += items.length;
      report();
    };
    let gpu: Promise<void> | null = null;
    let current: Ready[] = [];
    let stopped = false;
    report();
    for (let i = 0; i < todo.length; i++) {
      if (opts.signal?.aborted) {
        stopped = true;
        break;
      }
      submit(i);
      const r = await results[i]!;
      results[i] = undefined;
      const file = todo[i]!;
      if (r.ok) current.push({ file, images: r.images, width: r.width, height: r.height });
      else {
        await writer.recordError({ path: file.path, size: file.size, mtime: file.mtime, error: r.error });
        errors++;
        done++;
      }
      if (current.length === batch || (i === todo.length - 1 && current.length > 0)) {
        if (gpu) await gpu;
        gpu = runBatch(current);
        gpu.catch(() => undefined); // awaited below; keeps an early failure from being reported as unhandled
        current = [];
      }
    }
    if (current.length > 0) {
      if (gpu) await gpu;
      gpu = runBatch(current); // stopped: what was decoded already still goes in
    }
    if (gpu) await gpu;
    const embedSeconds = (performance.now() - tEmbed) / 1000;
    opts.onProgress?.({ phase: 'finish', found, total: todo.length, done, errors, seconds: seconds() });
    const index = await writer.close();
    finished = true;
    return {
      out: opts.out,
      found,
      otherShards,
      embedded,
      unchanged,
      errors,
      knownErrors,
      count: index.count,
      seconds: seconds(),
      imagesPerSecond: embedSeconds > 0 ? embedded / embedSeconds : 0,
      gpuBusy: embedSeconds > 0 ? gpuMs / 1000 / embedSeconds : 0,
      stopped,
      index,
    };
  } finally {
    await pool.close();
    if (!finished) await writer.abandon();
  }
}
