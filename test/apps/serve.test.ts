/**
 * `serve` as a real server on loopback (the built CLI, the tiny fixture model on the adapter): concurrent mixed
 * requests get exactly `embed`'s vectors while sharing forward passes; classify and search equal their CLI
 * commands; every bad input gets its status and a message naming the fault, and the server keeps serving; a flood
 * gets 429s while the accepted requests succeed; a slow request times out; SIGTERM lets requests in flight finish.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildCli, cli, copyCorpus, FIXTURES, maxAbsDiff, startServer, TINY, type Served } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'serve-'));
const KEY = 'test-key-0123456789';
const auth = { authorization: `Bearer ${KEY}` };
const TEXTS = ['a photo of two cats', 'a dog', '', 'ünï 🐈', 'a sofa']; // each within the tiny model's 16 tokens
let images: string[] = [];
let dataUrls: string[] = [];
const ref = { text: [] as number[][], image: [] as number[][] };
let server: Served;
let mock: Server;
let mockHost = '';
let indexDir = '';

async function post(base: string, path: string, body: unknown, headers: Record<string, string> = auth): Promise<{ status: number; json: any; headers: Headers }> {
  const res = await fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  let json: unknown = text;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON: kept as text
  }
  return { status: res.status, json, headers: res.headers };
}

beforeAll(async () => {
  await buildCli();
  images = [...copyCorpus(join(tmp, 'photos'), 6), join(FIXTURES, 'images', 'cats.png')];
  dataUrls = images.map((p) => `data:image/${p.endsWith('.jpg') ? 'jpeg' : 'png'};base64,${readFileSync(p).toString('base64')}`);
  const e = await cli(['embed', '--model', TINY, ...TEXTS.flatMap((t) => ['--text', t]), ...images.flatMap((p) => ['--image', p]), '--json']);
  expect(e.code, e.stderr).toBe(0);
  ({ text_embeds: ref.text, image_embeds: ref.image } = JSON.parse(e.stdout));
  indexDir = join(tmp, 'index');
  expect((await cli(['index', join(tmp, 'photos'), '--out', indexDir, '--model', TINY])).code).toBe(0);
  mock = createServer((req, res) => {
    if (req.url === '/cats.png') return res.writeHead(200, { 'content-type': 'image/png' }).end(readFileSync(images.at(-1)!));
    if (req.url === '/redirect') return res.writeHead(302, { location: '/cats.png' }).end();
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => mock.listen(0, '127.0.0.1', r));
  mockHost = `127.0.0.1:${(mock.address() as AddressInfo).port}`;
  server = await startServer([
    '--max-batch', '8', '--max-wait-ms', '30', '--api-key', KEY, '--max-items', '16', '--max-body-bytes', '3000000',
    '--max-text-chars', '2000', '--allow-image-host', mockHost, '--index', indexDir,
  ]);
});
afterAll(async () => {
  await server?.stop();
  await new Promise((r) => mock?.close(r));
  rmSync(tmp, { recursive: true, force: true });
});

const emb = (r: { json: any }) => (r.json.data as { embedding: number[]; index: number }[]).map((d) => d.embedding);

describe('serve', () => {
  test('binds 127.0.0.1 by default; /health needs no key; /v1/models lists the model', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const h = await fetch(server.url + '/health');
    expect(h.status).toBe(200);
    expect(await h.json()).toMatchObject({ status: 'ok', model: TINY });
    const m = await fetch(server.url + '/v1/models', { headers: auth });
    expect((await m.json()).data[0].id).toBe(TINY);
  });

  test('concurrent mixed requests: each equals embed\'s output, and requests share forward passes', async () => {
    const jobs: { input: unknown; want: number[][] }[] = [];
    for (let k = 0; k < 24; k++) {
      const t = k % TEXTS.length;
      const i = k % images.length;
      if (k % 3 === 0) jobs.push({ input: TEXTS[t], want: [ref.text[t]!] });
      else if (k % 3 === 1) jobs.push({ input: [{ image: dataUrls[i] }], want: [ref.image[i]!] });
      else jobs.push({ input: [TEXTS[t], { image: dataUrls[i] }, { type: 'text', text: TEXTS[(t + 1) % TEXTS.length] }], want: [ref.text[t]!, ref.image[i]!, ref.text[(t + 1) % TEXTS.length]!] });
    }
    const before = await metric('siglip_batch_size_count');
    const res = await Promise.all(jobs.map((j) => post(server.url, '/v1/embeddings', { input: j.input, model: TINY })));
    res.forEach((r, k) => {
      expect(r.status, JSON.stringify(r.json)).toBe(200);
      expect(r.json).toMatchObject({ object: 'list', model: TINY });
      expect(r.json.data.map((d: { index: number }) => d.index)).toEqual(jobs[k]!.want.map((_, i) => i));
      emb(r).forEach((e, i) => expect(maxAbsDiff(e, jobs[k]!.want[i]!), `request ${k} item ${i}`).toBeLessThanOrEqual(1e-6));
    });
    const items = jobs.reduce((a, j) => a + j.want.length, 0);
    const passes = (await metric('siglip_batch_size_count')) - before;
    expect(passes).toBeLessThan(items / 2); // 40 items in fewer than 20 passes: batched
    expect(res[0]!.json.usage.prompt_tokens).toBeGreaterThan(0);
  });

  test('encoding_format base64: little-endian float32, the same vector', async () => {
    const f = await post(server.url, '/v1/embeddings', { input: TEXTS[0] });
    const b = await post(server.url, '/v1/embeddings', { input: TEXTS[0], encoding_format: 'base64' });
    const bytes = Buffer.from(b.json.data[0].embedding as string, 'base64');
    expect(Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4))).toEqual(emb(f)[0]);
  });

  test('/v1/classify equals the classify command', async () => {
    const labels = ['2 cats', 'a dog', 'a remote control'];
    const r = await post(server.url, '/v1/classify', { image: dataUrls.at(-1), labels });
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    const c = await cli(['classify', images.at(-1)!, '--labels', labels.join(','), '--model', TINY, '--json']);
    const want = JSON.parse(c.stdout)[0].scores as { label: string; score: number }[];
    expect(r.json.scores.map((s: { label: string }) => s.label)).toEqual(want.map((s) => s.label));
    r.json.scores.forEach((s: { score: number }, i: number) => expect(Math.abs(s.score - want[i]!.score)).toBeLessThanOrEqual(1e-6));
  });

  test('/v1/search equals the search command', async () => {
    const r = await post(server.url, '/v1/search', { text: 'a photo of two cats', top_k: 4 });
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    const c = await cli(['search', indexDir, '--text', 'a photo of two cats', '--top', '4', '--json']);
    const want = JSON.parse(c.stdout).results as { path: string; score: number; probability: number }[];
    expect(r.json.data.map((d: { path: string }) => d.path)).toEqual(want.map((w) => w.path));
    r.json.data.forEach((d: { score: number; probability: number }, i: number) => {
      expect(Math.abs(d.score - want[i]!.score)).toBeLessThanOrEqual(1e-6);
      expect(Math.abs(d.probability - want[i]!.probability)).toBeLessThanOrEqual(1e-6);
    });
    const byImage = await post(server.url, '/v1/search', { image: dataUrls[0], top_k: 1 });
    expect(byImage.json.data[0].path).toBe(images[0]);
  });

  test('image URLs: fetched only from allowed hosts, redirects not followed', async () => {
    const ok = await post(server.url, '/v1/embeddings', { input: [{ image: `http://${mockHost}/cats.png` }] });
    expect(ok.status, JSON.stringify(ok.json)).toBe(200);
    expect(maxAbsDiff(emb(ok)[0]!, ref.image.at(-1)!)).toBeLessThanOrEqual(1e-6);
    const redirect = await post(server.url, '/v1/embeddings', { input: [{ image: `http://${mockHost}/redirect` }] });
    expect(redirect.status).toBe(400);
    expect(redirect.json.error.message).toMatch(/redirects \(HTTP 302\); redirects are not followed/);
  });

  test('every bad request gets its status and a message naming the fault; the server keeps serving', async () => {
    const png = readFileSync(images.at(-1)!);
    const cases: [string, unknown, number, RegExp, Record<string, string>?][] = [
      ['/v1/embeddings', '{"input": ["a",', 400, /not valid JSON/],
      ['/v1/embeddings', '', 400, /body is empty/],
      ['/v1/embeddings', '[1, 2]', 400, /must be a JSON object/],
      ['/v1/embeddings', {}, 400, /"input" is required/],
      ['/v1/embeddings', { input: [] }, 400, /empty array/],
      ['/v1/embeddings', { input: [1, 2, 3] }, 400, /token-id inputs are not supported/],
      ['/v1/embeddings', { input: ['ok', 5] }, 400, /input\[1\]: token-id inputs/],
      ['/v1/embeddings', { input: [{ text: 'a', image: 'b' }] }, 400, /input\[0\] must have exactly one of "text" and "image"/],
      ['/v1/embeddings', { input: [{ image: 'abc$def' }] }, 400, /input\[0\]\.image: not valid base64 \(character "\$" at 3\)/],
      ['/v1/embeddings', { input: [{ image: 'data:image/png,rawbytes' }] }, 400, /input\[0\]\.image: data URL must be base64/],
      ['/v1/embeddings', { input: ['x', { image: png.subarray(0, 400).toString('base64') }] }, 400, /input\[1\]\.image: png: file is truncated/],
      ['/v1/embeddings', { input: [{ image: Buffer.from('GIF89a....').toString('base64') }] }, 400, /input\[0\]\.image: gif: file is truncated/],
      ['/v1/embeddings', { input: [{ image: Buffer.from([0, 0, 1, 0, 1, 0, 16, 16]).toString('base64') }] }, 400, /input\[0\]\.image: ICO images are not supported/],
      ['/v1/embeddings', { input: [{ image: 'http://169.254.169.254/latest/meta-data' }] }, 400, /remote image URLs are refused except from 127\.0\.0\.1:/],
      ['/v1/embeddings', { input: [{ image: 'file:///etc/passwd' }] }, 400, /file: URLs are not accepted/],
      ['/v1/embeddings', { input: ['word '.repeat(40)] }, 400, /input\[0\] is \d+ tokens, more than this model's 16; .*"truncate": true/],
      ['/v1/embeddings', { input: 'x'.repeat(2001) }, 413, /input has 2001 characters, over the limit of 2000/],
      ['/v1/embeddings', { input: Array(17).fill('a') }, 413, /17 items, over the limit of 16/],
      ['/v1/embeddings', { input: 'a', encoding_format: 'int8' }, 400, /"encoding_format" must be "float" or "base64"/],
      ['/v1/embeddings', { input: 'a', dimensions: 32 }, 400, /cannot shorten/],
      ['/v1/embeddings', { input: 'a', model: 'text-embedding-3-small' }, 404, /not served here/],
      ['/v1/embeddings', { input: 'a'.repeat(10) + '"'.repeat(3_100_000) }, 413, /over the limit of 3000000 bytes/],
      ['/v1/classify', { image: dataUrls[0], labels: [] }, 400, /"labels" must be a non-empty array/],
      ['/v1/classify', { image: dataUrls[0], labels: ['a'], template: 'no slot' }, 400, /"template" has no \{\}/],
      ['/v1/search', { text: 'a', image: 'b' }, 400, /exactly one of "text" and "image"/],
      ['/v1/search', { text: 'a', top_k: 0 }, 400, /"top_k" must be an integer from 1 to 1000/],
      ['/v1/nope', {}, 404, /no route POST \/v1\/nope/],
      ['/health', {}, 405, /\/health takes GET, not POST/],
      ['/v1/embeddings', { input: 'a' }, 401, /needs "Authorization: Bearer <api key>"/, {}],
      ['/v1/embeddings', { input: 'a' }, 401, /the API key is wrong/, { authorization: 'Bearer nope-nope-nope' }],
    ];
    for (const [path, body, status, re, headers] of cases) {
      const r = await post(server.url, path, body, headers ?? auth);
      const what = `${path} ${JSON.stringify(body).slice(0, 80)}`;
      expect(r.status, what).toBe(status);
      expect(r.json?.error?.message, what).toMatch(re);
      if (status === 401) expect(r.headers.get('www-authenticate')).toBe('Bearer');
    }
    const truncated = await post(server.url, '/v1/embeddings', { input: ['word '.repeat(40)], truncate: true });
    expect(truncated.status).toBe(200);
    expect((await fetch(server.url + '/metrics')).status).toBe(401);
    const after = await post(server.url, '/v1/embeddings', { input: [TEXTS[0], { image: dataUrls[0] }] });
    expect(after.status).toBe(200);
    expect(maxAbsDiff(emb(after)[1]!, ref.image[0]!)).toBeLessThanOrEqual(1e-6);
    const m = await (await fetch(server.url + '/metrics', { headers: auth })).text();
    expect(m).toMatch(/siglip_http_requests_total\{route="\/v1\/embeddings",status="400"\} \d+/);
    expect(m).toMatch(/siglip_http_requests_total\{route="\/v1\/embeddings",status="413"\} 3/);
    for (const name of ['siglip_http_request_duration_seconds_bucket', 'siglip_batch_size_bucket', 'siglip_batch_duration_seconds_bucket', 'siglip_queue_depth{tower="vision"}', 'siglip_items_total{tower="text"}']) {
      expect(m).toContain(name);
    }
  });

  test('a flood: requests beyond the queue limit get 429 with Retry-After, the accepted ones succeed', async () => {
    const s = await startServer(['--max-queue', '4', '--max-batch', '64', '--max-wait-ms', '300']); // nothing runs for 300 ms: the queue fills
    try {
      const res = await Promise.all(Array.from({ length: 30 }, (_, k) => post(s.url, '/v1/embeddings', { input: TEXTS[k % TEXTS.length] }, {})));
      const ok = res.filter((r) => r.status === 200);
      const busy = res.filter((r) => r.status === 429);
      expect(ok.length + busy.length).toBe(30);
      expect(ok.length).toBeGreaterThanOrEqual(4);
      expect(busy.length).toBeGreaterThan(0);
      for (const r of busy) {
        expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
        expect(r.json.error.message).toMatch(/the server is busy: \d+ items are queued .*limit 4/);
      }
      res.forEach((r, k) => {
        if (r.status === 200) expect(maxAbsDiff(emb(r)[0]!, ref.text[k % TEXTS.length]!)).toBeLessThanOrEqual(1e-6);
      });
      expect((await post(s.url, '/v1/embeddings', { input: 'after' }, {})).status).toBe(200);
    } finally {
      await s.stop();
    }
  });

  test('a request over --timeout-ms gets 504 and the server goes on', async () => {
    const s = await startServer(['--timeout-ms', '200', '--max-wait-ms', '3000', '--max-batch', '64']);
    try {
      const t0 = performance.now();
      const r = await post(s.url, '/v1/embeddings', { input: 'slow' }, {});
      expect(r.status).toBe(504);
      expect(r.json.error.message).toMatch(/longer than the limit of 200 ms/);
      expect(performance.now() - t0).toBeLessThan(2500);
      expect((await fetch(s.url + '/health')).status).toBe(200);
    } finally {
      await s.stop();
    }
  });

  test('SIGTERM: requests in flight finish with their results, then the process exits 0', async () => {
    const s = await startServer(['--max-wait-ms', '1500', '--max-batch', '64']);
    const inflight = Array.from({ length: 6 }, (_, k) => post(s.url, '/v1/embeddings', { input: [TEXTS[k % TEXTS.length], { image: dataUrls[k % dataUrls.length] }] }, {}));
    await new Promise((r) => setTimeout(r, 300)); // queued, waiting for the batch to fill
    const code = s.stop();
    const res = await Promise.all(inflight);
    res.forEach((r, k) => {
      expect(r.status).toBe(200);
      expect(maxAbsDiff(emb(r)[0]!, ref.text[k % TEXTS.length]!)).toBeLessThanOrEqual(1e-6);
      expect(maxAbsDiff(emb(r)[1]!, ref.image[k % dataUrls.length]!)).toBeLessThanOrEqual(1e-6);
    });
    expect(await code).toBe(0);
    expect(s.stderr()).toMatch(/SIGTERM: draining requests in flight[\s\S]*serve: stopped/);
    await expect(fetch(s.url + '/health')).rejects.toThrow();
  });
  test('a NaFlex model (SigLIP 2): images of different aspect ratios batched together, each equal to embed', async () => {
    const naflex = join(FIXTURES, 'siglip2-naflex-tiny');
    const pics = [images[0]!, join(FIXTURES, 'images', 'cats_crop_tall_200x480.png'), images.at(-1)!];
    const e = await cli(['embed', '--model', naflex, ...pics.flatMap((p) => ['--image', p]), '--json']);
    expect(e.code, e.stderr).toBe(0);
    const want = JSON.parse(e.stdout).image_embeds as number[][];
    const s = await startServer(['--model', naflex, '--max-wait-ms', '50', '--max-batch', '8']);
    try {
      const urls = pics.map((p) => `data:image/png;base64,${readFileSync(p).toString('base64')}`);
      const res = await Promise.all(urls.map((u) => post(s.url, '/v1/embeddings', { input: [{ image: u }] }, {})));
      res.forEach((r, k) => {
        expect(r.status, JSON.stringify(r.json)).toBe(200);
        expect(maxAbsDiff(emb(r)[0]!, want[k]!), pics[k]).toBeLessThanOrEqual(1e-6);
      });
    } finally {
      await s.stop();
    }
  });
});

async function metric(name: string): Promise<number> {
  const text = await (await fetch(server.url + '/metrics', { headers: auth })).text();
  return [...text.matchAll(new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, 'gm'))].reduce((a, m) => a + Number(m[1]), 0);
}
