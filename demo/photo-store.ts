/**
 * The photo index of the demo's search view, in IndexedDB: one record per photo and model, keyed by the model, the
 * file's path in its folder, its size and its last-modified time — so a reload, or picking the same folder again,
 * embeds nothing that was embedded before, and a photo that changed (another size or time) is embedded again.
 * Each record keeps the embedding, a small JPEG thumbnail (so the collection shows and searches without the files),
 * or the reason the file could not be read (so a corrupt file is not tried on every visit).
 *
 * Also the folder handle picked with the File System Access API, so that the folder can be scanned again after a
 * reload (with the browser's permission).
 */

const DB_NAME = 'siglip-webgpu-photos';
const DB_VERSION = 1;
const PHOTOS = 'photos';
const HANDLES = 'handles';

export interface PhotoRecord {
  /** `${model}\n${path}\n${size}\n${lastModified}` */
  key: string;
  model: string;
  /** Path inside the picked folder ("trip/IMG_0001.jpg"), or the file name. */
  path: string;
  size: number;
  lastModified: number;
  /** L2-normalized image embedding, when the photo could be read. */
  embedding?: Float32Array;
  thumbnail?: Blob;
  width?: number;
  height?: number;
  /** Why the photo is not in the index (an unreadable or unsupported file). */
  error?: string;
  errorName?: string;
  addedAt: number;
}

export function photoKey(model: string, path: string, size: number, lastModified: number): string {
  return `${model}\n${path}\n${size}\n${lastModified}`;
}

let dbPromise: Promise<IDBDatabase> | null = null;

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error ?? new Error('IndexedDB request failed'));
  });
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
  });
}

export function openPhotoDb(): Promise<IDBDatabase> {
  if (!dbPromise) {
    dbPromise = new Promise((resolve, reject) => {
      if (typeof indexedDB === 'undefined') return reject(new Error('this browser has no IndexedDB here (a private window?): the photo index cannot be kept'));
      const open = indexedDB.open(DB_NAME, DB_VERSION);
      open.onupgradeneeded = () => {
        const db = open.result;
        if (!db.objectStoreNames.contains(PHOTOS)) db.createObjectStore(PHOTOS, { keyPath: 'key' }).createIndex('model', 'model');
        if (!db.objectStoreNames.contains(HANDLES)) db.createObjectStore(HANDLES);
      };
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error ?? new Error('cannot open IndexedDB'));
    });
    dbPromise.catch(() => (dbPromise = null));
  }
  return dbPromise;
}

/** The records of these keys (undefined where there is none), in one transaction. */
export async function getPhotos(keys: string[]): Promise<(PhotoRecord | undefined)[]> {
  const db = await openPhotoDb();
  const store = db.transaction(PHOTOS, 'readonly').objectStore(PHOTOS);
  return Promise.all(keys.map((k) => request(store.get(k) as IDBRequest<PhotoRecord | undefined>)));
}

export async function putPhotos(records: PhotoRecord[]): Promise<void> {
  if (records.length === 0) return;
  const db = await openPhotoDb();
  const tx = db.transaction(PHOTOS, 'readwrite');
  for (const r of records) tx.objectStore(PHOTOS).put(r);
  await done(tx);
}

/** Every record of one model. */
export async function photosOf(model: string): Promise<PhotoRecord[]> {
  const db = await openPhotoDb();
  const index = db.transaction(PHOTOS, 'readonly').objectStore(PHOTOS).index('model');
  return request(index.getAll(IDBKeyRange.only(model)) as IDBRequest<PhotoRecord[]>);
}

/** Deletes one model's records (or, with no model, every record). */
export async function deletePhotos(model?: string): Promise<number> {
  const db = await openPhotoDb();
  const tx = db.transaction(PHOTOS, 'readwrite');
  const store = tx.objectStore(PHOTOS);
  let n = 0;
  if (model === undefined) {
    n = await request(store.count());
    store.clear();
  } else {
    const keys = await request(store.index('model').getAllKeys(IDBKeyRange.only(model)));
    for (const k of keys) store.delete(k);
    n = keys.length;
  }
  await done(tx);
  return n;
}

export interface IndexSummary {
  model: string;
  photos: number;
  failed: number;
  /** Bytes of embeddings and thumbnails (what the index itself takes). */
  bytes: number;
}

/** One line per model that has an index. */
export async function indexSummaries(): Promise<IndexSummary[]> {
  const db = await openPhotoDb();
  const all = await request(db.transaction(PHOTOS, 'readonly').objectStore(PHOTOS).getAll() as IDBRequest<PhotoRecord[]>);
  const by = new Map<string, IndexSummary>();
  for (const r of all) {
    let s = by.get(r.model);
    if (!s) by.set(r.model, (s = { model: r.model, photos: 0, failed: 0, bytes: 0 }));
    if (r.embedding) s.photos++;
    else s.failed++;
    s.bytes += (r.embedding?.byteLength ?? 0) + (r.thumbnail?.size ?? 0) + r.path.length * 2 + 64;
  }
  return [...by.values()].sort((a, b) => a.model.localeCompare(b.model));
}

/** The folder handle kept for "scan again" (File System Access API); null when none. */
export async function savedFolder(): Promise<FileSystemDirectoryHandle | null> {
  const db = await openPhotoDb();
  return ((await request(db.transaction(HANDLES, 'readonly').objectStore(HANDLES).get('folder'))) as FileSystemDirectoryHandle | undefined) ?? null;
}

export async function saveFolder(handle: FileSystemDirectoryHandle | null): Promise<void> {
  const db = await openPhotoDb();
  const tx = db.transaction(HANDLES, 'readwrite');
  if (handle) tx.objectStore(HANDLES).put(handle, 'folder');
  else tx.objectStore(HANDLES).delete('folder');
  await done(tx);
}
