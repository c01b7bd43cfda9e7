/**
 * The image module in a browser: the browser bundle must not load node:* at startup nor carry the format decoders in
 * its main file, and in Chromium (the served bundle with its lazy chunks, as a page loads it) every format we read
 * must give exactly the pixels Node gives (the same decoders: our JS for PNG/JPEG/GIF/BMP/TIFF, the same WebAssembly
 * builds of libwebp/libavif/libheif), so a photo gets the same embedding in both; canvas inputs (ImageData,
 * ImageBitmap, OffscreenCanvas) their stored RGB; the browser's own decoder only with `useBrowserDecoder`; and the
 * full preprocessing transformers' pixel_values.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { decodeImage } from '../../src/model/image/index.js';
import { expected, FIXTURES, FORMATS, loadCases, maxDiff, readInput } from '../helpers/image-cases.js';
import { readSafetensors } from '../helpers/safetensors-read.js';
import { useBrowserEnv } from './harness.js';

describe('browser bundle of src/model/image', () => {
  it('has no static node: import, loads node:fs lazily, and keeps the format decoders in lazy chunks', async () => {
    const out = await build({
      entryPoints: { image: 'src/model/image/index.ts' },
      bundle: true,
      platform: 'browser',
      format: 'esm',
      splitting: true,
      outdir: '/virtual',
      write: false,
      logLevel: 'silent',
      loader: { '.wasm': 'binary' },
      external: ['node:*'],
    });
    const main = out.outputFiles.find((f) => f.path.endsWith('/image.js'))!.text;
    expect(main).not.toMatch(/^\s*import\s[^(]*?from\s*["']node:/m);
    expect(main).not.toMatch(/^\s*import\s*["']node:/m);
    expect(main).toContain('import("node:fs/promises")');
    for (const name of ['decode-webp', 'decode-avif', 'decode-heic', 'decode-gif', 'decode-bmp', 'decode-tiff']) {
      expect(main, name).toMatch(new RegExp(`import\\("\\./chunks/${name}-[A-Z0-9]+\\.js"\\)|import\\("\\./${name}-[A-Z0-9]+\\.js"\\)`));
    }
    expect(main.length, 'main file size').toBeLessThan(150_000);
  });
});

const b64 = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength).toString('base64');
const unb64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

describe('in Chromium', () => {
  let page: Page;
  const { cases, blob } = loadCases();
  const formats = loadCases(FORMATS);
  useBrowserEnv(async (env) => {
    page = await env.libraryPage();
  });

  type How = 'blob' | 'bytes' | 'bitmap' | 'imagedata' | 'offscreen' | 'browser-decoder';
  /** Decodes `bytes` in the page through `how` and returns its RGB. */
  async function decodeInPage(bytes: Uint8Array, how: How) {
    const r = await page.evaluate(
      async ([data, how]) => {
        const w = window as unknown as Record<string, any>;
        const { decodeImage } = w.siglip;
        const u: Uint8Array<ArrayBuffer> = w.fromB64(data);
        let input: unknown = u;
        if (how === 'blob') input = new Blob([u]);
        else if (how === 'bitmap' || how === 'imagedata' || how === 'offscreen') {
          const bmp = await createImageBitmap(new Blob([u]), { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
          if (how === 'bitmap') input = bmp;
          else {
            const c = new OffscreenCanvas(bmp.width, bmp.height);
            const ctx = c.getContext('2d')!;
            ctx.drawImage(bmp, 0, 0);
            input = how === 'offscreen' ? c : ctx.getImageData(0, 0, bmp.width, bmp.height);
          }
        }
        try {
          const img = await decodeImage(input, how === 'browser-decoder' ? { useBrowserDecoder: true } : {});
          return [img.width, img.height, w.toB64(img.data)] as [number, number, string];
        } catch (e) {
          return [0, 0, `${(e as Error).name}: ${(e as Error).message}`] as [number, number, string];
        }
      },
      [b64(bytes), how] as const,
    );
    if (r[0] === 0) throw new Error(`in the page: ${r[2]}`);
    return { width: r[0], height: r[1], data: unb64(r[2]) };
  }

  const exact = [
    'inputs/jpeg_160x120_q75_s2.jpg',
    'inputs/jpeg_161x119_q85_s2_prog.jpg',
    'inputs/jpeg_cmyk.jpg',
    'inputs/jpeg_arith.jpg',
    'inputs/png_ct3_d2_adam7_13x9.png',
    'inputs/png_ct0_d16_13x9.png',
    'inputs/exif_jpeg_6.jpg',
    'inputs/xmp_png_6.png',
  ];
  for (const input of exact) {
    it(`${input} as bytes and as Blob: same pixels as PIL`, async () => {
      const c = cases.find((x) => x.input === input)!;
      for (const how of ['bytes', 'blob'] as const) {
        const img = await decodeInPage(readInput(c), how);
        expect([img.width, img.height]).toEqual([c.width, c.height]);
        expect(maxDiff(img.data, expected(blob, c.decoded!)).max, how).toBe(0);
      }
    });
  }

  it('every WebP, AVIF, HEIC, GIF, BMP, TIFF and arithmetic JPEG fixture: the same pixels as in Node', async () => {
    expect(formats.cases.length).toBeGreaterThan(60);
    for (const c of formats.cases) {
      const bytes = readInput(c);
      const node = await decodeImage(bytes);
      const img = await decodeInPage(bytes, 'blob');
      expect([img.width, img.height], c.input).toEqual([node.width, node.height]);
      expect(maxDiff(img.data, node.data).max, `${c.input}: browser vs Node`).toBe(0);
      expect(maxDiff(img.data, expected(formats.blob, c.decoded!)).max, `${c.input}: vs reference`).toBeLessThanOrEqual(c.max_tolerance ?? c.tolerance!);
    }
  });

  it('ImageBitmap, ImageData and OffscreenCanvas of an opaque PNG give its RGB', async () => {
    const c = cases.find((x) => x.input === 'inputs/resize_61x47.png')!;
    for (const how of ['bitmap', 'imagedata', 'offscreen'] as const) {
      const img = await decodeInPage(readInput(c), how);
      expect([img.width, img.height]).toEqual([61, 47]);
      expect(maxDiff(img.data, expected(blob, c.decoded!)).max, how).toBe(0);
    }
  });

  it('lossless WebP matches PIL through our libwebp and through createImageBitmap (useBrowserDecoder)', async () => {
    const c = cases.find((x) => x.input === 'inputs/browser_lossless.webp')!;
    for (const how of ['blob', 'browser-decoder'] as const) {
      const img = await decodeInPage(readInput(c), how);
      expect([img.width, img.height]).toEqual([c.width, c.height]);
      expect(maxDiff(img.data, expected(blob, c.decoded!)).max, how).toBe(0);
    }
  });

  it('preprocess in the browser equals transformers pixel_values (cats 224)', async () => {
    const cfg = JSON.parse(readFileSync(join(FIXTURES, 'preprocess', 'preprocessor_config_224.json'), 'utf8'));
    const png = new Uint8Array(readFileSync(join(FIXTURES, 'images', 'cats.png')));
    const [shape, data] = await page.evaluate(
      async ([cfg, data]) => {
        const w = window as unknown as Record<string, any>;
        const proc = w.siglip.SiglipImageProcessor.fromConfig(cfg);
        const r = await proc.preprocess([new Blob([w.fromB64(data)])]);
        return [r.shape, w.toB64(new Uint8Array(r.pixelValues.buffer))] as [number[], string];
      },
      [cfg, b64(png)] as const,
    );
    expect(shape).toEqual([1, 3, 224, 224]);
    const got = new Float32Array(unb64(data).buffer);
    const ref = readSafetensors(join(FIXTURES, 'preprocess', 'pixel_values.safetensors')).cats_224.data;
    expect(maxDiff(got, ref).max).toBe(0);
  });
});
