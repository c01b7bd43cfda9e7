/** The per-adapter search: its choices are valid candidates, cached per adapter, and applied to the engine. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { ATTENTION_CANDIDATES } from '../../src/kernels/attention.js';
import { MATMUL_CANDIDATES, MATMUL_CPU_CANDIDATES } from '../../src/kernels/matmul.js';
import { tuneEngine, TUNING_VERSION } from '../../src/runtime/tuner.js';
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
    const pool = [...MATMUL_CANDIDATES, ...MATMUL_CPU_CANDIDATES].map((c) => JSON.stringify(c));
    expect(pool).toContain(JSON.stringify(r.choices['matmul:nk']));
    expect(pool).toContain(JSON.stringify(r.choices['matmul:kn']));
    expect(['nk', 'kn']).toContain(r.choices.weightLayout);
    expect(ATTENTION_CANDIDATES.map((c) => JSON.stringify(c))).toContain(JSON.stringify(r.choices.attention));
    for (const list of Object.values(r.timings)) for (const t of list) expect(t.ms).toBeGreaterThan(0);
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
