/**
 * The tuner: every candidate of every kernel kind is checked (compiles, computes what its reference computes)
 * before it is timed, rejections are recorded and never chosen; choices are cached per (adapter, shape class) and
 * found again by the shapes that use them.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import type { AttentionConfig } from '../../src/kernels/attention.js';
import type { LayerNormConfig } from '../../src/kernels/layernorm.js';
import type { MatmulConfig } from '../../src/kernels/matmul.js';
import { attentionConfigFor, layerNormConfigFor, matmulConfigFor, tuneEngine, TUNING_VERSION, weightLayoutFor } from '../../src/ops/index.js';
import { runTuning, type ClassRecord } from '../../src/ops/tuner.js';
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

// Small shapes and two candidates per kind: this tests the mechanism; `siglip-webgpu bench --tune` runs the search.
const REG_A: MatmulConfig = { variant: 'reg', tm: 4, tn: 4, wgx: 8, wgy: 8, bk: 16 };
const REG_B: MatmulConfig = { variant: 'reg', tm: 2, tn: 8, wgx: 8, wgy: 8, bk: 16 };
const ATT_A: AttentionConfig = { wgq: 8, quad: true, kt: 16, sharedKV: false };
const ATT_B: AttentionConfig = { wgq: 32, kt: 16, sharedKV: false };
const LN_A: LayerNormConfig = { wg: 32, subgroups: false };
const LN_B: LayerNormConfig = { wg: 64, subgroups: false };
const small = { matmulCandidates: [REG_A, REG_B], attentionCandidates: [ATT_A, ATT_B], layernormCandidates: [LN_A, LN_B], reps: 1 };

describe('kernel tuning at a model’s own shapes', () => {
  test('searches each shape class once, caches it per adapter, and applies it where the shapes match', { timeout: 300_000 }, async () => {
    const shapes = { matmul: [{ M: 49, N: 200, K: 96 }], attention: [{ L: 49, H: 3, D: 32 }], layernorm: [{ rows: 49, D: 96 }] };
    const first = await tuneEngine(engine, shapes, { ...small, searchIfMissing: true });
    expect(first.where).toBe(join(dir, 'tuning.json'));
    expect(first.searched.sort()).toEqual([
      'attention@L=49,D=32', 'layernorm@D=96', 'matmul:kn@M=49,N=200,K=96', 'matmul:nk@M=49,N=200,K=96', 'weightLayout@M=49,N=200,K=96',
    ]);
    const r = first.record;
    expect(r.version).toBe(TUNING_VERSION);
    for (const [key, c] of Object.entries(r.classes)) {
      if (key.startsWith('weightLayout')) continue;
      // Every candidate was checked against its reference and timed (none of these is wrong).
      for (const t of c.timings) {
        expect(t.rejected, `${key} ${JSON.stringify(t.config)}`).toBeUndefined();
        // Timed: a number (a kernel shorter than the adapter's timestamp resolution may read 0 ms).
        expect(t.ms).toBeTypeOf('number');
        expect(t.ms).toBeGreaterThanOrEqual(0);
        expect(t.err).toBeLessThan(1e-4);
        if (engine.hasTimestamps) expect(t.clock).toBe('timestamp');
      }
    }
    expect([REG_A, REG_B]).toContainEqual(matmulConfigFor(engine, 'kn', 'f32', { M: 49, N: 200, K: 96 }));
    expect([ATT_A, ATT_B]).toContainEqual(attentionConfigFor(engine, { L: 49, D: 32 }));
    expect([LN_A, LN_B]).toContainEqual(layerNormConfigFor(engine, 96));
    expect(['nk', 'kn']).toContain(weightLayoutFor(engine, { M: 49, N: 200, K: 96 }));
    // A head dim that was not tuned keeps the adapter default rather than borrowing another's choice.
    engine.tuning.clear();
    expect([ATT_A, ATT_B]).not.toContainEqual(attentionConfigFor(engine, { L: 49, D: 72 }));

    // Cached: nothing searched again, and the choices come back.
    const second = await tuneEngine(engine, shapes, { searchIfMissing: false });
    expect(second.searched).toEqual([]);
    expect(second.missing).toEqual([]);
    expect(engine.tuning.get('matmul:kn@M=49,N=200,K=96')).toEqual(r.classes['matmul:kn@M=49,N=200,K=96']!.choice);

    // Another model's shapes are other classes: searched apart, kept beside the first in one record.
    const other = { attention: [{ L: 16, H: 4, D: 16 }] };
    const missing = await tuneEngine(engine, other, { searchIfMissing: false });
    expect(missing.missing).toEqual(['attention@L=16,D=16']);
    const third = await tuneEngine(engine, other, { ...small, searchIfMissing: true });
    expect(third.searched).toEqual(['attention@L=16,D=16']);
    const file = JSON.parse(readFileSync(first.where, 'utf8'));
    expect(Object.keys(file)).toHaveLength(1);
    expect(Object.keys((Object.values(file)[0] as { classes: Record<string, unknown> }).classes)).toContain('attention@L=49,D=32');
    console.log(`tuning on ${engine.info.name}: ${JSON.stringify(Object.fromEntries(Object.entries(third.record.classes).map(([k, c]) => [k, c.choice])))}`);
  });
});

describe('the tuner checks every candidate before timing it', () => {
  test('a candidate of any kind that computes something else, or does not compile, is rejected and never chosen', { timeout: 300_000 }, async () => {
    // Stand-ins for a variant that is wrong on this adapter (as an unverified subgroup-matrix variant could be):
    // matmul tn 6 is not a multiple of 4, so with B as [K, N] the register kernel leaves two columns of every six
    // unwritten (with B as [N, K] it is right); 64×64 staged tiles need more workgroup memory than any adapter has;
    // attention with key tiles of 0 declares a zero-length array; LayerNorm's tree reduction over 48 invocations
    // (not a power of two) drops partial sums; a workgroup of 0 invocations does not build.
    const partial: MatmulConfig = { variant: 'reg', tm: 1, tn: 6, wgx: 8, wgy: 1, bk: 16 };
    const broken: MatmulConfig = { variant: 'tiled', tm: 64, tn: 64, wgx: 16, wgy: 16, bk: 16 };
    const noTiles: AttentionConfig = { wgq: 8, kt: 0, sharedKV: false };
    const wrongSum: LayerNormConfig = { wg: 48, subgroups: false };
    const empty: LayerNormConfig = { wg: 0, subgroups: false };
    const r = await runTuning(engine, { matmul: [{ M: 33, N: 24, K: 40 }], attention: [{ L: 21, H: 2, D: 16 }], layernorm: [{ rows: 9, D: 200 }] }, {
      reps: 1,
      matmulCandidates: [REG_A, partial, broken],
      attentionCandidates: [noTiles, ATT_A],
      layernormCandidates: [wrongSum, empty, LN_A],
    });
    const kn = r['matmul:kn@M=33,N=24,K=40']!;
    const nk = r['matmul:nk@M=33,N=24,K=40']!;
    const find = (c: ClassRecord, cfg: unknown) => c.timings.find((t) => t.config === cfg);
    expect(find(kn, partial)).toMatchObject({ ms: null, rejected: expect.stringMatching(/wrong result/) });
    expect(find(nk, partial)!.rejected).toBeUndefined();
    expect(find(nk, partial)!.ms).toBeGreaterThanOrEqual(0); // timed (a number, possibly 0 ms at this size)
    for (const c of [kn, nk]) expect(find(c, broken)).toMatchObject({ ms: null, rejected: expect.stringMatching(/compile|invalid|storage/i) });
    expect(kn.choice).toEqual(REG_A);
    expect(nk.choice).not.toEqual(broken);
    const att = r['attention@L=21,D=16']!;
    expect(find(att, noTiles)).toMatchObject({ ms: null, rejected: expect.stringMatching(/compile|invalid|array/i) });
    expect(att.choice).toEqual(ATT_A);
    const ln = r['layernorm@D=200']!;
    expect(find(ln, wrongSum)).toMatchObject({ ms: null, rejected: expect.stringMatching(/wrong result/) });
    expect(find(ln, empty)).toMatchObject({ ms: null, rejected: expect.any(String) });
    expect(ln.choice).toEqual(LN_A);
    // The engine is still healthy after the failures.
    await engine.sync();
    console.log('rejections:', JSON.stringify(Object.values(r).flatMap((c) => c.timings.filter((t) => t.rejected).map((t) => t.rejected))));
  });
});

describe('compact weights are tuned as their own kinds', () => {
  test('int8 and q4 at a model shape: checked against float64 on the dequantized matrix, chosen apart from f32', { timeout: 300_000 }, async () => {
    const broken: MatmulConfig = { variant: 'tiled', tm: 64, tn: 64, wgx: 16, wgy: 16, bk: 16 };
    const REG_B: MatmulConfig = { variant: 'reg', tm: 4, tn: 8, wgx: 8, wgy: 4, bk: 16 };
    const m = { M: 33, N: 24, K: 200 };
    const r = await runTuning(engine, { matmul: [m], weightFormats: [{ format: 'int8', group: 128 }, { format: 'q4', group: 32 }] }, { reps: 1, matmulCandidates: [REG_B, broken] });
    for (const kind of ['matmul:nk:wint8', 'matmul:nk:wq4']) {
      const c = r[`${kind}@M=33,N=24,K=200`]!;
      expect(c, kind).toBeDefined();
      expect(c.timings.find((t) => t.config === broken)).toMatchObject({ ms: null, rejected: expect.stringMatching(/compile|invalid|storage/i) });
      const ok = c.timings.find((t) => t.config === REG_B)!;
      // Checked before timing: its error against the dequantized float64 product is at fp32 level.
      expect(ok.err).toBeLessThan(1e-5);
      expect(c.choice).toEqual(REG_B);
    }
    // The packed kind's choice is what a packed matmul at that shape runs; plain weights keep their own.
    const e2 = await testEngine({ poison: false });
    e2.tuning.set('matmul:nk:wq4@M=33,N=24,K=200', REG_B);
    e2.tuning.set('matmul:nk@M=33,N=24,K=200', REG_A);
    expect(matmulConfigFor(e2, 'nk', 'f32', m, 'q4')).toEqual(REG_B);
    expect(matmulConfigFor(e2, 'nk', 'f32', m)).toEqual(REG_A);
  });
});
