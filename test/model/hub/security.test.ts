// A hostile or compromised hub (and a hostile model reference, index or cache) must not choose where this client
// writes or what it reads: every value that becomes a path is checked, and every path must stay inside the cache
// after symlinks are resolved. Each case checks the error names the value and where it came from, and that
// nothing was written — inside the cache or outside it.
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openModelSource } from '../../../src/model/hub/index.js';
import { CachedUrlSource } from '../../../src/model/hub/hub-source-browser.js';
import { UnsafeHubValueError } from '../../../src/model/hub/hub-names.js';
import { CachePathError } from '../../../src/model/hub/hub-cache-node.js';
import { UrlSource } from '../../../src/model/source.js';
import { readCheckpointIndex } from '../../../src/model/weights.js';
import { cli } from '../../cli/helpers.js';
import { clearHfEnv, MOCK_COMMIT, memoryCacheStorage, startMockHub, type MockHub } from '../../helpers/mock-hub.js';

const FIX = 'test/fixtures/siglip-tiny';
const CATS = 'test/fixtures/images/cats.png';

let root: string;
let cacheDir: string;
let outside: string;
let hub: MockHub | undefined;
let restoreEnv: () => void;

beforeEach(async () => {
  restoreEnv = clearHfEnv();
  root = await mkdtemp(join(tmpdir(), 'hub-sec-'));
  cacheDir = join(root, 'cache');
  outside = join(root, 'outside');
  await mkdir(cacheDir);
  await mkdir(outside);
});
afterEach(async () => {
  restoreEnv();
  await hub?.close();
  hub = undefined;
  await rm(root, { recursive: true, force: true });
});

/** Every file and link under `dir`, relative to it (folders only through what they hold). */
async function tree(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isDirectory()) out.push(relative(dir, join(e.parentPath, e.name)));
  }
  return out.sort();
}

/** What the root holds besides the cache and the empty "outside" folder: anything a path escape wrote. */
async function escaped(): Promise<string[]> {
  return (await readdir(root)).filter((n) => n !== 'cache' && n !== 'outside').concat((await tree(outside)).map((f) => `outside/${f}`));
}

async function hostileHub(rewrite: (file: string, h: Record<string, string>) => Record<string, string>) {
  hub = await startMockHub({ models: { 'org/tiny': FIX }, rewriteHeaders: rewrite });
  return openModelSource('org/tiny', { endpoint: hub.endpoint, cacheDir });
}

// From <cache>/models--org--tiny/blobs/, three ".." reach <root>; from snapshots/<commit>/ or refs/ as well.
const ESCAPE = '../../../escaped';
const ABSOLUTE = join(tmpdir(), `hub-sec-absolute-${process.pid}`);

describe('values from the server are checked before they become paths', () => {
  const cases: { what: string; file: string; rewrite: (h: Record<string, string>) => Record<string, string>; value: string; header: RegExp }[] = [
    { what: 'ETag of a small file', file: 'config.json', rewrite: (h) => ({ ...h, ETag: `"${ESCAPE}"` }), value: ESCAPE, header: /ETag/ },
    { what: 'X-Linked-Etag of an LFS file', file: 'model.safetensors', rewrite: (h) => ({ ...h, 'X-Linked-Etag': `"${ESCAPE}"` }), value: ESCAPE, header: /ETag/ },
    { what: 'an ETag that is a hash in another form', file: 'config.json', rewrite: (h) => ({ ...h, ETag: '"ABCDEF0123456789ABCDEF0123456789ABCDEF01"' }), value: 'ABCDEF0123456789ABCDEF0123456789ABCDEF01', header: /ETag/ },
    { what: 'X-Repo-Commit with ..', file: 'config.json', rewrite: (h) => ({ ...h, 'X-Repo-Commit': ESCAPE }), value: ESCAPE, header: /X-Repo-Commit/ },
    { what: 'X-Repo-Commit as an absolute path', file: 'config.json', rewrite: (h) => ({ ...h, 'X-Repo-Commit': ABSOLUTE }), value: ABSOLUTE, header: /X-Repo-Commit/ },
    { what: 'X-Repo-Commit "abc/../.."', file: 'config.json', rewrite: (h) => ({ ...h, 'X-Repo-Commit': 'abc/../..' }), value: 'abc/../..', header: /X-Repo-Commit/ },
    { what: 'X-Repo-Commit in capitals', file: 'config.json', rewrite: (h) => ({ ...h, 'X-Repo-Commit': MOCK_COMMIT.toUpperCase() }), value: MOCK_COMMIT.toUpperCase(), header: /X-Repo-Commit/ },
  ];
  for (const c of cases) {
    it(`${c.what}: refused with the value and the header named; nothing written anywhere`, async () => {
      const src = await hostileHub((file, h) => (file === c.file ? c.rewrite(h) : h));
      const err = await src.read(c.file).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err).toBeInstanceOf(UnsafeHubValueError);
      expect(err!.message).toContain(JSON.stringify(c.value));
      expect(err!.message).toMatch(c.header);
      expect(err!.message).toContain(`${hub!.endpoint}/org/tiny/resolve/`);
      expect(await escaped()).toEqual([]);
      expect(await tree(cacheDir)).toEqual([]);
      expect(await readdir(ABSOLUTE).catch(() => 'absent')).toBe('absent');
    });
  }

  it('the real CLI against a hostile hub: exit code 1, the value named, nothing written', async () => {
    hub = await startMockHub({ models: { 'org/tiny': FIX }, rewriteHeaders: (_f, h) => ({ ...h, 'X-Repo-Commit': ESCAPE }) });
    const r = await cli(['classify', CATS, '--labels', 'a,b', '--model', 'org/tiny'], { HF_ENDPOINT: hub.endpoint, HF_HUB_CACHE: cacheDir, HF_HOME: join(root, 'hf') });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`"${ESCAPE}" from the X-Repo-Commit header of ${hub.endpoint}/org/tiny/resolve/main/`);
    expect(await escaped()).toEqual([]);
    expect(await tree(cacheDir)).toEqual([]);
  });
});

