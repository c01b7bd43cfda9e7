/**
 * The index folder's crash safety without a GPU: what a killed run can leave (torn journal lines, rows without
 * metadata, half-finished shard files, a journal already committed, temporary files) is repaired on the next open;
 * changed files supersede their old rows and a closed index holds none; one writer per folder.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { IndexReader } from '../../src/apps/index-reader.js';
import { lockIndexDir } from '../../src/apps/index-lock.js';
import { IndexWriter, type IndexWriterOptions } from '../../src/apps/index-writer.js';
import { parseShard, shardOf } from '../../src/apps/shard.js';

const tmp = mkdtempSync(join(tmpdir(), 'index-writer-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const D = 4;
const opts: IndexWriterOptions = {
  model: { id: 'm', revision: null, fingerprint: 'f'.repeat(64) },
  dim: D,
  dtype: 'f32',
  preprocessing: { size: 8 },
  shard: null,
  shardRows: 3,
};
const row = (v: number) => Float32Array.from({ length: D }, (_, i) => v + i / 10);
const meta = (path: string, size = 1) => ({ path, size, mtime: 1, width: 2, height: 3 });
let n = 0;
const fresh = () => join(tmp, `i${n++}`);

async function contents(dir: string): Promise<Record<string, number>> {
  const r = await IndexReader.open([dir]);
  return Object.fromEntries([...(await r.toMap())].map(([p, e]) => [p, e.embedding[0]!]));
}

describe('IndexWriter', () => {
  test('shards rotate at shardRows; a reader sees every committed row', async () => {
    const dir = fresh();
    const w = await IndexWriter.open(dir, opts);
    for (let i = 0; i < 7; i++) await w.append(row(i), [meta(`/p/${i}`)]);
    const idx = await w.close();
    expect(idx.shards.map((s) => s.rows)).toEqual([3, 3, 1]);
    expect(idx.count).toBe(7);
    expect(await contents(dir)).toEqual(Object.fromEntries(Array.from({ length: 7 }, (_, i) => [`/p/${i}`, Math.fround(i)])));
  });

  test('a killed run: the torn journal is cut back to whole rows and resumed; orphans and temp files go', async () => {
    const dir = fresh();
    const w = await IndexWriter.open(dir, opts);
    for (let i = 0; i < 5; i++) await w.append(row(i), [meta(`/p/${i}`)]); // shard-00000 committed, 2 rows in the journal
    await w.abandon(); // as if killed: journal left as it is
    const j = join(dir, '.journal');
    appendFileSync(join(j, 'rows.bin'), new Uint8Array(D * 4 + 5)); // a row without metadata, plus a torn row
    appendFileSync(join(j, 'meta.jsonl'), '{"row":2,"path":"/p/torn"'); // a torn metadata line
    writeFileSync(join(dir, 'shard-00001.npy'), 'half-written'); // an interrupted finish of the journal
    writeFileSync(join(dir, 'shard-00000.npy.123.tmp'), 'x');
    const w2 = await IndexWriter.open(dir, opts);
    expect(w2.count).toBe(5);
    expect(w2.known('/p/4')).toEqual(expect.objectContaining({ size: 1, mtime: 1 }));
    expect(w2.known('/p/torn')).toBeUndefined();
    await w2.append(row(5), [meta('/p/5')]);
    await w2.close();
    expect(Object.keys(await contents(dir)).sort()).toEqual(['/p/0', '/p/1', '/p/2', '/p/3', '/p/4', '/p/5']);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp') || f === '.journal')).toEqual([]);
  });

  test('a journal that was committed before the crash is dropped, not added twice', async () => {
    const dir = fresh();
    const w = await IndexWriter.open(dir, { ...opts, shardRows: 100 });
    await w.append(row(1), [meta('/a')]);
    const saved = join(tmp, 'saved-journal');
    rmSync(saved, { recursive: true, force: true });
    spawnSync('cp', ['-r', join(dir, '.journal'), saved]);
    await w.close(); // journal → shard-00000, index.json committed, journal removed
    spawnSync('cp', ['-r', saved, join(dir, '.journal')]); // as if killed between the commit and the removal
    const w2 = await IndexWriter.open(dir, { ...opts, shardRows: 100 });
    expect(w2.count).toBe(1);
    const idx = await w2.close();
    expect(idx.count).toBe(1);
    expect(idx.shards).toEqual([{ name: 'shard-00000', rows: 1 }]);
  });

  test('a changed file supersedes its old row; closing rewrites the shards so none is left', async () => {
    const dir = fresh();
    const w = await IndexWriter.open(dir, opts);
    for (let i = 0; i < 4; i++) await w.append(row(i), [meta(`/p/${i}`)]);
    await w.close();
    const w2 = await IndexWriter.open(dir, opts);
    await w2.append(row(10), [meta('/p/1', 99)]);
    expect(w2.committed.count).toBe(4);
    const idx = await w2.close();
    expect(idx.superseded).toBe(0);
    expect(idx.count).toBe(4);
    expect(idx.shards.reduce((a, s) => a + s.rows, 0)).toBe(4);
    expect((await contents(dir))['/p/1']).toBe(10);
  });

  test('a resume with another model, dtype or shard is refused, naming the difference', async () => {
    const dir = fresh();
    await (await IndexWriter.open(dir, opts)).close();
    await expect(IndexWriter.open(dir, { ...opts, dtype: 'f16' })).rejects.toThrow(/--dtype "float32"; this run has "float16"/);
    await expect(IndexWriter.open(dir, { ...opts, model: { ...opts.model, fingerprint: 'e'.repeat(64) } })).rejects.toThrow(/indexed with model/);
    await expect(IndexWriter.open(dir, { ...opts, shard: { index: 0, count: 2 } })).rejects.toThrow(/--shard "none"; this run has "0\/2"/);
    const foreign = fresh();
    mkdirSync(foreign);
    writeFileSync(join(foreign, 'holiday.jpg'), 'x');
    await expect(IndexWriter.open(foreign, opts)).rejects.toThrow(/not empty and holds no index\.json \(found holiday\.jpg\)/);
  });

  test('one writer per folder; a lock whose process died on this host is taken over at once', async () => {
    const dir = fresh();
    const w = await IndexWriter.open(dir, opts);
    await expect(IndexWriter.open(dir, opts)).rejects.toThrow(new RegExp(`being written by another index run \\(pid ${process.pid} on `));
    await w.close();
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    const lock = await lockIndexDir(dir); // a lock …
    writeFileSync(join(dir, '.owner.json'), JSON.stringify({ pid: Number(dead), host: hostname(), started: 'then' })); // … of a dead process
    const w2 = await IndexWriter.open(dir, opts);
    expect(existsSync(join(dir, '.lock'))).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, '.owner.json'), 'utf8')).pid).toBe(process.pid);
    await w2.close();
    void lock;
  });

  test('--shard i/n: parsed strictly; a stable, balanced split', () => {
    expect(parseShard('2/5')).toEqual({ index: 2, count: 5 });
    for (const bad of ['5/5', '1', 'a/b', '-1/3', '0/0']) expect(() => parseShard(bad), bad).toThrow(/--shard/);
    expect(shardOf('a/b.jpg', 7)).toBe(shardOf('a/b.jpg', 7));
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 4000; i++) counts[shardOf(`photos/${i}.jpg`, 4)]!++;
    for (const c of counts) expect(c).toBeGreaterThan(850);
    // The split must not change between versions or machines (sha256 of the key, first 8 bytes, mod n).
    // Expected values from Python: int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], 'big') % 1000
    expect([shardOf('x.jpg', 1000), shardOf('dir/y.png', 1000)]).toEqual([496, 104]);
  });
});
