/** `index <dir|file-list>... --out DIR`: embeds a photo collection into an index folder (src/apps/indexer.ts). */
import { indexImages } from '../apps/indexer.js';
import { parseShard } from '../apps/shard.js';
import { parseDtype, parsePositiveInt, print, UsageError, loadModel, type CommonOptions } from './common.js';
import { createIndexProgress } from './index-progress.js';

export interface IndexCliOptions extends CommonOptions {
  out?: string;
  modelDtype?: string;
  shard?: string;
  shardRows?: string;
  workers?: string;
  maxBytes?: string;
  maxPixels?: string;
  ext?: string;
  retryErrors?: boolean;
  progressInterval?: string;
}

/** `--shard auto`: the worker's place from the scheduler's environment (Kubernetes Indexed Job, Slurm array). */
function shardFromEnv(): string {
  const env = process.env;
  if (env.JOB_COMPLETION_INDEX !== undefined && env.SIGLIP_SHARDS) return `${env.JOB_COMPLETION_INDEX}/${env.SIGLIP_SHARDS}`;
  if (env.SLURM_ARRAY_TASK_ID !== undefined && env.SLURM_ARRAY_TASK_COUNT) {
    const min = Number(env.SLURM_ARRAY_TASK_MIN ?? 0);
    return `${Number(env.SLURM_ARRAY_TASK_ID) - min}/${env.SLURM_ARRAY_TASK_COUNT}`;
  }
  throw new UsageError('--shard auto needs JOB_COMPLETION_INDEX and SIGLIP_SHARDS (Kubernetes) or SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT (Slurm)');
}

export async function indexCommand(inputs: string[], o: IndexCliOptions): Promise<void> {
  if (inputs.length === 0) throw new UsageError('give at least one folder, image or file list to index');
  if (!o.out) throw new UsageError('--out DIR is required');
  let shard = null;
  if (o.shard !== undefined) {
    try {
      shard = parseShard(o.shard === 'auto' ? shardFromEnv() : o.shard);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  const out = shard && shard.count > 1 ? `${o.out}/shard-${shard.index}-of-${shard.count}` : o.out;
  const dtype = parseDtype(o.dtype);
  const workers = o.workers === undefined ? undefined : Number(o.workers);
  if (workers !== undefined && !(Number.isInteger(workers) && workers >= 0 && workers <= 256)) throw new UsageError(`--workers must be an integer from 0 to 256, got "${o.workers}"`);
  const interval = o.progressInterval === undefined ? 10 : Number(o.progressInterval);
  if (!(interval >= 0)) throw new UsageError(`--progress-interval must be a number of seconds, got "${o.progressInterval}"`);
  const extensions = o.ext?.split(',').map((s) => s.trim()).filter(Boolean);
  const model = await loadModel({ ...o, dtype: o.modelDtype }, { towers: ['vision'] });
  const progress = createIndexProgress(process.stderr, interval);
  const stop = new AbortController();
  const onSignal = (sig: string) => {
    if (stop.signal.aborted) process.exit(130); // a second Ctrl-C: the journal keeps what was committed
    process.stderr.write(`\nindex: ${sig}: finishing the batch in flight, then stopping (run again to resume)\n`);
    stop.abort();
  };
  const onInt = () => onSignal('SIGINT');
  const onTerm = () => onSignal('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  try {
    const s = await indexImages(model, inputs, {
      out,
      dtype,
      batch: parsePositiveInt(o.batch, '--batch', 8),
      shard,
      shardRows: o.shardRows === undefined ? undefined : parsePositiveInt(o.shardRows, '--shard-rows', 50_000),
      workers,
      maxBytes: o.maxBytes === undefined ? undefined : parsePositiveInt(o.maxBytes, '--max-bytes', 0),
      maxPixels: o.maxPixels === undefined ? undefined : parsePositiveInt(o.maxPixels, '--max-pixels', 0),
      extensions,
      retryErrors: o.retryErrors,
      modelId: o.model,
      signal: stop.signal,
      onProgress: progress.update,
    });
    progress.stop();
    const { index: _index, ...summary } = s;
    if (o.json) return print(JSON.stringify({ ...summary, adapter: model.engine.info.name }));
    print(
      `${s.stopped ? 'stopped early; ' : ''}indexed ${s.embedded} new or changed files into ${s.out} ` +
        `(${s.unchanged} unchanged, ${s.errors} errors${s.knownErrors ? `, ${s.knownErrors} failed before and skipped` : ''}` +
        `${shard ? `, ${s.otherShards} in other shards` : ''}); the index holds ${s.count} images`,
    );
    if (s.embedded > 0) print(`${s.imagesPerSecond.toFixed(1)} images/s, forward passes busy ${(s.gpuBusy * 100).toFixed(0)}% of the time, on ${model.engine.info.name}`);
    if (s.errors > 0) print(`reasons: ${out}/errors.jsonl`);
  } catch (e) {
    progress.stop();
    throw e;
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
    await model.dispose();
  }
}
