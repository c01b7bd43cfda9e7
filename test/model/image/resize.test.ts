/** PIL-exact resizing: every generated resize case must match PIL's uint8 output exactly. */
import { describe, expect, it } from 'vitest';
import { decodeBytes, resizeBicubic, resizeWith, BICUBIC, BILINEAR, BOX, HAMMING, LANCZOS } from '../../../src/model/image/index.js';
import { expected, loadCases, maxDiff, readInput, syntheticPattern } from '../../helpers/image-cases.js';

const FILTERS = { bicubic: BICUBIC, bilinear: BILINEAR, lanczos: LANCZOS, box: BOX, hamming: HAMMING };

describe('resize (PIL Image.resize, reducing_gap=None)', () => {
  const { cases, blob } = loadCases();
  const resizeCases = cases.filter((c) => c.name.startsWith('resize '));

  it('has the generated cases', () => {
    expect(resizeCases.length).toBeGreaterThanOrEqual(9);
  });

  for (const c of resizeCases) {
    it(`${c.name}: ${c.resizes.map((r) => `${r.width}x${r.height} ${r.filter}`).join(', ')}`, () => {
      const img = decodeBytes(readInput(c));
      for (const r of c.resizes) {
        const out = resizeWith(img, r.width, r.height, FILTERS[r.filter]);
        expect([out.width, out.height]).toEqual([r.width, r.height]);
        const d = maxDiff(out.data, expected(blob, r));
        // Bicubic/bilinear/box are exact integer+double arithmetic; lanczos/hamming use sin/cos, whose last bit may
        // differ between libm and V8 and flip a 22-bit fixed-point weight: allow one level there.
        const tol = r.filter === 'lanczos' || r.filter === 'hamming' ? 1 : 0;
        expect(d.max, `${r.width}x${r.height} ${r.filter}: worst at byte ${d.at}`).toBeLessThanOrEqual(tol);
      }
    });
  }

  it('4000x3000 synthetic pattern → 384², 224², 97×61 exactly', () => {
    const c = cases.find((x) => x.synthetic === 'pattern1')!;
    const img = syntheticPattern(c.width, c.height);
    for (const r of c.resizes) {
      const d = maxDiff(resizeBicubic(img, r.width, r.height).data, expected(blob, r));
      expect(d.max, `${r.width}x${r.height}`).toBe(0);
    }
  });

  it('same size returns an equal copy; refuses bad sizes', () => {
    const img = { width: 2, height: 1, data: new Uint8Array([1, 2, 3, 4, 5, 6]) };
    const out = resizeBicubic(img, 2, 1);
    expect(out.data).toEqual(img.data);
    expect(out.data).not.toBe(img.data);
    expect(() => resizeBicubic(img, 0, 5)).toThrow(/positive integers/);
    expect(() => resizeBicubic(img, 2.5, 5)).toThrow(/positive integers/);
    expect(() => resizeBicubic({ width: 2, height: 2, data: new Uint8Array(5) }, 3, 3)).toThrow(/expected 2×2×3/);
  });
});
