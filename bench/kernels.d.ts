import { type MatmulConfig } from '../src/kernels/matmul.js';
import type { Engine } from '../src/runtime/engine.js';
import type { KernelCall } from '../src/runtime/kernel.js';
import type { Tensor } from '../src/runtime/tensor.js';
import type { Ceilings } from './ceilings.js';
import { type BenchRecord } from './records.js';
export interface KernelBenchOptions {
    dtype: 'f32' | 'f16';
    reps?: number;
    /** Run every shape even on CPU adapters. */
    full?: boolean;
    /** Also time the naive matmul beside the tuned one. */
    naive?: boolean;
    /** Only cases whose name contains this. */
    filter?: string;
}
interface Case {
    name: string;
    shape: string;
    flops: number;
    bytes: number;
    make: (engine: Engine, dtype: 'f32' | 'f16', keep: Tensor[]) => KernelCall;
    /** Compute-bound (fma ceiling) or memory-bound (copy ceiling). */
    bound: 'fma' | 'copy';
    matmulConfig?: MatmulConfig;
}
export declare function kernelCases(naive: boolean): Case[];
export declare function benchKernels(engine: Engine, ceilings: Ceilings, opts: KernelBenchOptions): Promise<BenchRecord[]>;
export {};
