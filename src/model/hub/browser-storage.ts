/**
 * Room in the browser's storage before a download: the site's quota and usage (navigator.storage.estimate()), and
 * persistent storage (navigator.storage.persist()) asked for before a large file, so that the browser does not
 * evict gigabytes of weights under pressure. A file that cannot fit is refused with the numbers before any byte of
 * it is stored, instead of failing half-way with a QuotaExceededError. No node: imports.
 *
 * `persist()` exists only in windows (not in workers): a worker passes a function that asks its page (the worker
 * host does, src/worker/host.ts).
 */

/** A file that does not fit in what this site may still store. Nothing of it was written. */
export class StorageQuotaError extends Error {
  constructor(
    message: string,
    /** The file's URL. */
    readonly file: string,
    /** Bytes the download still needs. */
    readonly needed: number,
    /** Bytes this site may still store (quota − usage). */
    readonly available: number,
    readonly quota: number,
    readonly usage: number,
    /** Whether the site's storage is persistent (asked for before this check). */
    readonly persisted: boolean,
  ) {
    super(message);
    this.name = 'StorageQuotaError';
  }
}

/** Files at least this large are "large downloads": persistent storage is asked for first. */
export const LARGE_DOWNLOAD_BYTES = 32 << 20;

export interface StorageBudgetOptions {
  /**
   * Ask for persistent storage before a large download: true (default) calls navigator.storage.persist() where it
   * exists (pages), a function is called instead (a worker asks its page), false never asks.
   */
  persist?: boolean | (() => Promise<boolean>);
  /** The StorageManager to ask (default navigator.storage; null: no checks, e.g. where there is none). */
  storage?: StorageManager | null;
  /** Downloads of at least this many bytes are large (default LARGE_DOWNLOAD_BYTES). */
  largeBytes?: number;
}

export interface StorageState {
  quota: number;
  usage: number;
  persisted: boolean;
}

function storageManager(opts: StorageBudgetOptions): StorageManager | null {
  if (opts.storage !== undefined) return opts.storage;
  return (globalThis as { navigator?: { storage?: StorageManager } }).navigator?.storage ?? null;
}

/** 1.23 GB, 456 MB, 12.3 kB (decimal units, as browsers' site settings show them). */
export function formatStorageBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let u = 0;
  let v = n;
  while (Math.abs(v) >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(Math.abs(v) < 10 ? 2 : Math.abs(v) < 100 ? 1 : 0)} ${units[u]}`;
}

/**
 * The error for a write the browser refused (QuotaExceededError) although the estimate allowed it — estimates are
 * approximate, and other data of the site may have grown meanwhile. `kept` bytes of the file stay stored (its
 * download resumes from there once there is room).
 */
export async function quotaRefused(url: string, kept: number, size: number, cause: unknown, opts: StorageBudgetOptions = {}): Promise<StorageQuotaError> {
  const state = await storageState(opts).catch(() => null);
  const f = formatStorageBytes;
  const needed = size - kept;
  const numbers = state ? ` (it reports ${f(state.usage)} used of a ${f(state.quota)} quota${state.persisted ? ', persistent storage' : ''})` : '';
  const e = new StorageQuotaError(
    `${url}: the browser refused to store more of this file after ${kept} of ${size} bytes (QuotaExceededError)${numbers}; ` +
      `${f(needed)} more are needed. What was stored is kept, and the download resumes from byte ${kept} once there is room: ` +
      'delete cached models or other site data, or free disk space.',
    url,
    needed,
    state ? Math.max(0, state.quota - state.usage) : 0,
    state?.quota ?? 0,
    state?.usage ?? 0,
    state?.persisted ?? false,
  );
  (e as { cause?: unknown }).cause = cause;
  return e;
}

/** Asks for persistent storage (once it is granted, asking again is free). Never throws: false when refused. */
export async function requestPersistence(opts: StorageBudgetOptions = {}): Promise<boolean> {
  const storage = storageManager(opts);
  if (opts.persist === false) return (await storage?.persisted?.().catch(() => false)) ?? false;
  try {
    if (await storage?.persisted?.()) return true;
    if (typeof opts.persist === 'function') return await opts.persist();
    return typeof storage?.persist === 'function' ? await storage.persist() : false;
  } catch {
    return false;
  }
}

/** Quota, usage and persistence now; null where the browser does not say (no StorageManager, or no numbers). */
export async function storageState(opts: StorageBudgetOptions = {}): Promise<StorageState | null> {
  const storage = storageManager(opts);
  if (!storage?.estimate) return null;
  const est = await storage.estimate().catch(() => null);
  if (!est || typeof est.quota !== 'number' || typeof est.usage !== 'number') return null;
  const persisted = (await storage.persisted?.().catch(() => false)) ?? false;
  return { quota: est.quota, usage: est.usage, persisted };
}

/**
 * Before storing `bytes` more of `url`: asks for persistent storage when the download is large, then checks the
 * quota; throws StorageQuotaError (with the numbers) when the bytes cannot fit. Where the browser gives no numbers
 * the download goes ahead (a failed write is still caught where it happens).
 */
export async function ensureRoomFor(url: string, bytes: number, opts: StorageBudgetOptions = {}): Promise<StorageState | null> {
  if (!(bytes > 0)) return null;
  if (bytes >= (opts.largeBytes ?? LARGE_DOWNLOAD_BYTES)) await requestPersistence(opts);
  const state = await storageState(opts);
  if (!state) return null;
  const available = Math.max(0, state.quota - state.usage);
  if (bytes > available) {
    const f = formatStorageBytes;
    throw new StorageQuotaError(
      `${url}: the download needs ${f(bytes)} (${bytes} bytes) but this site may store only ${f(available)} more in ` +
        `this browser (quota ${f(state.quota)}, ${f(state.usage)} used${state.persisted ? ', persistent storage' : ', storage not persistent'}); ` +
        'nothing of it was stored. Free space (delete cached models or other site data, or disk space), or load with ' +
        'cacheStorage: null to read the file from the network without keeping it.',
      url,
      bytes,
      available,
      state.quota,
      state.usage,
      state.persisted,
    );
  }
  return state;
}
