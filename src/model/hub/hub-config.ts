/**
 * Options, model-id parsing and the environment variables huggingface_hub reads, with the same names, defaults and
 * precedence, so a machine set up for Python (token, cache, mirror endpoint, offline mode) works unchanged here.
 * Browser-safe: environment access goes through `globalThis.process?.env`, Node modules are imported inside the
 * Node-only functions.
 */
import type { FileSource } from '../source.js';
import { checkRepoId, checkRevision } from './hub-names.js';

export const DEFAULT_ENDPOINT = 'https://huggingface.co';
export const DEFAULT_REVISION = 'main';
/** Cache API bucket of the browser source; bump the suffix if the stored layout ever changes. */
export const BROWSER_CACHE_NAME = 'siglip-webgpu-v1';

export interface DownloadProgress {
  /** File name inside the repository, e.g. "model.safetensors". */
  file: string;
  /** Bytes present so far (a resumed download starts at the bytes already on disk). */
  loaded: number;
  /** Expected size, when the server told it. */
  total?: number;
  /** The last event of this download: it finished (loaded === total) or failed. */
  done: boolean;
}

export type Env = Record<string, string | undefined>;

export interface HubOptions {
  /** Hub base URL; default `HF_ENDPOINT`, else https://huggingface.co. */
  endpoint?: string;
  /** Access token; default `HF_TOKEN`, else the token file. `false`: never send one. */
  token?: string | false;
  /** Revision when the reference has no `@revision`; default "main". */
  revision?: string;
  /** Node: the hub cache directory (huggingface_hub layout); default from HF_HUB_CACHE / HF_HOME / XDG_CACHE_HOME. */
  cacheDir?: string;
  /** Never touch the network, use only the cache; default `HF_HUB_OFFLINE`. */
  offline?: boolean;
  onProgress?: (p: DownloadProgress) => void;
  /** fetch to use (tests, proxies); default globalThis.fetch. */
  fetch?: typeof fetch;
  /** true: the browser implementation (Cache API); false: the Node one; default: detected. */
  browser?: boolean;
  /** Browser: the CacheStorage to use (default globalThis.caches; `null`: no caching). */
  cacheStorage?: CacheStorage | null;
  /** Browser: Cache API bucket name (default "siglip-webgpu-v1"). */
  cacheName?: string;
  /** Browser: files larger than this are cached in parts of this many bytes, so an interrupted download resumes
   *  (default 32 MiB). */
  cachePartBytes?: number;
  /** Browser: ask for persistent storage before a large download: true (default: navigator.storage.persist(),
   *  where it exists), a function that asks (a worker asks its page), or false. */
  persistentStorage?: boolean | (() => Promise<boolean>);
  /** Browser: the StorageManager whose quota is checked before a download (default navigator.storage; null: none). */
  storageManager?: StorageManager | null;
  /** Node: retries of a download after a dropped connection, each resuming where the last stopped; only attempts
   *  that made no progress count (default 5). */
  retries?: number;
  /** Node: a download lock whose holder stopped refreshing it for this long (a killed process) is taken over;
   *  default `SIGLIP_WEBGPU_LOCK_STALE` seconds, else 30 s (at least 2 s). */
  lockStaleMs?: number;
  /** Environment to read instead of process.env (tests). */
  env?: Env;
}

export interface ModelRef {
  repo: string;
  revision: string;
}

export type SourceRef = string | FileSource;

export { COMMIT_RE } from './hub-names.js';

/** Two non-empty parts without whitespace or backslashes, not starting like a path ("./x", "../x", "~/x"): meant
 *  as a model id (then checked strictly). */
const ID_SHAPE = /^(?![.~])[^/\s\\]+\/[^/\s\\]+$/;

/**
 * "org/name" or "org/name@revision" (the revision may contain slashes: "org/name@refs/pr/3"); null when `ref` is
 * not shaped like a model id at all. Shaped like one but unsafe (`org/..`, `org/name@../../x`): an
 * UnsafeHubValueError naming the part, since both parts become cache paths and URL segments.
 */
