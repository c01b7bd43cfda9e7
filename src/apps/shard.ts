/**
 * `--shard i/n`: which files one of n workers takes, with no coordinator. A file belongs to worker
 * `uint64(first 8 bytes of sha256(key)) mod n`, where the key is the file's path relative to the folder argument it
 * was found under (or the line of the file list, as written), with `/` separators — the same on every machine that
 * mounts the collection somewhere else, and stable across runs and versions.
 */
import { createHash } from 'node:crypto';

export interface ShardSpec {
  index: number;
  count: number;
}

/** Parses "i/n" (0 ≤ i < n); `flag` names the option in errors. */
export function parseShard(s: string, flag = '--shard'): ShardSpec {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(s);
  if (!m) throw new Error(`${flag} must be i/n (e.g. 0/4: the first of 4 workers), got "${s}"`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (!Number.isSafeInteger(count) || count < 1 || count > 1_000_000) throw new Error(`${flag}: n must be between 1 and 1000000, got ${m[2]}`);
  if (!Number.isSafeInteger(index) || index >= count) throw new Error(`${flag}: i must be between 0 and n-1 = ${count - 1}, got ${m[1]}`);
  return { index, count };
}

/** The worker (0 … n-1) that owns `key`. */
export function shardOf(key: string, count: number): number {
  const h = createHash('sha256').update(key, 'utf8').digest();
  return Number(h.readBigUInt64BE(0) % BigInt(count));
}
