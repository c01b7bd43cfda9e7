#!/usr/bin/env node
// A small static server for the browser demo (and the real-browser tests), on node:http only:
//
//   /                      demo/index.html
//   /<file>                demo/<file> (style.css, ...), else <dist>/demo/<file> (main.js, built by scripts/build.mjs)
//   /dist/<file>           <dist>/<file>: the library's browser bundle, /dist/siglip-webgpu.browser.js
//   /fixtures/<path>       test/fixtures/<path>: the tiny test models (/fixtures/siglip-tiny/ is a model base URL)
//                          and /fixtures/images/cats.png, the demo's sample image
//
// GET and HEAD, with byte ranges (206 / 416) for large files such as model.safetensors. No directory listings, no
// caching headers (the browser's Cache API, not HTTP caching, keeps model weights).
//
//   node scripts/serve-demo.mjs            PORT (default 8080) and HOST (default 127.0.0.1) from the environment
//   npm run demo                           builds dist/ (library + demo) first, then runs this
//
// Tests import startDemoServer() and pass their own build folder as `dist` and port 0.
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export const MIME_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.wgsl': 'text/plain; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.safetensors': 'application/octet-stream',
  '.model': 'application/octet-stream',
};

export function mimeType(path) {
  return MIME_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/** `bytes=a-b`, `bytes=a-`, `bytes=-n` → [from, to) within size; null when absent or not understood (→ 200, whole
 *  file, as RFC 9110 allows); 'unsatisfiable' → 416. */
export function parseRange(header, size) {
  const m = header && /^bytes=(\d*)-(\d*)$/.exec(String(header).trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  let from;
  let to;
  if (m[1] === '') {
    from = Math.max(0, size - Number(m[2]));
    to = size;
  } else {
    from = Number(m[1]);
    to = m[2] === '' ? size : Math.min(size, Number(m[2]) + 1);
  }
  return from >= size || from >= to ? 'unsatisfiable' : [from, to];
}

/** The file under `dir` that `rel` (URL-decoded, '/'-separated) names, or null (outside `dir`, absent, a folder). */
function fileUnder(dir, rel) {
  const root = resolve(dir);
  const path = resolve(root, ...rel.split('/').filter(Boolean));
  if (path !== root && !path.startsWith(root + sep)) return null;
  try {
    const st = statSync(path);
    return st.isFile() ? { path, size: st.size } : null;
  } catch {
    return null;
  }
}

/**
 * The Content-Security-Policy `npm run demo` serves the demo with (CSP=off turns it off): no inline script, no eval,
 * no blob: or data: scripts, workers only from this origin. 'wasm-unsafe-eval' lets the WebP, AVIF and HEIC decoders
 * compile their WebAssembly (PNG, JPEG, GIF, BMP and TIFF need nothing); blob: images are the photos' thumbnails;
 * connect-src allows the hub and its CDN (huggingface.co redirects weights to *.hf.co).
 */
export const DEMO_CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self'",
  "img-src 'self' blob: data:",
  "style-src 'self'",
  "connect-src 'self' https://huggingface.co https://*.huggingface.co https://*.hf.co",
  "object-src 'none'",
  "base-uri 'none'",
].join('; ');

/**
 * Starts the server. Options: root (the repository, default this script's parent), dist (the build folder, default
 * <root>/dist), port (default 8080; 0 = any free port), host (default 127.0.0.1), log (a function for one line per
 * request; default none), headers (added to every answer, e.g. { 'Content-Security-Policy': DEMO_CSP }). Resolves to
 * { url, port, server, close() }.
 */
export async function startDemoServer(opts = {}) {
  const root = resolve(opts.root ?? ROOT);
  const dist = resolve(opts.dist ?? join(root, 'dist'));
  const demo = join(root, 'demo');
  const fixtures = join(root, 'test', 'fixtures');
  const host = opts.host ?? '127.0.0.1';

  const locate = (pathname) => {
    if (pathname === '/' || pathname === '/index.html') return fileUnder(demo, 'index.html');
    if (pathname.startsWith('/fixtures/')) return fileUnder(fixtures, pathname.slice('/fixtures/'.length));
    if (pathname.startsWith('/dist/')) return fileUnder(dist, pathname.slice('/dist/'.length));
    return fileUnder(demo, pathname) ?? fileUnder(join(dist, 'demo'), pathname);
  };

  const server = createServer((req, res) => {
    const method = req.method ?? 'GET';
    let pathname;
    try {
      pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      return void res.writeHead(400).end('bad request\n');
    }
    const done = (status) => opts.log?.(`${method} ${req.url} ${status}${req.headers.range ? ` (${req.headers.range})` : ''}`);
    if (method !== 'GET' && method !== 'HEAD') {
      done(405);
      return void res.writeHead(405, { Allow: 'GET, HEAD' }).end();
    }
    const file = pathname.includes('\0') ? null : locate(pathname);
    if (!file) {
      done(404);
      return void res.writeHead(404, { ...opts.headers, 'Content-Type': 'text/plain; charset=utf-8' }).end(method === 'HEAD' ? undefined : `not found: ${pathname}\n`);
    }
    const range = parseRange(req.headers.range, file.size);
    const headers = { ...opts.headers, 'Content-Type': mimeType(file.path), 'Accept-Ranges': 'bytes' };
    if (range === 'unsatisfiable') {
      done(416);
      return void res.writeHead(416, { ...headers, 'Content-Range': `bytes */${file.size}` }).end();
    }
    const [from, to] = range ?? [0, file.size];
    const status = range ? 206 : 200;
    res.writeHead(status, {
      ...headers,
      'Content-Length': String(to - from),
      ...(range ? { 'Content-Range': `bytes ${from}-${to - 1}/${file.size}` } : {}),
    });
    done(status);
    if (method === 'HEAD' || to === from) return void res.end();
    const stream = createReadStream(file.path, { start: from, end: to - 1 });
    stream.on('error', () => res.destroy());
    stream.pipe(res);
  });

  await new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 8080, host, () => {
      server.off('error', fail);
      ok();
    });
  });
  const port = server.address().port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/`;
  return {
    url,
    port,
    server,
    close: () =>
      new Promise((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      }),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const port = process.env.PORT ? Number(process.env.PORT) : 8080;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`serve-demo: PORT must be a port number, got ${JSON.stringify(process.env.PORT)}`);
    process.exit(1);
  }
  const mainJs = join(ROOT, 'dist', 'demo', 'main.js');
  try {
    statSync(mainJs);
  } catch {
    console.error(`serve-demo: ${mainJs} is missing; build first: node scripts/build.mjs --demo --no-types (or: npm run demo)`);
    process.exit(1);
  }
  const verbose = process.argv.includes('--verbose');
  try {
    const csp = process.env.CSP !== 'off';
    const { url } = await startDemoServer({
      port,
      host: process.env.HOST || '127.0.0.1',
      log: verbose ? (l) => console.log(l) : undefined,
      headers: csp ? { 'Content-Security-Policy': DEMO_CSP } : {},
    });
    console.log(`SigLIP WebGPU demo: ${url}`);
    console.log(`  tiny test model (offline): ${url}?model=/fixtures/siglip-tiny/`);
    console.log(`  ${csp ? 'served with a strict Content-Security-Policy (CSP=off to serve without)' : 'no Content-Security-Policy'}; Ctrl-C to stop`);
  } catch (e) {
    console.error(`serve-demo: cannot listen on port ${port}: ${e.message}${e.code === 'EADDRINUSE' ? ' (in use; set PORT=...)' : ''}`);
    process.exit(1);
  }
}
