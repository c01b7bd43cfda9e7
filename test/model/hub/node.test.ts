// The hub in Node against the mock hub: huggingface_hub's cache layout, no network once cached, offline mode,
// clear errors, tokens, and a cache written "by Python".
import { createHash } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openModelSource } from '../../../src/model/hub/index.js';
import { clearHfEnv, MOCK_COMMIT, startMockHub, type MockHub } from '../../helpers/mock-hub.js';

const FIX = 'test/fixtures/siglip-tiny';
const REPO_DIR = 'models--org--tiny';
const fixture = async (name: string) => new Uint8Array(await readFile(join(FIX, name)));
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
/** Byte equality without vitest's element-by-element diff (slow on large arrays). */
const expectBytes = (got: Uint8Array, want: Uint8Array) =>
  expect({ length: got.byteLength, sha256: sha256(got) }).toEqual({ length: want.byteLength, sha256: sha256(want) });
const gitSha1 = (b: Uint8Array) => createHash('sha1').update(`blob ${b.byteLength}\0`).update(b).digest('hex');

let hub: MockHub;
let cacheDir: string;
let restoreEnv: () => void;

beforeEach(async () => {
  restoreEnv = clearHfEnv();
  hub = await startMockHub({ models: { 'org/tiny': FIX } });
  cacheDir = await mkdtemp(join(tmpdir(), 'hub-cache-'));
});
afterEach(async () => {
  restoreEnv();
  await hub.close();
  await rm(cacheDir, { recursive: true, force: true });
});

/** What a model load asks for, in the order a loader would. */
async function loadLike(ref = 'org/tiny', opts: Parameters<typeof openModelSource>[1] = {}) {
  const src = await openModelSource(ref, { endpoint: hub.endpoint, cacheDir, ...opts });
  return {
    src,
    config: await src.read('config.json'),
    hasIndex: await src.has('model.safetensors.index.json'),
    header: await src.read('model.safetensors', 0, 8),
    weightsSize: await src.size('model.safetensors'),
    spiece: await src.read('spiece.model'),
  };
}

