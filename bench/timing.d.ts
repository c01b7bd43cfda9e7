/**
 * Timing GPU work: GPU time from timestamp queries where the adapter has them (one query pair around a compute
 * pass), otherwise wall time from submit to onSubmittedWorkDone. Warm-up runs first; the median of the repeats is
 * reported, with the spread.
 */
import type { Engine } from '../src/runtime/engine.js';
import type { KernelCall } from '../src/runtime/kernel.js';
export interface Timing {
    median_ms: number;
    min_ms: number;
    max_ms: number;
    reps: number;
    /** 'timestamp' (GPU clock) or 'wall' (submit → done, includes driver overhead). */
    clock: 'timestamp' | 'wall';
}
export declare function median(xs: number[]): number;
/** Times `calls` (encoded back to back in one pass) `reps` times after `warmup` runs. */
export declare function timeCalls(engine: Engine, calls: KernelCall[], opts?: {
    warmup?: number;
    reps?: number;
    minMs?: number;
}): Promise<Timing>;
