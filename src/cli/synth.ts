/** `synth --config siglip-large-patch16-384 --out DIR`: a full-size checkpoint with deterministic random weights. */
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import { presetConfig, presetPreprocessorConfig } from '../model/presets.js';
import { SyntheticSource } from '../model/synthetic.js';
import { createTtyProgress } from '../model/hub/progress.js';
import { print, UsageError } from './common.js';

export async function synth(o: { config?: string; out?: string; seed?: string; json?: boolean }): Promise<void> {
  if (!o.config) throw new UsageError('--config is required (e.g. siglip-large-patch16-384)');
  if (!o.out) throw new UsageError('--out DIR is required');
  const seed = o.seed === undefined ? 0 : Number(o.seed);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new UsageError(`--seed must be an integer in 0..2^32-1, got "${o.seed}"`);
  let config: Record<string, unknown>;
  let preprocessor: Record<string, unknown>;
  try {
    config = presetConfig(o.config);
    preprocessor = presetPreprocessorConfig(o.config);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const src = new SyntheticSource(config, seed, o.config, preprocessor);
  await mkdir(o.out, { recursive: true });
  for (const name of src.fileNames.filter((n) => n !== 'model.safetensors')) await writeFile(join(o.out, name), await src.read(name));
  const total = src.weightsBytes;
  const bar = process.stderr.isTTY ? createTtyProgress() : undefined;
  const path = join(o.out, 'model.safetensors');
  const ws = createWriteStream(path);
  let done = 0;
  for await (const chunk of src.stream('model.safetensors', 0, total, 16 << 20)) {
    if (!ws.write(chunk)) await once(ws, 'drain');
    done += chunk.byteLength;
    bar?.({ file: 'model.safetensors', loaded: done, total, done: done === total });
  }
  ws.end();
  await once(ws, 'finish');
  if (o.json) print(JSON.stringify({ out: o.out, config: o.config, seed, bytes: total }));
  else print(`wrote ${o.config} with synthetic weights (seed ${seed}, ${(total / 2 ** 30).toFixed(2)} GiB) to ${o.out}`);
}
