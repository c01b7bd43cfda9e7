// The browser cache's large-file path in Node (in-memory Cache API, the mock hub): files larger than a part are
// stored in parts and a download that stopped resumes from the first missing part, with a Range request, only when
// the server still has the same file; the quota is checked (and persistent storage asked for) before a byte is
// stored; what is cached can be listed and deleted. The same in a real browser, across a reload:
// test/browser/storage.test.ts.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BROWSER_CACHE_NAME, deleteCachedFiles, listCachedFiles, openModelSource, StorageQuotaError } from '../../../src/model/hub/index.js';
import { clearHfEnv, memoryCacheStorage, startMockHub, type MockHub } from '../../helpers/mock-hub.js';

const FIX = 'test/fixtures/siglip-tiny';
const PART = 100_000;
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const expectBytes = (got: Uint8Array, want: Uint8Array) =>
  expect({ length: got.byteLength, sha256: sha256(got) }).toEqual({ length: want.byteLength, sha256: sha256(want) });

let hub: MockHub;
let storage: CacheStorage;
let weights: Uint8Array;
let restoreEnv: () => void;
beforeEach(async () => {
  restoreEnv = clearHfEnv();
  hub = await startMockHub({ models: { 'org/tiny': FIX } });
  storage = memoryCacheStorage();
  weights = new Uint8Array(await readFile(join(FIX, 'model.safetensors')));
});
afterEach(async () => {
  restoreEnv();
  await hub.close();
});

/** A StorageManager with these numbers, recording whether persistence was asked for. */
function fakeStorage(quota: number, usage = 0) {
  const calls: string[] = [];
  let persisted = false;
  const manager = {
    estimate: async () => ({ quota, usage }),
    persisted: async () => persisted,
    persist: async () => {
      calls.push('persist');
      persisted = true;
      return true;
    },
  } as unknown as StorageManager;
  return { manager, calls };
}

const open = (extra: Parameters<typeof openModelSource>[1] = {}) =>
  openModelSource('org/tiny', { browser: true, endpoint: hub.endpoint, cacheStorage: storage, cachePartBytes: PART, storageManager: null, ...extra });

const keys = async () => (await (await storage.open(BROWSER_CACHE_NAME)).keys()).map((r) => new URL(r.url).pathname + new URL(r.url).search);
// The hub's GETs of the weights (each then redirected to the CDN with the same Range).
const gets = () => hub.requests.filter((r) => r.method === 'GET' && r.url.includes('model.safetensors'));

describe('large files in parts', () => {
  it('a file larger than a part is stored as parts plus a marker, and reads back whole (also offline)', async () => {
    const src = await open();
    expectBytes(await src.read('model.safetensors'), weights);
    const n = Math.ceil(weights.byteLength / PART);
    const stored = await keys();
    for (let i = 0; i < n; i++) expect(stored).toContain(`/org/tiny/resolve/main/model.safetensors?siglip-part=${i}`);
    expect(stored).toContain('/org/tiny/resolve/main/model.safetensors');
    expect(stored.some((k) => k.endsWith('=pending'))).toBe(false);
    expect(gets().map((r) => r.range)).toEqual([undefined]); // one plain GET, split as it arrived

    await hub.close();
    const again = await open();
    expectBytes(await again.read('model.safetensors', 99_990, 300_010), weights.subarray(99_990, 300_010));
    expect(await again.size('model.safetensors')).toBe(weights.byteLength);
  });

  it('a dropped download keeps its whole parts and the next attempt resumes with a Range request', async () => {
    hub.setFault('model.safetensors', { dropAfter: 350_000, times: 1 });
    const events: { loaded: number; done: boolean }[] = [];
    const src = await open({ onProgress: (p) => void (p.file === 'model.safetensors' && events.push(p)) });
    await expect(src.read('model.safetensors')).rejects.toThrow(/failed after \d+ of 1010000 bytes .*3 parts stored so far are kept .*resumes from byte 300000/);
    const partial = (await listCachedFiles({ cacheStorage: storage })).find((f) => f.url.endsWith('model.safetensors'));
    expect(partial).toMatchObject({ state: 'partial', bytes: 300_000, size: weights.byteLength });

    hub.requests.length = 0;
    events.length = 0;
    // A new page (a reload): a new source, the same cache.
    const next = await open({ onProgress: (p) => void (p.file === 'model.safetensors' && events.push(p)) });
    expectBytes(await next.read('model.safetensors'), weights);
    expect(gets().map((r) => r.range)).toEqual(['bytes=300000-']);
    expect(events[0]!.loaded).toBe(300_000); // progress starts at the bytes already stored
    expect(events.at(-1)).toMatchObject({ loaded: weights.byteLength, done: true });
    expect((await listCachedFiles({ cacheStorage: storage })).find((f) => f.url.endsWith('model.safetensors'))).toMatchObject({ state: 'complete', size: weights.byteLength });
  });

  it('a file that changed on the server since (another ETag) is downloaded again from its first byte', async () => {
    hub.setFault('model.safetensors', { dropAfter: 250_000, times: 1 });
    await expect((await open()).read('model.safetensors')).rejects.toThrow(/resumes from byte 200000/);
    // Make the recorded download look like another version of the file.
    const cache = await storage.open(BROWSER_CACHE_NAME);
    const pendingKey = (await cache.keys()).map((r) => r.url).find((u) => u.endsWith('siglip-part=pending'))!;
    const rec = await (await cache.match(pendingKey))!.json();
    await cache.put(pendingKey, new Response(JSON.stringify({ ...rec, etag: '"another-version"' })));
    hub.requests.length = 0;
    expectBytes(await (await open()).read('model.safetensors'), weights);
    expect(gets().map((r) => r.range)).toEqual(['bytes=200000-', undefined]);
  });

  it('a CDN that hides Content-Range from CORS: a 206 of the rest\'s length is taken as that range', async () => {
    hub.setFault('model.safetensors', { dropAfter: 250_000, times: 1 });
    await expect((await open()).read('model.safetensors')).rejects.toThrow(/resumes from byte 200000/);
    const hiding: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      const headers = new Headers(res.headers);
      headers.delete('content-range');
      return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
    };
    hub.requests.length = 0;
    expectBytes(await (await open({ fetch: hiding })).read('model.safetensors'), weights);
    expect(gets().map((r) => r.range)).toEqual(['bytes=200000-']);
  });

  it('a server that ignores Range on resume: the file starts again, whole', async () => {
    hub.setFault('model.safetensors', { dropAfter: 150_000, times: 1 });
    await expect((await open()).read('model.safetensors')).rejects.toThrow(/download failed/);
    hub.setFault('model.safetensors', { ignoreRange: true });
    hub.requests.length = 0;
    expectBytes(await (await open()).read('model.safetensors'), weights);
    expect(gets().map((r) => r.range)).toEqual(['bytes=100000-', undefined]);
  });
});

