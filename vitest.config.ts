import { readFileSync } from 'node:fs';
import { defineConfig, type Plugin } from 'vitest/config';

// `import src from '../shaders/x.wgsl'` yields the file's text, as esbuild's `loader: { '.wgsl': 'text' }` does
// for the bundles: one rule for both, so shaders stay plain .wgsl files.
const wgslText: Plugin = {
  name: 'wgsl-text',
  enforce: 'pre',
  load(id) {
    if (!id.endsWith('.wgsl')) return null;
    return `export default ${JSON.stringify(readFileSync(id, 'utf8'))};`;
  },
};

export default defineConfig({
  plugins: [wgslText],
  test: {
    include: ['test/**/*.test.ts'],
    // lavapipe runs on the same two CPU cores as the tests: more parallel GPU suites only fight for them.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 300_000,
    // CI (a fresh machine whose load we do not control): a failed test runs once more, and the retry reporter names
    // every test that needed it (its failure stays in the log). Locally a failure is a failure at once.
    retry: process.env.CI ? 1 : 0,
    reporters: ['default', './test/helpers/retry-reporter.ts'],
    // Kernel tuning searches for minutes on lavapipe; tests use the adapter defaults (test/ops/tuner.test.ts
    // runs the search itself).
    env: { SIGLIP_WEBGPU_TUNE: 'off' },
    hookTimeout: 120_000,
  },
});
