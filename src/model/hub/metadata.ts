/**
 * The hub's HEAD request for one file, read the way huggingface_hub reads it: without following the redirect of
 * LFS files to the CDN (the hub's own 302 carries X-Repo-Commit / X-Linked-Etag / X-Linked-Size, the CDN's answer
 * does not, and the token must not go there), but following redirects that stay on the hub's host (a renamed
 * repository answers with a relative Location).
 */

/** Every error of the hub client (what an app catches to tell "the hub or the network failed" from a bug). */
export class HubError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HubError';
  }
}

/** The hub answered with an error that retrying or the cache cannot fix (auth, unknown repo or revision). */
export class HubHttpError extends HubError {
  constructor(
    message: string,
    readonly status: number,
    readonly errorCode?: string,
  ) {
    super(message);
    this.name = 'HubHttpError';
  }
}

/** No usable answer: connection refused, DNS, timeout, 5xx/429 — or offline mode, with the file not cached. */
export class HubUnreachableError extends HubError {
  constructor(message: string) {
    super(message);
    this.name = 'HubUnreachableError';
  }
}

/** A file could not be brought into the cache: the download failed or was wrong (size, hash), the hub's answer
 *  lacked what a download needs, or the cache could not be written. The message names the file and the cause. */
export class HubDownloadError extends HubError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HubDownloadError';
  }
}

export type FileMeta =
  | { exists: true; commit?: string; etag?: string; size?: number }
  | { exists: false; commit?: string };

/** `W/"abc"` → `abc`: the blob name huggingface_hub derives from an ETag. */
export function normalizeEtag(etag: string | null): string | undefined {
  if (!etag) return undefined;
  return etag.trim().replace(/^W\//, '').replace(/^"|"$/g, '') || undefined;
}

/** The low-level reason of a fetch failure (undici hides it in `cause`). */
export function networkReason(e: unknown): string {
  const err = e as { message?: string; cause?: { message?: string } };
  const msg = err.message ?? String(e);
  return err.cause?.message && err.cause.message !== msg ? `${msg}: ${err.cause.message}` : msg;
}

const ETAG_TIMEOUT_MS = 10_000;
const MAX_HUB_REDIRECTS = 5;

/** HEAD of a hub file URL: its commit, etag and size, or `exists: false` for the hub's EntryNotFound 404. */
export async function fileMetadata(
  url: string,
  headers: Record<string, string>,
  fetchImpl: typeof fetch,
  timeoutMs = ETAG_TIMEOUT_MS,
): Promise<FileMeta> {
  let current = url;
  for (let hop = 0; ; hop++) {
    let res: Response;
    try {
      res = await fetchImpl(current, {
        method: 'HEAD',
        // identity: a compressed answer would report the compressed size.
        headers: { ...headers, 'Accept-Encoding': 'identity' },
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (e) {
      throw new HubUnreachableError(`${current}: ${networkReason(e)}`);
    }
    // Nothing to read from the answer itself (HEAD, or the small body of a redirect).
    res.body?.cancel().catch(() => {});
    const h = res.headers;
    const commit = h.get('x-repo-commit') ?? undefined;
    const redirect = res.status >= 300 && res.status < 400;
    if (redirect) {
      const location = h.get('location');
      let target: URL | undefined;
      try {
        target = location ? new URL(location, current) : undefined;
      } catch {
        throw new HubHttpError(`${current}: HTTP ${res.status} redirects to ${JSON.stringify(location)}, which is not a URL`, res.status);
      }
      // Same host: still the hub (renamed repo), follow. Another host: the CDN; the headers we need are on this answer.
      if (target && target.hostname === new URL(current).hostname && hop < MAX_HUB_REDIRECTS) {
        current = target.toString();
        continue;
      }
    }
    if (redirect || res.ok) {
      // A redirect's Content-Length is that of its own (empty) body, not the file's.
      const size = Number(h.get('x-linked-size') ?? (redirect ? NaN : h.get('content-length') ?? NaN));
      const etag = normalizeEtag(h.get('x-linked-etag') ?? h.get('etag'));
      return { exists: true, commit, etag, size: Number.isFinite(size) ? size : undefined };
    }
    const code = h.get('x-error-code') ?? undefined;
    // A plain 404 (a mirror without the hub's error codes) also means "no such file".
    if (res.status === 404 && (code === undefined || code === 'EntryNotFound')) return { exists: false, commit };
    throw statusError(current, res, code);
  }
}

function statusError(url: string, res: Response, code: string | undefined): Error {
  const detail = res.headers.get('x-error-message');
  const what = `${url}: HTTP ${res.status}${code ? ` ${code}` : ''}${detail ? ` (${detail})` : ''}`;
  if (res.status === 401 || res.status === 403) {
    return new HubHttpError(
      `${what}: the repository is private or gated, or does not exist. Set HF_TOKEN (or log in with \`huggingface-cli login\`) with a token that has access.`,
      res.status,
      code,
    );
  }
  if (res.status === 404) return new HubHttpError(`${what}: ${code === 'RevisionNotFound' ? 'no such revision' : 'no such repository'}`, 404, code);
  if (res.status >= 500 || res.status === 429) return new HubUnreachableError(what);
  return new HubHttpError(what, res.status, code);
}
