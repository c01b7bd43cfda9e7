/** `serve`: the embedding server (src/apps/server/server.ts) until SIGTERM / SIGINT, which drain it first. */
import { EmbeddingServer } from '../apps/server/server.js';
import { loadModel, parsePositiveInt, print, UsageError, type CommonOptions } from './common.js';

export interface ServeCliOptions extends CommonOptions {
  host?: string;
  port?: string;
  index?: string[];
  maxBatch?: string;
  maxWaitMs?: string;
  maxQueue?: string;
  maxItems?: string;
  maxBodyBytes?: string;
  maxImageBytes?: string;
  maxImagePixels?: string;
  maxTextChars?: string;
  timeoutMs?: string;
  apiKey?: string;
  allowImageHost?: string[];
  servedModelName?: string;
  workers?: string;
  indexGpuMib?: string;
}

function nonNegative(s: string | undefined, flag: string, fallback: number): number {
  if (s === undefined) return fallback;
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${flag} must be a non-negative integer, got "${s}"`);
  return n;
}

export async function serveCommand(o: ServeCliOptions): Promise<void> {
  const port = nonNegative(o.port, '--port', 8080);
  if (port > 65535) throw new UsageError(`--port must be at most 65535, got ${port}`);
  const apiKey = o.apiKey ?? process.env.SIGLIP_WEBGPU_API_KEY;
  if (apiKey !== undefined && apiKey.length < 8) throw new UsageError('the API key must have at least 8 characters');
  const opts = {
    host: o.host ?? '127.0.0.1',
    port,
    maxBatch: parsePositiveInt(o.maxBatch, '--max-batch', 32),
    maxWaitMs: nonNegative(o.maxWaitMs, '--max-wait-ms', 0),
    maxQueue: parsePositiveInt(o.maxQueue, '--max-queue', 1024),
    maxItems: parsePositiveInt(o.maxItems, '--max-items', 256),
    maxBodyBytes: parsePositiveInt(o.maxBodyBytes, '--max-body-bytes', 32 << 20),
    maxImageBytes: parsePositiveInt(o.maxImageBytes, '--max-image-bytes', 20 << 20),
    maxImagePixels: parsePositiveInt(o.maxImagePixels, '--max-image-pixels', 50_000_000),
    maxTextChars: parsePositiveInt(o.maxTextChars, '--max-text-chars', 20_000),
    timeoutMs: parsePositiveInt(o.timeoutMs, '--timeout-ms', 60_000),
    apiKey,
    allowImageHosts: o.allowImageHost ?? [],
    servedModelName: o.servedModelName ?? o.model,
    workers: o.workers === undefined ? undefined : nonNegative(o.workers, '--workers', 1),
    index: o.index,
    indexGpuBytes: nonNegative(o.indexGpuMib, '--index-gpu-mib', 1024) * (1 << 20),
  };
  // Passes of up to --max-batch items: the model splits them further only where the device's limits require.
  const model = await loadModel({ ...o, batch: String(opts.maxBatch) });
  let server: EmbeddingServer;
  try {
    server = await EmbeddingServer.start(model, opts);
  } catch (e) {
    await model.dispose();
    throw e;
  }
  const idx = server.indexSize !== null ? `, index of ${server.indexSize} images` : '';
  if (!/^(127\.\d+\.\d+\.\d+|::1|localhost)$/.test(opts.host) && !apiKey) {
    process.stderr.write(`serve: warning: listening on ${opts.host} without an API key; anyone who can reach this address can use the server (--api-key or SIGLIP_WEBGPU_API_KEY)\n`);
  }
  print(`listening on ${server.url} (model ${opts.servedModelName}, ${model.engine.info.name}${idx}${apiKey ? ', API key required' : ''})`);
  await new Promise<void>((resolve) => {
    const stop = (sig: string) => {
      process.stderr.write(`serve: ${sig}: draining requests in flight, then exiting\n`);
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve();
    };
    const onInt = () => stop('SIGINT');
    const onTerm = () => stop('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
  });
  await server.close();
  await model.dispose();
  process.stderr.write('serve: stopped\n');
}
