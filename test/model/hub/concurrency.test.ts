// Several processes (and threads) loading one model into one empty hub cache at the same time: all succeed with the
// numbers of a single run, each file is fetched from the hub once, a process killed mid-download is resumed by the
// next one, and a lock left behind is taken over after a bounded time — never a hang.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Worker } from 'node:worker_threads';
import { build } from 'esbuild';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openModelSource } from '../../../src/model/hub/index.js';
import { cli, ROOT, spawnCli } from '../../cli/helpers.js';
import { clearHfEnv, startMockHub, type MockHub, type Fault } from '../../helpers/mock-hub.js';

const FIX = 'test/fixtures/siglip-tiny';
const CATS = 'test/fixtures/images/cats.png';
const WEIGHTS = 'model.safetensors';
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const EMBED = ['embed', '--image', CATS, '--text', 'a photo of 2 cats', '--model', 'org/tiny', '--json'];

let root: string;
let cacheDir: string;
let hub: MockHub;
let restoreEnv: () => void;
let weightsSha: string;

beforeEach(async () => {
  restoreEnv = clearHfEnv();
  root = await mkdtemp(join(tmpdir(), 'hub-conc-'));
  cacheDir = join(root, 'cache');
  weightsSha = sha256(await readFile(join(FIX, WEIGHTS)));
});
afterEach(async () => {
  restoreEnv();
  await hub?.close();
  await rm(root, { recursive: true, force: true });
});

const env = (extra: Record<string, string> = {}) => ({
  HF_ENDPOINT: hub.endpoint,
  HF_HUB_CACHE: cacheDir,
  HF_HOME: join(root, 'hf'),
  HF_HUB_OFFLINE: undefined,
  HF_TOKEN: undefined,
  ...extra,
});

/** Slow answers, so that the downloads of concurrent processes overlap in time (as over a real network). */
const slow = (chunkBytes: number, chunkDelayMs: number): Fault => ({ chunkBytes, chunkDelayMs });

/** GET requests by URL: the hub's /resolve/ URL of each file (LFS files answer it with a redirect) and the CDN's
 *  /cdn/<sha256> of each LFS file. */
function getsByUrl(): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of hub.requests.filter((x) => x.method === 'GET')) m.set(r.url, (m.get(r.url) ?? 0) + 1);
  return m;
}

/** Files left in the cache besides blobs, snapshot links, refs and absent markers: partial files, temporaries, locks. */
async function leftovers(): Promise<string[]> {
  const all = await readdir(cacheDir, { recursive: true, withFileTypes: true });
  return all
    .map((e) => relative(cacheDir, join(e.parentPath, e.name)))
    .filter((p) => /\.(siglip-partial|incomplete|tmp|siglip-lock)$/.test(p));
}

