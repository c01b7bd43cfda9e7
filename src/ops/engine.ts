/**
 * The engine applications use: the runtime's Engine (device, buffers, pipelines) plus eager ops (`engine.ops`),
 * which sit above the kernels and so cannot be built by the runtime itself.
 */
import { acquireDevice } from '../runtime/device.js';
import { Engine as RuntimeEngine, type EngineOptions } from '../runtime/engine.js';
import { EagerOps } from './eager.js';

export class Engine extends RuntimeEngine {
  /** One kernel per call, on tensors (src/ops/eager.ts). */
  readonly ops: EagerOps = new EagerOps(this);
}

export async function createEngine(opts: EngineOptions = {}): Promise<Engine> {
  return new Engine(opts.acquired ?? (await acquireDevice(opts)), { poison: opts.poison, limits: opts.limits });
}

export type { EngineOptions, EngineStats } from '../runtime/engine.js';
