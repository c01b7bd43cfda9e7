/**
 * Timing kernel calls for the benchmarks: GPU time from timestamp queries where the adapter has them (one query
 * pair around the pass), otherwise wall time from submit to onSubmittedWorkDone; warm-up runs first, the median of
 * the repeats is reported with the spread. The calls are prepared once (src/runtime/dispatch.ts), so the timed runs
 * allocate nothing.
 */
import { median, PreparedCalls, type Timing } from '../src/runtime/dispatch.js';
import type { Engine } from '../src/runtime/engine.js';
import type { KernelCall } from '../src/runtime/kernel.js';

export { median, PreparedCalls, type Timing };

/** Times `calls` (encoded back to back in one pass) `reps` times after `warmup` runs. */
export async function timeCalls(engine: Engine, calls: KernelCall[], opts: { warmup?: number; reps?: number } = {}): Promise<Timing> {
  const prepared = new PreparedCalls(engine, calls, 'bench');
  try {
    return await prepared.time(opts);
  } finally {
    prepared.dispose();
  }
}
