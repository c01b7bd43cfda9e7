/** The compact-weights bench's page script (bench/compact-weights.ts --browser bundles it for Chromium): window.measureCompact. */
import { measureCompact } from './compact-measure.js';

(globalThis as unknown as { measureCompact: typeof measureCompact }).measureCompact = measureCompact;
