/**
 * The photos of a folder, however the user gives it: an <input webkitdirectory> (every browser), a folder handle
 * from the File System Access API (showDirectoryPicker, where present: the handle can be kept and the folder scanned
 * again after a reload), or files and folders dropped on the page (DataTransferItem.webkitGetAsEntry walks dropped
 * folders). Hidden files and folders (".DS_Store", ".thumbnails/") are skipped; files that are not images by their
 * name or type are returned apart, to be listed as unsupported.
 */

export interface PickedFile {
  file: File;
  /** Path inside the picked folder ("trip/IMG_0001.jpg"), or the file's name. */
  path: string;
}

/** Extensions of the formats the library reads (README: Images); others are "unsupported". */
export const IMAGE_EXTENSIONS = ['png', 'jpg', 'jpeg', 'jpe', 'jfif', 'webp', 'avif', 'heic', 'heif', 'gif', 'bmp', 'dib', 'tif', 'tiff'];

/** At most this many files from one folder: beyond it the rest is skipped (and said so). */
export const MAX_FILES = 50_000;

export function isImage(f: PickedFile): boolean {
  const ext = /\.([^./]+)$/.exec(f.path)?.[1]?.toLowerCase();
  return (ext !== undefined && IMAGE_EXTENSIONS.includes(ext)) || (!ext && f.file.type.startsWith('image/'));
}

const hidden = (name: string) => name.startsWith('.');

/** Files of an <input type=file> (with webkitdirectory: relative paths under the folder). */
export function fromInput(list: FileList | File[]): PickedFile[] {
  return [...list]
    .map((file) => ({ file, path: (file as File & { webkitRelativePath?: string }).webkitRelativePath || file.name }))
    .filter((f) => !f.path.split('/').some(hidden))
    .slice(0, MAX_FILES);
}

type AsyncEntries = AsyncIterable<[string, FileSystemHandle]>;

/** Every file under a folder handle (File System Access API or OPFS), recursively. */
export async function fromDirectoryHandle(dir: FileSystemDirectoryHandle, prefix = dir.name): Promise<PickedFile[]> {
  const out: PickedFile[] = [];
  const walk = async (d: FileSystemDirectoryHandle, at: string) => {
    for await (const [name, handle] of (d as unknown as { entries(): AsyncEntries }).entries()) {
      if (out.length >= MAX_FILES) return;
      if (hidden(name)) continue;
      const path = at ? `${at}/${name}` : name;
      if (handle.kind === 'directory') await walk(handle as FileSystemDirectoryHandle, path);
      else out.push({ file: await (handle as FileSystemFileHandle).getFile(), path });
    }
  };
  await walk(dir, prefix);
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

/** Files and folders dropped on the page (folders walked). */
export async function fromDrop(dt: DataTransfer): Promise<PickedFile[]> {
  const entries = [...dt.items].map((i) => (i.kind === 'file' ? i.webkitGetAsEntry?.() : null)).filter((e): e is FileSystemEntry => !!e);
  if (entries.length === 0) return fromInput(dt.files);
  const out: PickedFile[] = [];
  const fileOf = (e: FileSystemFileEntry) => new Promise<File>((resolve, reject) => e.file(resolve, reject));
  const children = (d: FileSystemDirectoryEntry) =>
    new Promise<FileSystemEntry[]>((resolve, reject) => {
      const reader = d.createReader();
      const all: FileSystemEntry[] = [];
      // readEntries gives the entries in batches (Chromium: 100) until an empty one.
      const next = () => reader.readEntries((batch) => (batch.length ? (all.push(...batch), next()) : resolve(all)), reject);
      next();
    });
  const walk = async (e: FileSystemEntry, at: string) => {
    if (out.length >= MAX_FILES || hidden(e.name)) return;
    const path = at ? `${at}/${e.name}` : e.name;
    if (e.isDirectory) for (const c of await children(e as FileSystemDirectoryEntry)) await walk(c, path);
    else out.push({ file: await fileOf(e as FileSystemFileEntry), path });
  };
  for (const e of entries) await walk(e, '');
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

/** The File System Access API's folder picker, where the browser has it. */
export function hasDirectoryPicker(): boolean {
  return typeof (window as { showDirectoryPicker?: unknown }).showDirectoryPicker === 'function';
}

export async function pickDirectory(): Promise<FileSystemDirectoryHandle> {
  const picker = (window as unknown as { showDirectoryPicker(o?: object): Promise<FileSystemDirectoryHandle> }).showDirectoryPicker;
  return picker({ id: 'siglip-photos', mode: 'read' });
}

/** Read permission on a kept handle: asks (a click is the user gesture it needs) when not granted yet. */
export async function canRead(handle: FileSystemDirectoryHandle): Promise<boolean> {
  const h = handle as FileSystemDirectoryHandle & {
    queryPermission?(o: object): Promise<PermissionState>;
    requestPermission?(o: object): Promise<PermissionState>;
  };
  if (!h.queryPermission) return true;
  if ((await h.queryPermission({ mode: 'read' })) === 'granted') return true;
  return (await h.requestPermission?.({ mode: 'read' })) === 'granted';
}
