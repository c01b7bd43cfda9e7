/**
 * The worker's side: one SiglipModel per worker, loaded and called on the page's behalf (client.ts). Results go back
 * with their typed arrays' buffers transferred (never copied); errors as the same classes (protocol.ts); load
 * progress as events, at most one per file every 50 ms (a multi-gigabyte download would otherwise post tens of
 * thousands of messages to the page). Persistent storage, which only a window may ask for, is asked of the page.
 */
import { SiglipModel, type LoadOptions } from '../model/siglip-model.js';
import type { LoadProgress } from '../model/weights.js';
import { embedImagesSettled } from './embed-settled.js';
import { toWire, transferablesOf, type FromWorker, type ToWorker, type WorkerMethod, type WorkerModelInfo } from './protocol.js';

/** What the host needs of a DedicatedWorkerGlobalScope (or a MessagePort, in tests). */
export interface WorkerScope {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (ev: MessageEvent) => void): void;
}

const PROGRESS_INTERVAL_MS = 50;

/** Posts progress events, dropping those that come within 50 ms of the last one of the same file (never the last
 *  event of a file, nor a change of file or phase). */
function throttledProgress(post: (p: LoadProgress) => void): (p: LoadProgress) => void {
  let last = { key: '', at: 0 };
  return (p) => {
    const key = `${p.phase}:${p.file ?? ''}`;
    const now = performance.now();
    if (key === last.key && p.loaded < p.total && now - last.at < PROGRESS_INTERVAL_MS) return;
    last = { key, at: now };
    post(p);
  };
}

/** Serves SiglipModel calls on `scope` (the worker's global scope); the worker script calls it once. */
export function serveSiglipWorker(scope: WorkerScope): void {
  let model: SiglipModel | null = null;
  let loading: Promise<SiglipModel> | null = null;
  const answers = new Map<number, (value: unknown) => void>();
  let nextAsk = 1;

  const post = (msg: FromWorker, transfer: Transferable[] = []) => scope.postMessage(msg, transfer);
  const ask = (question: 'persist') =>
    new Promise<unknown>((resolve) => {
      const id = nextAsk++;
      answers.set(id, resolve);
      post({ type: 'ask', id, question });
    });

  async function load(id: number, ref: unknown, wire: Record<string, unknown>, askPersist: boolean): Promise<WorkerModelInfo> {
    if (loading) throw new Error('this worker has a model already (one model per worker: load another in a new worker)');
    const opts: LoadOptions = {
      ...(wire as LoadOptions),
      onProgress: throttledProgress((progress) => post({ type: 'progress', id, progress })),
      // Only a window may ask for persistent storage: the page does it for us.
      ...(askPersist ? { persistentStorage: () => ask('persist').then((v) => v === true) } : {}),
    };
    loading = SiglipModel.load(ref as Parameters<typeof SiglipModel.load>[0], opts);
    loading.catch(() => {
      loading = null;
    });
    const m = await loading;
    model = m;
    return {
      config: m.config,
      dtype: m.dtype,
      activations: m.activations,
      towers: m.towers,
      loadSeconds: m.loadSeconds,
      embedDim: m.embedDim,
      weightBytes: m.weightBytes,
      adapter: { ...m.engine.info, subgroupMatrixConfigs: m.engine.info.subgroupMatrixConfigs.map((c) => ({ ...c })) },
      source: m.source.description,
      maxNumPatches: m.maxNumPatches,
    };
  }

  function loaded(): SiglipModel {
    if (!model) throw new Error('no model is loaded in this worker');
    return model;
  }

  async function call(method: WorkerMethod, args: unknown[]): Promise<unknown> {
    const m = loaded();
    switch (method) {
      case 'embedImagesSettled': {
        const results = await embedImagesSettled(m, args[0] as never, args[1] as never);
        return results.map((r) => (r.status === 'rejected' ? { status: 'rejected', reason: toWire(r.reason) } : r));
      }
      case 'tokenize':
        return m.tokenize(args[0] as string[]);
      default: {
        const fn = (m as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[method];
        if (typeof fn !== 'function') throw new Error(`the worker has no method ${JSON.stringify(method)}`);
        return fn.apply(m, args);
      }
    }
  }

  async function handle(msg: ToWorker): Promise<void> {
    if (msg.type === 'reply') {
      answers.get(msg.id)?.(msg.value);
      answers.delete(msg.id);
      return;
    }
    try {
      let value: unknown;
      if (msg.type === 'load') value = await load(msg.id, msg.ref, msg.opts, msg.askPersist);
      else if (msg.type === 'call') value = await call(msg.method, msg.args);
      else if (msg.type === 'destroy-device') loaded().engine.device.destroy();
      else if (msg.type === 'dispose') {
        // Waits for the calls queued on the model, then frees every GPU buffer and the device.
        const m = model ?? (await loading?.catch(() => null));
        await m?.dispose();
        model = null;
      }
      post({ type: 'result', id: msg.id, value }, transferablesOf(value));
    } catch (e) {
      post({ type: 'error', id: msg.id, error: toWire(e) });
    }
  }

  scope.addEventListener('message', (ev: MessageEvent) => void handle(ev.data as ToWorker));
  post({ type: 'hello' });
}
