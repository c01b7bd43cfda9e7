/** The per-adapter search: its choices are valid candidates, cached per adapter, and applied to the engine. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { ATTENTION_CANDIDATES } from '../../src/kernels/attention.js';
import { DEFAULT_CPU_MATMUL, MATMUL_CANDIDATES, MATMUL_CPU_CANDIDATES, regsgCandidates, type MatmulConfig } from '../../src/kernels/matmul.js';
import { runTuning, tuneEngine, TUNING_VERSION } from '../../src/runtime/tuner.js';
import { testEngine } from '../helpers/engine.js';

const engine = await testEngine({ poison: false });
const dir = mkdtempSync(join(tmpdir(), 'tuning-'));
const saved = process.env.SIGLIP_WEBGPU_CACHE;
process.env.SIGLIP_WEBGPU_CACHE = dir;
afterAll(() => {
  if (saved === undefined) delete process.env.SIGLIP_WEBGPU_CACHE;
  else process.env.SIGLIP_WEBGPU_CACHE = saved;
  rmSync(dir, { recursive: true, force: true });
});

describe('kernel tuning', () => {
  test('searches once, caches per adapter, applies its choices', { timeout: 300_000 }, async () => {
    // Two candidates per family: this tests the mechanism; `siglip-webgpu bench --tune` runs the full search.
    const first = await tuneEngine(engine, { reps: 1, limit: 2 });
    expect(first.cached).toBe(false);
    expect(first.where).toBe(join(dir, 'tuning.json'));
    const r = first.record!;
    expect(r.version).toBe(TUNING_VERSION);
    const pool = [...MATMUL_CANDIDATES, ...MATMUL_CPU_CANDIDATES, ...regsgCandidates(engine)].map((c) => JSON.stringify(c));
    expect(pool).toContain(JSON.stringify(r.choices['matmul:nk']));
    expect(pool).toContain(JSON.stringify(r.choices['matmul:kn']));
    expect(['nk', 'kn']).toContain(r.choices.weightLayout);
    expect(ATTENTION_CANDIDATES.map((c) => JSON.stringify(c))).toContain(JSON.stringify(r.choices.attention));
    for (const list of Object.values(r.timings)) for (const t of list) expect(t.ms).toBeGreaterThan(0);
    // CPU adapters tune f32 only (the f16 keys are for GPUs, where subgroup matrices may exist for f16 alone).
    expect(Object.keys(r.choices).filter((k) => k.endsWith(':f16'))).toEqual([]);
    console.log(`tuning on ${engine.info.name}: ${r.seconds.toFixed(1)} s, choices ${JSON.stringify(r.choices)}`);

    const file = JSON.parse(readFileSync(first.where, 'utf8'));
    expect(Object.keys(file)).toHaveLength(1);

    engine.tuning.clear();
    const second = await tuneEngine(engine, { searchIfMissing: false });
    expect(second.cached).toBe(true);
    expect(engine.tuning.get('weightLayout')).toBe(r.choices.weightLayout);
    expect(engine.tuning.get('matmul:kn')).toEqual(r.choices['matmul:kn']);
  });
});

describe('the tuner checks every candidate before timing it', () => {
  test('a candidate that computes something else, or does not compile, is rejected and never chosen', { timeout: 300_000 }, async () => {
    // Stand-ins for a kernel that is wrong on this adapter (as an unverified subgroup-matrix variant could be):
    // tn 6 is not a multiple of 4, so with B as [K, N] the register kernel leaves two columns of every six
    // unwritten (with B as [N, K] it is right); 64×64 staged tiles need more workgroup memory than any adapter
    // has, so its pipeline fails to build.
    const partial: MatmulConfig = { variant: 'reg', tm: 1, tn: 6, wgx: 8, wgy: 1, bk: 16 };
    const broken: MatmulConfig = { variant: 'tiled', tm: 64, tn: 64, wgx: 16, wgy: 16, bk: 16 };
    const r = await runTuning(engine, { reps: 1, limit: 3, matmulCandidates: [DEFAULT_CPU_MATMUL, partial, broken] });
    const kn = r.timings['matmul:kn']!;
    const nk = r.timings['matmul:nk']!;
    expect(kn.find((t) => t.config === partial)).toMatchObject({ ms: null, rejected: expect.stringMatching(/wrong result/) });
    expect(nk.find((t) => t.config === partial)!.ms).toBeGreaterThan(0);
    for (const list of [kn, nk]) {
      expect(list.find((t) => t.config === broken)).toMatchObject({ ms: null, rejected: expect.stringMatching(/compile|invalid/i) });
    }
    expect(r.choices['matmul:kn']).toEqual(DEFAULT_CPU_MATMUL);
    expect(r.choices['matmul:nk']).not.toEqual(broken);
    console.log('rejections:', JSON.stringify([...kn, ...nk].filter((t) => t.rejected).map((t) => t.rejected)));
  });
});
