/**
 * The layers of ARCHITECTURE.md, checked on every `npm test` (test/architecture.test.ts runs this config):
 * runtime < kernels < ops < model < apps (src/apps: index/search/serve; cli, bench, demo, the worker). Each layer
 * imports only the ones below it; kernels see the runtime through src/runtime/kernel.ts alone; the model never
 * touches a kernel or a shader; web apps (the worker's host and client, the demo) use the model's API, not the
 * kernels or ops under it. Type-only imports
 * count: a type is a dependency too.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'runtime-imports-nothing-above',
      comment: 'src/runtime (device, engine, tensors, graph IR, planner, executor, profiler, dispatch) knows no kernel, op, model or app.',
      severity: 'error',
      from: { path: '^src/runtime/' },
      to: { path: ['^src/(kernels|ops|model|cli|apps|worker)/', '^shaders/', '^bench/', '^demo/', '^src/(index|browser|worker)\\.ts$'] },
    },
    {
      name: 'kernels-see-the-runtime-through-kernel-ts',
      comment: 'A kernel sees the adapter through KernelContext (src/runtime/kernel.ts), never the engine or the executor.',
      severity: 'error',
      from: { path: '^src/kernels/' },
      to: { path: '^src/runtime/', pathNot: '^src/runtime/kernel\\.ts$' },
    },
    {
      name: 'kernels-know-nothing-above',
      comment: 'Kernels do not choose variants, build graphs or know any model: that is the ops layer and above.',
      severity: 'error',
      from: { path: '^src/kernels/' },
      to: { path: ['^src/(ops|model|cli|apps|worker)/', '^bench/', '^demo/', '^src/(index|browser|worker)\\.ts$'] },
    },
    {
      name: 'ops-know-no-model',
      comment: 'Eager ops, graph op builders, the tuner and the adapter defaults serve any model.',
      severity: 'error',
      from: { path: '^src/ops/' },
      to: { path: ['^src/(model|cli|apps|worker)/', '^bench/', '^demo/', '^src/(index|browser|worker)\\.ts$'] },
    },
    {
      name: 'model-never-imports-a-kernel',
      comment: 'The model uses the ops layer (src/ops/index.ts); kernel modules and WGSL are below it.',
      severity: 'error',
      from: { path: '^src/model/' },
      to: { path: ['^src/kernels/', '^shaders/', '^src/(cli|apps|worker)/', '^bench/', '^demo/', '^src/(index|browser|worker)\\.ts$'] },
    },
    {
      name: 'model-uses-the-ops-facade',
      comment: 'One door into the ops layer: what the model may use is what src/ops/index.ts exports.',
      severity: 'error',
      from: { path: '^src/model/' },
      to: { path: '^src/ops/', pathNot: '^src/ops/index\\.ts$' },
    },
    {
      name: 'apps-use-the-model-and-the-ops-facade',
      comment: 'index/search/serve (src/apps) build on the public model and ops: no kernel module, no WGSL, no CLI.',
      severity: 'error',
      from: { path: '^src/apps/' },
      to: { path: ['^src/kernels/', '^shaders/', '^src/(cli|worker)/', '^bench/', '^demo/', '^src/ops/(?!index\\.ts$)'] },
    },
    {
      name: 'web-apps-use-the-model-api',
      comment: 'The worker (host, client) and the demo run models through src/model (and the entry points); of the layers under it, only the runtime\'s descriptive types (adapter, dtype, profile).',
      severity: 'error',
      from: { path: '^(src/worker|demo)/' },
      to: { path: ['^src/(kernels|ops|apps)/', '^shaders/', '^src/runtime/'], pathNot: '^src/runtime/(device|dtype|executor)\\.ts$' },
    },
    {
      name: 'no-cycles',
      comment: 'No import cycle, between modules or (so) between folders.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['^node_modules', '^dist'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    moduleSystems: ['es6'],
    extensions: ['.ts', '.mjs', '.js', '.wgsl'],
  },
};
