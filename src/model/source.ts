/**
 * Where a checkpoint's files come from. The model, the tokenizer and the image processor read their files through
 * this one interface, so a local directory (Node), a base URL, browser Blobs/Files and the hub's cache all work the
 * same way, and every error can name the file it is about (`locate`).
 *
 * Implementations: `DirectorySource` (src/model/source-node.ts, Node only), `UrlSource` and `BlobSource` (here).
 * Sources that turn names into paths or URLs check them first (`checkFileName`): names also come from files (a
 * sharded checkpoint's index), and `../x` must not reach outside the checkpoint.
 */
import { checkFileName } from './hub/hub-names.js';
import { CheckpointError } from './errors.js';

export interface FileSource {
  /** Human-readable origin for messages: a directory path, a base URL, "browser files". */
  readonly description: string;
  /** Full path or URL of one file, for error messages. */
  locate(name: string): string;
  has(name: string): Promise<boolean>;
  /** Size in bytes; throws naming the file when it is missing. */
  size(name: string): Promise<number>;
  /** Bytes [start, end) of a file (defaults: the whole file). Throws naming the file when it is missing or short. */
  read(name: string, start?: number, end?: number): Promise<Uint8Array>;
  /** Bytes [start, end) in chunks of at most `chunkBytes`, in order; never the whole range at once. */
  stream(name: string, start?: number, end?: number, chunkBytes?: number): AsyncIterable<Uint8Array>;
}

export const DEFAULT_CHUNK_BYTES = 8 << 20;

export async function readText(source: FileSource, name: string): Promise<string> {
  return new TextDecoder('utf-8', { fatal: false }).decode(await source.read(name));
}

export async function readJson<T = unknown>(source: FileSource, name: string): Promise<T> {
  const text = await readText(source, name);
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new CheckpointError(`${source.locate(name)}: not valid JSON (${(e as Error).message})`, { file: source.locate(name) });
  }
}

/** Reads files below a base URL with fetch; uses HTTP Range requests for partial reads and falls back to
 *  reading the body in order (discarding bytes before `start`) when the server ignores Range. */
export class UrlSource implements FileSource {
  readonly description: string;
  private readonly base: string;
  private readonly headers: Record<string, string>;
  private readonly sizes = new Map<string, number>();

  constructor(base: string, opts: { headers?: Record<string, string>; fetch?: typeof fetch } = {}) {
    this.base = base.endsWith('/') ? base : base + '/';
    this.description = this.base;
    this.headers = opts.headers ?? {};
    if (opts.fetch) this.fetchImpl = opts.fetch;
  }

  private fetchImpl: typeof fetch = (...args) => fetch(...args);

  locate(name: string): string {
    // Each segment escaped, so "?", "#" or "%" in a name cannot change the URL's meaning either.
    return this.base + checkFileName(name).split('/').map(encodeURIComponent).join('/');
  }

  /** False only when the server says the file is not there (404/410); an unreachable server is an error, not
   *  "absent", so the caller does not report a missing config when the network is down. */
  async has(name: string): Promise<boolean> {
    try {
      await this.size(name);
      return true;
    } catch (e) {
      if (e instanceof HttpStatusError && (e.status === 404 || e.status === 410)) return false;
      throw e;
    }
  }

  async size(name: string): Promise<number> {
    const known = this.sizes.get(name);
    if (known !== undefined) return known;
    const url = this.locate(name);
    let res: Response;
    try {
      res = await this.fetchImpl(url, { method: 'HEAD', headers: this.headers });
    } catch (e) {
      throw new Error(`${url}: cannot reach the server (${reason(e)})`);
    }
    if (!res.ok) throw new HttpStatusError(url, res);
    const len = Number(res.headers.get('content-length'));
    if (!Number.isFinite(len) || res.headers.get('content-length') === null) {
      // No length on HEAD (some servers): read it once; acceptable only for small files.
      const bytes = await this.read(name);
      this.sizes.set(name, bytes.byteLength);
      return bytes.byteLength;
    }
    this.sizes.set(name, len);
    return len;
  }

