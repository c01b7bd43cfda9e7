/**
 * A local stand-in for the Hugging Face hub, for tests that must never touch the real network.
 *
 *   const hub = await startMockHub({ models: { 'org/tiny': 'test/fixtures/siglip-tiny' } });
 *   const src = await openModelSource('org/tiny', { endpoint: hub.endpoint, cacheDir: tmp });
 *   ...
 *   expect(hub.requests).toEqual([]);   // e.g. after hub.requests.length = 0: "no network the second time"
 *   await hub.close();
 *
 * What it serves, as the hub does: `GET|HEAD /<org>/<name>/resolve/<revision>/<file>` for revision "main" or
 * `hub.commit`, with `X-Repo-Commit`. Files of at least `lfsThreshold` bytes behave as LFS files: `X-Linked-Etag`
 * (the sha256), `X-Linked-Size`, and a 302 to `hub.cdn` + `/cdn/<sha256>`: a second server on another host name
 * ("localhost", while the hub is "127.0.0.1"), as the real CDN is on another host; its answers have none of the X-*
 * headers, so a client that follows the redirect on HEAD loses them, as with the real CDN. Smaller files
 * answer 200 with `ETag: "<git blob sha1>"`. Ranges get 206 + Content-Range. Missing file: 404 with
 * `X-Error-Code: EntryNotFound` (and X-Repo-Commit); unknown revision: RevisionNotFound; unknown repo: RepoNotFound;
 * with `token` set, requests without `Authorization: Bearer <token>` get 401. Every answer carries CORS headers
 * (`Access-Control-Allow-Origin: *`, the X-* headers exposed) and OPTIONS preflights get 204 (not recorded in
 * `requests`), so pages in a real browser can use it too (test/browser/cache.test.ts).
 *
 * Also here: `memoryCacheStorage()`, an in-memory Cache API for testing browser code in Node.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve, sep } from 'node:path';
// The demo server's Range parsing: one implementation of RFC 9110's byte ranges for both servers.
import { parseRange } from '../../scripts/serve-demo.mjs';

/** Response headers a cross-origin page may read (the rest of CORS: `Access-Control-Allow-Origin: *` on everything). */
const CORS_EXPOSED = 'ETag, X-Repo-Commit, X-Linked-Etag, X-Linked-Size, X-Error-Code, X-Error-Message, Content-Range, Accept-Ranges, Content-Length';

/** The fake commit every mock repository is at. */
export const MOCK_COMMIT = '0123456789abcdef0123456789abcdef01234567';

/** A misbehaviour for the GET requests of one file (HEAD is never affected). */
export interface Fault {
  /** Send this many bytes of the body, then close the connection (a body that fits is sent whole). */
  dropAfter?: number;
  /** Ignore Range: answer 200 with the whole file. */
  ignoreRange?: boolean;
  /** Serve only the first N bytes as if that were the whole file (consistent Content-Length N, 416 past it),
   *  while HEAD still announces the full size: a "wrong size" download. */
  truncateTo?: number;
  /** Answer with this status and an empty body. */
  status?: number;
  /** Send the body slowly: pieces of this many bytes, `chunkDelayMs` apart (downloads that overlap in time). */
  chunkBytes?: number;
  chunkDelayMs?: number;
  /** How many GET requests of the file the fault applies to (default: all of them). */
  times?: number;
}


export interface MockHubOptions {
  /** Repository id → local directory whose files it serves. */
  models: Record<string, string>;
  /** Files of at least this many bytes are LFS files (sha256 etag, X-Linked-*, CDN redirect). Default 64 KiB. */
  lfsThreshold?: number;
  /** Redirect LFS files to /cdn/... (default true). */
  redirectLfs?: boolean;
  /** Require `Authorization: Bearer <token>` on /resolve/ requests (401 otherwise). */
  token?: string;
  /** Faults by file name (as in the repository: "model.safetensors"); see also `setFault` / `addFault`. */
  faults?: Record<string, Fault | Fault[]>;
  /** A hostile or broken hub: rewrites the headers of every /resolve/ answer (HEAD, GET and redirects) for a file,
   *  e.g. `(file, h) => ({ ...h, 'X-Repo-Commit': '../../out' })`. */
  rewriteHeaders?: (file: string, headers: Record<string, string>) => Record<string, string>;
}

