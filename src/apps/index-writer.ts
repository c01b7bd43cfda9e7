/**
 * Writes an embedding index directory (layout in index-format.ts), one batch at a time, so that a run killed at
 * any moment loses at most the batch in flight:
 *
 *   append(batch)  rows → .journal/rows.bin, then their metadata lines → .journal/meta.jsonl (each flushed); a
 *                  metadata line is the commit record of its row, so a torn tail is cut back on the next open
 *   rotate/close   .journal → shard-N.npy + shard-N.jsonl (written aside, renamed), then index.json (the commit
 *                  point), then the journal is removed
 *   close          also rewrites shards that hold rows superseded by a newer row of the same path
 *
 * Opening recovers whatever a crash left: a journal already committed is dropped, a half-finished one is cut back
 * to its last whole row, orphan shard files and temporary files are removed. One writer per directory (index-lock).
 */
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rm, stat, truncate, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { IndexLockedError, lockIndexDir, type HeldLock } from './index-lock.js';
import {
  INDEX_FORMAT,
  INDEX_VERSION,
  metaLine,
  NUMPY_DTYPE,
  parseRowMeta,
  SHARD_NAME,
  validateIndexJson,
  type IndexJson,
  type ModelInfo,
  type RowMeta,
} from './index-format.js';
import { TMP_SUFFIX, writeAtomic, writeTextAtomic } from './fs-atomic.js';
import { encodeRows, NPY_BYTES, npyHeader, parseNpyHeader, type NpyDtype } from './npy.js';

export { IndexLockedError };

export interface IndexWriterOptions {
  model: ModelInfo;
  dim: number;
  dtype: NpyDtype;
  preprocessing: Record<string, unknown>;
  shard: { index: number; count: number } | null;
  /** Rows per shard file (default 50,000). */
  shardRows?: number;
  /** Flush every batch to disk (default true); off only makes sense for throwaway indexes. */
  durable?: boolean;
  /** A lock left by a process on another host counts as abandoned after this long (default 30 s). */
  staleMs?: number;
}

export interface ErrorRecord {
  path: string;
  size: number | null;
  mtime: number | null;
  error: string;
}

interface Entry {
  size: number;
  mtime: number;
  shard: string;
  row: number;
}

interface Journal {
  name: string;
  rows: number;
  rowsFile: FileHandle;
  metaFile: FileHandle;
}

const OUR_FILES = new Set(['.lock', '.owner.json', '.journal', 'errors.jsonl', 'index.json']);
const SHARD_FILE = /^(shard-\d{5,9})\.(npy|jsonl)$/;

export class IndexWriter {
  private readonly entries = new Map<string, Entry>();
  private readonly errors = new Map<string, { size: number | null; mtime: number | null }>();
  /** Rows of each shard (or the journal) that a newer row of the same path replaced. */
  private readonly dead = new Map<string, Set<number>>();
  private journal: Journal | null = null;
  private errorsFile: FileHandle | null = null;
  private closed = false;

  private constructor(
    readonly dir: string,
    private index: IndexJson,
    private readonly opts: Required<Pick<IndexWriterOptions, 'shardRows' | 'durable'>> & IndexWriterOptions,
    private readonly lock: HeldLock,
  ) {}

  /** Opens (creating or resuming) the index in `dir`: takes the lock, recovers after a crash, checks the model. */
  static async open(dir: string, opts: IndexWriterOptions): Promise<IndexWriter> {
    const shardRows = opts.shardRows ?? 50_000;
    if (!Number.isSafeInteger(shardRows) || shardRows < 1) throw new Error(`shardRows must be a positive integer, got ${shardRows}`);
    await mkdir(dir, { recursive: true });
    const lock = await lockIndexDir(dir, { staleMs: opts.staleMs });
    try {
      const index = await loadOrCreate(dir, opts);
      const w = new IndexWriter(dir, index, { ...opts, shardRows, durable: opts.durable ?? true }, lock);
      await w.recover();
      return w;
    } catch (e) {
      await lock.release();
      throw e;
    }
  }

  /** The committed index as it stands (what readers see). */
  get committed(): IndexJson {
    return this.index;
  }

