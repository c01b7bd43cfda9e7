// Old and new builds side by side in one run, adapter defaults (no tuning): kernels at SigLIP shapes and the text pass.
import { cpus } from 'node:os';
const builds = process.argv.slice(2);
const libs = await Promise.all(builds.map((b) => import(b)));
const med = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]; };
const results = {};
async function time(fn, reps) { await fn(); const ts = []; for (let i = 0; i < reps; i++) { const t0 = performance.now(); await fn(); ts.push(performance.now() - t0); } return med(ts); }
for (let round = 0; round < 2; round++) {
  for (const [i, lib] of libs.entries()) {
    const e = await lib.createEngine();
    const r = (results[builds[i]] ??= {});
    const add = (k, v) => (r[k] ??= []).push(v);
    const [M, N, K] = [576, 4096, 1024];
    const a = e.tensor(Float32Array.from({ length: M * K }, (_, j) => Math.sin(j) * 0.1), [M, K]);
    const w = e.tensor(Float32Array.from({ length: N * K }, (_, j) => Math.cos(j) * 0.03), [K, N]);
    add('matmul 576x4096x1024 kn', 2 * M * N * K / (await time(async () => { const y = e.ops.matmul(a, w); await y.read(); y.dispose(); }, 3)) / 1e6);
    for (const [L, H, D] of [[577, 16, 64], [577, 16, 72]]) {
      const q = e.tensor(Float32Array.from({ length: L * H * D }, (_, j) => Math.sin(j)), [1, L, H * D]);
      add(`attention L${L} H${H} D${D}`, 4 * H * L * L * D / (await time(async () => { const y = e.ops.attention(q, q, q, { heads: H }); await y.read(); y.dispose(); }, 3)) / 1e6);
      q.dispose();
    }
    e.dispose();
    const m = await lib.SiglipModel.load(new lib.SyntheticSource(lib.presetConfig('siglip-large-patch16-384'), 0, 'siglip-large-patch16-384'), { towers: ['text'], tune: false });
    const ids = { inputIds: { data: Int32Array.from({ length: 64 }, (_, j) => (j * 7919) % 32000), shape: [1, 64] } };
    add('text pass ms', await time(() => m.forward(ids), 2));
    await m.dispose();
  }
}
console.log(`host: ${cpus()[0].model} x ${cpus().length}`);
for (const [b, r] of Object.entries(results)) console.log(b, JSON.stringify(Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v.map((x) => +x.toFixed(2))]))));
process.exit(0);
