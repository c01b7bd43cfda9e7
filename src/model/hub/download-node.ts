/**
 * One file from the hub into a blob of the cache, the way huggingface_hub does it: bytes go to a partial file
 * (HubCache.partialPath), a partial file is resumed with `Range: bytes=<have>-`, and only a file of the expected
 * size and hash (sha256 for LFS files, git's blob sha1 for the others) is renamed into place, so the cache never
 * holds a short or corrupt blob. A dropped connection is retried with resume; attempts that made progress do not
 * count against `retries`, so a slow but flaky line still finishes a large file. The caller holds the blob's
 * lock (blob-lock-node.ts), so no other process writes the partial file meanwhile.
 *
 * Node only: node: modules are imported inside the function (see hub-cache-node.ts).
 */
import type { DownloadProgress } from './hub-config.js';
import { HubDownloadError, networkReason } from './metadata.js';

export interface BlobDownload {
  /** Where to GET the file (redirects are followed: the hub sends LFS files to a CDN). */
  url: string;
  headers: Record<string, string>;
  /** Final blob path, renamed into place once complete and verified. */
  dest: string;
  /** Where the bytes go until then (resumed from its size when it exists). Never a symlink. */
  partial: string;
  /** Size the hub announced (X-Linked-Size / Content-Length); the download must match it exactly. */
  expectedSize?: number;
  /** Lower-case hex sha256 the content must have (the hub's LFS etag). */
  sha256?: string;
  /** Lower-case hex git blob sha1 the content must have (the hub's etag of a non-LFS file). */
  gitSha1?: string;
  /** Aborts the download (e.g. its lock was lost); the partial file is kept. */
  signal?: AbortSignal;
  /** File name in the repository, for messages and progress. */
  file: string;
  fetch: typeof fetch;
  onProgress?: (p: DownloadProgress) => void;
  /** Consecutive attempts without progress before giving up (default 5). */
  retries?: number;
  /** Abort an attempt when no byte arrived for this long (default 10 s, as huggingface_hub). */
  idleTimeoutMs?: number;
  /** First back-off delay after an attempt without progress; doubles each time (default 200 ms). */
  retryDelayMs?: number;
}

/** Not worth retrying: the server refused the file, or the bytes cannot be right. */
class FatalDownloadError extends HubDownloadError {
  constructor(
    message: string,
    /** The partial file is wrong, not just short: delete it. */
    readonly discard = false,
  ) {
    super(message);
  }
}

const MAX_ATTEMPTS = 1000;
const MAX_DELAY_MS = 5000;
const HASH_CHUNK = 8 << 20;

export async function downloadBlob(d: BlobDownload): Promise<void> {
  let last = { loaded: 0, done: false };
  const onProgress = d.onProgress;
  try {
    await download({
      ...d,
      onProgress: onProgress && ((p) => ((last = p), onProgress(p))),
    });
  } finally {
    // Always end with `done`, failures included: a progress bar waiting for it would keep the process alive.
    if (onProgress && !last.done) onProgress({ file: d.file, loaded: last.loaded, total: d.expectedSize, done: true });
  }
}

