/**
 * Image decoding and preprocessing on worker threads, so that the GPU's forward passes (driven from the main
 * thread) overlap with decoding and a big image never stalls a server's event loop. Each worker keeps two tasks
 * in flight so it is never idle while a result travels back. A worker that dies (e.g. out of memory on a huge
 * image) fails its tasks with a reason and is replaced.
 *
 * `workers: 0`, or no worker script beside this module (running from TypeScript sources), decodes on the main
 * thread instead: same results, no overlap.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { processorFromSpec, type ImageProcessor, type ProcessorSpec } from '../model/image-inputs.js';
import { preprocessOne, type PreprocessRequest, type PreprocessResult } from './preprocess-task.js';

interface Task {
  id: number;
  req: PreprocessRequest;
  resolve: (r: PreprocessResult) => void;
}

interface Slot {
  worker: Worker;
  inFlight: Map<number, Task>;
}

export function defaultWorkers(): number {
  return Math.max(1, Math.min(8, availableParallelism() - 1));
}

/** dist/preprocess-worker.js, seen from this module's code: in dist/cli.js or dist/apps.js, or in a chunk under
 *  dist/lib/ that they share (scripts/build.mjs splits the Node entries). Undefined elsewhere (sources run by a test
 *  runner, a bundle of someone else's): decoding then runs inline. */
export function defaultWorkerUrl(): URL {
  for (const rel of ['./preprocess-worker.js', '../preprocess-worker.js']) {
    const url = new URL(rel, import.meta.url);
    if (url.protocol === 'file:' && existsSync(fileURLToPath(url))) return url;
  }
  return new URL('./preprocess-worker.js', import.meta.url);
}

export class PreprocessPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Task[] = [];
  private nextId = 1;
  private closed = false;
  private readonly inline: ImageProcessor | null = null;
  /** Worker threads actually running (0: decoding inline). */
  readonly threads: number;

  constructor(
    private readonly spec: ProcessorSpec,
    opts: { workers?: number; workerUrl?: URL } = {},
  ) {
    const n = opts.workers ?? defaultWorkers();
    if (!Number.isInteger(n) || n < 0 || n > 256) throw new Error(`workers must be an integer from 0 to 256, got ${n}`);
    const url = opts.workerUrl ?? defaultWorkerUrl();
    const usable = url.protocol === 'file:' && existsSync(fileURLToPath(url));
    this.threads = usable ? n : 0;
    if (this.threads === 0) this.inline = processorFromSpec(spec);
    for (let i = 0; i < this.threads; i++) this.slots.push(this.spawn(url));
  }

  private spawn(url: URL): Slot {
    const slot: Slot = { worker: new Worker(url, { workerData: { spec: this.spec } }), inFlight: new Map() };
    slot.worker.unref();
    slot.worker.on('message', (m: { id: number; result: PreprocessResult }) => {
      const t = slot.inFlight.get(m.id);
      if (!t) return;
      slot.inFlight.delete(m.id);
      t.resolve(m.result);
      this.pump();
    });
    const died = (why: string) => {
      const i = this.slots.indexOf(slot);
      if (i < 0) return;
      for (const t of slot.inFlight.values()) t.resolve({ ok: false, error: `the decoder worker died on this image (${why})`, inputFault: false });
      slot.inFlight.clear();
      if (this.closed) return;
      this.slots[i] = this.spawn(url);
      this.pump();
    };
    slot.worker.on('error', (e) => died(e.message));
    slot.worker.on('exit', (code) => died(`exit code ${code}`));
    return slot;
  }

  /** Decodes and preprocesses one image; never rejects (failures are results). */
  run(req: PreprocessRequest): Promise<PreprocessResult> {
    if (this.closed) return Promise.resolve({ ok: false, error: 'the decoder pool is closed', inputFault: false });
    if (this.inline) return preprocessOne(req, this.inline);
    return new Promise((resolve) => {
      this.queue.push({ id: this.nextId++, req, resolve });
      this.pump();
    });
  }

  /** Tasks waiting for a worker or being decoded. */
  get pending(): number {
    return this.queue.length + this.slots.reduce((a, s) => a + s.inFlight.size, 0);
  }

  private pump(): void {
    while (this.queue.length > 0) {
      const slot = this.slots.reduce<Slot | null>((best, s) => (s.inFlight.size < 2 && (!best || s.inFlight.size < best.inFlight.size) ? s : best), null);
      if (!slot) return;
      const t = this.queue.shift()!;
      slot.inFlight.set(t.id, t);
      const transfer = t.req.bytes && t.req.bytes.byteOffset === 0 && t.req.bytes.byteLength === t.req.bytes.buffer.byteLength ? [t.req.bytes.buffer as ArrayBuffer] : [];
      slot.worker.postMessage({ id: t.id, req: t.req }, transfer);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.queue.splice(0)) t.resolve({ ok: false, error: 'the decoder pool is closed', inputFault: false });
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
