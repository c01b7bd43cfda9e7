// The browser source (Cache API) in Node, with an in-memory CacheStorage and the mock hub.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CachedUrlSource, openModelSource, BROWSER_CACHE_NAME } from '../../../src/model/hub/index.js';
import { UrlSource } from '../../../src/model/source.js';
import { clearHfEnv, memoryCacheStorage, startMockHub, type MockHub } from '../../helpers/mock-hub.js';

const FIX = 'test/fixtures/siglip-tiny';
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const expectBytes = (got: Uint8Array, want: Uint8Array) =>
  expect({ length: got.byteLength, sha256: sha256(got) }).toEqual({ length: want.byteLength, sha256: sha256(want) });
const fixture = async (name: string) => new Uint8Array(await readFile(join(FIX, name)));

let hub: MockHub;
let storage: CacheStorage;
let restoreEnv: () => void;
beforeEach(async () => {
  restoreEnv = clearHfEnv();
  hub = await startMockHub({ models: { 'org/tiny': FIX } });
  storage = memoryCacheStorage();
});
afterEach(async () => {
  restoreEnv();
  await hub.close();
});

const open = (extra: Parameters<typeof openModelSource>[1] = {}) =>
  openModelSource('org/tiny', { browser: true, endpoint: hub.endpoint, cacheStorage: storage, ...extra });

describe('browser hub source', () => {
  it('fetches each file once into the Cache API; a second visit makes no request, even with the hub down', async () => {
    const src = await open();
    expect(src).toBeInstanceOf(CachedUrlSource);
    expectBytes(await src.read('config.json'), await fixture('config.json'));
    expect(await src.has('model.safetensors.index.json')).toBe(false);
    const weights = await fixture('model.safetensors');
    expectBytes(await src.read('model.safetensors', 100, 200_100), weights.subarray(100, 200_100));
    expect(await src.size('model.safetensors')).toBe(weights.byteLength);
    // Only whole-file GETs (no ranges): the cache holds whole files.
    expect(hub.requests.filter((r) => r.range)).toEqual([]);
    const cached = await (await storage.open(BROWSER_CACHE_NAME)).keys();
    expect(cached.map((r) => new URL(r.url).pathname).sort()).toEqual([
      '/org/tiny/resolve/main/config.json',
      '/org/tiny/resolve/main/model.safetensors',
      '/org/tiny/resolve/main/model.safetensors.index.json',
    ]);

    await hub.close();
    hub.requests.length = 0;
    const again = await open();
    expectBytes(await again.read('config.json'), await fixture('config.json'));
    expect(await again.has('model.safetensors.index.json')).toBe(false);
    expect(await again.has('model.safetensors')).toBe(true);
    const chunks: Uint8Array[] = [];
    for await (const c of again.stream('model.safetensors', 0, undefined, 300_000)) chunks.push(c);
    expect(chunks.map((c) => c.byteLength)).toEqual([300_000, 300_000, 300_000, weights.byteLength - 900_000]);
    expect(hub.requests).toEqual([]);
  });

  it('the cache key includes the revision', async () => {
    await (await open()).read('config.json');
    const pinned = await openModelSource(`org/tiny@${hub.commit}`, { browser: true, endpoint: hub.endpoint, cacheStorage: storage });
    hub.requests.length = 0;
    await pinned.read('config.json');
    expect(hub.requests.map((r) => r.url)).toEqual([`/org/tiny/resolve/${hub.commit}/config.json`]);
  });

  it('reports progress, and sends the token', async () => {
    await hub.close();
    hub = await startMockHub({ models: { 'org/tiny': FIX }, token: 'hf_b' });
    const events: { loaded: number; total?: number; done: boolean }[] = [];
    const src = await open({ token: 'hf_b', onProgress: (p) => void (p.file === 'spiece.model' && events.push(p)) });
    await src.read('spiece.model');
    const size = (await fixture('spiece.model')).byteLength;
    expect(events.at(-1)).toMatchObject({ loaded: size, total: size, done: true });
    expect(hub.requests.filter((r) => r.url.includes('/resolve/')).every((r) => r.authorization === 'Bearer hf_b')).toBe(true);
  });

  it('a dropped download caches nothing; the next try succeeds', async () => {
    hub.setFault('model.safetensors', { dropAfter: 100_000, times: 1 });
    const src = await open();
    await expect(src.read('model.safetensors')).rejects.toThrow(/model\.safetensors: download failed after/);
    expect(await (await storage.open(BROWSER_CACHE_NAME)).match(src.locate('model.safetensors'))).toBeUndefined();
    expectBytes(await src.read('model.safetensors'), await fixture('model.safetensors'));
  });

  it('without the Cache API it reads over the network with ranges', async () => {
    const src = await open({ cacheStorage: null });
    const weights = await fixture('model.safetensors');
    expectBytes(await src.read('model.safetensors', 10, 20), weights.subarray(10, 20));
    expect(hub.requests.at(-1)!.range).toBe('bytes=10-19');
    expect(await src.has('model.safetensors.index.json')).toBe(false);
  });

  it('hub down and nothing cached: an error naming the file', async () => {
    await hub.close();
    const src = await open();
    await expect(src.read('config.json')).rejects.toThrow(/config\.json: cannot reach the server .*not in the browser cache/);
    await expect(src.has('config.json')).rejects.toThrow(/cannot reach the server/);
  });

  it('a plain base URL is cached the same way', async () => {
    const src = await openModelSource(`${hub.endpoint}/org/tiny/resolve/main/`, { browser: true, cacheStorage: storage });
    expect(src).toBeInstanceOf(CachedUrlSource);
    await src.read('config.json');
    expect(await openModelSource(`${hub.endpoint}/x/`)).toBeInstanceOf(UrlSource);
  });
});
