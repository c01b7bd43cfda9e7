/**
 * scripts/serve-demo.mjs without a browser: routes, MIME types, byte ranges, HEAD, and no way out of its folders.
 * Run alone: npx vitest run test/browser
 */
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mimeType, startDemoServer, type DemoServer } from '../../scripts/serve-demo.mjs';
import { FIXTURES } from '../helpers/fixtures.js';

let server: DemoServer;
let dist: string;

beforeAll(async () => {
  dist = mkdtempSync(join(tmpdir(), 'serve-demo-'));
  mkdirSync(join(dist, 'demo'));
  writeFileSync(join(dist, 'demo', 'main.js'), 'console.log(1);\n');
  writeFileSync(join(dist, 'siglip-webgpu.browser.js'), 'export {};\n');
  writeFileSync(join(dist, 'x.wasm'), new Uint8Array([0, 97, 115, 109]));
  server = await startDemoServer({ port: 0, dist });
});

afterAll(async () => {
  await server?.close();
  rmSync(dist, { recursive: true, force: true });
});

const get = (path: string, init?: RequestInit) => fetch(new URL(path, server.url), init);

describe('serve-demo', () => {
  it('serves the page, its script, the library bundle and the fixtures with their MIME types', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const cases: [string, string][] = [
      ['/', 'text/html; charset=utf-8'],
      ['/style.css', 'text/css; charset=utf-8'],
      ['/main.js', 'text/javascript; charset=utf-8'],
      ['/dist/siglip-webgpu.browser.js', 'text/javascript; charset=utf-8'],
      ['/dist/x.wasm', 'application/wasm'],
      ['/fixtures/siglip-tiny/config.json', 'application/json; charset=utf-8'],
      ['/fixtures/siglip-tiny/spiece.model', 'application/octet-stream'],
      ['/fixtures/siglip-tiny/model.safetensors', 'application/octet-stream'],
      ['/fixtures/images/cats.png', 'image/png'],
    ];
    for (const [path, type] of cases) {
      const res = await get(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type'), path).toBe(type);
      await res.arrayBuffer();
    }
    expect(await (await get('/')).text()).toContain('<script type="module" src="main.js">');
    expect(mimeType('a/b.SAFETENSORS')).toBe('application/octet-stream');
  });

  it('answers byte ranges (206, suffix ranges, 416) and HEAD with the size', async () => {
    const file = readFileSync(join(FIXTURES, 'siglip-tiny', 'model.safetensors'));
    const url = '/fixtures/siglip-tiny/model.safetensors';
    let res = await get(url, { headers: { Range: 'bytes=8-1023' } });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe(`bytes 8-1023/${file.length}`);
    expect(Buffer.from(await res.arrayBuffer()).equals(file.subarray(8, 1024))).toBe(true);
    res = await get(url, { headers: { Range: 'bytes=-10' } });
    expect(Buffer.from(await res.arrayBuffer()).equals(file.subarray(file.length - 10))).toBe(true);
    res = await get(url, { headers: { Range: `bytes=${file.length}-` } });
    expect(res.status).toBe(416);
    expect(res.headers.get('content-range')).toBe(`bytes */${file.length}`);
    res = await get(url, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe(String(file.length));
    expect(res.headers.get('accept-ranges')).toBe('bytes');
  });

  it('404s outside its folders and for folders; 405 for other methods', async () => {
    for (const path of ['/nope', '/fixtures/siglip-tiny/', '/fixtures/%2e%2e/%2e%2e/package.json', '/dist/..%2f..%2fpackage.json', '/package.json']) {
      const res = await get(path);
      expect(res.status, path).toBe(404);
      await res.arrayBuffer();
    }
    const res = await get('/', { method: 'POST' });
    expect(res.status).toBe(405);
  });
});
