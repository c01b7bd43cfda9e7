/**
 * A model on the hub as a FileSource, in Node: each file is fetched into the huggingface_hub cache the first time it
 * is asked for, and read from the cache from then on. No network when the files are cached: the revision's commit
 * comes from refs/<revision>, files from snapshots/<commit>/, known-absent files from .no_exist/<commit>/.
 *
 * Once the commit is known (from the cache or the first HEAD) every request names it, not the branch, so all the
 * files of one load come from the same commit even if the branch moves meanwhile.
 */
import type { DirectorySource } from '../source-node.js';
import type { FileSource } from '../source.js';
import { getEnv, nodeCacheDir, nodeToken, authHeaders, hubEndpoint, isOffline, resolveUrl, type HubOptions, type ModelRef } from './hub-config.js';
import { HubCache } from './hub-cache-node.js';
import { checkBlobName, checkCommit, checkFileName, checkRepoId, checkRevision } from './hub-names.js';
import { DEFAULT_LOCK_STALE_MS, withBlobLock } from './blob-lock-node.js';
import { downloadBlob } from './download-node.js';
import { fileMetadata, HubDownloadError, HubHttpError, HubUnreachableError, type FileMeta } from './metadata.js';

export const MODEL_DIR_HINT =
  'To run without the hub, use a local checkpoint directory: `--model DIR` on the command line, or the directory path ' +
  'as the model reference when calling the library.';

/** Downloads in flight in this process, by blob path: two sources (or two files with the same content) share one. */
const inflight = new Map<string, Promise<void>>();

export async function openNodeHubSource(ref: ModelRef, opts: HubOptions = {}): Promise<FileSource> {
  // parseModelId checked these already; a ModelRef built by hand is checked here, before any path is made.
  checkRepoId(ref.repo, 'the model reference');
  checkRevision(ref.revision, 'the model reference');
  const cacheDir = await nodeCacheDir(opts);
  const cache = await HubCache.open(cacheDir, ref.repo);
  const { DirectorySource } = await import('../source-node.js');
  const env = getEnv(opts);
  const seconds = (v: string | undefined, dflt: number) => (v && Number(v) > 0 ? Number(v) * 1000 : dflt);
  return new HubNodeSource(ref, cache, await cache.readRef(ref.revision), (dir) => new DirectorySource(dir), {
    endpoint: hubEndpoint(opts),
    headers: authHeaders(await nodeToken(opts)),
    offline: isOffline(opts),
    fetch: opts.fetch ?? ((...a) => fetch(...a)),
    onProgress: opts.onProgress,
    retries: opts.retries,
    etagTimeoutMs: seconds(env.HF_HUB_ETAG_TIMEOUT, 10_000),
    downloadTimeoutMs: seconds(env.HF_HUB_DOWNLOAD_TIMEOUT, 10_000),
    lockStaleMs: opts.lockStaleMs ?? seconds(env.SIGLIP_WEBGPU_LOCK_STALE, DEFAULT_LOCK_STALE_MS),
  });
}

interface Settings {
  endpoint: string;
  headers: Record<string, string>;
  offline: boolean;
  fetch: typeof fetch;
  onProgress: HubOptions['onProgress'];
  retries: number | undefined;
  etagTimeoutMs: number;
  downloadTimeoutMs: number;
  lockStaleMs: number;
}

class HubNodeSource implements FileSource {
  readonly description: string;
  private readonly repo: string;
  private readonly revision: string;
  private readonly metas = new Map<string, Promise<FileMeta>>();
  private readonly ready = new Map<string, Promise<string>>();
  private readonly dirs = new Map<string, DirectorySource>();
  /** Files known to be in the cache, by name → snapshot commit (for `locate`). */
  private readonly cached = new Map<string, string>();

  constructor(
    ref: ModelRef,
    private readonly cache: HubCache,
    /** The commit this load is pinned to; undefined until the cache or the hub tells it. */
    private commit: string | undefined,
    private readonly directory: (dir: string) => DirectorySource,
    private readonly s: Settings,
  ) {
    this.repo = ref.repo;
    this.revision = ref.revision;
    this.description = `${ref.repo}@${ref.revision} (hub ${s.endpoint}, cache ${cache.repoDir})`;
  }