describe('storage quota', () => {
  it('a file that cannot fit is refused with the numbers before any of it is stored', async () => {
    const { manager, calls } = fakeStorage(600_000, 100_000);
    const src = await open({ storageManager: manager });
    expect(await src.has('model.safetensors')).toBe(true); // the HEAD tells the size
    const err = await src.read('model.safetensors').then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(StorageQuotaError);
    expect(err).toMatchObject({ needed: weights.byteLength, available: 500_000, quota: 600_000, usage: 100_000, persisted: true });
    expect((err as Error).message).toMatch(/model\.safetensors: the download needs 1\.01 MB \(1010000 bytes\) but this site may store only 500 kB more .*quota 600 kB, 100 kB used, persistent storage.*nothing of it was stored/);
    expect(calls).toEqual(['persist']); // a large file (more than one part): persistence asked for first
    expect(gets()).toEqual([]); // no GET of the weights at all
    expect((await keys()).filter((k) => k.includes('model.safetensors'))).toEqual([]);
  });

  it('a small file that fits: no persistence asked for; enough room: downloaded', async () => {
    const { manager, calls } = fakeStorage(10_000_000);
    const src = await open({ storageManager: manager });
    await src.read('config.json');
    expect(calls).toEqual([]);
    expectBytes(await src.read('model.safetensors'), weights);
    expect(calls).toEqual(['persist']);
  });

  it('persistentStorage: a function is asked instead (how a worker asks its page); false never asks', async () => {
    const asked: string[] = [];
    const { manager } = fakeStorage(10_000_000);
    const noPersist = { ...manager, persist: undefined, persisted: async () => false } as unknown as StorageManager;
    await (await open({ storageManager: noPersist, persistentStorage: async () => (asked.push('page'), true) })).read('model.safetensors');
    expect(asked).toEqual(['page']);
    const { manager: m2, calls } = fakeStorage(10_000_000);
    await (await openModelSource('org/tiny', { browser: true, endpoint: hub.endpoint, cacheStorage: memoryCacheStorage(), cachePartBytes: PART, storageManager: m2, persistentStorage: false })).read('model.safetensors');
    expect(calls).toEqual([]);
  });
});

describe('what the cache holds', () => {
  it('lists files by model with sizes, and deletes a model (parts and all)', async () => {
    const src = await open();
    await src.read('config.json');
    await src.read('model.safetensors');
    expect(await src.has('model.safetensors.index.json')).toBe(false); // a known-absent marker: not listed
    const base = `${hub.endpoint}/org/tiny/resolve/main/`;
    const list = await listCachedFiles({ cacheStorage: storage });
    expect(list.map((f) => [f.url.slice(base.length), f.base, f.bytes, f.size, f.state])).toEqual([
      ['config.json', base, (await readFile(join(FIX, 'config.json'))).byteLength, (await readFile(join(FIX, 'config.json'))).byteLength, 'complete'],
      ['model.safetensors', base, weights.byteLength, weights.byteLength, 'complete'],
    ]);
    expect(await deleteCachedFiles(base, { cacheStorage: storage })).toBe(Math.ceil(weights.byteLength / PART) + 3);
    expect(await keys()).toEqual([]);
    expect(await listCachedFiles({ cacheStorage: null })).toEqual([]);
  });
});
