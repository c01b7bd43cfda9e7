import type { Engine } from '../src/runtime/engine.js';
import type { BenchRecord } from './records.js';
export interface Ceilings {
    fma: Record<string, number>;
    copy: Record<string, number>;
}
export declare function measureCeilings(engine: Engine, opts?: {
    reps?: number;
}): Promise<{
    records: BenchRecord[];
    ceilings: Ceilings;
}>;