describe('hub → huggingface_hub cache', () => {
  it('first load downloads only what is asked for, in the exact layout; the second makes no request', async () => {
    const first = await loadLike();
    expectBytes(first.config, await fixture('config.json'));
    expect(first.hasIndex).toBe(false);
    expect(first.header).toEqual((await fixture('model.safetensors')).subarray(0, 8));
    expect(first.weightsSize).toBe((await fixture('model.safetensors')).byteLength);
    expectBytes(first.spiece, await fixture('spiece.model'));

    const repo = join(cacheDir, REPO_DIR);
    expect(await readFile(join(repo, 'refs', 'main'), 'utf8')).toBe(MOCK_COMMIT);
    const snap = join(repo, 'snapshots', MOCK_COMMIT);
    expect((await readdir(snap)).sort()).toEqual(['config.json', 'model.safetensors', 'spiece.model']);
    // Small file: blob named by git sha1; LFS files: by sha256. Links are relative, as Python makes them.
    expect((await lstat(join(snap, 'config.json'))).isSymbolicLink()).toBe(true);
    expect(await readlink(join(snap, 'config.json'))).toBe(`../../blobs/${gitSha1(await fixture('config.json'))}`);
    expect(await readlink(join(snap, 'model.safetensors'))).toBe(`../../blobs/${sha256(await fixture('model.safetensors'))}`);
    expect((await readdir(join(repo, 'blobs'))).every((b) => !b.endsWith('.incomplete'))).toBe(true);
    expect((await lstat(join(repo, '.no_exist', MOCK_COMMIT, 'model.safetensors.index.json'))).isFile()).toBe(true);

    // The first HEAD names the branch; once the commit is known every request names it.
    expect(hub.requests[0]).toMatchObject({ method: 'HEAD', url: '/org/tiny/resolve/main/config.json' });
    expect(hub.requests.slice(1).filter((r) => r.url.includes('/resolve/main/'))).toEqual([]);
    expect(hub.requests.some((r) => r.url.includes('preprocessor_config'))).toBe(false);
    // HEAD did not follow the CDN redirect (the X-Linked-* headers are on the hub's 302).
    expect(hub.requests.filter((r) => r.method === 'HEAD' && r.url.startsWith('/cdn/'))).toEqual([]);

    hub.requests.length = 0;
    const second = await loadLike();
    expect(hub.requests).toEqual([]);
    expectBytes(second.spiece, first.spiece);
    expect(second.src.locate('config.json')).toBe(join(snap, 'config.json'));
  });

  it('HF_HUB_OFFLINE=1 loads from the cache with the hub down, and says so for files not cached', async () => {
    await loadLike();
    await hub.close();
    process.env.HF_HUB_OFFLINE = '1';
    const again = await loadLike();
    expectBytes(again.config, await fixture('config.json'));
    expect(await again.src.has('preprocessor_config.json')).toBe(false);
    await expect(again.src.read('preprocessor_config.json')).rejects.toThrow(/preprocessor_config\.json: not in the cache .*offline/);
  });

  it('offline with nothing cached: a clear error', async () => {
    const src = await openModelSource('org/tiny', { endpoint: hub.endpoint, cacheDir, offline: true });
    await expect(src.read('config.json')).rejects.toThrow(/offline mode is on.*nothing for org\/tiny is cached.*--model DIR/s);
    expect(hub.requests).toEqual([]);
  });

  it('hub unreachable with an empty cache: the error names the endpoint, the repo, the cache and --model DIR', async () => {
    await hub.close();
    const src = await openModelSource('org/tiny', { endpoint: hub.endpoint, cacheDir });
    for (const attempt of [() => src.has('config.json'), () => src.read('config.json')]) {
      const err = (await attempt().catch((e: Error) => e)) as Error;
      expect(err).toBeInstanceOf(Error);
      expect(err.message).toContain(`hub at ${hub.endpoint} could not be reached`);
      expect(err.message).toContain(`nothing for org/tiny is cached in ${cacheDir}`);
      expect(err.message).toContain('--model DIR');
    }
  });

  it('hub unreachable with the revision cached: cached files load, others fail naming the file', async () => {
    await loadLike();
    await hub.close();
    const again = await loadLike();
    expectBytes(again.spiece, await fixture('spiece.model'));
    await expect(again.src.read('tokenizer_config.json')).rejects.toThrow(/tokenizer_config\.json: not in the cache .*could not be reached/);
  });

  it('a missing file: has() is false, recorded in .no_exist, and read() names it', async () => {
    const src = await openModelSource('org/tiny', { endpoint: hub.endpoint, cacheDir });
    expect(await src.has('model.safetensors.index.json')).toBe(false);
    expect((await lstat(join(cacheDir, REPO_DIR, '.no_exist', MOCK_COMMIT, 'model.safetensors.index.json'))).isFile()).toBe(true);
    expect(await readFile(join(cacheDir, REPO_DIR, 'refs', 'main'), 'utf8')).toBe(MOCK_COMMIT);
    await expect(src.read('nope.bin')).rejects.toThrow(/nope\.bin: no such file in org\/tiny/);
    expect(await src.has('config.json')).toBe(true);
  });

  it('unknown revision and unknown repository are errors, not missing files', async () => {
    const bad = await openModelSource('org/tiny@v9', { endpoint: hub.endpoint, cacheDir });
    await expect(bad.has('config.json')).rejects.toThrow(/RevisionNotFound/);
    const none = await openModelSource('org/none', { endpoint: hub.endpoint, cacheDir });
    await expect(none.read('config.json')).rejects.toThrow(/RepoNotFound/);
  });

  it('a revision that is a commit hash uses snapshots/<commit> and writes no ref', async () => {
    await loadLike(`org/tiny@${MOCK_COMMIT}`);
    expect(hub.requests.every((r) => !r.url.includes('/resolve/main/'))).toBe(true);
    await expect(readdir(join(cacheDir, REPO_DIR, 'refs'))).rejects.toThrow();
    hub.requests.length = 0;
    await loadLike(`org/tiny@${MOCK_COMMIT}`);
    expect(hub.requests).toEqual([]);
  });

  it('works without the CDN redirect too (LFS metadata on a 200)', async () => {
    await hub.close();
    hub = await startMockHub({ models: { 'org/tiny': FIX }, redirectLfs: false });
    const { spiece } = await loadLike();
    expectBytes(spiece, await fixture('spiece.model'));
  });

  it('concurrent reads of one file download it once', async () => {
    const src = await openModelSource('org/tiny', { endpoint: hub.endpoint, cacheDir });
    const reads = await Promise.all([0, 1, 2, 3].map((i) => src.read('model.safetensors', i * 100, i * 100 + 50)));
    const full = await fixture('model.safetensors');
    reads.forEach((r, i) => expectBytes(r, full.subarray(i * 100, i * 100 + 50)));
    expect(hub.requests.filter((r) => r.method === 'GET' && r.url.startsWith('/cdn/'))).toHaveLength(1);
  });

  it('progress events count up to the size and end with done', async () => {
    const events: { file: string; loaded: number; total?: number; done: boolean }[] = [];
    const src = await openModelSource('org/tiny', { endpoint: hub.endpoint, cacheDir, onProgress: (p) => events.push(p) });
    await src.size('model.safetensors');
    const size = (await fixture('model.safetensors')).byteLength;
    const mine = events.filter((e) => e.file === 'model.safetensors');
    expect(mine.at(-1)).toEqual({ file: 'model.safetensors', loaded: size, total: size, done: true });
    expect(mine.slice(0, -1).every((e) => !e.done && e.total === size)).toBe(true);
    mine.forEach((e, i) => i > 0 && expect(e.loaded).toBeGreaterThanOrEqual(mine[i - 1]!.loaded));
  });
});

