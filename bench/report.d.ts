/** Benchmark output for people: a markdown table and a roofline plot (SVG). */
import type { Ceilings } from './ceilings.js';
import type { BenchRecord } from './records.js';
export declare function markdownTable(records: BenchRecord[]): string;
/**
 * Roofline: x = arithmetic intensity (FLOP per byte moved at least once), y = GFLOP/s, both log scale; the roof is
 * min(fma ceiling, intensity × copy ceiling). Each kernel is a dot at its intensity and measured rate.
 */
export declare function rooflineSvg(records: BenchRecord[], ceilings: Ceilings, dtype: 'f32' | 'f16', adapter: string): string;
