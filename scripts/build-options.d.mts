// Types of scripts/build-options.mjs (for the TypeScript tests that import it).
import type { BuildOptions, Plugin } from 'esbuild';
export declare const COMMON: BuildOptions;
export declare const nodeOnlyStubs: Plugin;
export declare const BROWSER: BuildOptions;
export declare const BROWSER_ENTRIES: Record<string, string>;
export declare const DEMO_ENTRIES: Record<string, string>;
