/**
 * `index` and `search` as a user runs them (the built CLI, real files, the tiny fixture model on the adapter):
 * rows equal `embed`'s output, bad files are skipped with reasons, re-runs resume, a run killed mid-way resumes to
 * the same index as an uninterrupted run, a --shard split's union is the whole, two runs on one folder are refused,
 * and search scores are the dot products of the query with the rows.
 */
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { IndexReader } from '../../src/apps/index-reader.js';
import { lockIndexDir } from '../../src/apps/index-lock.js';
import { buildCli, cli, copyCorpus, FIXTURES, maxAbsDiff, spawnCli, TINY } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'index-cli-'));
const photos = join(tmp, 'photos');
let corpus: string[] = [];
const bad: Record<string, RegExp> = {};

beforeAll(async () => {
  await buildCli();
  corpus = copyCorpus(photos, 24);
  const b = join(photos, 'bad');
  mkdirSync(b);
  writeFileSync(join(b, 'empty.png'), '');
  writeFileSync(join(b, 'truncated.png'), readFileSync(join(FIXTURES, 'images', 'noise_80x60.png')).subarray(0, 300));
  writeFileSync(join(b, 'text.jpg'), 'this is not a JPEG at all\n');
  copyFileSync(join(FIXTURES, 'preprocess', 'generated', 'inputs', 'other.ico'), join(b, 'icon.gif')); // an ICO named .gif: a format we do not read
  copyFileSync(join(FIXTURES, 'images', 'cats.png'), join(b, 'large.png')); // 640×480, over --max-pixels below
  Object.assign(bad, {
    'empty.png': /empty input \(0 bytes\)/,
    'truncated.png': /PNG/i,
    'text.jpg': /not an image we can read/,
    'icon.gif': /ICO images are not supported/,
    'large.png': /above the limit of 100000/,
  });
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const index = (args: string[]) => cli(['index', ...args, '--model', TINY, '--max-pixels', '100000', '--json', '--progress-interval', '0']);
const json = (s: string) => JSON.parse(s.trim().split('\n').at(-1)!) as Record<string, number>;

async function embedImages(paths: string[]): Promise<number[][]> {
  const r = await cli(['embed', '--model', TINY, ...paths.flatMap((p) => ['--image', p]), '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout).image_embeds as number[][];
}

async function rowsOf(dirs: string[]): Promise<Map<string, Float32Array>> {
  const r = await IndexReader.open(dirs);
  return new Map([...(await r.toMap())].map(([p, e]) => [p, e.embedding]));
}

function expectSameIndex(a: Map<string, Float32Array>, b: Map<string, Float32Array>): void {
  expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
  for (const [p, e] of a) expect(maxAbsDiff(e, b.get(p)!), p).toBeLessThanOrEqual(1e-6);
}

describe('index', () => {
  let whole = new Map<string, Float32Array>();

  test('embeds a folder tree: rows equal embed, bad files skipped with reasons, numpy reads the shards', async () => {
    const out = join(tmp, 'whole');
    const r = await index([photos, '--out', out, '--batch', '3', '--workers', '2', '--shard-rows', '10']);
    expect(r.code, r.stderr).toBe(0);
    expect(json(r.stdout)).toMatchObject({ found: 29, embedded: 24, errors: 5, unchanged: 0, count: 24 });
    expect(r.stderr).toMatch(/index: 29\/29 files \([\d.]+ files\/s, 5 errors/); // plain progress lines off a terminal
    const errors = readFileSync(join(out, 'errors.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { path: string; error: string; size: number });
    expect(errors.map((e) => e.path.split('/').pop()).sort()).toEqual(Object.keys(bad).sort());
    for (const e of errors) expect(e.error, e.path).toMatch(bad[e.path.split('/').pop()!]!);

    whole = await rowsOf([out]);
    expect([...whole.keys()].sort()).toEqual([...corpus].sort());
    const some = corpus.filter((_, i) => i % 5 === 0);
    const ref = await embedImages(some);
    some.forEach((p, i) => expect(maxAbsDiff(whole.get(p)!, ref[i]!), p).toBeLessThanOrEqual(1e-6));

    const idx = JSON.parse(readFileSync(join(out, 'index.json'), 'utf8'));
    expect(idx).toMatchObject({ dim: 64, dtype: 'float32', count: 24, superseded: 0, model: { id: TINY } });
    expect(idx.shards.map((s: { rows: number }) => s.rows)).toEqual([10, 10, 4]);
    const py = execFileSync('python3', ['-c', [
      'import numpy as np, json, sys',
      'a = np.concatenate([np.load(f"{sys.argv[1]}/{s[\'name\']}.npy") for s in json.load(open(sys.argv[1] + "/index.json"))["shards"]])',
      'print(json.dumps([list(a.shape), str(a.dtype), float(np.abs(np.linalg.norm(a, axis=1) - 1).max())]))',
    ].join('\n'), out], { encoding: 'utf8' });
    const [shape, dtype, normErr] = JSON.parse(py) as [number[], string, number];
    expect(shape).toEqual([24, 64]);
    expect(dtype).toBe('float32');
    expect(normErr).toBeLessThan(1e-6);
  });

  test('re-runs skip unchanged files, embed new and changed ones, and retry nothing that failed unchanged', async () => {
    const out = join(tmp, 'resume');
    cpSync(join(tmp, 'whole'), out, { recursive: true });
    const again = await index([photos, '--out', out]);
    expect(json(again.stdout)).toMatchObject({ embedded: 0, unchanged: 24, knownErrors: 5, errors: 0, count: 24 });
    const changed = corpus[3]!;
    copyFileSync(corpus[7]!, changed); // new content …
    utimesSync(changed, new Date(), new Date(Date.now() + 5000)); // … and mtime
    const added = join(photos, 'b', 'added.png');
    copyFileSync(join(FIXTURES, 'images', 'noise_80x60.png'), added);
    try {
      const r = await index([photos, '--out', out]);
      expect(json(r.stdout)).toMatchObject({ embedded: 2, unchanged: 23, count: 25 });
      const rows = await rowsOf([out]);
      const [c, a] = await embedImages([changed, added]);
      expect(maxAbsDiff(rows.get(changed)!, c!)).toBeLessThanOrEqual(1e-6);
      expect(maxAbsDiff(rows.get(added)!, a!)).toBeLessThanOrEqual(1e-6);
      expect(JSON.parse(readFileSync(join(out, 'index.json'), 'utf8'))).toMatchObject({ count: 25, superseded: 0 });
    } finally {
      copyFileSync(corpus[3]!.replace(/.*\//, join(FIXTURES, 'preprocess', 'generated', 'inputs') + '/'), changed);
      rmSync(added);
    }
  });

  test('float16 shards: within f16 rounding of the float32 rows', async () => {
    const out = join(tmp, 'f16');
    const r = await index([photos, '--out', out, '--dtype', 'f16']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'index.json'), 'utf8')).dtype).toBe('float16');
    const rows = await rowsOf([out]);
    for (const [p, e] of rows) expect(maxAbsDiff(e, whole.get(p)!), p).toBeLessThanOrEqual(2 ** -11);
  });

  test('file lists (a file, or - for standard input): one path a line; missing entries recorded, not fatal', async () => {
    const list = join(tmp, 'list.txt');
    writeFileSync(list, [corpus[0], '', corpus[1], join(tmp, 'gone.png'), corpus[0]].join('\n') + '\r\n');
    const r = await index([list, '--out', join(tmp, 'from-list')]);
    expect(r.code, r.stderr).toBe(0);
    expect(json(r.stdout)).toMatchObject({ embedded: 2, errors: 1, count: 2 });
    expect(readFileSync(join(tmp, 'from-list', 'errors.jsonl'), 'utf8')).toMatch(/gone\.png","size":null,"mtime":null,"error":"listed in .*list\.txt line 4: no such file"/);
    const stdin = await cli(['index', '-', '--out', join(tmp, 'from-stdin'), '--model', TINY, '--json'], { input: `${corpus[2]}\n${corpus[3]}\n` });
    expect(stdin.code, stdin.stderr).toBe(0);
    expect(json(stdin.stdout)).toMatchObject({ embedded: 2, count: 2 });
    const rows = await rowsOf([join(tmp, 'from-list'), join(tmp, 'from-stdin')]);
    for (const p of corpus.slice(0, 4)) expect(maxAbsDiff(rows.get(p)!, whole.get(p)!), p).toBeLessThanOrEqual(1e-6);
  });

  test('two runs on one output folder: the second is refused and names the first', async () => {
    const out = join(tmp, 'locked');
    mkdirSync(out);
    const lock = await lockIndexDir(out);
    writeFileSync(join(out, '.owner.json'), JSON.stringify({ pid: process.pid, host: (await import('node:os')).hostname(), started: 'now' }));
    try {
      const r = await index([photos, '--out', out]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`${out} is being written by another index run \\(pid ${process.pid} on .*\\); two runs on one output directory are refused`));
    } finally {
      await lock.release();
    }
  });

  test('killed mid-run (SIGKILL), then resumed: the same index as an uninterrupted run', async () => {
    const big = join(tmp, 'big');
    for (let k = 0; k < 5; k++) cpSync(photos, join(big, `copy${k}`), { recursive: true });
    const args = (out: string) => ['index', big, '--out', out, '--model', TINY, '--max-pixels', '100000', '--batch', '2', '--shard-rows', '7', '--workers', '1', '--progress-interval', '0'];
    const killed = join(tmp, 'killed');
    const child = await spawnCli(args(killed));
    let err = '';
    let reported = 0; // embedded files reported done before the kill: all must survive it
    await new Promise<void>((resolve, reject) => {
      child.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
        const lines = [...err.matchAll(/index: (\d+)\/\d+ files \([\d.]+ files\/s, (\d+) errors/g)];
        reported = lines.length ? Number(lines.at(-1)![1]) - Number(lines.at(-1)![2]) : 0;
        if (reported >= 40 && child.exitCode === null) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.once('exit', () => reject(new Error(`index finished before it could be killed:\n${err}`)));
    });
    await new Promise((r) => child.once('exit', r));
    const partial = await IndexReader.open([killed]); // whatever was committed reads whole
    expect(partial.count).toBeGreaterThan(0);
    expect(partial.count).toBeLessThan(120);

    const resumed = await cli(args(killed).concat('--json'));
    expect(resumed.code, resumed.stderr).toBe(0);
    const s = json(resumed.stdout);
    expect(s.unchanged).toBeGreaterThanOrEqual(reported); // at most the batch in flight was lost
    expect(s.count).toBe(120);
    const straight = join(tmp, 'straight');
    expect((await cli(args(straight))).code).toBe(0);
    expectSameIndex(await rowsOf([killed]), await rowsOf([straight]));
    const idx = JSON.parse(readFileSync(join(killed, 'index.json'), 'utf8'));
    expect(idx.shards.reduce((a: number, x: { rows: number }) => a + x.rows, 0)).toBe(120); // no row twice
  });

  test('SIGTERM: the batch in flight is finished, the index committed, exit 0; a re-run completes it', async () => {
    const big = join(tmp, 'big'); // made by the test above
    const out = join(tmp, 'terminated');
    const child = await spawnCli(['index', big, '--out', out, '--model', TINY, '--max-pixels', '100000', '--batch', '2', '--workers', '1', '--progress-interval', '0', '--json']);
    let err = '';
    let out1 = '';
    child.stdout!.on('data', (d: Buffer) => (out1 += d.toString()));
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (/index: [1-9]\d*\/\d+ files/.test(err) && !child.killed) child.kill('SIGTERM');
    });
    const code = await new Promise((r) => child.once('exit', r));
    expect(code, err).toBe(0);
    expect(err).toMatch(/SIGTERM: finishing the batch in flight, then stopping/);
    const s = json(out1);
    expect(s.stopped).toBe(true);
    expect(existsSync(join(out, '.journal'))).toBe(false); // finished into a shard
    expect(JSON.parse(readFileSync(join(out, 'index.json'), 'utf8')).count).toBe(s.count);
    const rest = await cli(['index', big, '--out', out, '--model', TINY, '--max-pixels', '100000', '--json']);
    expect(json(rest.stdout)).toMatchObject({ unchanged: s.count, count: 120 });
  });

  test('--shard i/3: three disjoint parts whose union is the whole; search reads them as one index', async () => {
    const parts = join(tmp, 'parts');
    const got: Map<string, Float32Array>[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await index([photos, '--out', parts, '--shard', `${i}/3`]);
      expect(r.code, r.stderr).toBe(0);
      got.push(await rowsOf([join(parts, `shard-${i}-of-3`)]));
    }
    expect(got.reduce((a, m) => a + m.size, 0)).toBe(24);
    for (const m of got) expect(m.size).toBeGreaterThan(0);
    expectSameIndex(new Map(got.flatMap((m) => [...m])), whole);
    expectSameIndex(await rowsOf([parts]), whole);

    const q = corpus[5]!;
    const a = await cli(['search', parts, '--image', q, '--top', '5', '--json']);
    const b = await cli(['search', join(tmp, 'whole'), '--image', q, '--top', '5', '--json']);
    expect(a.code, a.stderr).toBe(0);
    const ra = JSON.parse(a.stdout).results as { path: string; score: number }[];
    const rb = JSON.parse(b.stdout).results as { path: string; score: number }[];
    expect(ra.map((x) => x.path)).toEqual(rb.map((x) => x.path));
    expect(ra[0]!.path).toBe(q);
    expect(ra[0]!.score).toBeCloseTo(1, 5);
  });

  test('search: scores are the query·row dot products, best first; text queries get classify\'s probabilities', async () => {
    const out = join(tmp, 'whole');
    const label = 'two cats';
    const r = await cli(['search', out, '--text', `This is a photo of ${label}.`, '--top', '24', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout).results as { path: string; score: number; probability: number }[];
    expect(res).toHaveLength(24);
    const e = await cli(['embed', '--model', TINY, '--text', `This is a photo of ${label}.`, '--json']);
    const q = JSON.parse(e.stdout).text_embeds[0] as number[];
    for (const h of res) {
      const row = whole.get(h.path)!;
      const dot = q.reduce((s, v, k) => s + v * row[k]!, 0);
      expect(Math.abs(h.score - dot), h.path).toBeLessThanOrEqual(1e-5);
    }
    for (let i = 1; i < res.length; i++) expect(res[i - 1]!.score).toBeGreaterThanOrEqual(res[i]!.score);
    const top = res[0]!;
    const c = await cli(['classify', top.path, '--labels', label, '--model', TINY, '--json']);
    expect(Math.abs(JSON.parse(c.stdout)[0].scores[0].score - top.probability)).toBeLessThanOrEqual(1e-6);
    const plain = await cli(['search', out, '--image', corpus[0]!, '--top', '2']);
    expect(plain.stdout).toMatch(/24 images searched in \d+ ms on /);
    expect(plain.stdout).toContain(`1.0000  ${corpus[0]}`);
  });

  test('a NaFlex model (SigLIP 2): each photo at its own aspect ratio through the decode workers; rows equal embed', async () => {
    const naflex = join(FIXTURES, 'siglip2-naflex-tiny');
    const some = corpus.slice(0, 5);
    const list = join(tmp, 'naflex-list.txt');
    writeFileSync(list, some.join('\n') + '\n');
    const out = join(tmp, 'naflex');
    const r = await cli(['index', list, '--out', out, '--model', naflex, '--batch', '2', '--workers', '2', '--json', '--progress-interval', '0']);
    expect(r.code, r.stderr).toBe(0);
    expect(json(r.stdout)).toMatchObject({ embedded: 5, errors: 0 });
    const rows = await rowsOf([out]);
    const e = await cli(['embed', '--model', naflex, ...some.flatMap((p) => ['--image', p]), '--json']);
    expect(e.code, e.stderr).toBe(0);
    const ref = JSON.parse(e.stdout).image_embeds as number[][];
    some.forEach((p, i) => expect(maxAbsDiff(rows.get(p)!, ref[i]!), p).toBeLessThanOrEqual(1e-6));
  });

  test('bad arguments: clear messages, exit code 2', async () => {
    for (const cmd of ['index', 'search', 'serve']) {
      const h = await cli([cmd, '--help']);
      expect(h.code, cmd).toBe(0);
      expect(h.stdout).toMatch(new RegExp(`Usage: siglip-webgpu ${cmd}`));
    }
    const cases: [string[], RegExp][] = [
      [['index', photos, '--model', TINY], /required option '--out/],
      [['index', photos, '--out', join(tmp, 'x'), '--shard', '3/3', '--model', TINY], /--shard: i must be between 0 and n-1 = 2/],
      [['index', photos, '--out', join(tmp, 'x'), '--shard', 'auto', '--model', TINY], /--shard auto needs JOB_COMPLETION_INDEX/],
      [['index', photos, '--out', join(tmp, 'x'), '--workers', '-1', '--model', TINY], /--workers must be an integer/],
      [['search', join(tmp, 'whole')], /give exactly one query/],
    ];
    for (const [args, re] of cases) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(re);
    }
    const typo = await cli(['index', join(tmp, 'no-such-photos'), '--out', join(tmp, 'typo-idx'), '--model', TINY]);
    expect(typo.code).toBe(1);
    expect(typo.stderr).toMatch(/no-such-photos: no such file or folder/);
    expect(existsSync(join(tmp, 'typo-idx'))).toBe(false); // nothing left behind
    const missing = await cli(['search', join(tmp, 'nothing-here'), '--text', 'x']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/nothing-here: cannot read the index folder/);
  });
});
