/**
 * The script that runs inside the worker: dist/siglip-webgpu.worker.js (a module worker). It serves SiglipModel
 * calls for the page that started it (client.ts: SiglipWorkerModel). Imported anywhere but in a dedicated worker
 * (a page, Node) it does nothing.
 */
import { serveSiglipWorker, type WorkerScope } from './host.js';

// The interface exists only inside dedicated workers.
if ('DedicatedWorkerGlobalScope' in globalThis) serveSiglipWorker(globalThis as unknown as WorkerScope);