async function download(d: BlobDownload): Promise<void> {
  const [fs, { createHash }, { constants }] = await Promise.all([import('node:fs/promises'), import('node:crypto'), import('node:fs')]);
  const tmp = d.partial;
  const expected = d.expectedSize;
  // Never through a link (defence in depth: HubCache.inside already refused links out of the cache).
  const NOFOLLOW = constants.O_NOFOLLOW ?? 0;
  const truncate = async () => (await fs.open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | NOFOLLOW)).close();

  const newHash = () => (d.sha256 ? createHash('sha256') : undefined);
  let hash = newHash();
  let have = (await fs.lstat(tmp).catch(() => undefined))?.size ?? 0;
  if (expected !== undefined && have > expected) have = 0; // left by another version of the file: start over
  if (have > 0 && hash) await hashPrefix(tmp, have, hash);
  if (have === 0) await truncate();

  const progress = (done: boolean) => d.onProgress?.({ file: d.file, loaded: have, total: expected, done });
  const restart = async () => {
    have = 0;
    hash = newHash();
    await truncate();
  };

  /** One GET; bytes are appended to `tmp` as they arrive, so a drop keeps everything received so far. */
  const attempt = async (): Promise<void> => {
    const abort = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => abort.abort(new Error(`no data for ${(d.idleTimeoutMs ?? 10_000) / 1000} s`)), d.idleTimeoutMs ?? 10_000);
    };
    arm();
    const stop = () => abort.abort(d.signal?.reason);
    d.signal?.addEventListener('abort', stop);
    const headers: Record<string, string> = { ...d.headers, 'Accept-Encoding': 'identity' };
    if (have > 0) headers['Range'] = `bytes=${have}-`;
    let fh: import('node:fs/promises').FileHandle | undefined;
    let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
    try {
      const res = await d.fetch(d.url, { headers, redirect: 'follow', signal: abort.signal });
      if (res.status === 416 && have > 0) {
        await restart(); // our partial file does not fit the server's: refetch it whole
        throw new Error('the server refused to resume (HTTP 416)');
      }
      if (!res.ok) {
        const msg = `HTTP ${res.status} ${res.statusText}`.trim();
        if (res.status >= 500 || res.status === 429 || res.status === 408) throw new Error(msg);
        throw new FatalDownloadError(`${d.file}: ${d.url}: ${msg}`);
      }
      if (have > 0 && res.status === 206) {
        const from = Number(/^bytes (\d+)-/.exec(res.headers.get('content-range') ?? '')?.[1]);
        if (from !== have) {
          await restart();
          throw new Error(`the server resumed at byte ${from}, not ${have}`);
        }
      } else if (have > 0) {
        await restart(); // 200 to a Range request: the whole file is coming, write it from the start
      }
      if (!res.body) throw new Error('response has no body');
      fh = await fs.open(tmp, constants.O_RDWR | NOFOLLOW);
      reader = res.body.getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        arm();
        if (expected !== undefined && have + value.byteLength > expected) {
          throw new FatalDownloadError(`${d.file}: the server sent more than the ${expected} bytes the hub announced`, true);
        }
        await fh.write(value, 0, value.byteLength, have);
        hash?.update(value);
        have += value.byteLength;
        progress(false);
      }
    } finally {
      clearTimeout(timer);
      d.signal?.removeEventListener('abort', stop);
      await reader?.cancel().catch(() => {});
      await fh?.close();
    }
  };

  let failures = 0;
  let lastError = '';
  // Progress = bytes beyond the furthest point reached so far; refetching the same prefix after a restart is not.
  let best = have;
  let attempts = 0;
  // Without an announced size, a response that ends cleanly is the end of the file.
  let complete = expected !== undefined && have === expected;
  while (!complete && attempts < MAX_ATTEMPTS) {
    attempts++;
    progress(false);
    try {
      await attempt();
      complete = expected === undefined || have === expected;
      if (!complete) lastError = `the response ended after ${have} of ${expected} bytes`;
    } catch (e) {
      if (e instanceof FatalDownloadError) {
        if (e.discard) await fs.rm(tmp, { force: true });
        throw e;
      }
      if (d.signal?.aborted) throw d.signal.reason;
      lastError = networkReason(e);
    }
    if (complete) break;
    if (have > best) {
      best = have;
      failures = 0; // progress: resume at once
      continue;
    }
    if (++failures > (d.retries ?? 5)) break;
    await new Promise((r) => setTimeout(r, Math.min(MAX_DELAY_MS, (d.retryDelayMs ?? 200) * 2 ** (failures - 1))));
  }

  const onDisk = (await fs.lstat(tmp).catch(() => undefined))?.size;
  if (onDisk === undefined) throw new HubDownloadError(`${d.file}: the partial download ${tmp} disappeared while it was being written (removed by another program?)`);
  if (!complete || onDisk !== have) {
    const of = expected !== undefined ? ` of ${expected}` : '';
    throw new HubDownloadError(
      `${d.file}: download from ${d.url} failed after ${attempts} attempts (${lastError || 'incomplete'}); ${onDisk}${of} bytes ` +
        `are kept in ${tmp} and the next attempt resumes from there`,
    );
  }
  if (hash && d.sha256) {
    const got = hash.digest('hex');
    if (got !== d.sha256.toLowerCase()) {
      await fs.rm(tmp, { force: true });
      throw new HubDownloadError(`${d.file}: sha256 of the downloaded bytes is ${got}, the hub announced ${d.sha256}; the download was discarded`);
    }
  }
  if (d.gitSha1) {
    const got = await gitBlobSha1(tmp, have);
    if (got !== d.gitSha1.toLowerCase()) {
      await fs.rm(tmp, { force: true });
      throw new HubDownloadError(`${d.file}: git blob sha1 of the downloaded bytes is ${got}, the hub announced ${d.gitSha1}; the download was discarded`);
    }
  }
  await fs.rename(tmp, d.dest);
  progress(true);
}

/** git's object id of a file's content, sha1("blob <size>\0" + content): the hub's ETag of a non-LFS file. */
async function gitBlobSha1(path: string, size: number): Promise<string> {
  const { createHash } = await import('node:crypto');
  const hash = createHash('sha1').update(`blob ${size}\0`);
  await hashPrefix(path, size, hash);
  return hash.digest('hex');
}

/** Feeds the first `length` bytes of a partial download into the hash, so resuming still verifies the whole file. */
async function hashPrefix(path: string, length: number, hash: import('node:crypto').Hash): Promise<void> {
  const { open } = await import('node:fs/promises');
  const fh = await open(path, 'r');
  try {
    const buf = new Uint8Array(Math.min(HASH_CHUNK, length));
    for (let pos = 0; pos < length; ) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.byteLength, length - pos), pos);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
      pos += bytesRead;
    }
  } finally {
    await fh.close();
  }
}
