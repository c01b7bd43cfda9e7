/**
 * Reads one or more index directories as one index: `search` and `serve --index` take the folders that sharded
 * runs wrote (or their parent folder). Rows are streamed from the .npy shards in chunks, so an index larger than
 * memory works; only the metadata (paths) is held. Superseded rows (an older embedding of a file that changed) are
 * marked dead and never returned.
 */
import { existsSync } from 'node:fs';
import { open, readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { npyDtypeOf, validateIndexJson, type IndexJson, type RowMeta } from './index-format.js';
import { checkShardHeader, readShardMeta } from './index-writer.js';
import { decodeRows, NPY_BYTES, type NpyDtype } from './npy.js';

export interface ShardView {
  dir: string;
  name: string;
  rows: number;
  dtype: NpyDtype;
  /** Byte offset of the data in the .npy file. */
  offset: number;
  metas: RowMeta[];
  /** 1 where the row is the newest of its path. */
  live: Uint8Array;
}

export interface RowChunk {
  shard: ShardView;
  /** First row of the chunk in its shard. */
  start: number;
  rows: number;
  /** [rows, dim] float32. */
  data: Float32Array;
}

/** Finds index directories: a folder with index.json, or a folder whose direct sub-folders hold them (shards). */
export async function findIndexDirs(paths: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    const dir = resolve(p);
    if (existsSync(join(dir, 'index.json'))) {
      out.push(dir);
      continue;
    }
    let subs: string[];
    try {
      subs = (await readdir(dir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
    } catch (e) {
      throw new Error(`${p}: cannot read the index folder (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    const found = subs.map((s) => join(dir, s)).filter((d) => existsSync(join(d, 'index.json')));
    if (found.length === 0) throw new Error(`${p}: no index.json there or in its sub-folders; build one with \`siglip-webgpu index <photos> --out ${p}\``);
    out.push(...found);
  }
  return [...new Set(out)];
}

export class IndexReader {
  private constructor(
    readonly parts: { dir: string; index: IndexJson }[],
    readonly shards: ShardView[],
    readonly dim: number,
    readonly count: number,
  ) {}

  static async open(paths: string[]): Promise<IndexReader> {
    if (paths.length === 0) throw new Error('give at least one index folder');
    const dirs = await findIndexDirs(paths);
    const parts: { dir: string; index: IndexJson }[] = [];
    for (const dir of dirs) {
      const file = join(dir, 'index.json');
      let json: unknown;
      try {
        json = JSON.parse(await readFile(file, 'utf8'));
      } catch (e) {
        throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
      }
      parts.push({ dir, index: validateIndexJson(json, file) });
    }
    const first = parts[0]!.index;
    for (const p of parts.slice(1)) {
      if (p.index.model.fingerprint !== first.model.fingerprint || p.index.dim !== first.dim) {
        throw new Error(`${p.dir} was built with ${p.index.model.id} (dim ${p.index.dim}), ${parts[0]!.dir} with ${first.model.id} (dim ${first.dim}): one search needs one model`);
      }
    }
    const shards: ShardView[] = [];
    const newest = new Map<string, { shard: ShardView; row: number }>();
    for (const { dir, index } of parts) {
      const dtype = npyDtypeOf(index.dtype);
      for (const s of index.shards) {
        const offset = await checkShardHeader(dir, s.name, index.dim, dtype, s.rows);
        const metas = await readShardMeta(dir, s.name, s.rows);
        const view: ShardView = { dir, name: s.name, rows: s.rows, dtype, offset, metas, live: new Uint8Array(s.rows).fill(1) };
        for (const m of metas) {
          const old = newest.get(m.path);
          if (old) old.shard.live[old.row] = 0;
          newest.set(m.path, { shard: view, row: m.row });
        }
        shards.push(view);
      }
    }
    return new IndexReader(parts, shards, first.dim, newest.size);
  }

  get model(): IndexJson['model'] {
    return this.parts[0]!.index.model;
  }

  /** Every row in order, `maxRows` at a time, as float32 (float16 shards are widened). */
  async *chunks(maxRows: number): AsyncGenerator<RowChunk> {
    const D = this.dim;
    for (const shard of this.shards) {
      if (shard.rows === 0) continue;
      const file = join(shard.dir, `${shard.name}.npy`);
      const fh = await open(file, 'r');
      try {
        const size = (await stat(file)).size;
        const rb = D * NPY_BYTES[shard.dtype];
        if (size < shard.offset + shard.rows * rb) throw new Error(`${file}: shorter than index.json says; the index changed while reading`);
        for (let start = 0; start < shard.rows; start += maxRows) {
          const rows = Math.min(maxRows, shard.rows - start);
          const buf = new Uint8Array(rows * rb);
          const { bytesRead } = await fh.read(buf, 0, buf.length, shard.offset + start * rb);
          if (bytesRead !== buf.length) throw new Error(`${file}: short read at row ${start}`);
          yield { shard, start, rows, data: decodeRows(buf, shard.dtype) };
        }
      } finally {
        await fh.close();
      }
    }
  }

  /** Every live row: path → embedding (tests, small indexes). */
  async toMap(): Promise<Map<string, { meta: RowMeta; embedding: Float32Array }>> {
    const out = new Map<string, { meta: RowMeta; embedding: Float32Array }>();
    for await (const c of this.chunks(4096)) {
      for (let r = 0; r < c.rows; r++) {
        if (!c.shard.live[c.start + r]) continue;
        const meta = c.shard.metas[c.start + r]!;
        out.set(meta.path, { meta, embedding: c.data.slice(r * this.dim, (r + 1) * this.dim) });
      }
    }
    return out;
  }
}
