#!/usr/bin/env node
// Builds bench/ab.ts (A/B timing of kernel variants, interleaved with the FMA ceiling; see its header) with the
// package's esbuild options and runs it with the same arguments.
import { build } from 'esbuild';
import { mkdirSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { COMMON } from '../scripts/build-options.mjs';

const dir = new URL('../node_modules/.cache/siglip-ab/', import.meta.url);
mkdirSync(dir, { recursive: true });
const outfile = new URL('ab.mjs', dir).pathname;
await build({ ...COMMON, entryPoints: [new URL('ab.ts', import.meta.url).pathname], outfile, platform: 'node', packages: 'external' });
await import(pathToFileURL(outfile).href);
