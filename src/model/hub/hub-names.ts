/**
 * The values that become parts of cache paths or URLs — repository ids, revisions, commit ids, blob names (ETags)
 * and file names — checked before they are used. They come from a user (a model reference, `--model org/x@rev`) or
 * from a server (X-Repo-Commit, ETag, X-Linked-Etag, an index's weight_map), and a hostile or broken server must
 * not be able to choose where this client writes: each check below is at least as strict as huggingface_hub's,
 * whose cache layout we share (Python tools will read whatever we write there).
 *
 * Browser-safe (no node: imports): the Cache API keys and URLs are built from the same checked values. The two
 * error classes a program can catch live here too (CachePathError is raised by the Node cache, hub-cache-node.ts).
 */

/** A value that may not become part of a path or URL: names the value, what it was meant to be and where it came
 *  from ("the X-Repo-Commit header of <url>", "the model reference …"). Nothing was written when it is thrown. */
export class UnsafeHubValueError extends Error {
  constructor(
    readonly value: string,
    readonly what: string,
    readonly origin: string,
    reason: string,
  ) {
    super(`${JSON.stringify(value)} from ${origin}: not a valid ${what} (${reason}); refused, nothing was written`);
    this.name = 'UnsafeHubValueError';
  }
}

/** A path inside the cache that resolves (through a symlink) to somewhere outside it. Nothing is read or written
 *  through it. */
export class CachePathError extends Error {
  constructor(
    readonly path: string,
    readonly resolved: string,
    readonly cacheDir: string,
  ) {
    super(
      `${path} resolves to ${resolved}, outside the hub cache ${cacheDir} (a symbolic link inside the cache points out ` +
        `of it); refusing to read or write through it. Remove the link, or use another cache folder (HF_HUB_CACHE).`,
    );
    this.name = 'CachePathError';
  }
}

export const COMMIT_RE = /^[0-9a-f]{40}$/;
/** Blob names: the hub's ETags are a git blob sha1 (40 hex, small files) or the sha256 of an LFS file (64 hex). */
const BLOB_RE = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
/** huggingface_hub's repo-id characters (ASCII here), each part starting and ending with a letter or digit. */
const REPO_PART_RE = /^[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?$/;
const MAX_REPO_ID = 96;
/** One segment of a git ref name, conservatively: what branch and tag names on the hub use ("main", "v1.0",
 *  "refs/pr/3", "fp16", "onnx_q8"). */
const REF_SEGMENT_RE = /^[A-Za-z0-9_+-][A-Za-z0-9._+-]*$/;
const MAX_REVISION = 255;
const MAX_FILE_NAME = 1024;

/** "org/name", as huggingface_hub's validate_repo_id: no `..` or `--` (the cache folder is models--org--name, so
 *  `--` would make two ids share a folder), no `.git` suffix, at most 96 characters. */
export function checkRepoId(repo: string, origin: string): string {
  const fail = (reason: string) => new UnsafeHubValueError(repo, 'repository id ("org/name")', origin, reason);
  if (repo.length > MAX_REPO_ID) throw fail(`longer than ${MAX_REPO_ID} characters`);
  const parts = repo.split('/');
  if (parts.length !== 2) throw fail('it must be two parts, "org/name"');
  for (const p of parts) {
    if (!REPO_PART_RE.test(p)) throw fail(`"${p}" may hold only letters, digits, "-", "_" and ".", starting and ending with a letter or digit`);
  }
  if (repo.includes('..') || repo.includes('--')) throw fail('".." and "--" are not allowed');
  if (repo.endsWith('.git')) throw fail('it may not end in ".git"');
  return repo;
}

/** A branch, tag or `refs/pr/N`, or a commit id: `/`-separated segments of [A-Za-z0-9._+-], none empty, none
 *  starting with "." (so no "." or ".." segment), none ending in ".lock" (git's rules, which the hub follows). */
export function checkRevision(revision: string, origin: string): string {
  const fail = (reason: string) => new UnsafeHubValueError(revision, 'revision (a branch, tag or commit)', origin, reason);
  if (!revision) throw fail('it is empty');
  if (revision.length > MAX_REVISION) throw fail(`longer than ${MAX_REVISION} characters`);
  for (const seg of revision.split('/')) {
    if (!seg) throw fail('empty path segment');
    if (seg.startsWith('.')) throw fail(`the segment "${seg}" starts with "."`);
    if (!REF_SEGMENT_RE.test(seg)) throw fail(`the segment "${seg}" may hold only letters, digits and "._+-"`);
    if (seg.endsWith('.lock')) throw fail(`the segment "${seg}" ends in ".lock"`);
  }
  return revision;
}

/** 40 lowercase hex digits, as the hub's X-Repo-Commit and the cache's snapshot folders. */
export function checkCommit(commit: string, origin: string): string {
  if (!COMMIT_RE.test(commit)) throw new UnsafeHubValueError(commit, 'commit id', origin, 'a commit id is 40 lowercase hex digits');
  return commit;
}

/** The blob name an ETag gives: 40 or 64 lowercase hex digits (git sha1, or sha256 of an LFS file). */
export function checkBlobName(etag: string, origin: string): string {
  if (!BLOB_RE.test(etag)) {
    throw new UnsafeHubValueError(etag, 'blob name (ETag)', origin, 'the hub names blobs by a git sha1 (40 hex digits) or a sha256 (64)');
  }
  return etag;
}

/** A file inside a repository ("config.json", "onnx/model.onnx"): relative, `/`-separated, no empty, "." or ".."
 *  segment, no backslash, drive letter, control character or NUL. */
export function checkFileName(name: string, origin = 'a file name inside a model repository'): string {
  const fail = (reason: string) => new UnsafeHubValueError(name, 'file name inside a model repository', origin, reason);
  if (typeof name !== 'string' || !name) throw fail('it is empty');
  if (name.length > MAX_FILE_NAME) throw fail(`longer than ${MAX_FILE_NAME} characters`);
  if (name.startsWith('/')) throw fail('it is an absolute path');
  if (name.includes('\\')) throw fail('it holds a backslash');
  if (/^[A-Za-z]:/.test(name)) throw fail('it starts with a drive letter');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) throw fail('it holds a control character');
  for (const seg of name.split('/')) {
    if (seg === '' || seg === '.' || seg === '..') throw fail(`"${seg}" is not allowed as a path segment`);
  }
  return name;
}
