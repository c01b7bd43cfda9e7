// `npm run size` (npm pack, then size-limit): what a user downloads stays small, and grows only on purpose.
// The consumer test (test/package/consumer.test.ts) runs the same check on every `npm test`; the README states the
// figures. Raise a limit only with a reason, in the same commit that makes the package bigger.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));
const tarball = `.pack/siglip-webgpu-${version}.tgz`;
// size-limit counts a missing file as 0 bytes, and passes.
if (!existsSync(new URL(tarball, import.meta.url))) throw new Error(`${tarball} is missing: npm run size packs it first`);

/** A browser entry and the chunks it imports statically (its shared code), not those it loads on demand: what a
 *  page fetches to start it. The three browser entries share their code (scripts/build-options.mjs). */
function withStaticImports(entry) {
  const seen = new Set();
  const visit = (file) => {
    if (seen.has(file)) return;
    seen.add(file);
    const js = readFileSync(file, 'utf8');
    for (const m of js.matchAll(/^(?:import|export)\s[^;]*?["'](\.{1,2}\/[^"']+)["'];?$/gms)) visit(normalize(join(dirname(file), m[1])));
  };
  visit(entry);
  return [...seen];
}

export default [
  {
    name: 'npm tarball (npm pack)',
    path: tarball,
    brotli: false,
    // 306 kB with PNG and JPEG only; the WebP, AVIF and HEIC decoders (WebAssembly inline, in chunks a page fetches
    // only for their formats) add about 1.3 MB.
    limit: '1.8 MB',
  },
  {
    name: 'browser entry dist/siglip-webgpu.browser.js and the chunks it imports, gzip',
    path: withStaticImports('dist/siglip-webgpu.browser.js'),
    gzip: true,
    // The entry file alone: 85.5 kB at 0.1.0's first package; 94.7 kB after the tuner that checks every kernel kind
    // at the model's own shapes, the uniform schemas, the hub's path checks and the typed errors (limit 110 kB). Since
    // worker mode the entries share their code in chunks, so the figure counts the entry with the chunks it imports:
    // 99.6 kB for the same code before worker mode (the file alone had left out the JPEG decoder's chunk, 13 kB),
    // 105.2 kB with the resumable cache, the quota checks and embedImagesSettled; SigLIP 2 (the Gemma BPE tokenizer,
    // Siglip2ImageProcessor, NaFlex, the presets) adds about 13 kB. Compact weights (issue 14: the WGSL reader of
    // f16/int8/4-bit words in every matmul variant and the embedding, the host packer and quantizer, the packed
    // loading path, the converted-checkpoint scheme's checks and digest, the tuner's packed kinds) add about 15.6 kB:
    // 134.1 kB.
    limit: '140 kB',
  },
  {
    name: 'worker mode on the page: dist/worker.js and the chunks it imports, gzip',
    path: withStaticImports('dist/worker.js'),
    gzip: true,
    // The client, the message protocol and the error classes: the engine is in the worker's script.
    limit: '12 kB',
  },
];
