// Bundled by hub-concurrency.test.ts and run in worker threads: opens org/tiny on the hub given in workerData, reads
// the files a model load reads, and posts their sha256s (or the error message).
import { createHash } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { openModelSource } from '../../../src/model/hub/index.js';

const { endpoint, cacheDir, files } = workerData as { endpoint: string; cacheDir: string; files: string[] };
try {
  const src = await openModelSource('org/tiny', { endpoint, cacheDir, lockStaleMs: 2000 });
  const out: Record<string, string> = {};
  for (const f of files) out[f] = createHash('sha256').update(await src.read(f)).digest('hex');
  parentPort!.postMessage({ ok: out });
} catch (e) {
  parentPort!.postMessage({ error: (e as Error).message });
}
