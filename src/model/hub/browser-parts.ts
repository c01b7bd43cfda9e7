/**
 * Large files in the Cache API, in parts, so that a download cut off (a reload, a closed tab, a dropped connection)
 * resumes where it stopped. The Cache API stores whole responses only: a 2.6 GB file stored as one response is lost
 * entirely when the page goes away at 99 %. So a file larger than one part is kept as:
 *   <url>?siglip-part=pending      while downloading: JSON {size, partBytes, etag?, lastModified?} (what is coming)
 *   <url>?siglip-part=<i>          part i: bytes [i·partBytes, min(size, (i+1)·partBytes)), put as it arrives
 *   <url>                          once every part is there: an empty marker whose headers give the part count
 * and read back as one Blob made of the parts' Blobs (browsers keep them on disk; composing them copies nothing).
 * A resumed download asks for `Range: bytes=<first missing part>-` (a CORS-safelisted header, so no preflight) and
 * accepts the answer only when it is that range of a file of the recorded size and ETag; anything else (the file
 * changed, a server that ignores Range) starts the file again from its first byte. Small files stay one entry, as
 * before (hub-source-browser.ts), so caches written by earlier versions read as they are.
 *
 * Also here: what the cache holds (listCachedFiles) and deleting it (deleteCachedFiles), for pages that show it.
 * No node: imports.
 */
import { HubDownloadError } from './metadata.js';
import { quotaRefused } from './browser-storage.js';
import { BROWSER_CACHE_NAME } from './hub-config.js';

/** Default part size: 32 MiB (an 813 MB checkpoint is 25 parts; a reload loses at most one part's bytes). */
export const DEFAULT_PART_BYTES = 32 << 20;

export const PARTS_HEADER = 'x-siglip-parts';
export const SIZE_HEADER = 'x-siglip-size';
export const PART_BYTES_HEADER = 'x-siglip-part-bytes';
/** Header on the synthetic 404 stored for files the server does not have. */
export const ABSENT_HEADER = 'x-siglip-absent';
const PART_PARAM = 'siglip-part';

export function partKey(url: string, part: number | 'pending'): string {
  const u = new URL(url);
  u.searchParams.set(PART_PARAM, String(part));
  return u.href;
}

/** What a pending download recorded about the file it is fetching. */
export interface PendingRecord {
  size: number;
  partBytes: number;
  etag?: string;
  lastModified?: string;
}

function partCount(size: number, partBytes: number): number {
  return Math.ceil(size / partBytes);
}

function partLength(i: number, size: number, partBytes: number): number {
  return Math.min(partBytes, size - i * partBytes);
}

/** The file as one Blob when the marker at `url` says it is stored in parts and every part is there; else null. */
export async function readParts(cache: Cache, url: string, marker: Response): Promise<Blob | null> {
  const n = Number(marker.headers.get(PARTS_HEADER));
  const size = Number(marker.headers.get(SIZE_HEADER));
  const partBytes = Number(marker.headers.get(PART_BYTES_HEADER));
  if (!(Number.isInteger(n) && n >= 1 && Number.isInteger(size) && size > 0 && Number.isInteger(partBytes) && partBytes > 0) || partCount(size, partBytes) !== n) return null;
  const blobs: Blob[] = [];
  for (let i = 0; i < n; i++) {
    const hit = await cache.match(partKey(url, i));
    const blob = hit && (await hit.blob());
    if (!blob || blob.size !== partLength(i, size, partBytes)) return null;
    blobs.push(blob);
  }
  return new Blob(blobs, { type: 'application/octet-stream' });
}

async function readPending(cache: Cache, url: string): Promise<PendingRecord | null> {
  const hit = await cache.match(partKey(url, 'pending'));
  if (!hit) return null;
  try {
    const r = (await hit.json()) as PendingRecord;
    if (Number.isInteger(r.size) && r.size > 0 && Number.isInteger(r.partBytes) && r.partBytes > 0) return r;
  } catch {
    // unreadable: start again
  }
  return null;
}

/** Number of whole parts already stored, counted from the first (a gap ends the count). */
async function partsPresent(cache: Cache, url: string, rec: PendingRecord): Promise<number> {
  const n = partCount(rec.size, rec.partBytes);
  for (let i = 0; i < n; i++) {
    const hit = await cache.match(partKey(url, i));
    const blob = hit && (await hit.blob());
    if (!blob || blob.size !== partLength(i, rec.size, rec.partBytes)) return i;
  }
  return n;
}

/** Removes every part, the pending record and the marker of `url`. */
export async function deleteParts(cache: Cache, url: string): Promise<void> {
  const file = new URL(url).href;
  for (const req of await cache.keys()) {
    const u = new URL(req.url);
    if (!u.searchParams.has(PART_PARAM)) continue;
    u.searchParams.delete(PART_PARAM);
    if (u.href === file) await cache.delete(req.url);
  }
}