  async read(name: string, start = 0, end?: number): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    let total = 0;
    for await (const chunk of this.stream(name, start, end)) {
      parts.push(chunk);
      total += chunk.byteLength;
    }
    if (parts.length === 1) return parts[0]!;
    const out = new Uint8Array(total);
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.byteLength;
    }
    return out;
  }

  async *stream(name: string, start = 0, end?: number, chunkBytes = DEFAULT_CHUNK_BYTES): AsyncIterable<Uint8Array> {
    const url = this.locate(name);
    if (end !== undefined && end <= start) return; // empty range: "bytes=5-4" would be a 416
    const headers: Record<string, string> = { ...this.headers };
    const ranged = start > 0 || end !== undefined;
    if (ranged) headers['Range'] = `bytes=${start}-${end !== undefined ? end - 1 : ''}`;
    let res: Response;
    try {
      res = await this.fetchImpl(url, { headers });
    } catch (e) {
      throw new Error(`${url}: cannot reach the server (${reason(e)})`);
    }
    if (!res.ok) throw new HttpStatusError(url, res);
    if (!res.body) throw new Error(`${url}: response has no body`);
    // 200 to a Range request: the server sent the whole file; skip to `start` ourselves.
    let skip = ranged && res.status !== 206 ? start : 0;
    let remaining = end !== undefined ? end - start : Infinity;
    const reader = res.body.getReader();
    let got = 0;
    try {
      while (remaining > 0) {
        let chunk: ReadableStreamReadResult<Uint8Array>;
        try {
          chunk = await reader.read();
        } catch (e) {
          // A dropped connection mid-body: say which file and how far it got.
          throw new Error(`${url}: connection lost after ${got} bytes (${reason(e)})`);
        }
        const { value, done } = chunk;
        if (done) break;
        got += value.byteLength;
        let v = value;
        if (skip > 0) {
          if (v.byteLength <= skip) {
            skip -= v.byteLength;
            continue;
          }
          v = v.subarray(skip);
          skip = 0;
        }
        if (v.byteLength > remaining) v = v.subarray(0, remaining);
        remaining -= v.byteLength;
        for (let o = 0; o < v.byteLength; o += chunkBytes) yield v.subarray(o, Math.min(v.byteLength, o + chunkBytes));
      }
    } finally {
      await reader.cancel().catch(() => {});
    }
    if (remaining !== Infinity && remaining > 0) {
      throw new Error(`${url}: truncated: ended ${remaining} bytes before byte ${end}`);
    }
  }
}

/** fetch's error message plus its cause ("fetch failed: connect ECONNREFUSED ..."): undici hides the reason there. */
function reason(e: unknown): string {
  const err = e as { message?: string; cause?: { message?: string } };
  return [err.message ?? String(e), err.cause?.message].filter(Boolean).join(': ');
}

class HttpStatusError extends Error {
  readonly status: number;
  constructor(url: string, res: Response) {
    super(`${url}: HTTP ${res.status} ${res.statusText}`.trim());
    this.status = res.status;
  }
}

/** Files given as Blobs (browser File objects from a picker or drop), by name. */
export class BlobSource implements FileSource {
  readonly description = 'browser files';
  constructor(private readonly files: Record<string, Blob>) {}

  locate(name: string): string {
    const f = this.files[name] as (Blob & { name?: string }) | undefined;
    return f?.name ? `${f.name} (as ${name})` : name;
  }

  async has(name: string): Promise<boolean> {
    return name in this.files;
  }

  private get(name: string): Blob {
    const f = this.files[name];
    if (!f) throw new Error(`${name}: no such file among the given browser files (${Object.keys(this.files).join(', ')})`);
    return f;
  }

  async size(name: string): Promise<number> {
    return this.get(name).size;
  }

  async read(name: string, start = 0, end?: number): Promise<Uint8Array> {
    const blob = this.get(name);
    const stop = end ?? blob.size;
    if (stop > blob.size) throw new Error(`${this.locate(name)}: truncated: wanted bytes up to ${stop}, file has ${blob.size}`);
    return new Uint8Array(await blob.slice(start, stop).arrayBuffer());
  }

  async *stream(name: string, start = 0, end?: number, chunkBytes = DEFAULT_CHUNK_BYTES): AsyncIterable<Uint8Array> {
    const stop = end ?? (await this.size(name));
    for (let o = start; o < stop; o += chunkBytes) yield await this.read(name, o, Math.min(stop, o + chunkBytes));
  }
}

/** Files gathered from several sources under their checkpoint names (e.g. a config object and a weights URL). */
export class CompositeSource implements FileSource {
  readonly description: string;
  constructor(private readonly files: Record<string, { source: FileSource; name: string }>) {
    this.description = [...new Set(Object.values(files).map((f) => f.source.description))].join(' + ') || 'no files';
  }

  private get(name: string): { source: FileSource; name: string } {
    const f = this.files[name];
    if (!f) throw new Error(`${name}: not among the given files (${Object.keys(this.files).join(', ')})`);
    return f;
  }

  locate(name: string): string {
    const f = this.files[name];
    return f ? f.source.locate(f.name) : name;
  }

  async has(name: string): Promise<boolean> {
    const f = this.files[name];
    return f ? f.source.has(f.name) : false;
  }

  size(name: string): Promise<number> {
    const f = this.get(name);
    return f.source.size(f.name);
  }

  read(name: string, start?: number, end?: number): Promise<Uint8Array> {
    const f = this.get(name);
    return f.source.read(f.name, start, end);
  }

  stream(name: string, start?: number, end?: number, chunkBytes?: number): AsyncIterable<Uint8Array> {
    const f = this.get(name);
    return f.source.stream(f.name, start, end, chunkBytes);
  }
}