  /** Files embedded so far (committed or in the journal), each once. */
  get count(): number {
    return this.entries.size;
  }

  /** Size and mtime recorded for a path, when it is in the index. */
  known(path: string): { size: number; mtime: number } | undefined {
    return this.entries.get(path);
  }

  /** Size and mtime of a path that failed before (errors.jsonl). */
  knownError(path: string): { size: number | null; mtime: number | null } | undefined {
    return this.errors.get(path);
  }

  private check(): void {
    if (this.closed) throw new Error(`${this.dir}: the index writer is closed`);
    if (this.lock.compromised) throw new Error(`${this.dir}: lost the index lock (${this.lock.compromised.message}); stopping so two writers never mix`);
  }

  private get rowBytes(): number {
    return this.opts.dim * NPY_BYTES[this.opts.dtype];
  }

  /** Appends a batch: `embeddings` [B, dim] (L2-normalized) and one metadata record per row. */
  async append(embeddings: Float32Array, metas: Omit<RowMeta, 'row'>[]): Promise<void> {
    this.check();
    const D = this.opts.dim;
    if (embeddings.length !== metas.length * D) throw new Error(`append: ${embeddings.length} values for ${metas.length} rows of ${D}`);
    for (let at = 0; at < metas.length; ) {
      const j = this.journal ?? (await this.startJournal());
      const n = Math.min(metas.length - at, this.opts.shardRows - j.rows); // shards hold exactly shardRows rows
      const part = metas.slice(at, at + n);
      const lines = part.map((m, i) => metaLine({ ...m, row: j.rows + i })).join('');
      await j.rowsFile.write(encodeRows(embeddings.subarray(at * D, (at + n) * D), this.opts.dtype));
      if (this.opts.durable) await j.rowsFile.datasync();
      await j.metaFile.write(lines);
      if (this.opts.durable) await j.metaFile.datasync();
      part.forEach((m, i) => this.remember(m.path, { size: m.size, mtime: m.mtime, shard: j.name, row: j.rows + i }));
      j.rows += n;
      at += n;
      if (j.rows >= this.opts.shardRows) await this.finishJournal();
    }
  }

  /** Records a skipped file in errors.jsonl (append-only; a torn last line is ignored on reading). */
  async recordError(e: ErrorRecord): Promise<void> {
    this.check();
    this.errorsFile ??= await open(join(this.dir, 'errors.jsonl'), 'a');
    await this.errorsFile.write(JSON.stringify({ path: e.path, size: e.size, mtime: e.mtime, error: e.error, time: new Date().toISOString() }) + '\n');
    this.errors.set(e.path, { size: e.size, mtime: e.mtime });
  }

  /** Finishes the journal into a shard, drops superseded rows, commits index.json and releases the lock. */
  async close(): Promise<IndexJson> {
    if (this.closed) return this.index;
    try {
      this.check();
      await this.finishJournal();
      await this.compact();
      return this.index;
    } finally {
      await this.release();
    }
  }

  /** Stops without finishing the journal (it stays for the next run); releases the lock. */
  async abandon(): Promise<void> {
    if (!this.closed) await this.release();
  }

  private async release(): Promise<void> {
    this.closed = true;
    await this.journal?.rowsFile.close().catch(() => undefined);
    await this.journal?.metaFile.close().catch(() => undefined);
    await this.errorsFile?.close().catch(() => undefined);
    await this.lock.release();
  }

  private remember(path: string, e: Entry): void {
    const old = this.entries.get(path);
    if (old) {
      let s = this.dead.get(old.shard);
      if (!s) this.dead.set(old.shard, (s = new Set()));
      s.add(old.row);
    }
    this.entries.set(path, e);
  }

  private nextName(): string {
    let n = -1;
    for (const s of this.index.shards) n = Math.max(n, Number(s.name.slice(6)));
    if (this.journal) n = Math.max(n, Number(this.journal.name.slice(6)));
    return `shard-${String(n + 1).padStart(5, '0')}`;
  }

