/**
 * The library's door to `convert` (convert-node.ts). Converting writes files, so it runs in Node only; this wrapper
 * loads the Node module when called, so that the shared entry (src/index.ts, which the browser bundle re-exports)
 * imports nothing Node-only at load. In a browser the call fails with the stub's "Node-only" error.
 */
import type { FileSource } from './source.js';
import type { ConvertOptions, ConvertResult } from './convert-node.js';

export type { ConvertOptions, ConvertProgress, ConvertResult } from './convert-node.js';

/**
 * Writes a compact copy of the checkpoint `src` (a hub id, a local directory, a base URL or a FileSource; F32, F16
 * or BF16, one file or sharded) into `outDir`: the matmul and embedding weights as f16, int8 or 4-bit with their
 * scales, under the versioned compact-weights scheme (docs/compact-weights.md), other tensors and the config,
 * preprocessor and tokenizer files as they are. Node only.
 */
export async function convertCheckpoint(src: string | FileSource, outDir: string, opts: ConvertOptions): Promise<ConvertResult> {
  const { convertCheckpoint: run } = await import('./convert-node.js');
  return run(src, outDir, opts);
}