  locate(name: string): string {
    const commit = this.cached.get(name);
    if (commit) return this.cache.snapshotPath(commit, name);
    return resolveUrl(this.s.endpoint, this.repo, this.commit ?? this.revision, name);
  }

  async has(name: string): Promise<boolean> {
    checkFileName(name);
    if (this.commit) {
      if (await this.cache.snapshotHas(this.commit, name)) return true;
      if (await this.cache.isKnownAbsent(this.commit, name)) return false;
    }
    // Not answerable from the cache. Offline or unreachable with the revision cached: what is not cached is absent
    // for this load (as huggingface_hub in offline mode); with nothing cached at all there is no answer.
    if (this.s.offline) {
      if (this.commit) return false;
      throw this.nothingCached('offline mode is on (HF_HUB_OFFLINE)');
    }
    try {
      return (await this.meta(name)).exists;
    } catch (e) {
      if (!(e instanceof HubUnreachableError)) throw e;
      if (this.commit) return false;
      throw this.nothingCached(`the hub at ${this.s.endpoint} could not be reached (${e.message})`);
    }
  }

  async size(name: string): Promise<number> {
    return this.snapshot(await this.ensure(name)).size(name);
  }

  async read(name: string, start?: number, end?: number): Promise<Uint8Array> {
    return this.snapshot(await this.ensure(name)).read(name, start, end);
  }

  async *stream(name: string, start?: number, end?: number, chunkBytes?: number): AsyncIterable<Uint8Array> {
    yield* this.snapshot(await this.ensure(name)).stream(name, start, end, chunkBytes);
  }

  private snapshot(commit: string): DirectorySource {
    let dir = this.dirs.get(commit);
    if (!dir) this.dirs.set(commit, (dir = this.directory(this.cache.snapshotDir(commit))));
    return dir;
  }

  /** HEAD once per file; pins the commit and records absent files in .no_exist, as huggingface_hub does. */
  private meta(name: string): Promise<FileMeta> {
    let p = this.metas.get(name);
    if (!p) {
      p = (async () => {
        const url = resolveUrl(this.s.endpoint, this.repo, this.commit ?? this.revision, name);
        const m = await fileMetadata(url, this.s.headers, this.s.fetch, this.s.etagTimeoutMs);
        // What the server says becomes folder and file names: checked before anything is written.
        if (m.commit !== undefined) checkCommit(m.commit, `the X-Repo-Commit header of ${url}`);
        if (m.exists && m.etag !== undefined) checkBlobName(m.etag, `the ETag (X-Linked-Etag) header of ${url}`);
        const commit = m.commit ?? this.commit;
        if (commit && !this.commit) {
          this.commit = commit;
          await this.cache.writeRef(this.revision, commit);
        }
        if (!m.exists && commit) await this.cache.markAbsent(commit, name);
        return m;
      })();
      this.metas.set(name, p);
      p.catch(() => this.metas.delete(name)); // a failed HEAD may be retried later
    }
    return p;
  }

  /** The file in the cache (downloaded now if need be); resolves to the commit of the snapshot that holds it. */
  private ensure(name: string): Promise<string> {
    let p = this.ready.get(name);
    if (!p) {
      p = this.fetchIntoCache(name);
      this.ready.set(name, p);
      p.then(
        (commit) => this.cached.set(name, commit),
        () => this.ready.delete(name),
      );
    }
    return p;
  }