  private async startJournal(name = this.nextName(), rows = 0): Promise<Journal> {
    const jdir = join(this.dir, '.journal');
    await mkdir(jdir, { recursive: true });
    if (rows === 0) {
      await writeTextAtomic(join(jdir, 'target.json'), JSON.stringify({ name, dim: this.opts.dim, dtype: NUMPY_DTYPE[this.opts.dtype] }) + '\n', this.opts.durable);
      await rm(join(jdir, 'rows.bin'), { force: true });
      await rm(join(jdir, 'meta.jsonl'), { force: true });
    }
    this.journal = { name, rows, rowsFile: await open(join(jdir, 'rows.bin'), 'a'), metaFile: await open(join(jdir, 'meta.jsonl'), 'a') };
    return this.journal;
  }

  /** .journal → shard files → index.json (commit) → journal removed. */
  private async finishJournal(): Promise<void> {
    const j = this.journal;
    if (!j) return;
    this.journal = null;
    await j.rowsFile.close();
    await j.metaFile.close();
    const jdir = join(this.dir, '.journal');
    if (j.rows > 0) {
      await writeAtomic(join(this.dir, `${j.name}.npy`), async (fh) => {
        await fh.write(npyHeader(this.opts.dtype, j.rows, this.opts.dim));
        await copyInto(fh, join(jdir, 'rows.bin'), j.rows * this.rowBytes);
      }, this.opts.durable);
      await writeAtomic(join(this.dir, `${j.name}.jsonl`), (fh) => copyInto(fh, join(jdir, 'meta.jsonl')), this.opts.durable);
      await this.commit([...this.index.shards, { name: j.name, rows: j.rows }]);
    }
    await rm(jdir, { recursive: true, force: true });
  }

  private async commit(shards: { name: string; rows: number }[]): Promise<void> {
    const rows = shards.reduce((a, s) => a + s.rows, 0);
    let superseded = 0;
    for (const s of shards) superseded += this.dead.get(s.name)?.size ?? 0;
    this.index = { ...this.index, shards, count: rows - superseded, superseded, updated: new Date().toISOString() };
    await writeTextAtomic(join(this.dir, 'index.json'), JSON.stringify(this.index, null, 2) + '\n', this.opts.durable);
  }

  /** Rewrites every shard that holds superseded rows with its live rows only, under a new name. */
  private async compact(): Promise<void> {
    const stale = this.index.shards.filter((s) => (this.dead.get(s.name)?.size ?? 0) > 0);
    if (stale.length === 0) return;
    const replaced = new Map<string, { name: string; rows: number } | null>();
    let next = Number(this.nextName().slice(6));
    for (const s of stale) {
      const dead = this.dead.get(s.name)!;
      const { rows, metas } = await readShard(this.dir, s.name, this.opts.dim, this.opts.dtype, s.rows);
      const keep = metas.filter((m) => !dead.has(m.row));
      if (keep.length === 0) {
        replaced.set(s.name, null);
        continue;
      }
      const name = `shard-${String(next++).padStart(5, '0')}`;
      const rb = this.rowBytes;
      await writeAtomic(join(this.dir, `${name}.npy`), async (fh) => {
        await fh.write(npyHeader(this.opts.dtype, keep.length, this.opts.dim));
        for (const m of keep) await fh.write(rows.subarray(m.row * rb, (m.row + 1) * rb));
      }, this.opts.durable);
      await writeTextAtomic(join(this.dir, `${name}.jsonl`), keep.map((m, i) => metaLine({ ...m, row: i })).join(''), this.opts.durable);
      replaced.set(s.name, { name, rows: keep.length });
    }
    for (const old of replaced.keys()) this.dead.delete(old);
    const shards = this.index.shards.flatMap((s) => (replaced.has(s.name) ? (replaced.get(s.name) ? [replaced.get(s.name)!] : []) : [s]));
    await this.commit(shards);
    for (const old of replaced.keys()) {
      await rm(join(this.dir, `${old}.npy`), { force: true });
      await rm(join(this.dir, `${old}.jsonl`), { force: true });
    }
  }

