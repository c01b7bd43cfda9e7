/**
 * Browser FileSource over a base URL (the hub's `.../resolve/<revision>/` or any static host), cached with the
 * Cache API so a second visit loads without network. Each file is fetched whole once and streamed straight into the
 * cache (never held in memory); reads are then slices of the cached Blob, which browsers keep on disk. Known-absent
 * files are cached as a 404 marker so `has()` works offline too. Without the Cache API (or when storing fails, e.g.
 * quota) it reads over the network like UrlSource. No node: imports.
 *
 * Tabs and workers of one origin share the Cache API store: a file is fetched by one of them under a Web Lock
 * (navigator.locks, per cache and URL) while the others wait for the lock and then find it cached. Web Locks are
 * released when their holder's tab or worker goes away, so a closed tab never leaves one behind.
 *
 * Files larger than one part (32 MiB by default) are stored in parts (browser-parts.ts), so a download cut off by a
 * reload resumes where it stopped. Before a file is downloaded, the site's storage quota is checked and, for a large
 * file, persistent storage asked for (browser-storage.ts): a file that cannot fit is refused with the numbers
 * (StorageQuotaError) before any byte of it is stored.
 */
import { DEFAULT_CHUNK_BYTES, UrlSource, type FileSource } from '../source.js';
import { BROWSER_CACHE_NAME, type DownloadProgress } from './hub-config.js';
import { ABSENT_HEADER, DEFAULT_PART_BYTES, downloadInParts, partKey, PARTS_HEADER, readParts } from './browser-parts.js';
import { ensureRoomFor, requestPersistence, type StorageBudgetOptions } from './browser-storage.js';

export interface CachedUrlSourceOptions {
  headers?: Record<string, string>;
  fetch?: typeof fetch;
  /** Default globalThis.caches; null: no caching. */
  cacheStorage?: CacheStorage | null;
  cacheName?: string;
  onProgress?: (p: DownloadProgress) => void;
  /** Files larger than this are stored in parts of this size, and resume (default 32 MiB). */
  partBytes?: number;
  /** Persistent storage before a large download (see StorageBudgetOptions.persist); default true. */
  persist?: StorageBudgetOptions['persist'];
  /** The StorageManager whose quota is checked (default navigator.storage; null: no check). */
  storage?: StorageManager | null;
}

const ABSENT = ABSENT_HEADER;

export class CachedUrlSource implements FileSource {
  readonly description: string;
  private readonly net: UrlSource;
  private readonly headers: Record<string, string>;
  private readonly fetchImpl: typeof fetch;
  private cachePromise: Promise<Cache | null> | undefined;
  /** Per file: the cached Blob, or null when it could not be cached (then reads go to the network). */
  private readonly blobs = new Map<string, Promise<Blob | null>>();
  /** Sizes HEAD answers announced (has()), to check the quota before a download starts. */
  private readonly headSizes = new Map<string, number>();
  private readonly partBytes: number;
  private persistAsked: Promise<boolean> | null = null;
  /** Asks for persistent storage once per source (every large file would ask again otherwise). */
  private readonly persistOnce = (): Promise<boolean> =>
    (this.persistAsked ??= requestPersistence({ persist: this.opts.persist, storage: this.opts.storage }));

  constructor(
    base: string,
    private readonly opts: CachedUrlSourceOptions = {},
  ) {
    this.headers = opts.headers ?? {};
    this.fetchImpl = opts.fetch ?? ((...a) => fetch(...a));
    this.net = new UrlSource(base, { headers: this.headers, fetch: this.fetchImpl });
    this.description = this.net.description;
    this.partBytes = opts.partBytes ?? DEFAULT_PART_BYTES;
    if (!(Number.isInteger(this.partBytes) && this.partBytes >= 1)) throw new Error(`partBytes must be a positive integer, got ${opts.partBytes}`);
  }

  locate(name: string): string {
    return this.net.locate(name);
  }

  async has(name: string): Promise<boolean> {
    const cache = await this.cache();
    if (!cache) return this.net.has(name);
    const url = this.locate(name);
    const hit = await cache.match(url);
    if (hit) return !hit.headers.has(ABSENT);
    let res: Response;
    try {
      res = await this.fetchImpl(url, { method: 'HEAD', headers: this.headers });
    } catch (e) {
      throw new Error(`${url}: cannot reach the server (${(e as Error).message}) and the file is not in the browser cache`);
    }
    if (res.status === 404 || res.status === 410) {
      await this.markAbsent(cache, url);
      return false;
    }
    if (!res.ok) throw new Error(`${url}: HTTP ${res.status} ${res.statusText}`.trim());
    const length = res.headers.get('content-length');
    if (length !== null && !res.headers.get('content-encoding') && Number.isInteger(Number(length))) this.headSizes.set(name, Number(length));
    return true;
  }

  async size(name: string): Promise<number> {
    const blob = await this.blob(name);
    return blob ? blob.size : this.net.size(name);
  }

  async read(name: string, start = 0, end?: number): Promise<Uint8Array> {
    const blob = await this.blob(name);
    if (!blob) return this.net.read(name, start, end);
    const stop = end ?? blob.size;
    if (stop > blob.size) throw new Error(`${this.locate(name)}: truncated: wanted bytes up to ${stop}, file has ${blob.size}`);
    return new Uint8Array(await blob.slice(start, stop).arrayBuffer());
  }

