/**
 * WebP, AVIF, HEIC, GIF, BMP, TIFF and arithmetic-coded JPEG decode to the reference's pixels
 * (test/fixtures/formats, made by scripts/gen-format-cases.py: Pillow 9.4's load_image; AVIF through avifdec and HEIC
 * through heif-convert, the libraries Pillow's plugins use). Exact for lossless formats and JPEG; within each case's
 * tolerance (2/255) for lossy WebP, AVIF and HEIC, whose decoder versions differ from the reference's.
 */
import { describe, expect, it } from 'vitest';
import { decodeBytes, decodeImage, ImageDecodeError } from '../../../src/model/image/index.js';
import { lazyCodec } from '../../../src/model/image/wasm-load.js';
import { expected, FORMATS, loadCases, maxDiff, readInput } from '../../helpers/image-cases.js';

const { cases, blob } = loadCases(FORMATS);

describe.each(['webp', 'avif', 'heic', 'gif', 'bmp', 'tiff', 'jpeg'])('%s files give the reference pixels', (format) => {
  const mine = cases.filter((c) => c.format === format);
  it('exist', () => expect(mine.length).toBeGreaterThan(3));
  for (const c of mine) {
    it(`${c.name} (${c.input}; ${c.reference}; within ${c.tolerance})`, async () => {
      const img = await decodeImage(readInput(c));
      expect([img.width, img.height]).toEqual([c.width, c.height]);
      const ref = expected(blob, c.decoded!);
      const d = maxDiff(img.data, ref);
      if (c.max_tolerance === undefined) {
        expect(d.max, `worst at byte ${d.at} (pixel ${Math.floor(d.at / 3)})`).toBeLessThanOrEqual(c.tolerance!);
      } else {
        // Another libavif/libheif version than the reference's: most samples within `tolerance`, all within the max.
        let within = 0;
        for (let i = 0; i < ref.length; i++) if (Math.abs(img.data[i] - ref[i]) <= c.tolerance!) within++;
        console.log(`${c.input}: ${((100 * within) / ref.length).toFixed(1)} % of samples within ${c.tolerance}, max ${d.max}`);
        expect(within / ref.length).toBeGreaterThanOrEqual(0.9);
        expect(d.max, `worst at byte ${d.at}`).toBeLessThanOrEqual(c.max_tolerance);
      }
      if (c.orientation !== undefined) {
        const raw = await decodeImage(readInput(c), { applyExifOrientation: false });
        const swap = c.orientation >= 5;
        expect([raw.width, raw.height]).toEqual(swap ? [c.height, c.width] : [c.width, c.height]);
        expect(maxDiff(raw.data, expected(blob, c.unrotated!)).max).toBeLessThanOrEqual(c.max_tolerance ?? c.tolerance!);
      }
    });
  }
});

describe('format decoding around the edges', () => {
  const file = (name: string) => readInput(cases.find((c) => c.input === `inputs/${name}`)!);

  it('decodeBytes (synchronous) reads arithmetic JPEG and names decodeImage for the others', () => {
    expect(decodeBytes(file('jpeg_arith_420.jpg')).width).toBe(96);
    expect(() => decodeBytes(file('webp_lossless_19x13.webp'))).toThrow(/WebP is read by decodeImage \(asynchronous\)/);
  });

  it('size limits are checked from each header before decoding', async () => {
    for (const name of ['webp_lossy_61x47.webp', 'avif_420_61x47.avif', 'heic_61x47.heic', 'gif_p_23x17.gif', 'bmp_24_23x17.bmp', 'tiff_lzw.tif']) {
      await expect(decodeImage(file(name), { maxPixels: 100 }), name).rejects.toThrow(/above the limit of 100/);
    }
  });

  it('a decoder package that is not installed (libheif-js is optional) gets an error naming it, and a later retry', async () => {
    let calls = 0;
    const load = lazyCodec('heic', 'libheif-js', async () => {
      calls++;
      throw new Error("Cannot find package 'libheif-js' imported from decode-heic.js");
    });
    await expect(load()).rejects.toThrow(/heic: its decoder \(the npm package libheif-js\) is not available: install it with `npm install libheif-js`/);
    await expect(load()).rejects.toThrow(ImageDecodeError);
    expect(calls).toBe(2);
  });

  it('errors name the input and the format', async () => {
    const webp = file('webp_lossy_61x47.webp');
    await expect(decodeImage(new Blob([webp.slice(0, 40)]))).rejects.toThrow(/^image blob: webp: /);
    const heic = file('heic_61x47.heic');
    await expect(decodeImage(heic.slice(0, heic.length - 200))).rejects.toThrow(ImageDecodeError);
  });
});
