/**
 * One download per blob across processes (and worker threads, and machines sharing the cache volume): a lock per
 * blob, held while its bytes are fetched, so N processes loading one model into one empty cache fetch each file
 * once while the others wait for it, as huggingface_hub does with its per-blob lock files.
 *
 * The lock is proper-lockfile's: a directory made with mkdir (atomic, also on network file systems, where flock
 * often is not), whose mtime the holder refreshes every few seconds. A holder that dies (kill -9, power loss)
 * stops refreshing, and after `staleMs` the lock is taken over; the next process resumes the partial download.
 * Waiters do not need the lock to finish: as soon as the blob is in place (renamed in by the holder once
 * verified) they use it.
 *
 * Node only; node: modules and proper-lockfile are imported inside the function.
 */
import { HubDownloadError } from './metadata.js';

export interface BlobLockOptions {
  /** Lock directory (HubCache.lockPath). Its parent must exist. */
  lockPath: string;
  /** The blob being downloaded: proper-lockfile's key for the lock. */
  blobPath: string;
  /** A lock not refreshed for this long belongs to a dead process and is taken over (at least 2 s). */
  staleMs: number;
  /** True once the blob is complete in the cache: then nothing needs to be done. */
  ready: () => Promise<boolean>;
  /** Called at each poll while another process holds the lock (e.g. to report its progress). */
  onWait?: () => Promise<void> | void;
}

/** Default time after which a lock whose holder stopped refreshing it is taken over. */
export const DEFAULT_LOCK_STALE_MS = 30_000;
/** How many times a lock may be lost (to a takeover after a long stall of this process) before giving up. */
const MAX_LOST = 3;

export class LockLostError extends HubDownloadError {
  constructor(message: string) {
    super(message);
    this.name = 'LockLostError';
  }
}

/**
 * Runs `work` under the blob's lock unless the blob turns up complete first (then returns without running it).
 * `work` gets a signal that aborts if the lock is lost; it should then stop writing and throw.
 */
export async function withBlobLock(o: BlobLockOptions, work: (lost: AbortSignal) => Promise<void>): Promise<void> {
  const { lock } = (await import('proper-lockfile')).default;
  const staleMs = Math.max(2000, o.staleMs);
  let delay = 50;
  for (let lost = 0; ; ) {
    if (await o.ready()) return;
    const abort = new AbortController();
    let release: (() => Promise<void>) | undefined;
    try {
      release = await lock(o.blobPath, {
        lockfilePath: o.lockPath,
        realpath: false,
        stale: staleMs,
        update: Math.max(1000, Math.floor(staleMs / 3)),
        retries: 0,
        // Another process took the lock over (this one stalled past `staleMs`): stop writing at once.
        onCompromised: (e: Error) => abort.abort(new LockLostError(`the download lock ${o.lockPath} was taken over (${e.message})`)),
      });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ELOCKED') {
        throw new HubDownloadError(`cannot take the download lock ${o.lockPath}: ${(e as Error).message}`);
      }
      await o.onWait?.();
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(1000, delay * 2);
      continue;
    }
    try {
      if (await o.ready()) return; // finished by the holder we waited for
      await work(abort.signal);
      return;
    } catch (e) {
      if (!abort.signal.aborted || ++lost > MAX_LOST) throw e;
      delay = 50; // lost the lock: wait for the new holder like any other waiter
    } finally {
      if (!abort.signal.aborted) await release().catch(() => {});
    }
  }
}
