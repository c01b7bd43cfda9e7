import type { Tower } from '../src/model/siglip-weights.js';
import type { Engine } from '../src/runtime/engine.js';
import type { Ceilings } from './ceilings.js';
import { type BenchRecord } from './records.js';
export interface ModelBenchOptions {
    preset: string;
    dtype: 'f32' | 'f16';
    batches: number[];
    towers: Tower[];
    reps?: number;
    /** Called after each record, so long runs show progress. */
    onRecord?: (r: BenchRecord) => void;
}
export declare function benchModel(engine: Engine, ceilings: Ceilings, opts: ModelBenchOptions): Promise<BenchRecord[]>;
