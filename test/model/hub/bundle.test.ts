// The hub code must not break a browser bundle: esbuild hoists a static `import ... from "node:x"` of any module
// it bundles (dynamically imported ones included) to the top of the output, where a browser cannot load it.
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

describe('browser bundle of src/model/hub', () => {
  it('has no static node: import and no cli-progress', async () => {
    const out = await build({
      entryPoints: ['src/model/hub/index.ts'],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      logLevel: 'silent',
      // source-node.ts (DirectorySource, not this module's) is checked separately by its owner; keep it out here.
      // proper-lockfile: the Node cache's download lock (blob-lock-node.ts), loaded lazily on the Node path only.
      external: ['node:*', '../source-node.js', 'proper-lockfile'],
    });
    const js = out.outputFiles[0]!.text;
    expect(js).not.toMatch(/^\s*import\s[^(]*?from\s*["']node:/m);
    expect(js).not.toMatch(/^\s*import\s*["']node:/m);
    expect(js).not.toContain('cli-progress');
    expect(js).toContain('import("node:fs/promises")'); // Node-only paths load it lazily
  });
});
