#!/usr/bin/env node
// Builds bench/compact-weights.ts (compact weights per dtype, alternated round by round; see its header) with the
// package's esbuild options and runs it with the same arguments.
import { build } from 'esbuild';
import { mkdirSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { COMMON } from '../scripts/build-options.mjs';

const dir = new URL('../node_modules/.cache/siglip-compact-weights/', import.meta.url);
mkdirSync(dir, { recursive: true });
const outfile = new URL('compact-weights.mjs', dir).pathname;
await build({ ...COMMON, entryPoints: [new URL('compact-weights.ts', import.meta.url).pathname], outfile, platform: 'node', packages: 'external' });
process.env.SIGLIP_BENCH_DIR = new URL('.', import.meta.url).pathname;
await import(pathToFileURL(outfile).href);
