// Downloads into the hub cache when the network misbehaves: resume after a drop, servers that ignore Range, short
// bodies and wrong bytes — the cache must end with the right file or with only a partial file, never a bad blob.
import { createHash } from 'node:crypto';
import { cp, lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openModelSource } from '../../../src/model/hub/index.js';
import { clearHfEnv, MOCK_COMMIT, startMockHub, type MockHub } from '../../helpers/mock-hub.js';

const FIX = 'test/fixtures/siglip-tiny';
const FILE = 'model.safetensors';
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

let hub: MockHub;
let cacheDir: string;
let restoreEnv: () => void;
let weights: Uint8Array;
let blobs: string;
let snapshotFile: string;

beforeEach(async () => {
  restoreEnv = clearHfEnv();
  hub = await startMockHub({ models: { 'org/tiny': FIX } });
  cacheDir = await mkdtemp(join(tmpdir(), 'hub-dl-'));
  weights = new Uint8Array(await readFile(join(FIX, FILE)));
  blobs = join(cacheDir, 'models--org--tiny', 'blobs');
  snapshotFile = join(cacheDir, 'models--org--tiny', 'snapshots', MOCK_COMMIT, FILE);
});
afterEach(async () => {
  restoreEnv();
  await hub.close();
  await rm(cacheDir, { recursive: true, force: true });
});

const open = (extra: Parameters<typeof openModelSource>[1] = {}) =>
  openModelSource('org/tiny', { endpoint: hub.endpoint, cacheDir, retries: 2, ...extra });
const gets = () => hub.requests.filter((r) => r.method === 'GET' && r.url.startsWith('/cdn/'));
const exists = (p: string) => lstat(p).then(() => true, () => false);
/** Our partial download of the weights (huggingface_hub's own is `<sha>.incomplete`). */
const partialOf = () => join(blobs, `${sha256(weights)}.siglip-partial`);

async function expectWholeFile(got: Uint8Array) {
  expect({ length: got.byteLength, sha256: sha256(got) }).toEqual({ length: weights.byteLength, sha256: sha256(weights) });
  const blob = new Uint8Array(await readFile(join(blobs, sha256(weights))));
  expect(sha256(blob)).toBe(sha256(weights));
  expect(await exists(partialOf())).toBe(false);
  expect(await exists(join(blobs, `${sha256(weights)}.incomplete`))).toBe(false);
}

describe('resumable downloads', () => {
  it('a connection dropped mid-file is resumed with a Range request', async () => {
    hub.setFault(FILE, { dropAfter: 300_000, times: 1 });
    const src = await open();
    await expectWholeFile(await src.read(FILE));
    const [first, second] = gets();
    expect(first!.range).toBeUndefined();
    const from = Number(/^bytes=(\d+)-$/.exec(second!.range ?? '')?.[1]);
    expect(from).toBeGreaterThan(0);
    expect(from).toBeLessThanOrEqual(300_000);
    expect(gets()).toHaveLength(2);
  });

  it('keeps going while each attempt makes progress', async () => {
    hub.setFault(FILE, { dropAfter: 200_000 }); // every response: ~5 attempts for the 1 MB file
    await expectWholeFile(await (await open({ retries: 0 })).read(FILE));
    expect(gets().length).toBeGreaterThanOrEqual(5);
  });

  it('a server that answers 200 to the resume: the file restarts from byte 0 and still ends right', async () => {
    hub.addFault(FILE, { dropAfter: 300_000, times: 1 });
    hub.addFault(FILE, { ignoreRange: true });
    const events: number[] = [];
    await expectWholeFile(await (await open({ onProgress: (p) => void (p.file === FILE && events.push(p.loaded)) })).read(FILE));
    expect(gets()).toHaveLength(2);
    expect(gets()[1]!.range).toMatch(/^bytes=[1-9]\d*-$/);
    expect(events.at(-1)).toBe(weights.byteLength);
  });

  it('gives up after the retries with a clear error, leaving only the partial file; the next run resumes it', async () => {
    hub.addFault(FILE, { dropAfter: 400_000, times: 1 });
    hub.addFault(FILE, { dropAfter: 0 }); // then: headers and nothing more, so no attempt makes progress
    const events: { loaded: number; total?: number; done: boolean }[] = [];
    const src = await open({ onProgress: (p) => void events.push(p) });
    const err = (await src.read(FILE).catch((e: Error) => e)) as Error;
    expect(err).toBeInstanceOf(Error);
    // Progress ends with `done` on failure too (a progress bar must not wait forever).
    expect(events.at(-1)).toMatchObject({ done: true, total: weights.byteLength });
    expect(events.at(-1)!.loaded).toBeLessThan(weights.byteLength);
    expect(err.message).toMatch(/^model\.safetensors: download from .* failed/);
    expect(err.message).toContain('.siglip-partial');
    expect(gets()).toHaveLength(1 + 1 + 2); // the partial one, the first failure, 2 retries
    const partial = partialOf();
    const kept = (await stat(partial)).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThanOrEqual(400_000);
    expect(await exists(join(blobs, sha256(weights)))).toBe(false);
    expect(await exists(snapshotFile)).toBe(false); // never a dangling snapshot link

    hub.setFault(FILE, undefined);
    hub.requests.length = 0;
    await expectWholeFile(await (await open()).read(FILE));
    expect(gets().map((r) => r.range)).toEqual([`bytes=${kept}-`]);
  });

  it('resumes a partial download that huggingface_hub left behind (untouched for longer than the lock stale time)', async () => {
    await mkdir(blobs, { recursive: true });
    const theirs = join(blobs, `${sha256(weights)}.incomplete`);
    await writeFile(theirs, weights.subarray(0, 123_456));
    const minuteAgo = new Date(Date.now() - 60_000);
    await utimes(theirs, minuteAgo, minuteAgo);
    await expectWholeFile(await (await open()).read(FILE));
    expect(gets().map((r) => r.range)).toEqual(['bytes=123456-']);
  });

  it('leaves alone a partial download that huggingface_hub is still writing (Python locks it with flock, which Node cannot take)', async () => {
    await mkdir(blobs, { recursive: true });
    const theirs = join(blobs, `${sha256(weights)}.incomplete`);
    await writeFile(theirs, weights.subarray(0, 123_456)); // just written: a live download
    const got = await (await open()).read(FILE);
    expect(sha256(got)).toBe(sha256(weights));
    expect(gets().map((r) => r.range)).toEqual([undefined]); // fetched whole into our own partial file
    expect((await stat(theirs)).size).toBe(123_456); // not one byte written to Python's file
  });
});