export function parseModelId(ref: string, defaultRevision = DEFAULT_REVISION): ModelRef | null {
  const at = ref.indexOf('@');
  const repo = at < 0 ? ref : ref.slice(0, at);
  if (!ID_SHAPE.test(repo)) return null;
  const origin = `the model reference ${JSON.stringify(ref)}`;
  checkRepoId(repo, origin);
  const revision = at < 0 ? checkRevision(defaultRevision, 'the revision option') : checkRevision(ref.slice(at + 1), origin);
  return { repo, revision };
}

export function getEnv(opts: HubOptions): Env {
  if (opts.env) return opts.env;
  const proc = (globalThis as { process?: { env?: Env } }).process;
  return proc?.env ?? {};
}

/** huggingface_hub's truthiness for boolean variables. */
export function envFlag(value: string | undefined): boolean {
  return value !== undefined && ['1', 'ON', 'YES', 'TRUE'].includes(value.trim().toUpperCase());
}

export function hubEndpoint(opts: HubOptions): string {
  const e = opts.endpoint ?? getEnv(opts).HF_ENDPOINT ?? DEFAULT_ENDPOINT;
  return e.replace(/\/+$/, '');
}

export function isOffline(opts: HubOptions): boolean {
  return opts.offline ?? envFlag(getEnv(opts).HF_HUB_OFFLINE);
}

/** `${endpoint}/${repo}/resolve/${revision}/${file}`, escaped as the hub expects (the revision as one segment). */
export function resolveUrl(endpoint: string, repo: string, revision: string, file?: string): string {
  const base = `${endpoint}/${repo}/resolve/${encodeURIComponent(revision)}/`;
  return file === undefined ? base : base + file.split('/').map(encodeURIComponent).join('/');
}

/** Token from the options or the environment only (the browser has no token file). */
export function envToken(opts: HubOptions): string | undefined {
  if (opts.token === false) return undefined;
  if (opts.token) return opts.token;
  const env = getEnv(opts);
  // HUGGING_FACE_HUB_TOKEN: the older name, still honoured by huggingface_hub.
  return nonEmpty(env.HF_TOKEN) ?? nonEmpty(env.HUGGING_FACE_HUB_TOKEN);
}

export function authHeaders(token: string | undefined): Record<string, string> {
  return token ? { Authorization: `Bearer ${token}` } : {};
}

function nonEmpty(s: string | undefined): string | undefined {
  const t = s?.trim();
  return t ? t : undefined;
}

// ---- Node only (dynamic imports: the browser bundle must not load node: modules) ----

async function expandHome(p: string): Promise<string> {
  if (p !== '~' && !p.startsWith('~/')) return p;
  const { homedir } = await import('node:os');
  return homedir() + p.slice(1);
}

async function hfHome(env: Env): Promise<string> {
  const { join } = await import('node:path');
  if (nonEmpty(env.HF_HOME)) return expandHome(env.HF_HOME!.trim());
  return join(await expandHome(nonEmpty(env.XDG_CACHE_HOME) ?? '~/.cache'), 'huggingface');
}

/** HF_HUB_CACHE, then HUGGINGFACE_HUB_CACHE, then $HF_HOME/hub ($HF_HOME defaults to $XDG_CACHE_HOME/huggingface). */
export async function nodeCacheDir(opts: HubOptions): Promise<string> {
  const { join, resolve } = await import('node:path');
  if (opts.cacheDir) return resolve(await expandHome(opts.cacheDir));
  const env = getEnv(opts);
  const explicit = nonEmpty(env.HF_HUB_CACHE) ?? nonEmpty(env.HUGGINGFACE_HUB_CACHE);
  return resolve(explicit ? await expandHome(explicit) : join(await hfHome(env), 'hub'));
}

/** opts.token, HF_TOKEN, then the file `huggingface-cli login` writes ($HF_TOKEN_PATH or $HF_HOME/token). */
export async function nodeToken(opts: HubOptions): Promise<string | undefined> {
  if (opts.token === false) return undefined;
  const direct = envToken(opts);
  if (direct) return direct;
  const env = getEnv(opts);
  const { join } = await import('node:path');
  const { readFile } = await import('node:fs/promises');
  const path = nonEmpty(env.HF_TOKEN_PATH) ? await expandHome(env.HF_TOKEN_PATH!.trim()) : join(await hfHome(env), 'token');
  try {
    return nonEmpty(await readFile(path, 'utf8'));
  } catch {
    return undefined;
  }
}
