// A hub that answers anything: random statuses, commits, ETags, sizes, redirects and bodies, or no answer at all.
// Reading a file gives its bytes or a typed error (HubError and its kinds, UnsafeHubValueError, CachePathError) —
// never another exception, a hang, or a file outside the cache.
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CachePathError, HubError, openModelSource, UnsafeHubValueError } from '../../../src/model/hub/index.js';
import { fc, fuzzParams } from '../../helpers/fuzz.js';

const root = await mkdtemp(join(tmpdir(), 'hub-fuzz-'));
afterAll(() => rm(root, { recursive: true, force: true }));

const hex = (n: number) => fc.stringMatching(new RegExp(`^[0-9a-f]{${n}}$`));
const printable = fc.stringMatching(/^[ -~]{0,48}$/);
const header = (valid: fc.Arbitrary<string>) => fc.option(fc.oneof(valid, printable, fc.constantFrom('../../x', '/etc/passwd', '', '""', 'W/"x"')), { nil: undefined });

/** What a real hub answers for one small file: the answers that must give the bytes. */
const HONEST_BODY = new TextEncoder().encode('{"model_type": "siglip"}');
const HONEST = {
  status: 200,
  commit: '0123456789abcdef0123456789abcdef01234567',
  etag: `"${createHash('sha1').update(`blob ${HONEST_BODY.length}\0`).update(HONEST_BODY).digest('hex')}"`,
  size: String(HONEST_BODY.length),
};

const answer = fc.record({
  honest: fc.constantFrom(false, false, true),
  status: fc.constantFrom(200, 200, 200, 206, 301, 302, 307, 400, 401, 403, 404, 410, 416, 429, 500, 503),
  network: fc.constantFrom(false, false, false, false, true),
  commit: header(hex(40)),
  etag: header(hex(40).map((h) => `"${h}"`)),
  linkedEtag: header(hex(64).map((h) => `"${h}"`)),
  size: fc.option(fc.oneof(fc.nat({ max: 200 }).map(String), fc.constantFrom('-1', 'abc', '1e400', '9007199254740993')), { nil: undefined }),
  location: fc.option(fc.constantFrom('/org/x/resolve/main/config.json', 'http://cdn.test/blob', '::::', 'http://[bad', '//evil.test/x'), { nil: undefined }),
  errorCode: fc.option(fc.constantFrom('EntryNotFound', 'RepoNotFound', 'RevisionNotFound', 'GatedRepo'), { nil: undefined }),
  body: fc.uint8Array({ maxLength: 120 }),
});
type Answer = typeof answer extends fc.Arbitrary<infer T> ? T : never;

function fakeFetch(answers: Answer[]): typeof fetch {
  let n = 0;
  return (async (_url: string | URL | Request, init?: RequestInit) => {
    const pick = answers[Math.min(n++, answers.length - 1)]!;
    const a = pick.honest ? { ...pick, ...HONEST, linkedEtag: undefined, location: undefined, errorCode: undefined, network: false, body: HONEST_BODY } : pick;
    if (a.network) throw new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED') });
    const h: Record<string, string> = {};
    if (a.commit !== undefined) h['X-Repo-Commit'] = a.commit;
    if (a.etag !== undefined) h.ETag = a.etag;
    if (a.linkedEtag !== undefined) h['X-Linked-Etag'] = a.linkedEtag;
    if (a.size !== undefined) h[pick.honest ? 'Content-Length' : 'X-Linked-Size'] = a.size;
    if (a.location !== undefined) h.Location = a.location;
    if (a.errorCode !== undefined) h['X-Error-Code'] = a.errorCode;
    const body = init?.method === 'HEAD' ? null : a.body;
    return new Response(body, { status: a.status, headers: h });
  }) as typeof fetch;
}

/** Every file under the fuzz root that is not inside a cache folder. */
async function outsideCaches(): Promise<string[]> {
  const all = await readdir(root, { recursive: true, withFileTypes: true });
  return all.filter((e) => !e.isDirectory()).map((e) => relative(root, join(e.parentPath, e.name))).filter((p) => !p.startsWith('cache-'));
}

describe('hub metadata and download fuzz', () => {
  it('any sequence of answers: the bytes, or a typed error; nothing outside the cache', async () => {
    let run = 0;
    const kinds = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(fc.array(answer, { minLength: 1, maxLength: 4 }), async (answers) => {
        const cacheDir = join(root, `cache-${run++}`);
        const env = { HF_HUB_DOWNLOAD_TIMEOUT: '1', HF_HUB_ETAG_TIMEOUT: '1' };
        try {
          const src = await openModelSource('org/x', { endpoint: 'http://hub.test', cacheDir, fetch: fakeFetch(answers), retries: 0, env, token: false });
          const bytes = await src.read('config.json');
          expect(bytes).toBeInstanceOf(Uint8Array);
          // Bytes only when verified: the one body whose hash the answers announced.
          expect(Array.from(bytes)).toEqual(Array.from(HONEST_BODY));
          kinds.set('bytes', (kinds.get('bytes') ?? 0) + 1);
        } catch (e) {
          const typed = e instanceof HubError || e instanceof UnsafeHubValueError || e instanceof CachePathError;
          if (!typed) throw new Error(`not a typed error: ${(e as Error)?.stack ?? e}`);
          kinds.set((e as Error).name, (kinds.get((e as Error).name) ?? 0) + 1);
        }
      }),
      fuzzParams('hub fuzz', 300, 25_000),
    );
    console.log(`[hub fuzz] outcomes: ${JSON.stringify(Object.fromEntries(kinds))}`);
    expect(await outsideCaches()).toEqual([]);
    expect(kinds.get('bytes') ?? 0).toBeGreaterThan(0);
  });
});