describe('values from the user are checked before they become paths', () => {
  it('a revision with .. in the model reference: refused before any request or write', async () => {
    hub = await startMockHub({ models: { 'org/tiny': FIX } });
    await expect(openModelSource(`org/tiny@${ESCAPE}`, { endpoint: hub.endpoint, cacheDir })).rejects.toThrow(UnsafeHubValueError);
    await expect(openModelSource('org/tiny', { endpoint: hub.endpoint, cacheDir, revision: ESCAPE })).rejects.toThrow(/from the revision option/);
    expect(hub.requests).toEqual([]);
    expect(await escaped()).toEqual([]);
    expect(await tree(cacheDir)).toEqual([]);
  });

  it('the real CLI with --model org/tiny@../../../../../out: exit code 1, no refs file anywhere', async () => {
    hub = await startMockHub({ models: { 'org/tiny': FIX } });
    const r = await cli(['classify', CATS, '--labels', 'a,b', '--model', `org/tiny@${ESCAPE}`], { HF_ENDPOINT: hub.endpoint, HF_HUB_CACHE: cacheDir, HF_HOME: join(root, 'hf') });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`"${ESCAPE}" from the model reference "org/tiny@${ESCAPE}": not a valid revision`);
    expect(hub.requests).toEqual([]);
    expect(await escaped()).toEqual([]);
    expect(await tree(cacheDir)).toEqual([]);
  });
});

