/**
 * Camera-sized inputs (4000×3000 PNG and JPEG) → 384×384: exact vs PIL, and timed. The timings are printed for the
 * record (this machine, Node 20, 2 cores: JPEG ≈ 0.4–0.6 s decode + 0.2 s resize; PNG ≈ 0.6 s + 0.2 s; PIL itself
 * takes ≈ 0.1–0.16 s + 0.06 s). The bound below only catches pathological slowdowns.
 */
import { describe, expect, it } from 'vitest';
import { decodeBytes, resizeBicubic } from '../../../src/model/image/index.js';
import { expected, loadCases, maxDiff, readInput } from '../../helpers/image-cases.js';

describe('4000×3000 → 384×384', () => {
  const { cases, blob } = loadCases();
  for (const c of cases.filter((x) => x.input?.startsWith('inputs/large_'))) {
    it(c.name, () => {
      const bytes = readInput(c);
      const t0 = performance.now();
      const img = decodeBytes(bytes);
      const t1 = performance.now();
      const r = c.resizes[0];
      const out = resizeBicubic(img, r.width, r.height);
      const t2 = performance.now();
      console.log(`${c.name}: decode ${(t1 - t0).toFixed(0)} ms, resize ${(t2 - t1).toFixed(0)} ms`);
      expect([img.width, img.height]).toEqual([4000, 3000]);
      expect(maxDiff(out.data, expected(blob, r)).max).toBe(0);
      expect(t2 - t0).toBeLessThan(20_000);
    });
  }
});