/** The embeddings of one process on the local fixture: what every concurrent run must print. */
async function reference(): Promise<string> {
  const r = await cli(EMBED.map((a) => (a === 'org/tiny' ? FIX : a)));
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

describe('processes sharing one empty cache', () => {
  it('six CLI processes at once all succeed with the numbers of a single run; each file is fetched once', async () => {
    hub = await startMockHub({
      models: { 'org/tiny': FIX },
      faults: { [WEIGHTS]: slow(64 << 10, 15), 'spiece.model': slow(16 << 10, 15), 'config.json': slow(256, 5) },
    });
    const want = await reference();
    const runs = await Promise.all(Array.from({ length: 6 }, () => cli(EMBED, env())));
    for (const r of runs) {
      expect(r.stderr).not.toMatch(/ENOENT|EEXIST/);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(want);
    }
    const gets = getsByUrl();
    expect(gets.get(`/cdn/${weightsSha}`)).toBe(1);
    expect([...gets.values()].every((n) => n === 1), JSON.stringify([...gets])).toBe(true);
    expect(await leftovers()).toEqual([]);
    // And the cache is whole: an offline run works.
    const offline = await cli(EMBED, env({ HF_HUB_OFFLINE: '1' }));
    expect(offline.stdout).toBe(want);
  });

  it('a process killed mid-download: the next ones take its lock over after the stale time and resume its bytes', async () => {
    hub = await startMockHub({ models: { 'org/tiny': FIX }, faults: { [WEIGHTS]: slow(32 << 10, 100) } });
    const want = await reference();
    const staleEnv = env({ SIGLIP_WEBGPU_LOCK_STALE: '2' });
    const victim = await spawnCli(EMBED, staleEnv);
    const partial = join(cacheDir, 'models--org--tiny', 'blobs', `${weightsSha}.siglip-partial`);
    const lock = join(cacheDir, '.locks', 'models--org--tiny', `${weightsSha}.siglip-lock`);
    const deadline = Date.now() + 60_000;
    while (((await stat(partial).catch(() => undefined))?.size ?? 0) < 100_000) {
      if (Date.now() > deadline) throw new Error('the first process never got 100 kB into the download');
      await new Promise((r) => setTimeout(r, 50));
    }
    victim.kill('SIGKILL');
    await new Promise((r) => victim.once('exit', r));
    const kept = (await stat(partial)).size;
    expect((await stat(lock)).isDirectory()).toBe(true); // left behind: nothing ran at SIGKILL
    hub.setFault(WEIGHTS, undefined);
    hub.requests.length = 0;

    const t0 = Date.now();
    const runs = await Promise.all(Array.from({ length: 3 }, () => cli(EMBED, staleEnv)));
    const seconds = (Date.now() - t0) / 1000;
    for (const r of runs) {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(want);
    }
    const weightGets = hub.requests.filter((r) => r.method === 'GET' && r.url.endsWith(weightsSha));
    expect(weightGets).toHaveLength(1);
    const from = Number(/^bytes=(\d+)-$/.exec(weightGets[0]!.range ?? '')?.[1]);
    expect(from).toBeGreaterThanOrEqual(100_000);
    expect(from).toBeLessThanOrEqual(kept);
    expect(seconds).toBeLessThan(30); // the lock was taken over after ~2 s, not waited on forever
    expect(await leftovers()).toEqual([]);
  });

  it('a stale lock planted in the cache (and huggingface_hub lock files) do not block a load', async () => {
    hub = await startMockHub({ models: { 'org/tiny': FIX } });
    const locks = join(cacheDir, '.locks', 'models--org--tiny');
    await mkdir(join(locks, `${weightsSha}.siglip-lock`), { recursive: true });
    const hourAgo = new Date(Date.now() - 3_600_000);
    await utimes(join(locks, `${weightsSha}.siglip-lock`), hourAgo, hourAgo);
    await writeFile(join(locks, `${weightsSha}.lock`), ''); // what Python's filelock leaves behind
    const t0 = Date.now();
    const src = await openModelSource('org/tiny', { endpoint: hub.endpoint, cacheDir });
    expect(sha256(await src.read(WEIGHTS))).toBe(weightsSha);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(await leftovers()).toEqual([]);
  });

  it('worker threads and promises in several threads: one download per file, the same bytes everywhere', async () => {
    hub = await startMockHub({ models: { 'org/tiny': FIX }, faults: { [WEIGHTS]: slow(64 << 10, 10) } });
    const script = join(ROOT, 'node_modules', '.cache', `load-files-worker-${process.pid}.mjs`);
    await build({ entryPoints: [join(import.meta.dirname, 'load-files-worker.ts')], outfile: script, bundle: true, format: 'esm', platform: 'node', packages: 'external', logLevel: 'silent' });
    const files = ['config.json', WEIGHTS, 'spiece.model'];
    const workerData = { endpoint: hub.endpoint, cacheDir, files };
    const inThreads = Array.from(
      { length: 4 },
      () =>
        new Promise<{ ok?: Record<string, string>; error?: string }>((resolve, reject) => {
          const w = new Worker(script, { workerData });
          w.once('message', (m) => void w.terminate().then(() => resolve(m)));
          w.once('error', reject);
        }),
    );
    const here = (async () => {
      const src = await openModelSource('org/tiny', { endpoint: hub.endpoint, cacheDir });
      return Promise.all(files.map(async (f) => sha256(await src.read(f))));
    })();
    const results = await Promise.all(inThreads);
    const mine = await here;
    const want = await Promise.all(files.map(async (f) => sha256(await readFile(join(FIX, f)))));
    expect(mine).toEqual(want);
    for (const r of results) {
      expect(r.error).toBeUndefined();
      expect(files.map((f) => r.ok![f])).toEqual(want);
    }
    expect(getsByUrl().get(`/cdn/${weightsSha}`)).toBe(1);
    expect([...getsByUrl().values()].every((n) => n === 1), JSON.stringify([...getsByUrl()])).toBe(true);
    expect(await leftovers()).toEqual([]);
  });
});