describe('symlinks planted in the cache that point out of it', () => {
  const repoDir = () => join(cacheDir, 'models--org--tiny');

  for (const [what, link] of [
    ['the repository folder', () => repoDir()],
    ['blobs/', () => join(repoDir(), 'blobs')],
    ['snapshots/', () => join(repoDir(), 'snapshots')],
    ['refs/', () => join(repoDir(), 'refs')],
    ['.locks/', () => join(cacheDir, '.locks')],
  ] as const) {
    it(`${what} → a folder outside: refused, nothing written outside`, async () => {
      await mkdir(join(link(), '..'), { recursive: true });
      await symlink(outside, link());
      hub = await startMockHub({ models: { 'org/tiny': FIX } });
      // Refused when the source is opened (the cached ref is read then) or at the first file.
      const err = await openModelSource('org/tiny', { endpoint: hub.endpoint, cacheDir })
        .then((src) => src.read('model.safetensors'))
        .then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err).toBeInstanceOf(CachePathError);
      expect(err!.message).toContain(`resolves to ${outside}`);
      expect(err!.message).toContain(`outside the hub cache ${cacheDir}`);
      expect(await escaped()).toEqual([]);
    });
  }

  it('a snapshot entry → a file outside: its content is not read', async () => {
    const secret = join(outside, 'secret');
    await writeFile(secret, '{"secret": true}');
    const snap = join(repoDir(), 'snapshots', MOCK_COMMIT);
    await mkdir(snap, { recursive: true });
    await symlink(secret, join(snap, 'config.json'));
    await mkdir(join(repoDir(), 'refs'), { recursive: true });
    await writeFile(join(repoDir(), 'refs', 'main'), MOCK_COMMIT);
    const src = await openModelSource('org/tiny', { cacheDir, offline: true });
    await expect(src.read('config.json')).rejects.toThrow(CachePathError);
    await expect(src.has('config.json')).rejects.toThrow(/resolves to .*outside the hub cache/);
  });

  it('a dangling link in place of the partial download: the file it points at is never created', async () => {
    hub = await startMockHub({ models: { 'org/tiny': FIX } });
    const src = await openModelSource('org/tiny', { endpoint: hub.endpoint, cacheDir });
    await src.has('model.safetensors'); // learn the blob name first
    const { createHash } = await import('node:crypto');
    const sha = createHash('sha256').update(await readFile(join(FIX, 'model.safetensors'))).digest('hex');
    const blobs = join(repoDir(), 'blobs');
    await mkdir(blobs, { recursive: true });
    await symlink(join(outside, 'created'), join(blobs, `${sha}.siglip-partial`));
    // huggingface_hub's own partial name too, aged so that it would be adopted if it were a file.
    await symlink(join(outside, 'created-too'), join(blobs, `${sha}.incomplete`));
    const old = new Date(Date.now() - 3_600_000);
    await utimes(join(blobs, `${sha}.incomplete`), old, old).catch(() => {});
    await expect(src.read('model.safetensors')).rejects.toThrow(CachePathError);
    expect(await escaped()).toEqual([]);
  });

  it('the cache folder itself may be a link (a cache on another disk): that is where it lives', async () => {
    const real = join(root, 'real-cache');
    await mkdir(real);
    const linked = join(root, 'linked-cache');
    await symlink(real, linked);
    hub = await startMockHub({ models: { 'org/tiny': FIX } });
    const src = await openModelSource('org/tiny', { endpoint: hub.endpoint, cacheDir: linked });
    expect((await src.read('config.json')).byteLength).toBeGreaterThan(0);
    expect(await tree(real)).toContain(join('models--org--tiny', 'snapshots', MOCK_COMMIT, 'config.json'));
  });
});

describe('file names from an index or a caller', () => {
  it('a sharded index naming ../ files is refused, in a local folder and on the hub', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hub-sec-sharded-'));
    await writeFile(join(dir, 'config.json'), await readFile(join(FIX, 'config.json')));
    await writeFile(join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { 'a.weight': '../../x.safetensors' } }));
    const local = await openModelSource(dir);
    await expect(readCheckpointIndex(local)).rejects.toThrow(/"\.\.\/\.\.\/x\.safetensors" from the weight_map of .*model\.safetensors\.index\.json: not a valid file name/);
    hub = await startMockHub({ models: { 'org/sharded': dir } });
    const remote = await openModelSource('org/sharded', { endpoint: hub.endpoint, cacheDir });
    await expect(readCheckpointIndex(remote)).rejects.toThrow(UnsafeHubValueError);
    expect(hub.requests.filter((r) => r.url.includes('x.safetensors'))).toEqual([]);
    expect(await escaped()).toEqual([]);
    await rm(dir, { recursive: true, force: true });
  });

  it('URL sources (and the browser cache keys made from them) never leave their base', async () => {
    const fetched: string[] = [];
    const fetchSpy = (async (u: string | URL | Request) => {
      fetched.push(String(u));
      return new Response('{}', { status: 200, headers: { 'content-length': '2' } });
    }) as typeof fetch;
    const base = 'https://models.example/org/tiny/resolve/main/';
    const storage = memoryCacheStorage();
    const browser = new CachedUrlSource(base, { fetch: fetchSpy, cacheStorage: storage });
    const plain = new UrlSource(base, { fetch: fetchSpy });
    for (const bad of ['../other/config.json', '/etc/passwd', 'a/../../b', 'C:/x', 'a\\b', '']) {
      await expect(browser.read(bad), bad).rejects.toThrow(UnsafeHubValueError);
      await expect(plain.read(bad), bad).rejects.toThrow(UnsafeHubValueError);
    }
    expect(fetched).toEqual([]);
    // Characters that mean something in a URL stay inside one path segment.
    expect(plain.locate('a b/c?d#e%f.json')).toBe(`${base}a%20b/c%3Fd%23e%25f.json`);
    await browser.read('config.json');
    const keys = (await (await storage.open('siglip-webgpu-v1')).keys()).map((r) => r.url);
    expect(keys).toEqual([`${base}config.json`]);
  });
});
