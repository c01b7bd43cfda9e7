// UrlSource (src/model/source.ts) against the mock hub's resolve URLs: real HTTP, redirects to the "CDN", ranges.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UrlSource } from '../../../src/model/source.js';
import { startMockHub, type MockHub } from '../../helpers/mock-hub.js';

const FIX = 'test/fixtures/siglip-tiny';
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const expectBytes = (got: Uint8Array, want: Uint8Array) =>
  expect({ length: got.byteLength, sha256: sha256(got) }).toEqual({ length: want.byteLength, sha256: sha256(want) });

let hub: MockHub;
let src: UrlSource;
let weights: Uint8Array;
beforeEach(async () => {
  hub = await startMockHub({ models: { 'org/tiny': FIX } });
  src = new UrlSource(`${hub.endpoint}/org/tiny/resolve/main/`);
  weights = new Uint8Array(await readFile(join(FIX, 'model.safetensors')));
});
afterEach(() => hub.close());

const gets = () => hub.requests.filter((r) => r.method === 'GET');

describe('UrlSource', () => {
  it('sizes and whole files, through the CDN redirect', async () => {
    expect(await src.size('model.safetensors')).toBe(weights.byteLength);
    expect(await src.has('config.json')).toBe(true);
    expectBytes(await src.read('config.json'), new Uint8Array(await readFile(join(FIX, 'config.json'))));
    expectBytes(await src.read('model.safetensors'), weights);
  });

  it('reads a range with a Range request', async () => {
    expectBytes(await src.read('model.safetensors', 1000, 5000), weights.subarray(1000, 5000));
    expect(gets().at(-1)!.range).toBe('bytes=1000-4999');
    expectBytes(await src.read('model.safetensors', 1_000_000), weights.subarray(1_000_000));
    expect(gets().at(-1)!.range).toBe('bytes=1000000-');
  });

  it('an empty range is empty, without a request', async () => {
    hub.requests.length = 0;
    expect(await src.read('model.safetensors', 500, 500)).toEqual(new Uint8Array(0));
    expect(hub.requests).toEqual([]);
  });

  it('streams in chunks of at most chunkBytes, in order', async () => {
    const chunks: Uint8Array[] = [];
    for await (const c of src.stream('model.safetensors', 10, 250_010, 65_536)) chunks.push(c.slice());
    expect(chunks.every((c) => c.byteLength <= 65_536)).toBe(true);
    const all = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
    chunks.reduce((o, c) => (all.set(c, o), o + c.byteLength), 0);
    expectBytes(all, weights.subarray(10, 250_010));
  });

  it('a server that ignores Range still yields the right bytes', async () => {
    hub.setFault('model.safetensors', { ignoreRange: true });
    expectBytes(await src.read('model.safetensors', 700_000, 700_100), weights.subarray(700_000, 700_100));
    expect(gets().at(-1)!.range).toBe('bytes=700000-700099');
  });

  it('a range past the end is an error naming the file', async () => {
    await expect(src.read('model.safetensors', weights.byteLength - 10, weights.byteLength + 10)).rejects.toThrow(
      /model\.safetensors: truncated/,
    );
  });

  it('404: has() is false, read() names the URL and the status', async () => {
    expect(await src.has('model.safetensors.index.json')).toBe(false);
    await expect(src.read('model.safetensors.index.json')).rejects.toThrow(/resolve\/main\/model\.safetensors\.index\.json: HTTP 404/);
    await expect(src.size('nope')).rejects.toThrow(/nope: HTTP 404/);
  });

  it('a dropped connection is an error naming the file, not a short read', async () => {
    hub.setFault('model.safetensors', { dropAfter: 100_000 });
    await expect(src.read('model.safetensors')).rejects.toThrow(/model\.safetensors: connection lost after \d+ bytes/);
  });

  it('an unreachable server is an error, also from has()', async () => {
    await hub.close();
    await expect(src.has('config.json')).rejects.toThrow(/config\.json: cannot reach the server \(fetch failed: .*ECONNREFUSED/);
    await expect(src.read('config.json')).rejects.toThrow(/cannot reach the server/);
  });

  it('sends the headers it was given', async () => {
    const authed = new UrlSource(`${hub.endpoint}/org/tiny/resolve/main`, { headers: { Authorization: 'Bearer t' } });
    await authed.read('config.json');
    expect(hub.requests.at(-1)!.authorization).toBe('Bearer t');
  });
});