  /** Loads committed rows, then repairs or drops the journal, then removes orphan and temporary files. */
  private async recover(): Promise<void> {
    for (const s of this.index.shards) {
      const metas = await readShardMeta(this.dir, s.name, s.rows);
      await checkShardHeader(this.dir, s.name, this.opts.dim, this.opts.dtype, s.rows);
      for (const m of metas) this.remember(m.path, { size: m.size, mtime: m.mtime, shard: s.name, row: m.row });
    }
    const jdir = join(this.dir, '.journal');
    if (existsSync(jdir)) {
      const target = await readFile(join(jdir, 'target.json'), 'utf8').then((t) => JSON.parse(t) as Record<string, unknown>).catch(() => null);
      const name = target && typeof target.name === 'string' && SHARD_NAME.test(target.name) ? target.name : null;
      const matches = target && target.dim === this.opts.dim && target.dtype === NUMPY_DTYPE[this.opts.dtype];
      if (!name || !matches || this.index.shards.some((s) => s.name === name)) {
        await rm(jdir, { recursive: true, force: true }); // committed already, or never started
      } else {
        const rows = await this.repairJournal(jdir, name);
        await this.startJournal(name, rows);
      }
    }
    const listed = new Set(this.index.shards.map((s) => s.name));
    for (const f of await readdir(this.dir)) {
      const m = SHARD_FILE.exec(f);
      if ((m && !listed.has(m[1]!)) || (TMP_SUFFIX.test(f) && (SHARD_FILE.test(f.replace(TMP_SUFFIX, '')) || f.startsWith('index.json.')))) {
        await rm(join(this.dir, f), { force: true });
      }
    }
    await this.loadErrors();
  }

  /** Cuts the journal back to its last whole row (rows written, metadata line complete); returns the row count. */
  private async repairJournal(jdir: string, name: string): Promise<number> {
    const metaPath = join(jdir, 'meta.jsonl');
    const rowsPath = join(jdir, 'rows.bin');
    const text = existsSync(metaPath) ? await readFile(metaPath, 'utf8') : '';
    const rowsOnDisk = existsSync(rowsPath) ? Math.floor((await stat(rowsPath)).size / this.rowBytes) : 0;
    const metas: RowMeta[] = [];
    let bytes = 0;
    for (const line of text.split('\n').slice(0, -1)) {
      const m = parseRowMeta(line);
      if (!m || m.row !== metas.length || metas.length >= rowsOnDisk) break;
      metas.push(m);
      bytes += Buffer.byteLength(line) + 1;
    }
    if (existsSync(metaPath)) await truncate(metaPath, bytes);
    if (existsSync(rowsPath)) await truncate(rowsPath, metas.length * this.rowBytes);
    for (const m of metas) this.remember(m.path, { size: m.size, mtime: m.mtime, shard: name, row: m.row });
    return metas.length;
  }

  private async loadErrors(): Promise<void> {
    const text = await readFile(join(this.dir, 'errors.jsonl'), 'utf8').catch(() => '');
    for (const line of text.split('\n')) {
      try {
        const e = JSON.parse(line) as ErrorRecord;
        if (typeof e.path === 'string') this.errors.set(e.path, { size: e.size ?? null, mtime: e.mtime ?? null });
      } catch {
        // a torn last line from a killed run
      }
    }
    for (const path of this.entries.keys()) this.errors.delete(path);
  }
}