  async *stream(name: string, start = 0, end?: number, chunkBytes = DEFAULT_CHUNK_BYTES): AsyncIterable<Uint8Array> {
    const blob = await this.blob(name);
    if (!blob) {
      yield* this.net.stream(name, start, end, chunkBytes);
      return;
    }
    const stop = end ?? blob.size;
    for (let o = start; o < stop; o += chunkBytes) yield await this.read(name, o, Math.min(stop, o + chunkBytes));
  }

  private cache(): Promise<Cache | null> {
    if (!this.cachePromise) {
      const storage = this.opts.cacheStorage === undefined ? (globalThis as { caches?: CacheStorage }).caches : this.opts.cacheStorage;
      // open() throws in some contexts (opaque origins, some private modes): work uncached there.
      this.cachePromise = storage ? storage.open(this.opts.cacheName ?? BROWSER_CACHE_NAME).catch(() => null) : Promise.resolve(null);
    }
    return this.cachePromise;
  }

  private async markAbsent(cache: Cache, url: string): Promise<void> {
    await cache.put(url, new Response(null, { status: 404, headers: { [ABSENT]: '1' } })).catch(() => {});
  }

  private blob(name: string): Promise<Blob | null> {
    let p = this.blobs.get(name);
    if (!p) {
      p = this.fetchIntoCache(name);
      this.blobs.set(name, p);
      p.catch(() => this.blobs.delete(name));
    }
    return p;
  }

  private async fetchIntoCache(name: string): Promise<Blob | null> {
    const cache = await this.cache();
    if (!cache) return null;
    const url = this.locate(name);
    const locks = (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks;
    const key = `siglip-webgpu:${this.opts.cacheName ?? BROWSER_CACHE_NAME}:${url}`;
    return locks ? locks.request(key, () => this.fetchUnlocked(cache, url, name)) : this.fetchUnlocked(cache, url, name);
  }

  /** Under the file's lock: from the cache (put there meanwhile by another tab), else downloaded into it. */
  private async fetchUnlocked(cache: Cache, url: string, name: string): Promise<Blob | null> {
    const hit = await cache.match(url);
    if (hit) {
      if (hit.headers.has(ABSENT)) throw new Error(`${url}: no such file (known absent, from the browser cache)`);
      if (!hit.headers.has(PARTS_HEADER)) return hit.blob();
      const blob = await readParts(cache, url, hit);
      if (blob) return blob;
      // A part is gone (storage pressure): the marker goes, and the file is fetched again.
      await cache.delete(url);
    }
    const ensureRoom = (bytes: number) =>
      ensureRoomFor(url, bytes, { persist: this.opts.persist === false ? false : this.persistOnce, storage: this.opts.storage, largeBytes: this.partBytes + 1 }).then(() => undefined);
    const partsDownload = (response: Response | null, size: number) =>
      downloadInParts({
        cache,
        url,
        file: name,
        fetch: this.fetchImpl,
        headers: this.headers,
        partBytes: this.partBytes,
        response,
        size,
        ensureRoom,
        storage: this.opts.storage,
        onProgress: (loaded, total, done) => this.opts.onProgress?.({ file: name, loaded, total, done }),
      });
    // A download in parts that stopped (a reload, a dropped connection): resume it.
    if (await cache.match(partKey(url, 'pending'))) return partsDownload(null, 0);
    const announced = this.headSizes.get(name);
    if (announced !== undefined) await ensureRoom(announced);
    let res: Response;
    try {
      res = await this.fetchImpl(url, { headers: this.headers });
    } catch (e) {
      throw new Error(`${url}: cannot reach the server (${(e as Error).message}) and the file is not in the browser cache`);
    }
    if (res.status === 404 || res.status === 410) {
      await this.markAbsent(cache, url);
      throw new Error(`${url}: no such file (HTTP ${res.status})`);
    }
    if (!res.ok || !res.body) throw new Error(`${url}: HTTP ${res.status} ${res.statusText}`.trim());
    const length = res.headers.get('content-length');
    const total = length !== null && !res.headers.get('content-encoding') ? Number(length) : undefined;
    if (total !== undefined && total > this.partBytes) return partsDownload(res, total);
    if (total !== undefined) {
      try {
        await ensureRoom(total);
      } catch (e) {
        await res.body.cancel().catch(() => {});
        throw e;
      }
    }
    let loaded = 0;
    const report = (done: boolean) => this.opts.onProgress?.({ file: name, loaded, total, done });
    const counted = res.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, out) {
          loaded += chunk.byteLength;
          report(false);
          out.enqueue(chunk);
        },
      }),
    );
    const headers: Record<string, string> = { 'Content-Type': res.headers.get('content-type') ?? 'application/octet-stream' };
    if (total !== undefined) headers['Content-Length'] = String(total);
    try {
      await cache.put(url, new Response(counted, { headers }));
    } catch (e) {
      report(true);
      await cache.delete(url).catch(() => false);
      // The whole body arrived, so storing failed (quota): read this file from the network instead.
      if (total !== undefined && loaded === total) return null;
      throw new Error(`${url}: download failed after ${loaded}${total !== undefined ? ` of ${total}` : ''} bytes (${(e as Error).message})`);
    }
    const blob = await (await cache.match(url))?.blob();
    if (!blob) return null; // evicted at once: storage pressure
    // Shorter than announced = cut off. (When CORS hides a Content-Encoding, Content-Length is the compressed size;
    // a body worth compressing decodes to more bytes, not fewer, so this does not misfire on it.)
    report(true);
    if (total !== undefined && blob.size < total) {
      await cache.delete(url);
      throw new Error(`${url}: got ${blob.size} of ${total} bytes; not cached`);
    }
    return blob;
  }
}
