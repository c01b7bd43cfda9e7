// Builds the distributable files with esbuild (and the type declarations with tsc):
//   dist/index.js                 the library for Node (ESM; dependencies left to node_modules)
//   dist/cli.js                   the CLI (ESM, everything bundled but Dawn's `webgpu`)
//   dist/apps.js                  siglip-webgpu/apps: index, search, serve (Node only; src/apps/)
//   dist/preprocess-worker.js     the decode worker thread of index and serve
//   dist/siglip-webgpu.browser.js the library for browsers (ESM; never loads `webgpu` or node: modules)
//   dist/demo/main.js             the browser demo's script (demo/main.ts with the library bundled in; served with
//                                 demo/index.html and demo/style.css by scripts/serve-demo.mjs: `npm run demo`)
//   dist/types/                   .d.ts for the library
// Shaders are imported as text (loader .wgsl → text), so every bundle carries its WGSL.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { chmodSync, rmSync } from 'node:fs';

const common = { bundle: true, format: 'esm', loader: { '.wgsl': 'text' }, sourcemap: true, logLevel: 'warning', target: 'es2022' };
const noTypes = process.argv.includes('--no-types');

rmSync('dist', { recursive: true, force: true });
await Promise.all([
  build({ ...common, entryPoints: ['src/index.ts'], outfile: 'dist/index.js', platform: 'node', packages: 'external' }),
  build({
    ...common,
    entryPoints: ['src/cli/main.ts'],
    outfile: 'dist/cli.js',
    platform: 'node',
    external: ['webgpu'],
    // Bundled CommonJS dependencies (commander, cli-progress) call require(): give the ESM bundle one.
    banner: { js: "import { createRequire as __siglipRequire } from 'node:module'; const require = __siglipRequire(import.meta.url);" },
  }),
  build({ ...common, entryPoints: ['src/apps/index.ts'], outfile: 'dist/apps.js', platform: 'node', packages: 'external' }),
  // The index/serve decode workers: a file of their own beside index.js and cli.js (src/apps/preprocess-pool.ts).
  build({ ...common, entryPoints: ['src/apps/preprocess-worker.ts'], outfile: 'dist/preprocess-worker.js', platform: 'node', packages: 'external' }),
  build({
    ...common,
    entryPoints: ['src/browser.ts'],
    outfile: 'dist/siglip-webgpu.browser.js',
    platform: 'browser',
    external: ['webgpu', 'node:*', 'proper-lockfile'],
  }),
  build({ ...common, entryPoints: ['demo/main.ts'], outfile: 'dist/demo/main.js', platform: 'browser', external: ['webgpu', 'node:*', 'proper-lockfile'] }),
]);
chmodSync('dist/cli.js', 0o755);
if (!noTypes) execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
console.log('built dist/index.js, dist/cli.js, dist/apps.js, dist/siglip-webgpu.browser.js, dist/demo/main.js' + (noTypes ? '' : ', dist/types'));
