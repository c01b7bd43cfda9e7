// Builds the distributable files with esbuild (and the type declarations with tsc):
//   dist/index.js                 the library for Node (ESM; dependencies left to node_modules)
//   dist/cli.js                   the CLI (ESM, everything bundled but Dawn's `webgpu`)
//   dist/siglip-webgpu.browser.js the library for browsers (ESM; never loads `webgpu` or node: modules)
//   dist/chunks/                  its lazily loaded parts: the image decoders of WebP, AVIF, HEIC, GIF, BMP, TIFF
//                                 (with their WebAssembly inline), fetched only when a file of that format arrives
//   dist/demo/main.js             the browser demo's script (demo/main.ts with the library bundled in; served with
//                                 demo/index.html and demo/style.css by scripts/serve-demo.mjs: `npm run demo`),
//                                 and dist/demo/chunks/ likewise
//   dist/types/                   .d.ts for the library
// Shaders are imported as text (loader .wgsl → text), so every bundle carries its WGSL.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { chmodSync, rmSync } from 'node:fs';

// .wasm imports (only reached in browsers, see src/model/image/wasm-load.ts) become bytes inside their lazy chunk.
const common = { bundle: true, format: 'esm', loader: { '.wgsl': 'text', '.wasm': 'binary' }, sourcemap: true, logLevel: 'warning', target: 'es2022' };
// Browser bundles split at dynamic imports, so the image decoders stay out of the main file.
const split = { splitting: true, chunkNames: 'chunks/[name]-[hash]' };
const noTypes = process.argv.includes('--no-types');

rmSync('dist', { recursive: true, force: true });
await Promise.all([
  build({ ...common, entryPoints: ['src/index.ts'], outfile: 'dist/index.js', platform: 'node', packages: 'external' }),
  build({
    ...common,
    entryPoints: ['src/cli/main.ts'],
    outfile: 'dist/cli.js',
    platform: 'node',
    // The decoders' WebAssembly is read from node_modules at run time in Node (wasm-load.ts): keep it out of cli.js.
    external: ['webgpu', '*.wasm', 'libheif-js/*'],
    // Bundled CommonJS dependencies (commander, cli-progress) call require(): give the ESM bundle one.
    banner: { js: "import { createRequire as __siglipRequire } from 'node:module'; const require = __siglipRequire(import.meta.url);" },
  }),
  build({
    ...common,
    ...split,
    entryPoints: { 'siglip-webgpu.browser': 'src/browser.ts' },
    outdir: 'dist',
    platform: 'browser',
    external: ['webgpu', 'node:*'],
  }),
  build({ ...common, ...split, entryPoints: { main: 'demo/main.ts' }, outdir: 'dist/demo', platform: 'browser', external: ['webgpu', 'node:*'] }),
]);
chmodSync('dist/cli.js', 0o755);
if (!noTypes) execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
console.log('built dist/index.js, dist/cli.js, dist/siglip-webgpu.browser.js, dist/demo/main.js' + (noTypes ? '' : ', dist/types'));