export interface MockRequest {
  method: string;
  /** Path and query, e.g. "/org/tiny/resolve/main/config.json" or "/cdn/<sha256>". */
  url: string;
  range?: string;
  authorization?: string;
}

export interface MockHub {
  /** Base URL to use as the hub endpoint, e.g. "http://127.0.0.1:41234". */
  endpoint: string;
  /** Base URL of the fake CDN that LFS files redirect to, e.g. "http://localhost:41235". */
  cdn: string;
  commit: string;
  /** Every request to the hub or the CDN, in order. Clear it with `requests.length = 0`. */
  requests: MockRequest[];
  /** Body bytes sent for GET requests, by repository id and file ("org/tiny/model.safetensors"), hub and CDN
   *  together: what a client downloaded (a dropped connection counts what was written). The CDN serves by content:
   *  a file two repositories share counts under the one whose entry was resolved last. */
  bytesSent: Map<string, number>;
  /** Set (or with undefined, clear) the fault of one file. */
  setFault(file: string, fault: Fault | undefined): void;
  /** Queue another fault for a file: each GET takes the first queued fault whose `times` is not used up, so
   *  `addFault(f, { dropAfter: 4e5, times: 1 }); addFault(f, { dropAfter: 0 })` = one partial answer, then none. */
  addFault(file: string, fault: Fault): void;
  /** Stops the server and drops open connections; afterwards the endpoint refuses connections ("hub down"). */
  close(): Promise<void>;
}

interface Entry {
  path: string;
  /** "org/name/file" */
  key: string;
  name: string;
  size: number;
  sha256: string;
  gitSha1: string;
  lfs: boolean;
}

