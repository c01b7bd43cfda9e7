#!/usr/bin/env node
// Times matmul or attention variants inside headless Chromium on its CPU adapter (SwiftShader), through the
// browser bundle: how the SwiftShader defaults in src/kernels were chosen (PERFORMANCE.md section 8).
// usage: npm run build && node bench/browser-kernels.mjs matmul 576,1024,1024 [nk] '[{"variant":"reg",…}, …]'
//        node bench/browser-kernels.mjs attention 577,16,64 '[{"wgq":8,"quad":true,"kt":16,"sharedKV":false}, …]'
// Prints, per config: the first run (compile included), the best of two more, GFLOP/s, and the relative difference
// from the first config's output (all configs compute the same thing).
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { chromium } from 'playwright-core';

const [kind, shapeArg, ...rest] = process.argv.slice(2);
const layoutNk = rest[0] === 'nk';
const cfgs = JSON.parse(rest[layoutNk ? 1 : 0] ?? '[]');
if ((kind !== 'matmul' && kind !== 'attention') || !shapeArg || !cfgs.length) {
  console.error('usage: node bench/browser-kernels.mjs matmul M,N,K [nk] CONFIGS_JSON | attention L,H,D CONFIGS_JSON');
  process.exit(2);
}
const shape = shapeArg.split(',').map(Number);
const bundle = readFileSync(new URL('../dist/siglip-webgpu.browser.js', import.meta.url));
const server = http.createServer((req, res) => {
  if (req.url === '/lib.js') return res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
  res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>bench</title>');
}).listen(0, '127.0.0.1');
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader', '--disable-vulkan-surface'],
});
try {
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  const result = await page.evaluate(async ({ kind, shape, layoutNk, cfgs }) => {
    const lib = await import('/lib.js');
    const e = await lib.createEngine();
    const fill = (n, f) => Float32Array.from({ length: n }, (_, i) => f(i));
    let run;
    let flops;
    if (kind === 'matmul') {
      const [M, N, K] = shape;
      const a = e.tensor(fill(M * K, Math.sin), [M, K]);
      const w = e.tensor(fill(N * K, (i) => Math.cos(i) * 0.03), layoutNk ? [N, K] : [K, N]);
      run = (config) => e.ops.matmul(a, w, { transposeB: layoutNk, config });
      flops = 2 * M * N * K;
    } else {
      const [L, H, D] = shape;
      const q = e.tensor(fill(L * H * D, Math.sin), [1, L, H * D]);
      run = (config) => e.ops.attention(q, q, q, { heads: H, config });
      flops = 4 * L * L * H * D;
    }
    const lines = [];
    let ref = null;
    for (const config of cfgs) {
      const t0 = performance.now();
      const y = run(config);
      const out = await y.read();
      const first = performance.now() - t0;
      y.dispose();
      ref ??= out;
      let num = 0;
      let den = 0;
      for (let i = 0; i < out.length; i++) {
        num += (out[i] - ref[i]) ** 2;
        den += ref[i] ** 2;
      }
      let best = Infinity;
      for (let r = 0; r < 2; r++) {
        const t1 = performance.now();
        const z = run(config);
        await z.read();
        best = Math.min(best, performance.now() - t1);
        z.dispose();
      }
      lines.push(`${JSON.stringify(config)}: first ${first.toFixed(0)} ms, then ${best.toFixed(0)} ms = ${(flops / best / 1e6).toFixed(2)} GFLOP/s, rel diff ${Math.sqrt(num / Math.max(den, 1e-30)).toExponential(1)}`);
    }
    e.dispose();
    return { adapter: e.info.name, lines };
  }, { kind, shape, layoutNk, cfgs });
  console.log(`adapter: ${result.adapter}`);
  for (const l of result.lines) console.log(l);
} finally {
  await browser.close();
  server.close();
}
