/**
 * Decoding equals PIL's `load_image` (open → exif_transpose → convert("RGB")) for every generated PNG/JPEG case:
 * all PNG colour types, bit depths and interlacing; JPEG baseline/progressive/grey/CMYK/YCCK/odd sizes and sampling;
 * EXIF/XMP orientation 1..8. Exact (0 levels) throughout.
 */
import { describe, expect, it } from 'vitest';
import { decodeBytes, decodeImage, resizeBicubic } from '../../../src/model/image/index.js';
import { expected, loadCases, maxDiff, readInput, GENERATED } from '../../helpers/image-cases.js';
import { join } from 'node:path';

const { cases, blob } = loadCases();

function check(name: string, got: { width: number; height: number; data: Uint8Array }, w: number, h: number, ref: Uint8Array) {
  expect([got.width, got.height], name).toEqual([w, h]);
  const d = maxDiff(got.data, ref);
  expect(d.max, `${name}: worst at byte ${d.at} (pixel ${Math.floor(d.at / 3)})`).toBe(0);
}

describe.each([
  ['png', (c: (typeof cases)[number]) => c.input?.startsWith('inputs/png_') || c.input?.startsWith('inputs/resize_')],
  ['jpeg', (c: (typeof cases)[number]) => c.input?.startsWith('inputs/jpeg_') && !c.error],
  ['orientation', (c: (typeof cases)[number]) => c.orientation !== undefined],
])('%s cases match PIL exactly', (_kind, pick) => {
  const mine = cases.filter(pick);
  it('exist', () => expect(mine.length).toBeGreaterThan(5));
  for (const c of mine) {
    it(c.name, () => {
      const img = decodeBytes(readInput(c));
      if (c.decoded) check(c.name, img, c.width, c.height, expected(blob, c.decoded));
      else expect([img.width, img.height]).toEqual([c.width, c.height]);
      for (const r of c.resizes.filter((x) => x.filter === 'bicubic')) {
        check(`${c.name} → ${r.width}x${r.height}`, resizeBicubic(img, r.width, r.height), r.width, r.height, expected(blob, r));
      }
      if (c.orientation !== undefined) {
        // Turning orientation off gives the stored pixels, as PIL without exif_transpose.
        const raw = decodeBytes(readInput(c), { applyExifOrientation: false });
        const swap = c.orientation >= 5;
        check(`${c.name} (no orientation)`, raw, swap ? c.height : c.width, swap ? c.width : c.height, expected(blob, c.unrotated!));
      }
    });
  }
});

describe('formats we refuse', () => {
  for (const c of cases.filter((x) => x.error)) {
    it(`${c.name}: error names "${c.error}"`, () => {
      expect(() => decodeBytes(readInput(c))).toThrow(new RegExp(c.error!));
    });
  }
});

describe('decodeImage input kinds', () => {
  const c = cases.find((x) => x.input === 'inputs/jpeg_160x120_q75_s2.jpg')!;
  const ref = expected(blob, c.decoded!);
  const bytes = readInput(c);

  it('path, file: URL, Uint8Array, ArrayBuffer, Blob, RgbImage give the same pixels', async () => {
    const path = join(GENERATED, c.input!);
    const inputs = [
      path,
      new URL(`file://${path}`).href,
      bytes,
      bytes.slice().buffer,
      new Blob([bytes as Uint8Array<ArrayBuffer>]),
      { width: c.width, height: c.height, data: ref.slice() },
    ];
    for (const input of inputs) {
      const img = await decodeImage(input);
      check(typeof input === 'string' ? input : input.constructor.name, img, c.width, c.height, ref);
    }
  });

  it('a missing file names the path', async () => {
    await expect(decodeImage('/no/such/image.png')).rejects.toThrow(/\/no\/such\/image.png: cannot read the file/);
  });

  it('an unsupported object is a TypeError', async () => {
    await expect(decodeImage({ foo: 1 } as never)).rejects.toThrow(TypeError);
    await expect(decodeImage({ width: 2, height: 2, data: new Uint8Array(3) })).rejects.toThrow(/expected 2×2×3/);
  });
});
