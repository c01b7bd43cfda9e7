/**
 * The on-disk layout of an embedding index, readable without this library:
 *
 *   index.json            what the rows are: model, dimension, dtype, counts, preprocessing, the list of shards
 *   shard-00000.npy       [rows, dim] float32 or float16, L2-normalized (numpy.load / faiss read it as is)
 *   shard-00000.jsonl     one JSON object per row, in row order: {"row", "path", "size", "mtime", "width", "height"}
 *   errors.jsonl          files that were skipped, with the reason
 *   .journal/             the shard being written (rows.bin, meta.jsonl, target.json); finished into a shard
 *
 * index.json is the commit point: a shard exists once index.json lists it (files are written aside and renamed
 * first). When a file changed and was embedded again, its newest row wins (later shard, later row); a finished run
 * rewrites shards so that no superseded row is left.
 *
 * Everything read back is untrusted: names must match the shard pattern (no path can be smuggled in), counts must
 * be integers that agree with the files.
 */
import type { NpyDtype } from './npy.js';

export const INDEX_FORMAT = 'siglip-webgpu-index';
export const INDEX_VERSION = 1;
export const SHARD_NAME = /^shard-\d{5,9}$/;

export interface ModelInfo {
  /** What --model named: a hub id, a directory or a URL. */
  id: string;
  /** The hub commit when the model came from the hub cache, else null. */
  revision: string | null;
  /** sha256 of config.json and the weight files' sizes: a resume with other weights is refused. */
  fingerprint: string;
}

export interface ShardEntry {
  name: string;
  rows: number;
}

export interface IndexJson {
  format: typeof INDEX_FORMAT;
  version: number;
  model: ModelInfo;
  dim: number;
  /** numpy's name of the shards' dtype. */
  dtype: 'float32' | 'float16';
  /** Live rows (every indexed file once). */
  count: number;
  /** Rows superseded by a newer row of the same path (0 after a finished run). */
  superseded: number;
  preprocessing: Record<string, unknown>;
  shard: { index: number; count: number } | null;
  shards: ShardEntry[];
  updated: string;
}

export interface RowMeta {
  row: number;
  path: string;
  size: number;
  mtime: number;
  width: number;
  height: number;
}

export const NUMPY_DTYPE: Record<NpyDtype, IndexJson['dtype']> = { f32: 'float32', f16: 'float16' };
export const npyDtypeOf = (d: IndexJson['dtype']): NpyDtype => (d === 'float16' ? 'f16' : 'f32');

const isCount = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;

/** Checks a parsed index.json; `what` names the file in errors. */
export function validateIndexJson(j: unknown, what: string): IndexJson {
  const bad = (why: string) => new Error(`${what}: ${why}`);
  if (!j || typeof j !== 'object' || Array.isArray(j)) throw bad('not a JSON object');
  const o = j as Record<string, unknown>;
  if (o.format !== INDEX_FORMAT) throw bad(`not a siglip-webgpu index (format ${JSON.stringify(o.format)})`);
  if (o.version !== INDEX_VERSION) throw bad(`index version ${JSON.stringify(o.version)}; this build reads version ${INDEX_VERSION}`);
  if (!isCount(o.dim) || o.dim < 1 || o.dim > 1 << 16) throw bad(`dim ${JSON.stringify(o.dim)} is not a positive integer`);
  if (o.dtype !== 'float32' && o.dtype !== 'float16') throw bad(`dtype ${JSON.stringify(o.dtype)}; expected float32 or float16`);
  if (!isCount(o.count) || !isCount(o.superseded)) throw bad('count and superseded must be non-negative integers');
  const m = o.model as Record<string, unknown> | undefined;
  if (!m || typeof m.id !== 'string' || typeof m.fingerprint !== 'string' || (m.revision !== null && typeof m.revision !== 'string')) {
    throw bad('model must be {id, revision, fingerprint}');
  }
  if (!Array.isArray(o.shards)) throw bad('shards must be an array');
  const names = new Set<string>();
  for (const s of o.shards as unknown[]) {
    const e = s as Record<string, unknown>;
    if (!e || typeof e.name !== 'string' || !SHARD_NAME.test(e.name) || !isCount(e.rows)) {
      throw bad(`shard entry ${JSON.stringify(s)} must be {"name": "shard-NNNNN", "rows": N}`);
    }
    if (names.has(e.name)) throw bad(`shard ${e.name} is listed twice`);
    names.add(e.name);
  }
  const rows = (o.shards as ShardEntry[]).reduce((a, s) => a + s.rows, 0);
  if (o.count + o.superseded !== rows) throw bad(`count ${o.count} + superseded ${o.superseded} ≠ ${rows} rows in the shards`);
  const sh = o.shard as Record<string, unknown> | null;
  if (sh !== null && (!sh || !isCount(sh.index) || !isCount(sh.count) || sh.index >= sh.count)) throw bad('shard must be null or {index, count}');
  if (!o.preprocessing || typeof o.preprocessing !== 'object') throw bad('preprocessing must be an object');
  return o as unknown as IndexJson;
}

/** Parses one metadata line; returns null for a torn or foreign line (the caller decides what that means). */
export function parseRowMeta(line: string): RowMeta | null {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return null;
  }
  if (!o || typeof o !== 'object') return null;
  if (!isCount(o.row) || typeof o.path !== 'string' || !isCount(o.size) || typeof o.mtime !== 'number' || !isCount(o.width) || !isCount(o.height)) return null;
  return o as unknown as RowMeta;
}

export function metaLine(m: RowMeta): string {
  return JSON.stringify({ row: m.row, path: m.path, size: m.size, mtime: m.mtime, width: m.width, height: m.height }) + '\n';
}