describe('never a corrupt blob', () => {
  it('a body shorter than the announced size is not renamed into place, and the error names the file', async () => {
    hub.setFault(FILE, { truncateTo: 500_000 });
    const err = (await (await open({ retries: 1 })).read(FILE).catch((e: Error) => e)) as Error;
    expect(err.message).toMatch(/^model\.safetensors: download .* failed/);
    expect(err.message).toContain(`of ${weights.byteLength} bytes`);
    expect(gets().length).toBeLessThan(6); // refetching the same short prefix is not progress: it gives up
    expect(await exists(join(blobs, sha256(weights)))).toBe(false);
    expect(await exists(snapshotFile)).toBe(false);
    expect((await readdir(blobs)).every((f) => f.endsWith('.siglip-partial'))).toBe(true);
  });

  it('bytes that do not match the sha256 etag are discarded', async () => {
    // Serve a copy of the model whose weights change between the HEAD and the GET (same size, other bytes).
    const dir = await mkdtemp(join(tmpdir(), 'hub-fix-'));
    await cp(FIX, dir, { recursive: true });
    await hub.close();
    hub = await startMockHub({ models: { 'org/tiny': dir } });
    const src = await open();
    expect(await src.has(FILE)).toBe(true); // HEAD: etag = sha256 of the original
    const other = weights.slice();
    other[1000] ^= 0xff;
    await writeFile(join(dir, FILE), other);
    await expect(src.read(FILE)).rejects.toThrow(/^model\.safetensors: sha256 of the downloaded bytes is .* the download was discarded/);
    expect(await readdir(blobs)).toEqual([]);
    expect(await exists(snapshotFile)).toBe(false);
    await rm(dir, { recursive: true, force: true });
  });

  it('a server error on the download is reported with the file and the status', async () => {
    hub.setFault(FILE, { status: 403 });
    await expect((await open()).read(FILE)).rejects.toThrow(/^model\.safetensors: .*HTTP 403/);
    expect(await exists(snapshotFile)).toBe(false);
  });

  it('a cached blob of the wrong size is downloaded again', async () => {
    await (await open()).read(FILE);
    await writeFile(join(blobs, sha256(weights)), weights.subarray(0, 1000));
    await rm(snapshotFile);
    hub.requests.length = 0;
    await expectWholeFile(await (await open()).read(FILE));
    expect(gets()).toHaveLength(1);
  });
});
