/**
 * huggingface_hub's cache layout, so checkpoints are shared with Python in both directions:
 *
 *   <cacheDir>/models--org--name/
 *     refs/<revision>                 commit hash the revision pointed to (no newline)
 *     blobs/<etag>                    file contents, named by git-sha1 (small files) or sha256 (LFS)
 *     blobs/<etag>.incomplete         a download in progress (resumable)
 *     snapshots/<commit>/<file>       relative symlink → ../../blobs/<etag>
 *     .no_exist/<commit>/<file>       empty: the file is known absent at that commit
 *
 * Node only; node: modules are imported inside `open` so a browser bundle that includes this file never loads them.
 */
import { COMMIT_RE } from './hub-config.js';

type Fs = typeof import('node:fs/promises');
type Path = typeof import('node:path');

export function repoFolderName(repo: string): string {
  return `models--${repo.split('/').join('--')}`;
}

/** Rejects names that would leave the snapshot folder (`..`, absolute paths) before they become paths. */
export function checkFileName(name: string): void {
  const parts = name.split('/');
  if (!name || name.startsWith('/') || name.includes('\\') || parts.some((p) => p === '' || p === '.' || p === '..')) {
    throw new Error(`${JSON.stringify(name)}: not a valid file name inside a model repository`);
  }
}

export class HubCache {
  readonly repoDir: string;

  private constructor(
    readonly cacheDir: string,
    readonly repo: string,
    private readonly fs: Fs,
    private readonly path: Path,
  ) {
    this.repoDir = path.join(cacheDir, repoFolderName(repo));
  }

  static async open(cacheDir: string, repo: string): Promise<HubCache> {
    const [fs, path] = await Promise.all([import('node:fs/promises'), import('node:path')]);
    return new HubCache(cacheDir, repo, fs, path);
  }

  /** Commit for a revision: itself when it is a commit hash, else refs/<revision>; undefined when not cached. */
  async readRef(revision: string): Promise<string | undefined> {
    if (COMMIT_RE.test(revision)) return revision;
    try {
      const commit = (await this.fs.readFile(this.path.join(this.repoDir, 'refs', revision), 'utf8')).trim();
      return COMMIT_RE.test(commit) ? commit : undefined;
    } catch {
      return undefined;
    }
  }

  async writeRef(revision: string, commit: string): Promise<void> {
    if (revision === commit) return; // huggingface_hub writes no ref for a commit hash
    const file = this.path.join(this.repoDir, 'refs', revision);
    await this.fs.mkdir(this.path.dirname(file), { recursive: true });
    // Temp + rename: a concurrent reader (Python included) never sees a half-written hash.
    const tmp = `${file}.${process.pid}.tmp`;
    await this.fs.writeFile(tmp, commit);
    await this.fs.rename(tmp, file);
  }

  snapshotPath(commit: string, file: string): string {
    return this.path.join(this.repoDir, 'snapshots', commit, ...file.split('/'));
  }

  snapshotDir(commit: string): string {
    return this.path.join(this.repoDir, 'snapshots', commit);
  }

  /** True when the snapshot entry exists and resolves to a file (a dangling link counts as absent). */
  async snapshotHas(commit: string, file: string): Promise<boolean> {
    return this.isFile(this.snapshotPath(commit, file));
  }

  async isKnownAbsent(commit: string, file: string): Promise<boolean> {
    return this.isFile(this.path.join(this.repoDir, '.no_exist', commit, ...file.split('/')));
  }

  async markAbsent(commit: string, file: string): Promise<void> {
    const marker = this.path.join(this.repoDir, '.no_exist', commit, ...file.split('/'));
    await this.fs.mkdir(this.path.dirname(marker), { recursive: true });
    await this.fs.writeFile(marker, '');
  }

  blobPath(etag: string): string {
    return this.path.join(this.repoDir, 'blobs', etag);
  }

  async blobSize(etag: string): Promise<number | undefined> {
    try {
      const s = await this.fs.stat(this.blobPath(etag));
      return s.isFile() ? s.size : undefined;
    } catch {
      return undefined;
    }
  }

  /** Points snapshots/<commit>/<file> at blobs/<etag> (relative link, as Python makes it; a copy where links fail). */
  async link(commit: string, file: string, etag: string): Promise<string> {
    const pointer = this.snapshotPath(commit, file);
    const blob = this.blobPath(etag);
    await this.fs.mkdir(this.path.dirname(pointer), { recursive: true });
    await this.fs.rm(pointer, { force: true });
    try {
      await this.fs.symlink(this.path.relative(this.path.dirname(pointer), blob), pointer);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' && (await this.isFile(pointer))) return pointer; // another process linked it first
      if (code !== 'EPERM' && code !== 'EACCES' && code !== 'ENOSYS' && code !== 'ENOTSUP') throw e;
      await this.fs.copyFile(blob, pointer); // no symlinks (e.g. Windows without developer mode)
    }
    return pointer;
  }

  private async isFile(p: string): Promise<boolean> {
    try {
      return (await this.fs.stat(p)).isFile();
    } catch {
      return false;
    }
  }
}
