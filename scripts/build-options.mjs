// The esbuild options of the distributable files, in one place: scripts/build.mjs builds the package with them and
// the real-browser tests (test/browser/harness.ts) build the browser bundle with the same ones, so the tests run
// exactly what is published.

/** Every bundle: ESM, shaders imported as text (loader .wgsl → text), so each bundle carries its WGSL. */
export const COMMON = { bundle: true, format: 'esm', loader: { '.wgsl': 'text' }, logLevel: 'warning', target: 'es2022' };

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

/** The browser build of the library (and of the demo): self-contained, no import left (see nodeOnlyStubs). */
export const BROWSER = { ...COMMON, platform: 'browser', plugins: [nodeOnlyStubs] };
