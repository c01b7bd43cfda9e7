/** What the CLI's commands share: model loading with progress, engine options, output helpers, argument checks. */
import { writeFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { SiglipModel, DEFAULT_MODEL, type LoadOptions } from '../model/siglip-model.js';
import { createTtyProgress } from '../model/hub/progress.js';
import { encodeSafetensors, type StTensorIn } from '../model/safetensors.js';

export class UsageError extends Error {}

export interface CommonOptions {
  model?: string;
  /** commander's --no-lower-case: false when given. */
  lowerCase?: boolean;
  maxNumPatches?: string;
  dtype?: string;
  batch?: string;
  json?: boolean;
  adapter?: string;
  powerPreference?: string;
}

export function parseDtype(s: string | undefined): 'f32' | 'f16' {
  const d = s ?? 'f32';
  if (d !== 'f32' && d !== 'f16') throw new UsageError(`--dtype must be f32 or f16, got "${d}"`);
  return d;
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
    dtype: parseDtype(o.dtype),
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
  if (opts.dtype !== false) cmd.addOption(new Option('--dtype <dtype>', 'f32, or f16 where the adapter has shader-f16').choices(['f32', 'f16']).default('f32'));
  if (opts.batch !== false) cmd.option('--batch <n>', 'most images or texts per forward pass', '8');
  return cmd
    .option('--json', 'machine-readable output on stdout')
    .option('--adapter <name>', 'pick an adapter by (part of) its name')
    .addOption(new Option('--power-preference <p>', 'adapter preference').choices(['high-performance', 'low-power']));
}

export type WithCommon = typeof withCommon;