export async function startMockHub(opts: MockHubOptions): Promise<MockHub> {
  const lfsThreshold = opts.lfsThreshold ?? 64 * 1024;
  const faults = new Map<string, Fault[]>();
  for (const [file, f] of Object.entries(opts.faults ?? {})) faults.set(file, (Array.isArray(f) ? f : [f]).map((x) => ({ ...x })));
  const requests: MockRequest[] = [];
  const bySha = new Map<string, Entry>();
  let cdn = '';

  const bytesSent = new Map<string, number>();
  const count = (e: Entry, n: number) => bytesSent.set(e.key, (bytesSent.get(e.key) ?? 0) + n);
  const entry = (repo: string, dir: string, name: string): Entry | undefined => {
    const root = resolve(dir);
    const path = resolve(root, ...name.split('/'));
    if (!path.startsWith(root + sep)) return undefined;
    let size: number;
    try {
      const st = statSync(path);
      if (!st.isFile()) return undefined;
      size = st.size;
    } catch {
      return undefined;
    }
    const bytes = readFileSync(path);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const lfs = size >= lfsThreshold;
    // Small files: git's blob id. LFS files: the hub's ETag is the id of the pointer file git stores instead.
    const content = lfs ? Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha256}\nsize ${size}\n`) : bytes;
    const gitSha1 = createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
    const e = { path, key: `${repo}/${name}`, name, size, sha256, gitSha1, lfs };
    if (lfs) bySha.set(sha256, e);
    return e;
  };

  const takeFault = (name: string): Fault | undefined => {
    const f = faults.get(name)?.find((x) => x.times === undefined || x.times > 0);
    if (f?.times !== undefined) f.times--;
    return f;
  };

  const serveBody = (req: IncomingMessage, res: ServerResponse, e: Entry, headers: Record<string, string>) => {
    const fault = req.method === 'GET' ? takeFault(e.name) : undefined;
    if (fault?.status) return void res.writeHead(fault.status, headers).end();
    let data: Uint8Array = readFileSync(e.path);
    if (fault?.truncateTo !== undefined) data = data.subarray(0, fault.truncateTo);
    const range = fault?.ignoreRange ? null : parseRange(req.headers.range, data.byteLength);
    if (range === 'unsatisfiable') {
      return void res.writeHead(416, { ...headers, 'Content-Range': `bytes */${data.byteLength}` }).end();
    }
    const [from, to] = range ?? [0, data.byteLength];
    const body = data.subarray(from, to);
    res.writeHead(range ? 206 : 200, {
      ...headers,
      'Accept-Ranges': 'bytes',
      'Content-Type': e.name.endsWith('.json') ? 'application/json' : 'application/octet-stream',
      'Content-Length': String(body.byteLength),
      ...(range ? { 'Content-Range': `bytes ${from}-${to - 1}/${data.byteLength}` } : {}),
    });
    if (req.method === 'HEAD') return void res.end();
    if (fault?.chunkBytes) {
      count(e, body.byteLength);
      const step = fault.chunkBytes;
      const send = (o: number) => {
        if (res.destroyed) return;
        if (o + step >= body.byteLength) return void res.end(body.subarray(o));
        res.write(body.subarray(o, o + step));
        setTimeout(() => send(o + step), fault.chunkDelayMs ?? 10);
      };
      return send(0);
    }
    if (fault?.dropAfter !== undefined && fault.dropAfter < body.byteLength) {
      // End the connection (FIN) once the part is flushed, rather than destroying it (RST): a reset can make the
      // client's kernel discard bytes it received but had not read yet, so a loaded machine saw attempts that
      // made no progress at all and the download tests failed now and then.
      count(e, fault.dropAfter);
      res.write(body.subarray(0, fault.dropAfter), () => req.socket.end());
      return;
    }
    count(e, body.byteLength);
    res.end(body);
  };

  const handle = (req: IncomingMessage, res: ServerResponse, isCdn: boolean) => {
    const url = req.url ?? '/';
    // CORS, as the real hub and CDN send it, so pages on another origin (the browser tests) can read the answers.
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Expose-Headers', CORS_EXPOSED);
    if (req.method === 'OPTIONS') {
      // A preflight (a request with Authorization or Range): allowed, and not recorded among the requests.
      return void res
        .writeHead(204, { 'Access-Control-Allow-Methods': 'GET, HEAD', 'Access-Control-Allow-Headers': 'Authorization, Range', 'Access-Control-Max-Age': '600' })
        .end();
    }
    requests.push({
      method: req.method ?? 'GET',
      url,
      ...(req.headers.range ? { range: req.headers.range } : {}),
      ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
    });
    const segs = new URL(url, 'http://x').pathname.split('/').slice(1).map(decodeURIComponent);
    if (isCdn) {
      const e = segs[0] === 'cdn' && segs.length === 2 ? bySha.get(segs[1]!) : undefined;
      if (!e) return void res.writeHead(404).end();
      return serveBody(req, res, e, { ETag: `"${e.sha256}"` });
    }
    if (segs.length < 5 || segs[2] !== 'resolve') return void res.writeHead(404).end();
    const [org, name, , revision, ...file] = segs;
    const repo = `${org}/${name}`;
    const dir = opts.models[repo];
    if (opts.token !== undefined && req.headers.authorization !== `Bearer ${opts.token}`) {
      return void res.writeHead(401, { 'X-Error-Code': 'GatedRepo', 'X-Error-Message': `Access to ${repo} is restricted` }).end();
    }
    if (!dir) return void res.writeHead(404, { 'X-Error-Code': 'RepoNotFound' }).end();
    if (revision !== 'main' && revision !== MOCK_COMMIT) return void res.writeHead(404, { 'X-Error-Code': 'RevisionNotFound' }).end();
    const e = entry(repo, dir, file.join('/'));
    const rewrite = (h: Record<string, string>) => opts.rewriteHeaders?.(file.join('/'), h) ?? h;
    const common = { 'X-Repo-Commit': MOCK_COMMIT };
    if (!e) return void res.writeHead(404, rewrite({ ...common, 'X-Error-Code': 'EntryNotFound' })).end();
    if (!e.lfs) return serveBody(req, res, e, rewrite({ ...common, ETag: `"${e.gitSha1}"` }));
    const lfs = { ...common, ETag: `"${e.gitSha1}"`, 'X-Linked-Etag': `"${e.sha256}"`, 'X-Linked-Size': String(e.size) };
    if (opts.redirectLfs === false) return serveBody(req, res, e, rewrite(lfs));
    res.writeHead(302, rewrite({ ...lfs, Location: `${cdn}/cdn/${e.sha256}`, 'Content-Length': '0' })).end();
  };

  const server = createServer((req, res) => handle(req, res, false));
  const cdnServer = createServer((req, res) => handle(req, res, true));
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  // "localhost" resolves to 127.0.0.1 or ::1; listening on the name binds whichever a client will reach.
  await new Promise<void>((ok) => cdnServer.listen(0, 'localhost', ok));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  cdn = `http://localhost:${(cdnServer.address() as AddressInfo).port}`;
  const stop = (s: typeof server) =>
    new Promise<void>((ok) => {
      s.close(() => ok());
      s.closeAllConnections();
    });
  return {
    endpoint,
    cdn,
    commit: MOCK_COMMIT,
    requests,
    bytesSent,
    setFault: (file, fault) => void (fault ? faults.set(file, [{ ...fault }]) : faults.delete(file)),
    addFault: (file, fault) => void faults.set(file, [...(faults.get(file) ?? []), { ...fault }]),
    close: async () => {
      await Promise.all([stop(server), stop(cdnServer)]);
    },
  };
}