  private async fetchIntoCache(name: string): Promise<string> {
    checkFileName(name);
    if (this.commit && (await this.cache.snapshotHas(this.commit, name))) return this.commit;
    if (this.s.offline) {
      const why = 'offline mode is on (HF_HUB_OFFLINE)';
      throw this.commit ? this.notCached(name, why) : this.nothingCached(why);
    }
    let meta: FileMeta;
    try {
      meta = await this.meta(name);
    } catch (e) {
      if (!(e instanceof HubUnreachableError)) throw e;
      const why = `the hub at ${this.s.endpoint} could not be reached (${e.message})`;
      throw this.commit ? this.notCached(name, why) : this.nothingCached(why);
    }
    const url = resolveUrl(this.s.endpoint, this.repo, meta.commit ?? this.commit ?? this.revision, name);
    if (!meta.exists) throw new HubHttpError(`${url}: no such file in ${this.repo} at revision ${this.revision}`, 404, 'EntryNotFound');
    const commit = meta.commit ?? this.commit;
    if (!commit || !meta.etag) {
      throw new HubDownloadError(`${url}: the answer has no ${commit ? 'ETag' : 'X-Repo-Commit'} header; is ${this.s.endpoint} a Hugging Face hub?`);
    }
    if (await this.cache.snapshotHas(commit, name)) return commit;
    const etag = meta.etag;
    const dest = this.cache.blobPath(etag);
    try {
      // One download per blob: in this process (two sources, or two files with the same content, share a job) and
      // across processes (the blob's lock; the others wait, then find the blob in place).
      let job = inflight.get(dest);
      if (!job) {
        job = this.downloadLocked(name, url, etag, meta.size).finally(() => inflight.delete(dest));
        inflight.set(dest, job);
      }
      await job;
      await this.cache.link(commit, name, etag);
    } catch (e) {
      throw this.cacheFailure(name, e);
    }
    return commit;
  }

  /** The blob in the cache, complete: already there, finished by another process while we waited, or downloaded
   *  here under its lock. */
  private async downloadLocked(name: string, url: string, etag: string, size: number | undefined): Promise<void> {
    const dest = this.cache.blobPath(etag);
    const partial = await this.cache.prepare(this.cache.partialPath(etag));
    const lockPath = await this.cache.prepare(this.cache.lockPath(etag));
    const complete = async () => {
      const have = await this.cache.blobSize(etag);
      return have !== undefined && (size === undefined || have === size);
    };
    let reported = -1;
    let downloaded = false;
    await withBlobLock(
      {
        lockPath,
        blobPath: dest,
        staleMs: this.s.lockStaleMs,
        ready: complete,
        // Another process is downloading this blob: show its progress (the size of its partial file).
        onWait: async () => {
          const { lstat } = await import('node:fs/promises');
          const loaded = (await lstat(partial).catch(() => undefined))?.size ?? 0;
          if (loaded !== reported) this.s.onProgress?.({ file: name, loaded: (reported = loaded), total: size, done: false });
        },
      },
      async (lost) => {
        downloaded = true;
        await this.cache.adoptPythonPartial(etag, this.s.lockStaleMs);
        return downloadBlob({
          url,
          headers: this.s.headers,
          dest,
          partial,
          expectedSize: size,
          // The hub's etag is the content's sha256 for LFS files, git's blob sha1 for the others.
          sha256: etag.length === 64 ? etag : undefined,
          gitSha1: etag.length === 40 ? etag : undefined,
          file: name,
          fetch: this.s.fetch,
          onProgress: this.s.onProgress,
          retries: this.s.retries,
          idleTimeoutMs: this.s.downloadTimeoutMs,
          signal: lost,
        });
      },
    );
    if (reported >= 0 && !downloaded) this.s.onProgress?.({ file: name, loaded: size ?? reported, total: size, done: true });
  }

  /** Any failure to fetch or store a file, as an error that names the file and the cache (not a bare ENOENT). */
  private cacheFailure(name: string, e: unknown): Error {
    const err = e as NodeJS.ErrnoException;
    if (!err?.code || !err.syscall) return e as Error; // already ours: names the file and the cause
    return new HubDownloadError(`${name}: could not be stored in the hub cache ${this.cache.repoDir} (${err.message})`, { cause: e });
  }

  private nothingCached(why: string): Error {
    return new HubUnreachableError(
      `Cannot load ${this.repo}@${this.revision}: ${why}, and nothing for ${this.repo} is cached in ${this.cache.cacheDir}. ${MODEL_DIR_HINT}`,
    );
  }

  private notCached(name: string, why: string): Error {
    return new HubUnreachableError(
      `${name}: not in the cache for ${this.repo}@${this.revision} (${this.cache.snapshotDir(this.commit!)}), and ${why}. ${MODEL_DIR_HINT}`,
    );
  }
}
