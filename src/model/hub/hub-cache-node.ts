/**
 * huggingface_hub's cache layout, so checkpoints are shared with Python in both directions:
 *
 *   <cacheDir>/models--org--name/
 *     refs/<revision>                 commit hash the revision pointed to (no newline)
 *     blobs/<etag>                    file contents, named by git-sha1 (small files) or sha256 (LFS)
 *     blobs/<etag>.siglip-partial     our download in progress (resumable; see below)
 *     snapshots/<commit>/<file>       relative symlink → ../../blobs/<etag>
 *     .no_exist/<commit>/<file>       empty: the file is known absent at that commit
 *   <cacheDir>/.locks/models--org--name/<etag>.siglip-lock/   held while one process downloads that blob
 *
 * Safety, against a hostile server and against other processes:
 * - Every name that becomes a path was checked first (hub-names.ts), and every path is checked to lie inside the
 *   cache folder after resolving symlinks (`inside`): a link planted in the cache that points elsewhere is refused,
 *   for reads and writes alike.
 * - Everything a reader can see appears whole: refs, absent markers and snapshot links are made under a temporary
 *   name and renamed into place; blobs are renamed in only when complete and verified.
 * - The partial file has our own name, not huggingface_hub's `<etag>.incomplete`: Python guards that one with an
 *   OS lock (flock) that Node cannot take, so writing to it could interleave with a live Python download. Both sides
 *   end with the same verified blob, renamed atomically. A Python partial file untouched for longer than the lock's
 *   stale time has no live writer, and is adopted (renamed to ours) and resumed.
 *
 * Node only; node: modules are imported inside `open` so a browser bundle that includes this file never loads them.
 */
import { CachePathError, checkBlobName, checkCommit, checkFileName, checkRevision, COMMIT_RE } from './hub-names.js';

export { CachePathError };

type Fs = typeof import('node:fs/promises');
type Path = typeof import('node:path');

export function repoFolderName(repo: string): string {
  return `models--${repo.split('/').join('--')}`;
}

/** Suffix of our partial downloads in blobs/ (huggingface_hub's own are `.incomplete`). */
export const PARTIAL_SUFFIX = '.siglip-partial';
/** Suffix of our per-blob lock directories in .locks/ (huggingface_hub's own are `<etag>.lock` files). */
export const LOCK_SUFFIX = '.siglip-lock';

export class HubCache {
  readonly repoDir: string;
  private readonly locksDir: string;

  private constructor(
    /** The cache folder with its own symlinks resolved: every path is compared against this. */
    readonly cacheDir: string,
    readonly repo: string,
    private readonly fs: Fs,
    private readonly path: Path,
  ) {
    this.repoDir = path.join(cacheDir, repoFolderName(repo));
    this.locksDir = path.join(cacheDir, '.locks', repoFolderName(repo));
  }

  /** `repo` must have passed checkRepoId. The cache folder may itself be a symlink (a cache on another disk). */
  static async open(cacheDir: string, repo: string): Promise<HubCache> {
    const [fs, path] = await Promise.all([import('node:fs/promises'), import('node:path')]);
    return new HubCache(await resolveExisting(fs, path, path.resolve(cacheDir)), repo, fs, path);
  }

  /** Throws CachePathError unless `p` (or, where it does not exist yet, its nearest existing parent) resolves to a
   *  place inside the cache folder. */
  async inside(p: string): Promise<string> {
    const real = await resolveExisting(this.fs, this.path, p);
    const root = this.cacheDir;
    if (real !== root && !real.startsWith(root.endsWith(this.path.sep) ? root : root + this.path.sep)) {
      throw new CachePathError(p, real, root);
    }
    return p;
  }

  /** Commit for a revision: itself when it is a commit hash, else refs/<revision>; undefined when not cached. */
  async readRef(revision: string): Promise<string | undefined> {
    if (COMMIT_RE.test(revision)) return revision;
    const file = this.refPath(revision);
    await this.inside(file);
    let text: string;
    try {
      text = await this.fs.readFile(file, 'utf8');
    } catch {
      return undefined;
    }
    const commit = text.trim();
    return COMMIT_RE.test(commit) ? commit : undefined; // a damaged ref counts as absent: the hub is asked again
  }

  async writeRef(revision: string, commit: string): Promise<void> {
    checkCommit(commit, `the commit to record for revision "${revision}"`);
    if (revision === commit) return; // huggingface_hub writes no ref for a commit hash
    await this.writeAside(this.refPath(revision), (tmp) => this.fs.writeFile(tmp, commit, { flag: 'wx' }));
  }

  snapshotPath(commit: string, file: string): string {
    return this.path.join(this.snapshotDir(commit), ...checkFileName(file).split('/'));
  }

  snapshotDir(commit: string): string {
    return this.path.join(this.repoDir, 'snapshots', checkCommit(commit, 'a snapshot folder name'));
  }

  /** True when the snapshot entry exists and resolves to a file inside the cache (a dangling link counts as
   *  absent; a link out of the cache is an error). */
  async snapshotHas(commit: string, file: string): Promise<boolean> {
    return this.isFile(await this.inside(this.snapshotPath(commit, file)));
  }

