/** What the CLI's commands share: model loading with progress, engine options, output helpers, argument checks. */
import { writeFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { SiglipModel, DEFAULT_MODEL, type LoadOptions } from '../model/siglip-model.js';
import { createTtyProgress } from '../model/hub/progress.js';
import { encodeSafetensors, type StTensorIn } from '../model/safetensors.js';
import { isModelDType, MODEL_DTYPES, type ModelDType } from '../model/model-dtype.js';

export class UsageError extends Error {}

export interface CommonOptions {
  model?: string;
  /** commander's --no-lower-case: false when given. */
  lowerCase?: boolean;
  maxNumPatches?: string;
  dtype?: string;
  /** --group: elements per scale of int8/q4 weights. */
  group?: string;
  batch?: string;
  json?: boolean;
  adapter?: string;
  powerPreference?: string;
}

/** --dtype: how weights are stored (f32, f16, int8, q4); undefined: f32, or a converted checkpoint's own. */
export function parseModelDtype(s: string | undefined): ModelDType | undefined {
  if (s === undefined) return undefined;
  if (!isModelDType(s)) throw new UsageError(`--dtype must be one of ${MODEL_DTYPES.join(', ')}, got "${s}"`);
  return s;
}

/** Kernel-level dtype (the bench's kernels): f32 or f16. */
export function parseDtype(s: string | undefined): 'f32' | 'f16' {
  const d = s ?? 'f32';
  if (d !== 'f32' && d !== 'f16') throw new UsageError(`--dtype must be f32 or f16, got "${d}"`);
  return d;
}

/** --group: 0 (one scale per output channel, int8), 32, 64 or 128. */
export function parseGroup(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const n = Number(s);
  if (![0, 32, 64, 128].includes(n) || s.trim() === '') throw new UsageError(`--group must be 0, 32, 64 or 128, got "${s}"`);
  return n;
}

export function parsePositiveInt(s: string | undefined, flag: string, fallback: number): number {
  if (s === undefined) return fallback;
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} must be a positive integer, got "${s}"`);
  return n;
}

export function parseIntList(s: string, flag: string): number[] {
  return s.split(',').map((x) => parsePositiveInt(x.trim(), flag, 1));
}

export function engineOptions(o: CommonOptions): Pick<LoadOptions, 'adapter' | 'powerPreference'> {
  const pp = o.powerPreference;
  if (pp !== undefined && pp !== 'high-performance' && pp !== 'low-power') throw new UsageError(`--power-preference must be high-performance or low-power`);
  return { adapter: o.adapter, powerPreference: pp as GPUPowerPreference | undefined };
}

/** Progress on stderr when it is a terminal: downloads (bytes, rate, ETA) and weight loading. */
function progress(): LoadOptions['onProgress'] {
  const bar = createTtyProgress();
  let lastPhase = '';
  return (p) => {
    if (p.phase !== lastPhase) lastPhase = p.phase;
    bar({ file: p.phase === 'load' ? `loading ${p.file ?? 'weights'}` : p.file ?? '', loaded: p.loaded, total: p.total, done: p.total > 0 && p.loaded >= p.total });
  };
}

/** --max-num-patches: NaFlex's patch budget per image (undefined: the model's own). */
export function maxNumPatches(o: CommonOptions): number | undefined {
  return o.maxNumPatches === undefined ? undefined : parsePositiveInt(o.maxNumPatches, '--max-num-patches', 256);
}

export async function loadModel(o: CommonOptions, extra: Partial<LoadOptions> = {}): Promise<SiglipModel> {
  return SiglipModel.load(o.model ?? DEFAULT_MODEL, {
    lowerCase: o.lowerCase === false ? false : undefined,
    dtype: parseModelDtype(o.dtype),
    group: parseGroup(o.group),
    batch: parsePositiveInt(o.batch, '--batch', 8),
    onProgress: process.stderr.isTTY ? progress() : undefined,
    ...engineOptions(o),
    ...extra,
  });
}

export async function writeSafetensors(path: string, tensors: Record<string, StTensorIn>, metadata?: Record<string, string>): Promise<void> {
  await writeFile(path, encodeSafetensors(tensors, metadata));
}

export function print(s: string): void {
  process.stdout.write(s.endsWith('\n') ? s : s + '\n');
}

/** Rows of a [N, D] array as nested JSON-ready arrays. */
export function rows(data: Float32Array | Int32Array, n: number): number[][] {
  const d = data.length / n;
  return Array.from({ length: n }, (_, i) => Array.from(data.subarray(i * d, (i + 1) * d)));
}

/** The flags every model command shares (--model, --dtype, --batch, --json, --adapter, --power-preference). */
export function withCommon(cmd: Command, opts: { model?: boolean; dtype?: boolean; batch?: boolean } = { model: true, dtype: true, batch: true }): Command {
  if (opts.model !== false) cmd.option('--model <id|dir|url>', `hub id, local checkpoint directory or base URL`, DEFAULT_MODEL);
  if (opts.dtype !== false) {
    cmd.addOption(new Option('--dtype <dtype>', 'weights: f32 (default; a converted checkpoint: its own), f16 (f16 compute with shader-f16, else stored f16 and computed in f32), int8 or q4 (quantized at load)').choices([...MODEL_DTYPES]));
    cmd.addOption(new Option('--group <n>', 'int8/q4: elements per scale (int8: 128 default, 0 = one per output channel; q4: 32 default, 64, 128)').choices(['0', '32', '64', '128']));
  }
  if (opts.batch !== false) cmd.option('--batch <n>', 'most images or texts per forward pass', '8');
  return cmd
    .option('--json', 'machine-readable output on stdout')
    .option('--adapter <name>', 'pick an adapter by (part of) its name')
    .addOption(new Option('--power-preference <p>', 'adapter preference').choices(['high-performance', 'low-power']));
}

export type WithCommon = typeof withCommon;