describe('tokens', () => {
  beforeEach(async () => {
    await hub.close();
    hub = await startMockHub({ models: { 'org/tiny': FIX }, token: 'hf_secret' });
  });

  it('sends HF_TOKEN as a Bearer token', async () => {
    process.env.HF_TOKEN = 'hf_secret';
    const { config } = await loadLike();
    expectBytes(config, await fixture('config.json'));
    const resolves = hub.requests.filter((r) => r.url.includes('/resolve/'));
    expect(resolves.length).toBeGreaterThan(0);
    expect(resolves.every((r) => r.authorization === 'Bearer hf_secret')).toBe(true);
    // The token stays on the hub: the CDN (another host) gets signed URLs, not credentials.
    const cdn = hub.requests.filter((r) => r.url.startsWith('/cdn/'));
    expect(cdn.length).toBeGreaterThan(0);
    expect(cdn.filter((r) => r.authorization)).toEqual([]);
  });

  it('reads the token file ($HF_HOME/token)', async () => {
    process.env.HF_HOME = cacheDir;
    await writeFile(join(cacheDir, 'token'), 'hf_secret\n');
    const src = await openModelSource('org/tiny', { endpoint: hub.endpoint, cacheDir });
    expect(await src.has('config.json')).toBe(true);
  });

  it('without a token: an error that says to set HF_TOKEN', async () => {
    const src = await openModelSource('org/tiny', { endpoint: hub.endpoint, cacheDir });
    await expect(src.has('config.json')).rejects.toThrow(/HTTP 401.*HF_TOKEN/s);
  });
});

describe('a cache made by huggingface_hub (Python)', () => {
  /** Writes the layout by hand, as `hf_hub_download` leaves it. */
  async function pythonCache(files: string[], absent: string[] = [], hubCache = cacheDir) {
    const repo = join(hubCache, REPO_DIR);
    await mkdir(join(repo, 'refs'), { recursive: true });
    await writeFile(join(repo, 'refs', 'main'), MOCK_COMMIT);
    await mkdir(join(repo, 'blobs'), { recursive: true });
    await mkdir(join(repo, 'snapshots', MOCK_COMMIT), { recursive: true });
    for (const f of files) {
      const bytes = await fixture(f);
      const etag = bytes.byteLength > 64 * 1024 ? sha256(bytes) : gitSha1(bytes);
      await writeFile(join(repo, 'blobs', etag), bytes);
      await symlink(`../../blobs/${etag}`, join(repo, 'snapshots', MOCK_COMMIT, f));
    }
    for (const f of absent) {
      await mkdir(join(repo, '.no_exist', MOCK_COMMIT), { recursive: true });
      await writeFile(join(repo, '.no_exist', MOCK_COMMIT, f), '');
    }
  }

  it('is used with no network', async () => {
    await pythonCache(['config.json', 'model.safetensors', 'spiece.model'], ['model.safetensors.index.json']);
    const { config, hasIndex, spiece } = await loadLike();
    expect(hub.requests).toEqual([]);
    expectBytes(config, await fixture('config.json'));
    expect(hasIndex).toBe(false);
    expectBytes(spiece, await fixture('spiece.model'));
  });

  it('is found through HF_HOME, and a missing file is added to the same snapshot', async () => {
    const hubCache = join(cacheDir, 'hub');
    await pythonCache(['config.json'], [], hubCache);
    process.env.HF_HOME = cacheDir;
    const src = await openModelSource('org/tiny', { endpoint: hub.endpoint });
    expectBytes(await src.read('config.json'), await fixture('config.json'));
    expect(hub.requests).toEqual([]);
    expectBytes(await src.read('tokenizer_config.json'), await fixture('tokenizer_config.json'));
    expect(hub.requests.map((r) => r.url)).toContain(`/org/tiny/resolve/${MOCK_COMMIT}/tokenizer_config.json`);
    expect((await lstat(join(hubCache, REPO_DIR, 'snapshots', MOCK_COMMIT, 'tokenizer_config.json'))).isSymbolicLink()).toBe(true);
  });
});