async function loadOrCreate(dir: string, opts: IndexWriterOptions): Promise<IndexJson> {
  const file = join(dir, 'index.json');
  const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return null;
    throw e;
  });
  if (text === null) {
    const foreign = (await readdir(dir)).filter((f) => !OUR_FILES.has(f) && !SHARD_FILE.test(f) && !TMP_SUFFIX.test(f));
    if (foreign.length > 0) {
      throw new Error(`${dir} is not empty and holds no index.json (found ${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', …' : ''}); give --out a new or empty folder`);
    }
    const index: IndexJson = {
      format: INDEX_FORMAT,
      version: INDEX_VERSION,
      model: opts.model,
      dim: opts.dim,
      dtype: NUMPY_DTYPE[opts.dtype],
      count: 0,
      superseded: 0,
      preprocessing: opts.preprocessing,
      shard: opts.shard,
      shards: [],
      updated: new Date().toISOString(),
    };
    await writeTextAtomic(file, JSON.stringify(index, null, 2) + '\n', opts.durable ?? true);
    return index;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
  const index = validateIndexJson(parsed, file);
  const differs = (what: string, was: unknown, now: unknown) =>
    new Error(`${dir} was indexed with ${what} ${JSON.stringify(was)}; this run has ${JSON.stringify(now)}. Use another --out, or the same settings to resume.`);
  if (index.model.fingerprint !== opts.model.fingerprint) throw differs('model', `${index.model.id} (${index.model.fingerprint.slice(0, 12)})`, `${opts.model.id} (${opts.model.fingerprint.slice(0, 12)})`);
  if (index.dim !== opts.dim) throw differs('dimension', index.dim, opts.dim);
  if (index.dtype !== NUMPY_DTYPE[opts.dtype]) throw differs('--dtype', index.dtype, NUMPY_DTYPE[opts.dtype]);
  if (JSON.stringify(index.preprocessing) !== JSON.stringify(opts.preprocessing)) throw differs('preprocessing', index.preprocessing, opts.preprocessing);
  if (JSON.stringify(index.shard) !== JSON.stringify(opts.shard)) {
    const f = (s: IndexJson['shard']) => (s ? `${s.index}/${s.count}` : 'none');
    throw differs('--shard', f(index.shard), f(opts.shard));
  }
  return index;
}

async function copyInto(fh: FileHandle, src: string, bytes?: number): Promise<void> {
  let left = bytes ?? Infinity;
  for await (const chunk of createReadStream(src, { highWaterMark: 1 << 20 })) {
    const c = chunk as Buffer;
    const part = c.length > left ? c.subarray(0, left) : c;
    await fh.write(part);
    left -= part.length;
    if (left <= 0) break;
  }
  if (bytes !== undefined && left > 0) throw new Error(`${src}: ${left} bytes short`);
}

/** A shard's metadata lines, checked against the row count index.json gives. */
export async function readShardMeta(dir: string, name: string, rows: number): Promise<RowMeta[]> {
  const file = join(dir, `${name}.jsonl`);
  const lines = (await readFile(file, 'utf8')).split('\n');
  if (lines.at(-1) === '') lines.pop();
  if (lines.length !== rows) throw new Error(`${file}: ${lines.length} lines, but index.json lists ${rows} rows; the index is damaged`);
  return lines.map((l, i) => {
    const m = parseRowMeta(l);
    if (!m || m.row !== i) throw new Error(`${file}: line ${i + 1} is not the metadata of row ${i}; the index is damaged`);
    return m;
  });
}

/** Checks a shard's .npy header against index.json and the file's size; returns where the data starts. */
export async function checkShardHeader(dir: string, name: string, dim: number, dtype: NpyDtype, rows: number): Promise<number> {
  const file = join(dir, `${name}.npy`);
  const fh = await open(file, 'r');
  try {
    const head = new Uint8Array(4096);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    const h = parseNpyHeader(head.subarray(0, bytesRead), file);
    if (h.dim !== dim || h.dtype !== dtype || h.rows !== rows) {
      throw new Error(`${file}: holds [${h.rows}, ${h.dim}] ${h.dtype}, index.json says [${rows}, ${dim}] ${dtype}; the index is damaged`);
    }
    const size = (await fh.stat()).size;
    if (size < h.offset + rows * dim * NPY_BYTES[dtype]) throw new Error(`${file}: ${size} bytes, too short for [${rows}, ${dim}]; the index is damaged`);
    return h.offset;
  } finally {
    await fh.close();
  }
}

/** A whole shard: raw row bytes and metadata (for compaction). */
async function readShard(dir: string, name: string, dim: number, dtype: NpyDtype, rows: number): Promise<{ rows: Uint8Array; metas: RowMeta[] }> {
  const offset = await checkShardHeader(dir, name, dim, dtype, rows);
  const buf = await readFile(join(dir, `${name}.npy`));
  return { rows: new Uint8Array(buf.buffer, buf.byteOffset + offset, rows * dim * NPY_BYTES[dtype]), metas: await readShardMeta(dir, name, rows) };
}
