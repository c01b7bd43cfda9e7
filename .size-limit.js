// `npm run size` (npm pack, then size-limit): what a user downloads stays small, and grows only on purpose.
// The consumer test (test/package/consumer.test.ts) runs the same check on every `npm test`; the README states the
// figures. Raise a limit only with a reason, in the same commit that makes the package bigger.
import { existsSync, readFileSync } from 'node:fs';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));
const tarball = `.pack/siglip-webgpu-${version}.tgz`;
// size-limit counts a missing file as 0 bytes, and passes.
if (!existsSync(new URL(tarball, import.meta.url))) throw new Error(`${tarball} is missing: npm run size packs it first`);

export default [
  {
    name: 'npm tarball (npm pack)',
    path: tarball,
    brotli: false,
    limit: '400 kB',
  },
  {
    name: 'browser entry dist/siglip-webgpu.browser.js, gzip',
    path: 'dist/siglip-webgpu.browser.js',
    gzip: true,
    // 85.5 kB at 0.1.0's first package; 94.7 kB after the tuner that checks every kernel kind at the model's own
    // shapes, the uniform schemas, the hub's path checks and the typed errors; 107.6 kB with SigLIP 2 (the Gemma
    // BPE tokenizer, Siglip2ImageProcessor, NaFlex, the presets).
    limit: '110 kB',
  },
];
