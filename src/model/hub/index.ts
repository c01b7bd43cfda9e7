/**
 * Model files from a local directory, a URL or the Hugging Face hub, as one FileSource. The CLI's progress bar lives
 * in ./progress.js (imported directly: it pulls in cli-progress, which a browser bundle must not).
 */
export { openModelSource, isBrowser } from './resolve.js';
export { CachedUrlSource, type CachedUrlSourceOptions } from './hub-source-browser.js';
export {
  parseModelId,
  resolveUrl,
  hubEndpoint,
  DEFAULT_ENDPOINT,
  BROWSER_CACHE_NAME,
  type HubOptions,
  type DownloadProgress,
  type ModelRef,
  type SourceRef,
} from './hub-config.js';
export { HubError, HubHttpError, HubUnreachableError, HubDownloadError } from './metadata.js';
export { UnsafeHubValueError, CachePathError } from './hub-names.js';
export { listCachedFiles, deleteCachedFiles, DEFAULT_PART_BYTES, type CachedFile, type CacheListOptions } from './browser-parts.js';
export { StorageQuotaError, storageState, requestPersistence, formatStorageBytes, type StorageState } from './browser-storage.js';
