/** Files that appear whole or not at all: written under a temporary name, flushed, then renamed into place. */
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Temporary names end like this, so that a later run can clean up after a crash. */
export const TMP_SUFFIX = /\.\d+\.tmp$/;

/** Writes `path` through `fill` into `path.<pid>.tmp`, flushes it to disk, renames it over `path`. */
export async function writeAtomic(path: string, fill: (fh: FileHandle) => Promise<void>, durable = true): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  const fh = await open(tmp, 'w');
  try {
    await fill(fh);
    if (durable) await fh.datasync();
  } catch (e) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  await rename(tmp, path);
  if (durable) await syncDir(dirname(path));
}

export function writeTextAtomic(path: string, text: string, durable = true): Promise<void> {
  return writeAtomic(path, async (fh) => void (await fh.writeFile(text)), durable);
}

/** Makes a rename in `dir` durable (Linux: fsync on the directory). Ignored where directories cannot be opened. */
export async function syncDir(dir: string): Promise<void> {
  let fh: FileHandle | null = null;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch {
    // Windows and some network file systems: nothing to do.
  } finally {
    await fh?.close().catch(() => undefined);
  }
}