  private absentPath(commit: string, file: string): string {
    return this.path.join(this.repoDir, '.no_exist', checkCommit(commit, 'a .no_exist folder name'), ...checkFileName(file).split('/'));
  }

  async isKnownAbsent(commit: string, file: string): Promise<boolean> {
    return this.isFile(await this.inside(this.absentPath(commit, file)));
  }

  async markAbsent(commit: string, file: string): Promise<void> {
    await this.writeAside(this.absentPath(commit, file), (tmp) => this.fs.writeFile(tmp, '', { flag: 'wx' }));
  }

  blobPath(etag: string): string {
    return this.path.join(this.repoDir, 'blobs', checkBlobName(etag, 'a blob name'));
  }

  /** Where our resumable download of a blob lives until it is complete and verified. */
  partialPath(etag: string): string {
    return this.blobPath(etag) + PARTIAL_SUFFIX;
  }

  /** huggingface_hub's partial download of a blob. */
  pythonPartialPath(etag: string): string {
    return this.blobPath(etag) + '.incomplete';
  }

  /** Takes over huggingface_hub's partial download of a blob when it has been left alone for `idleMs` (its
   *  process died) and we have none of our own: renamed, so a writer that was only slow cannot share it. */
  async adoptPythonPartial(etag: string, idleMs: number): Promise<boolean> {
    const ours = await this.inside(this.partialPath(etag));
    const theirs = await this.inside(this.pythonPartialPath(etag));
    const [mine, st] = await Promise.all([this.fs.lstat(ours).catch(() => undefined), this.fs.lstat(theirs).catch(() => undefined)]);
    if (mine || !st?.isFile() || Date.now() - st.mtimeMs < idleMs) return false;
    await this.fs.rename(theirs, ours).catch(() => {}); // gone meanwhile: nothing to adopt
    return true;
  }

  /** The lock directory one process holds while it downloads a blob (see blob-lock-node.ts). */
  lockPath(etag: string): string {
    return this.path.join(this.locksDir, checkBlobName(etag, 'a blob name') + LOCK_SUFFIX);
  }

  /** Size of a complete blob; undefined when there is none. */
  async blobSize(etag: string): Promise<number | undefined> {
    const p = await this.inside(this.blobPath(etag));
    try {
      const s = await this.fs.stat(p);
      return s.isFile() ? s.size : undefined;
    } catch {
      return undefined;
    }
  }

  /** Makes the folders a path needs, after checking that they (and so the path) stay inside the cache. */
  async prepare(p: string): Promise<string> {
    await this.inside(p);
    await this.fs.mkdir(this.path.dirname(p), { recursive: true });
    await this.inside(p); // a parent swapped for a link meanwhile
    return p;
  }

  /** Points snapshots/<commit>/<file> at blobs/<etag> (a relative link, as Python makes it; a copy where links
   *  fail). Made aside and renamed over the entry, so a reader sees the old entry or the new one, never none. */
  async link(commit: string, file: string, etag: string): Promise<string> {
    const pointer = this.snapshotPath(commit, file);
    const blob = await this.inside(this.blobPath(etag));
    const target = this.path.relative(this.path.dirname(pointer), blob);
    await this.writeAside(pointer, async (tmp) => {
      try {
        await this.fs.symlink(target, tmp);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'EPERM' && code !== 'EACCES' && code !== 'ENOSYS' && code !== 'ENOTSUP') throw e;
        await this.fs.copyFile(blob, tmp); // no symlinks (e.g. Windows without developer mode)
      }
    });
    return pointer;
  }

  private refPath(revision: string): string {
    return this.path.join(this.repoDir, 'refs', ...checkRevision(revision, 'a revision to look up in the cache').split('/'));
  }

  /** Writes `dest` as a temporary sibling (unique to this process and call) and renames it into place. */
  private async writeAside(dest: string, write: (tmp: string) => Promise<void>): Promise<void> {
    await this.prepare(dest);
    const tmp = `${dest}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`;
    try {
      await write(tmp);
      await this.fs.rename(tmp, dest);
    } catch (e) {
      await this.fs.rm(tmp, { force: true }).catch(() => {});
      throw e;
    }
  }

  private async isFile(p: string): Promise<boolean> {
    try {
      return (await this.fs.stat(p)).isFile();
    } catch {
      return false;
    }
  }
}

/** `p` with symlinks resolved: the real path of its nearest existing ancestor, joined with the rest (names that
 *  were checked, so no `..` can climb back out). A dangling link is followed to where it points, since writing
 *  to it would create its target. */
async function resolveExisting(fs: Fs, path: Path, p: string): Promise<string> {
  const rest: string[] = [];
  let cur = p;
  for (let hops = 0; ; ) {
    try {
      return path.join(await fs.realpath(cur), ...[...rest].reverse());
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw e;
      const link = await fs.readlink(cur).catch(() => undefined);
      if (link !== undefined && ++hops <= 40) {
        cur = path.resolve(path.dirname(cur), link);
        continue;
      }
      const parent = path.dirname(cur);
      if (parent === cur) return path.join(cur, ...[...rest].reverse());
      rest.push(path.basename(cur));
      cur = parent;
    }
  }
}
