/**
 * A model reference → the FileSource its files are read through:
 *   a FileSource           → itself
 *   "http(s)://…"          → UrlSource (browser: cached with the Cache API)
 *   "/…", "./…", "../…"    → browser: a URL relative to the page, as above (Node: a directory)
 *   an existing directory  → DirectorySource (Node)
 *   "org/name[@revision]"  → the Hugging Face hub (Node: huggingface_hub's disk cache; browser: the Cache API)
 */
import { UrlSource, type FileSource } from '../source.js';
import { authHeaders, envToken, hubEndpoint, parseModelId, resolveUrl, type HubOptions, type SourceRef } from './hub-config.js';
import { CachedUrlSource } from './hub-source-browser.js';

/** True in a page or a worker; Node (vitest included) is not. */
export function isBrowser(): boolean {
  return typeof window !== 'undefined' || 'WorkerGlobalScope' in globalThis;
}

export async function openModelSource(ref: SourceRef, opts: HubOptions = {}): Promise<FileSource> {
  if (typeof ref !== 'string') return ref;
  const browser = opts.browser ?? isBrowser();
  // In a page, "/models/x/", "./x/" and "../x/" are URLs relative to the page (in Node they are directories).
  const here = (globalThis as { location?: { href?: string } }).location?.href;
  if (browser && here && /^\.{0,2}\//.test(ref)) ref = new URL(ref, here).href;
  if (/^https?:\/\//i.test(ref)) {
    // Only an explicit token: HF_TOKEN is for the hub and must not leak to any URL given on a command line.
    const headers = authHeaders(opts.token || undefined);
    return browser ? new CachedUrlSource(ref, browserOptions(opts, headers)) : new UrlSource(ref, { headers, fetch: opts.fetch });
  }
  if (!browser) {
    const local = await localDirectory(ref);
    if (local) return local;
  }
  const id = parseModelId(ref, opts.revision);
  if (!id) {
    const kinds = browser ? 'an http(s) URL' : 'an existing directory, an http(s) URL';
    throw new Error(`${JSON.stringify(ref)}: not ${kinds} or a Hugging Face model id ("org/name" or "org/name@revision")`);
  }
  if (browser) {
    const base = resolveUrl(hubEndpoint(opts), id.repo, id.revision);
    return new CachedUrlSource(base, browserOptions(opts, authHeaders(envToken(opts))));
  }
  const { openNodeHubSource } = await import('./hub-source-node.js');
  return openNodeHubSource(id, opts);
}

function browserOptions(opts: HubOptions, headers: Record<string, string>) {
  return {
    headers,
    fetch: opts.fetch,
    cacheStorage: opts.cacheStorage,
    cacheName: opts.cacheName,
    onProgress: opts.onProgress,
    partBytes: opts.cachePartBytes,
    persist: opts.persistentStorage,
    storage: opts.storageManager,
  };
}

/** Node: a DirectorySource when `ref` names a directory; an error when it names something else that exists. */
async function localDirectory(ref: string): Promise<FileSource | undefined> {
  const { stat } = await import('node:fs/promises');
  const st = await stat(ref).catch(() => undefined);
  if (!st) {
    if (/^(\.{1,2}|~)?[/\\]|^[A-Za-z]:[/\\]/.test(ref)) throw new Error(`${ref}: no such directory`);
    return undefined;
  }
  if (!st.isDirectory()) throw new Error(`${ref}: not a directory (give the folder that holds config.json and the weights)`);
  const { DirectorySource } = await import('../source-node.js');
  const { resolve } = await import('node:path');
  return new DirectorySource(resolve(ref));
}
