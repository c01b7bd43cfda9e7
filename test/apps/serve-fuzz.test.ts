// `serve` under random requests (fast-check; seed printed, TEST_SEED replays): any method, path, headers and body —
// JSON of the right shape with hostile values, JSON of any shape, bytes that are not JSON. Every answer must be a
// 2xx or a 4xx with a JSON error naming the fault (never a 5xx but the 504 of a timeout, never a dropped
// connection), every embedding finite, and the server still healthy afterwards.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fc, fuzzParams } from '../helpers/fuzz.js';
import { buildCli, FIXTURES, startServer, type Served } from './helpers.js';

const KEY = 'fuzz-key-0123456789';
let server: Served;
const png = readFileSync(join(FIXTURES, 'images', 'noise_80x60.png')).toString('base64');

beforeAll(async () => {
  await buildCli();
  server = await startServer(['--api-key', KEY, '--max-items', '8', '--max-body-bytes', '200000', '--max-text-chars', '500', '--max-batch', '4']);
});
afterAll(async () => {
  await server?.stop();
});

const hostile = fc.oneof(
  fc.constantFrom<unknown>(null, true, 0, -1, 1e309, 2 ** 53, '', 'a photo', '🐈'.repeat(200), [], {}, [[]], 'data:image/png;base64,!!!', `data:image/png;base64,${png}`, png),
  fc.string({ maxLength: 40 }),
  fc.integer(),
  fc.double(),
);
const item = fc.oneof(hostile, fc.record({ text: hostile }, { requiredKeys: [] }), fc.record({ image: hostile }, { requiredKeys: [] }));
const body = fc.oneof(
  fc.record({ input: fc.oneof(hostile, fc.array(item, { maxLength: 10 })), model: hostile, encoding_format: fc.constantFrom('float', 'base64', 'hex', 7) }, { requiredKeys: [] }),
  fc.record({ image: hostile, labels: fc.oneof(hostile, fc.array(hostile, { maxLength: 5 })), template: hostile }, { requiredKeys: [] }),
  fc.record({ text: hostile, image: hostile, top_k: hostile }, { requiredKeys: [] }),
  fc.jsonValue({ maxDepth: 3 }),
);
/** Mostly well-addressed requests with hostile bodies (they reach the parsers and the model), some of anything. */
const wellAddressed = fc.record({
  method: fc.constant('POST'),
  path: fc.constantFrom('/v1/embeddings', '/v1/embeddings', '/v1/classify', '/v1/search'),
  auth: fc.constant('good'),
  contentType: fc.constant('application/json'),
  payload: body.map((b) => JSON.stringify(b)),
});
const anything = fc.record({
  method: fc.constantFrom('POST', 'GET', 'PUT', 'DELETE'),
  path: fc.constantFrom('/v1/embeddings', '/v1/classify', '/v1/search', '/health', '/metrics', '/v1/models', '/nope', '/v1/embeddings/../x'),
  auth: fc.constantFrom('good', 'none', 'wrong'),
  contentType: fc.constantFrom('application/json', 'text/plain', ''),
  payload: fc.oneof(body.map((b) => JSON.stringify(b)), fc.uint8Array({ maxLength: 200 }).map((u) => Buffer.from(u).toString('latin1')), fc.constant('{"input": ["x"')),
});
const request = fc.oneof({ arbitrary: wellAddressed, weight: 3 }, { arbitrary: anything, weight: 1 });

/** Every number in an answer's embeddings: finite. */
function embeddingsFinite(json: unknown): boolean {
  const data = (json as { data?: { embedding?: unknown }[] })?.data;
  if (!Array.isArray(data)) return true;
  return data.every((d) => !Array.isArray(d.embedding) || (d.embedding as number[]).every((x) => Number.isFinite(x)));
}

describe('serve fuzz', () => {
  it('random requests: 2xx or a 4xx naming the fault, finite numbers, and the server keeps serving', async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const headers: Record<string, string> = {};
        if (r.contentType) headers['content-type'] = r.contentType;
        if (r.auth === 'good') headers.authorization = `Bearer ${KEY}`;
        if (r.auth === 'wrong') headers.authorization = 'Bearer nope';
        const hasBody = r.method === 'POST' || r.method === 'PUT';
        const res = await fetch(server.url + r.path, { method: r.method, headers, body: hasBody ? r.payload : undefined });
        const text = await res.text();
        const what = `${r.method} ${r.path} ${r.payload.slice(0, 200)} → ${res.status} ${text.slice(0, 300)}`;
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        expect(res.status < 500 || res.status === 504, what).toBe(true);
        if (res.status >= 400 && r.path !== '/metrics') {
          const err = JSON.parse(text) as { error?: { message?: string } };
          expect(typeof err.error?.message, what).toBe('string');
          expect(err.error!.message!.length, what).toBeGreaterThan(0);
        }
        if (res.status === 200 && text.startsWith('{')) expect(embeddingsFinite(JSON.parse(text)), what).toBe(true);
      }),
      fuzzParams('serve fuzz', 150, 40_000),
    );
    console.log(`[serve fuzz] statuses: ${JSON.stringify(Object.fromEntries(statuses))}`);
    const h = await fetch(server.url + '/health');
    expect(h.status).toBe(200);
  });
});