/** In-memory CacheStorage (only what browser code here uses: open → match / put / delete / keys), for Node tests. */
export function memoryCacheStorage(): CacheStorage {
  const caches = new Map<string, Map<string, { body: ArrayBuffer; status: number; headers: [string, string][] }>>();
  const key = (r: RequestInfo | URL) => (typeof r === 'string' ? r : r instanceof URL ? r.toString() : r.url);
  const open = async (name: string) => {
    let store = caches.get(name);
    if (!store) caches.set(name, (store = new Map()));
    const s = store;
    return {
      async match(r: RequestInfo | URL) {
        const e = s.get(key(r));
        return e && new Response(e.status === 200 ? e.body : null, { status: e.status, headers: e.headers });
      },
      async put(r: RequestInfo | URL, res: Response) {
        if (res.status === 206) throw new TypeError('Cache.put: partial response');
        const body = await res.arrayBuffer(); // rejects if the body stream fails, as a browser's does
        s.set(key(r), { body, status: res.status, headers: [...res.headers] });
      },
      async delete(r: RequestInfo | URL) {
        return s.delete(key(r));
      },
      async keys() {
        return [...s.keys()].map((u) => new Request(u));
      },
    } as unknown as Cache;
  };
  return {
    open,
    has: async (name: string) => caches.has(name),
    delete: async (name: string) => caches.delete(name),
    keys: async () => [...caches.keys()],
    match: async (r: RequestInfo | URL) => {
      for (const name of caches.keys()) {
        const hit = await (await open(name)).match(r);
        if (hit) return hit;
      }
      return undefined;
    },
  } as CacheStorage;
}

/** Environment variables that steer hub access (huggingface_hub's names). */
export const HF_ENV_VARS = [
  'HF_ENDPOINT', 'HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN', 'HF_TOKEN_PATH', 'HF_HOME', 'HF_HUB_CACHE',
  'HUGGINGFACE_HUB_CACHE', 'XDG_CACHE_HOME', 'HF_HUB_OFFLINE', 'HF_HUB_ETAG_TIMEOUT', 'HF_HUB_DOWNLOAD_TIMEOUT',
];

/** Unsets HF_* variables (so a developer's own token, cache or offline mode cannot leak into a test);
 *  returns the function that restores them. Use in beforeEach / afterEach. */
export function clearHfEnv(): () => void {
  const saved = HF_ENV_VARS.map((k) => [k, process.env[k]] as const);
  for (const k of HF_ENV_VARS) delete process.env[k];
  return () => {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}
