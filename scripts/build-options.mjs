import { readFile } from 'node:fs/promises';

// The esbuild options of the distributable files, in one place: scripts/build.mjs builds the package with them and
// the real-browser tests (test/browser/harness.ts) build the browser bundle with the same ones, so the tests run
// exactly what is published.

/** Every bundle: ESM, shaders imported as text (loader .wgsl → text), so each bundle carries its WGSL; .wasm imports
 *  (the image decoders', reached only in browsers: src/model/image/wasm-load.ts) become bytes in their lazy chunk. */
export const COMMON = { bundle: true, format: 'esm', loader: { '.wgsl': 'text', '.wasm': 'binary' }, logLevel: 'warning', target: 'es2022' };

/**
 * Node-only code never reaches the browser bundle. The library reaches it only through dynamic imports behind
 * "am I in Node?" checks: `import('webgpu')` (Dawn), `import('node:…')`, and our own Node-only modules, whose file
 * names end in `-node.ts` (source-node.ts, hub-source-node.ts, …). In the browser build each of them becomes a
 * module that throws when loaded, so the bundle has no import left at all: a bundler (Vite, webpack, esbuild) takes
 * it with no configuration, and a page can load it as it is, from a CDN. A Node-only path taken in a browser anyway
 * fails with an error that names the module, instead of a bundler's "cannot resolve".
 */
export const nodeOnlyStubs = {
  name: 'node-only-stubs',
  setup(build) {
    const stub = (args) => ({ path: args.path, namespace: 'node-only' });
    build.onResolve({ filter: /^(node:.*|webgpu)$/ }, stub);
    build.onResolve({ filter: /-node\.js$/ }, (args) => (args.path.startsWith('.') ? stub(args) : undefined));
    build.onLoad({ filter: /.*/, namespace: 'node-only' }, (args) => ({
      contents: `throw new Error(${JSON.stringify(`siglip-webgpu: "${args.path}" is Node-only and not part of the browser build`)});`,
      loader: 'js',
    }));
  },
};

/**
 * The WebAssembly decoders' Emscripten glue names its .wasm file as `new URL("x.wasm", import.meta.url)`, a pattern
 * webpack and Vite take for an asset to copy — and fail on, since the package ships the bytes inside the decoder's
 * chunk instead. We hand the glue a compiled module (src/model/image/wasm-load.ts), so that URL is never fetched:
 * the plugin leaves the bare file name in its place.
 */
export const wasmUrlsInline = {
  name: 'wasm-urls-inline',
  setup(build) {
    build.onLoad({ filter: /[\\/]node_modules[\\/]@jsquash[\\/].*\.js$/ }, async (args) => {
      const src = await readFile(args.path, 'utf8');
      return { contents: src.replace(/new URL\((["'])([\w.-]+\.wasm)\1,\s*import\.meta\.url\)(\.href)?/g, '$1$2$1'), loader: 'js' };
    });
  },
};

/**
 * The browser build of the library (and of the demo): no import of anything outside it (see nodeOnlyStubs); split at
 * dynamic imports, so the image decoders of WebP, AVIF, HEIC, GIF, BMP and TIFF (with their WebAssembly inline) are
 * chunks fetched, relative to the entry, only when a file of that format arrives. Needs `outdir`.
 */
export const BROWSER = { ...COMMON, platform: 'browser', plugins: [nodeOnlyStubs, wasmUrlsInline], splitting: true, chunkNames: 'chunks/[name]-[hash]' };

/**
 * The browser build's entry points, built together (one esbuild run, split) so that they share their code: the
 * library, the worker-mode client (`siglip-webgpu/worker`) and the script that runs in the worker. Sharing keeps the
 * decoders once in the package, and makes the client's error classes the very ones the library exports (an error
 * from the worker is `instanceof` the class an app imports). The client names the worker script as
 * `new URL('./siglip-webgpu.worker.js', import.meta.url)`: both stay at the top of the output folder.
 */
export const BROWSER_ENTRIES = {
  'siglip-webgpu.browser': 'src/browser.ts',
  worker: 'src/worker.ts',
  'siglip-webgpu.worker': 'src/worker/worker-entry.ts',
};

/** The demo's entry points (into dist/demo/): its page script, and the worker script it starts beside it. */
export const DEMO_ENTRIES = { main: 'demo/main.ts', 'siglip-webgpu.worker': 'src/worker/worker-entry.ts' };
