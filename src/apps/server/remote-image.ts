/**
 * Image URLs in requests. A server inside a network must not become a way to reach that network (request
 * forgery), so http(s) URLs are fetched only from hosts on an allow-list (`--allow-image-host`), never following a
 * redirect (it could point anywhere), with the size and time bounded. Everything else is refused before any
 * connection is made.
 */
import { ClientError } from './errors.js';

/** Checks `url` against the allow-list: entries are "host" (any port) or "host:port". */
export function checkImageUrl(url: string, allow: readonly string[], param: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ClientError(400, `${param}: not a data URL, base64 or a valid http(s) URL`, param, 'invalid_image');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new ClientError(400, `${param}: ${u.protocol} URLs are not accepted; send a data URL, base64, or an allowed http(s) URL`, param, 'url_not_allowed');
  if (u.username || u.password) throw new ClientError(400, `${param}: URLs with credentials are refused`, param, 'url_not_allowed');
  const host = u.hostname.toLowerCase();
  const port = u.port || (u.protocol === 'https:' ? '443' : '80');
  const ok = allow.some((a) => {
    const e = a.toLowerCase();
    return e === host || e === `${host}:${port}` || e === `[${host}]` || e === `${host.replace(/^\[|\]$/g, '')}:${port}`;
  });
  if (!ok) {
    throw new ClientError(
      400,
      `${param}: remote image URLs are refused${allow.length ? ` except from ${allow.join(', ')}` : ' (this server allows none; start it with --allow-image-host HOST)'}; send the image as a data URL or base64`,
      param,
      'url_not_allowed',
    );
  }
  return u;
}

/** Fetches an allowed URL: no redirects, at most `maxBytes`, within `timeoutMs`. */
export async function fetchImage(u: URL, maxBytes: number, timeoutMs: number, param: string, signal?: AbortSignal): Promise<Uint8Array> {
  const ctl = AbortSignal.timeout(timeoutMs);
  const both = signal ? AbortSignal.any([ctl, signal]) : ctl;
  let res: Response;
  try {
    res = await fetch(u, { redirect: 'manual', signal: both });
  } catch (e) {
    throw new ClientError(400, `${param}: cannot fetch ${u.href} (${ctl.aborted ? `no answer within ${timeoutMs} ms` : ((e as Error).cause as Error)?.message ?? (e as Error).message})`, param, 'image_fetch_failed');
  }
  if (res.status >= 300 && res.status < 400) {
    await res.body?.cancel();
    throw new ClientError(400, `${param}: ${u.href} redirects (HTTP ${res.status}); redirects are not followed`, param, 'image_fetch_failed');
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new ClientError(400, `${param}: ${u.href} answered HTTP ${res.status}`, param, 'image_fetch_failed');
  }
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) {
    await res.body?.cancel();
    throw new ClientError(413, `${param}: ${u.href} is ${declared} bytes, over the image limit of ${maxBytes}`, param, 'image_too_large');
  }
  const chunks: Uint8Array[] = [];
  let n = 0;
  const reader = res.body!.getReader();
  for (;;) {
    let r: ReadableStreamReadResult<Uint8Array>;
    try {
      r = await reader.read();
    } catch (e) {
      throw new ClientError(400, `${param}: reading ${u.href} failed (${(e as Error).message})`, param, 'image_fetch_failed');
    }
    if (r.done) break;
    n += r.value.length;
    if (n > maxBytes) {
      await reader.cancel();
      throw new ClientError(413, `${param}: ${u.href} is over the image limit of ${maxBytes} bytes`, param, 'image_too_large');
    }
    chunks.push(r.value);
  }
  return Buffer.concat(chunks);
}
