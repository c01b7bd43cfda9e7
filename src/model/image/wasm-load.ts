/**
 * Where a lazily loaded WebAssembly decoder gets its .wasm bytes, and how its failures stay contained.
 *
 * - Node (the library from source or dist/index.js, the CLI): read from the package in node_modules, found with
 *   require.resolve relative to this module, so nothing is fetched and no file is copied at build time.
 * - Browser bundles: `import()` of the .wasm file, which esbuild turns into a lazily loaded chunk holding the bytes
 *   (scripts/build.mjs: loader `.wasm: binary` and code splitting). The chunk is fetched only when a file of that
 *   format arrives, so the main bundle does not carry the decoders.
 *
 * Every failure is turned into an ImageDecodeError by the caller; a WebAssembly trap (abort, out of memory,
 * out-of-bounds access) is an ordinary exception in JS, and the instance that trapped is thrown away so the next file
 * gets a fresh one.
 */
import { ImageDecodeError } from './types.js';

export const isNode = (): boolean =>
  typeof process !== 'undefined' && typeof process.versions === 'object' && !!process.versions?.node;

/** The bytes of `specifier` (a package file) in Node, or of the bundled chunk `browserImport` elsewhere. */
export async function wasmBytes(specifier: string, browserImport: () => Promise<{ default: Uint8Array }>): Promise<Uint8Array> {
  if (isNode()) {
    const [{ createRequire }, { readFile }] = await Promise.all([import('node:module'), import('node:fs/promises')]);
    const path = createRequire(import.meta.url).resolve(specifier);
    return new Uint8Array(await readFile(path));
  }
  return (await browserImport()).default;
}

/**
 * Caches one compiled module per codec and runs `use` on it; a load failure names the package (an optional one that
 * is not installed, a bundle without the chunk) and is retried on the next call rather than cached.
 */
export function lazyCodec<T>(format: string, pkg: string, load: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | null = null;
  return () => {
    if (!pending) {
      pending = load().catch((e: unknown) => {
        pending = null;
        const msg = (e as Error)?.message ?? String(e);
        const missing = /Cannot find (module|package)|ERR_MODULE_NOT_FOUND|MODULE_NOT_FOUND|Failed to fetch dynamically imported/i.test(msg);
        throw new ImageDecodeError(
          missing
            ? `${format}: its decoder (the npm package ${pkg}) is not available: install it with \`npm install ${pkg}\` (${msg})`
            : `${format}: could not load its decoder (${pkg}): ${msg}`,
        );
      });
    }
    return pending;
  };
}

/** An error thrown inside a WebAssembly decoder, as an ImageDecodeError naming the format and the library. */
export function codecError(format: string, library: string, e: unknown): ImageDecodeError {
  if (e instanceof ImageDecodeError) return e;
  let msg = e instanceof Error ? e.message : typeof e === 'number' ? `C++ exception ${e}` : String(e);
  if (/memory|Aborted\(OOM|Cannot enlarge/i.test(msg)) msg = `out of memory in the decoder (${msg})`;
  return new ImageDecodeError(`${format}: ${library} could not decode it: ${msg}`);
}
