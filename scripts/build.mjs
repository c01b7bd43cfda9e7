// Builds what the package ships, once (npm runs it as `prepare`: on `npm install` in this repository, and once
// before `npm pack` / `npm publish`), with esbuild, and the type declarations with tsc:
//   dist/index.js                 the library for Node (ESM; dependencies left to node_modules) — exports "node"
//   dist/siglip-webgpu.browser.js the library for browsers and bundlers (ESM, self-contained: no import of `webgpu`,
//                                 of node: modules or of anything else) — exports "browser" and "default"
//   dist/worker.js                worker mode, `siglip-webgpu/worker` (SiglipWorkerModel: the page's side)
//   dist/siglip-webgpu.worker.js  the script that runs in the worker (the engine), started by dist/worker.js
//   dist/cli.js                   the CLI (ESM; commander and cli-progress bundled) — bin
//   dist/apps.js                  siglip-webgpu/apps: index, search, serve as a library (Node only; src/apps/)
//   dist/preprocess-worker.js     the decode worker thread of index and serve (src/apps/preprocess-pool.ts)
//   dist/lib/                     code the Node entries share (the library above all), split by esbuild
//   dist/chunks/                  the browser entries' shared code, and their lazily loaded parts: the image decoders
//                                 of WebP, AVIF, HEIC, GIF, BMP and TIFF (WebAssembly inline), fetched only when a
//                                 file of that format arrives
//   dist/types/                   .d.ts of both entries (index.d.ts, browser.d.ts and what they reference)
// No source maps in the package: they would double its size, and the bundles are unminified ESM whose stack traces
// read as they are (esbuild marks every module with a `// src/…` comment). The demo keeps its map.
// Options:
//   --no-types   skip the declarations (tsc takes a few seconds)
//   --demo       also dist/demo/main.js, dist/demo/siglip-webgpu.worker.js (and dist/demo/chunks/), the browser
//                demo's script (demo/*.ts with the library bundled in) and its worker; served with demo/index.html
//                and demo/style.css by scripts/serve-demo.mjs: `npm run demo`. Not packed.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, rmSync } from 'node:fs';
import { BROWSER, BROWSER_ENTRIES, COMMON, DEMO_ENTRIES } from './build-options.mjs';

const noTypes = process.argv.includes('--no-types');
const demo = process.argv.includes('--demo');

rmSync('dist', { recursive: true, force: true });
const manifest = JSON.parse(readFileSync('package.json', 'utf8'));
// What the Node entry leaves to node_modules: the package's own dependencies (the CLI's commander and
// cli-progress are devDependencies, bundled into the CLI's code only).
const dependencies = [...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.optionalDependencies ?? {})];

await Promise.all([
  // The Node entries in one build, split: the library's code sits once in dist/lib/, imported by dist/index.js,
  // dist/cli.js and dist/apps.js (one copy in the tarball instead of three).
  build({
    ...COMMON,
    entryPoints: { index: 'src/index.ts', cli: 'src/cli/main.ts', apps: 'src/apps/index.ts', 'preprocess-worker': 'src/apps/preprocess-worker.ts' },
    outdir: 'dist',
    splitting: true,
    chunkNames: 'lib/[name]-[hash]',
    platform: 'node',
    // In Node the decoders' WebAssembly is read from node_modules at run time (wasm-load.ts): never inlined here.
    external: [...dependencies, '*.wasm', 'libheif-js', 'libheif-js/*'],
    // Bundled CommonJS dependencies (commander, cli-progress) call require(): give the ESM bundle one.
    banner: { js: "import { createRequire as __siglipRequire } from 'node:module'; const require = __siglipRequire(import.meta.url);" },
  }),
  build({ ...BROWSER, entryPoints: BROWSER_ENTRIES, outdir: 'dist' }),
  demo && build({ ...BROWSER, entryPoints: DEMO_ENTRIES, outdir: 'dist/demo', sourcemap: true }),
]);
chmodSync('dist/cli.js', 0o755);
if (!noTypes) execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
// On stderr: `npm pack --json` prints this script's stdout with its JSON.
console.error(`built dist/index.js, dist/apps.js, dist/siglip-webgpu.browser.js, dist/worker.js, dist/siglip-webgpu.worker.js, dist/cli.js${demo ? ', dist/demo/main.js' : ''}${noTypes ? '' : ', dist/types'}`);
