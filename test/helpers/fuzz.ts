/**
 * Property and fuzz tests with fast-check: a fresh seed per run (printed; TEST_SEED=n replays it), a bounded number
 * of runs and a time limit, so the suite stays quick and every failure can be replayed. Inputs are byte-level and
 * value-level mutations of the real fixture files.
 */
import fc from 'fast-check';
import { BlobSource, type FileSource } from '../../src/model/source.js';
import { testSeed } from './random.js';

export { fc };

/** fast-check parameters: this run's seed, at most `numRuns` cases, stopping (as a pass) after `timeLimitMs`. */
export function fuzzParams(suite: string, numRuns: number, timeLimitMs: number): fc.Parameters<unknown> {
  return { seed: testSeed(suite), numRuns, interruptAfterTimeLimit: timeLimitMs, markInterruptAsFailure: false, endOnFailure: true };
}

/** Files in memory, by checkpoint name (Node has Blob), as a FileSource. */
export function memorySource(files: Record<string, Uint8Array>): FileSource {
  const blobs: Record<string, Blob> = {};
  for (const [name, bytes] of Object.entries(files)) blobs[name] = new Blob([bytes as Uint8Array<ArrayBuffer>]);
  return new BlobSource(blobs);
}

/** Overwrites bytes at positions (taken modulo the length, from `from` on). */
export function flipBytes(bytes: Uint8Array, edits: [number, number][], from = 0): Uint8Array {
  const out = bytes.slice();
  const span = out.length - from;
  if (span <= 0) return out;
  for (const [pos, value] of edits) out[from + (pos % span)] = value;
  return out;
}

/** Values the fuzzer put into config fields: zero, negative, 2^31, 2^53, 1e9, wrong types, null. */
export const HOSTILE_VALUES = fc.constantFrom<unknown>(0, -1, 1, 2 ** 31, 2 ** 53, 1e9, 1.5, 1e-30, '12', 'gelu', null, true, false, [], {}, [3], -0.0);

/** Every path to a leaf of a JSON object (for picking a field to mutate). */
export function leafPaths(obj: unknown, prefix: string[] = []): string[][] {
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return prefix.length ? [prefix] : [];
  const out: string[][] = [];
  for (const [k, v] of Object.entries(obj)) out.push(...leafPaths(v, [...prefix, k]));
  return out;
}

/** A deep copy of `obj` with the value at `path` replaced (or removed, for `undefined`). */
export function withValue(obj: unknown, path: string[], value: unknown): unknown {
  const copy = structuredClone(obj) as Record<string, unknown>;
  let node = copy;
  for (const k of path.slice(0, -1)) node = node[k] as Record<string, unknown>;
  if (value === undefined) delete node[path.at(-1)!];
  else node[path.at(-1)!] = value;
  return copy;
}