export interface PartsDownload {
  cache: Cache;
  url: string;
  /** Name inside the repository, for progress events. */
  file: string;
  fetch: typeof fetch;
  headers: Record<string, string>;
  partBytes: number;
  /** The first GET's answer when the caller already has it (a fresh download), else null: fetched here. */
  response: Response | null;
  /** Size of the file as that answer (or a HEAD) announced it. */
  size: number;
  /** Checks there is room for `bytes` more (throws when not); called before anything is stored. */
  ensureRoom(bytes: number): Promise<void>;
  /** The StorageManager the quota numbers of a refused write come from (default navigator.storage). */
  storage?: StorageManager | null;
  onProgress?: (loaded: number, total: number, done: boolean) => void;
}

function etagOf(res: Response): string | undefined {
  return res.headers.get('etag') ?? undefined;
}

/** "bytes a-b/size" → [a, b, size]. */
function contentRange(res: Response): [number, number, number] | null {
  const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(res.headers.get('content-range') ?? '');
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : null;
}

/**
 * Downloads (or resumes) `url` into parts and returns it as one Blob. Parts stored before a failure are kept, so the
 * next attempt — in this page or after a reload — resumes from the first missing part.
 */
export async function downloadInParts(d: PartsDownload): Promise<Blob> {
  const { cache, url } = d;
  let rec = await readPending(cache, url);
  let first = 0;
  let res = d.response;
  try {
    if (rec) {
      first = await partsPresent(cache, url, rec);
      const n = partCount(rec.size, rec.partBytes);
      if (first < n) {
        // Resume: only the rest, and only if it is still the same file.
        await res?.body?.cancel().catch(() => {});
        res = null;
        await d.ensureRoom(rec.size - first * rec.partBytes);
        res = await get(d, { Range: `bytes=${first * rec.partBytes}-` });
        const start = first * rec.partBytes;
        const cr = contentRange(res);
        const length = res.headers.get('content-length');
        const rangeOk = cr
          ? cr[0] === start && cr[1] === rec.size - 1 && cr[2] === rec.size
          : // A CDN that does not expose Content-Range to CORS: a 206 to "bytes=start-" as long as the rest is it.
            length !== null && Number(length) === rec.size - start;
        const sameEtag = !rec.etag || !etagOf(res) || etagOf(res) === rec.etag;
        if (!(res.status === 206 && rangeOk && sameEtag)) {
          // The file changed, or the server ignores Range: start over from the first byte.
          await res.body?.cancel().catch(() => {});
          res = null;
          await deleteParts(cache, url);
          rec = null;
          first = 0;
        }
      }
    }
    if (!rec) {
      res ??= await get(d, {});
      const length = Number(res.headers.get('content-length'));
      const size = res.headers.get('content-length') !== null && !res.headers.get('content-encoding') && Number.isInteger(length) ? length : d.size;
      if (!(size > 0)) throw new HubDownloadError(`${url}: the server did not say how large the file is; it cannot be stored in parts`);
      const etag = etagOf(res);
      const lastModified = res.headers.get('last-modified');
      rec = { size, partBytes: d.partBytes, ...(etag ? { etag } : {}), ...(lastModified ? { lastModified } : {}) };
      await d.ensureRoom(size);
      await cache.put(partKey(url, 'pending'), new Response(JSON.stringify(rec), { headers: { 'Content-Type': 'application/json' } }));
    }
  } catch (e) {
    await res?.body?.cancel().catch(() => {});
    throw e;
  }
  const n = partCount(rec.size, rec.partBytes);
  if (first < n) await streamParts(d, res!, rec, first);
  // Every part is there: the marker makes the file visible; the pending record goes.
  await cache.put(url, new Response(null, {
    headers: { [PARTS_HEADER]: String(n), [SIZE_HEADER]: String(rec.size), [PART_BYTES_HEADER]: String(rec.partBytes), 'Content-Type': 'application/octet-stream' },
  }));
  await cache.delete(partKey(url, 'pending'));
  d.onProgress?.(rec.size, rec.size, true);
  const marker = await cache.match(url);
  const blob = marker && (await readParts(cache, url, marker));
  if (!blob) throw new HubDownloadError(`${url}: its parts were stored but cannot be read back (evicted under storage pressure?); try again`);
  return blob;
}

async function get(d: PartsDownload, extra: Record<string, string>): Promise<Response> {
  let res: Response;
  try {
    res = await d.fetch(d.url, { headers: { ...d.headers, ...extra } });
  } catch (e) {
    throw new HubDownloadError(`${d.url}: cannot reach the server (${(e as Error).message})`, { cause: e });
  }
  if (!res.ok || !res.body) throw new HubDownloadError(`${d.url}: HTTP ${res.status} ${res.statusText}`.trim());
  return res;
}

/** Splits the body of `res` (which starts at part `first`) into parts, each put into the cache as it completes. */
async function streamParts(d: PartsDownload, res: Response, rec: PendingRecord, first: number): Promise<void> {
  const reader = res.body!.getReader();
  const n = partCount(rec.size, rec.partBytes);
  let loaded = first * rec.partBytes;
  let leftover: Uint8Array | null = null;
  let ended = false;
  const report = () => d.onProgress?.(loaded, rec.size, false);
  report();
  try {
    for (let i = first; i < n; i++) {
      const want = partLength(i, rec.size, rec.partBytes);
      let remaining = want;
      const body = new ReadableStream<Uint8Array>({
        async pull(ctrl) {
          if (remaining === 0) return ctrl.close();
          let chunk = leftover;
          leftover = null;
          if (!chunk) {
            const r = await reader.read();
            if (r.done) {
              ended = true;
              return ctrl.error(new Error(`the body ended at byte ${loaded} of ${rec.size}`));
            }
            chunk = r.value;
          }
          if (chunk.byteLength > remaining) {
            leftover = chunk.subarray(remaining);
            chunk = chunk.subarray(0, remaining);
          }
          remaining -= chunk.byteLength;
          loaded += chunk.byteLength;
          ctrl.enqueue(chunk);
          report();
          if (remaining === 0) ctrl.close();
        },
      });
      try {
        await d.cache.put(partKey(d.url, i), new Response(body, { headers: { 'Content-Length': String(want), 'Content-Type': 'application/octet-stream' } }));
      } catch (e) {
        await d.cache.delete(partKey(d.url, i)).catch(() => false);
        if ((e as { name?: string })?.name === 'QuotaExceededError') throw await quotaRefused(d.url, i * rec.partBytes, rec.size, e, { storage: d.storage });
        throw new HubDownloadError(
          `${d.url}: download failed after ${loaded} of ${rec.size} bytes ` +
            `(${(e as Error).message}); the ${i} part${i === 1 ? '' : 's'} stored so far are kept and the next attempt resumes from byte ${i * rec.partBytes}`,
          { cause: e },
        );
      }
    }
  } finally {
    if (!ended) await reader.cancel().catch(() => {});
  }
}

/** One file the browser cache holds (or is downloading). */
export interface CachedFile {
  /** The file's URL. */
  url: string;
  /** The folder it belongs to: the model's base URL. */
  base: string;
  /** Bytes stored (for a partial download, the parts present). */
  bytes: number;
  /** Its full size, when known. */
  size?: number;
  /** 'complete', or 'partial': a download that stopped and will resume. */
  state: 'complete' | 'partial';
}

export interface CacheListOptions {
  cacheStorage?: CacheStorage | null;
  cacheName?: string;
}

async function openCache(opts: CacheListOptions): Promise<Cache | null> {
  const storage = opts.cacheStorage === undefined ? (globalThis as { caches?: CacheStorage }).caches : opts.cacheStorage;
  if (!storage) return null;
  return storage.open(opts.cacheName ?? BROWSER_CACHE_NAME).catch(() => null);
}

async function entrySize(cache: Cache, key: string): Promise<number> {
  const hit = await cache.match(key);
  if (!hit) return 0;
  const length = hit.headers.get('content-length');
  if (length !== null && Number.isInteger(Number(length))) return Number(length);
  return (await hit.blob()).size;
}

/** What the browser cache holds: every file, whole, in parts, or partly downloaded; known-absent markers left out. */
export async function listCachedFiles(opts: CacheListOptions = {}): Promise<CachedFile[]> {
  const cache = await openCache(opts);
  if (!cache) return [];
  const files = new Map<string, CachedFile>();
  const get = (url: string): CachedFile => {
    let f = files.get(url);
    if (!f) files.set(url, (f = { url, base: url.slice(0, url.lastIndexOf('/') + 1), bytes: 0, state: 'partial' }));
    return f;
  };
  for (const req of await cache.keys()) {
    const u = new URL(req.url);
    const part = u.searchParams.get(PART_PARAM);
    u.searchParams.delete(PART_PARAM);
    const url = u.href;
    if (part === null) {
      const hit = await cache.match(req.url);
      if (!hit || hit.headers.has(ABSENT_HEADER)) continue;
      const f = get(url);
      f.state = 'complete';
      const size = Number(hit.headers.get(SIZE_HEADER));
      if (hit.headers.has(PARTS_HEADER) && Number.isInteger(size)) f.size = size;
      else {
        const n = await entrySize(cache, req.url);
        f.bytes += n;
        f.size = n;
      }
    } else if (part === 'pending') {
      const rec = await readPending(cache, url);
      if (rec) get(url).size ??= rec.size;
    } else {
      get(url).bytes += await entrySize(cache, req.url);
    }
  }
  return [...files.values()].sort((a, b) => a.url.localeCompare(b.url));
}

/**
 * Deletes every cached file whose URL starts with `prefix` (a model's base URL: all its files; a file's URL: that
 * file), parts and pending downloads included. Returns the number of cache entries removed.
 */
export async function deleteCachedFiles(prefix: string, opts: CacheListOptions = {}): Promise<number> {
  const cache = await openCache(opts);
  if (!cache) return 0;
  let removed = 0;
  for (const req of await cache.keys()) {
    const u = new URL(req.url);
    u.searchParams.delete(PART_PARAM);
    if (u.href.startsWith(prefix) && (await cache.delete(req.url))) removed++;
  }
  return removed;
}
