/**
 * The image module in a browser: the esbuild browser bundle must not load node:* at startup, and in Chromium
 * (when installed; skipped otherwise) bytes/Blob inputs must give exactly the Node/PIL pixels, canvas inputs
 * (ImageData, ImageBitmap, OffscreenCanvas) their stored RGB, WebP the PIL pixels through createImageBitmap, and
 * the full preprocessing transformers' pixel_values.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expected, FIXTURES, loadCases, maxDiff, readInput } from '../helpers/image-cases.js';
import { readSafetensors } from '../helpers/safetensors-read.js';

async function bundle(format: 'esm' | 'iife'): Promise<string> {
  const out = await build({
    entryPoints: ['src/model/image/index.ts'],
    bundle: true,
    platform: 'browser',
    format,
    globalName: format === 'iife' ? 'SiglipImage' : undefined,
    write: false,
    logLevel: 'silent',
    external: ['node:*'],
  });
  return out.outputFiles[0].text;
}

describe('browser bundle of src/model/image', () => {
  it('has no static node: import; file paths load node:fs lazily', async () => {
    const js = await bundle('esm');
    expect(js).not.toMatch(/^\s*import\s[^(]*?from\s*["']node:/m);
    expect(js).not.toMatch(/^\s*import\s*["']node:/m);
    expect(js).toContain('import("node:fs/promises")');
  });
});

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const b64 = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength).toString('base64');
const unb64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

describe('in Chromium', () => {
  let browser: Browser;
  let page: Page;
  const { cases, blob } = loadCases();

  beforeAll(async () => {
    // A missing browser fails the suite (with what to do) rather than skipping it.
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: install Debian's chromium (apt-get install chromium, or bash scripts/setup-browser.sh), or set CHROMIUM_PATH`);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage();
    await page.addScriptTag({ content: await bundle('iife') });
    // Small helpers inside the page: base64 in and out.
    await page.evaluate(() => {
      const w = window as unknown as Record<string, unknown>;
      w.fromB64 = (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
      w.toB64 = (u: Uint8Array) => {
        let s = '';
        for (let i = 0; i < u.length; i += 0x8000) s += String.fromCharCode(...u.subarray(i, i + 0x8000));
        return btoa(s);
      };
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  /** Decodes `bytes` in the page through `how` and returns [width, height, rgb]. */
  async function decodeInPage(bytes: Uint8Array, how: 'blob' | 'bytes' | 'bitmap' | 'imagedata' | 'offscreen') {
    const r = await page.evaluate(
      async ([data, how]) => {
        const w = window as unknown as Record<string, any>;
        const { decodeImage } = w.SiglipImage;
        const u: Uint8Array<ArrayBuffer> = w.fromB64(data);
        let input: unknown;
        if (how === 'bytes') input = u;
        else if (how === 'blob') input = new Blob([u]);
        else {
          const bmp = await createImageBitmap(new Blob([u]), { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
          if (how === 'bitmap') input = bmp;
          else {
            const c = new OffscreenCanvas(bmp.width, bmp.height);
            const ctx = c.getContext('2d')!;
            ctx.drawImage(bmp, 0, 0);
            input = how === 'offscreen' ? c : ctx.getImageData(0, 0, bmp.width, bmp.height);
          }
        }
        const img = await decodeImage(input);
        return [img.width, img.height, w.toB64(img.data)] as [number, number, string];
      },
      [b64(bytes), how] as const,
    );
    return { width: r[0], height: r[1], data: unb64(r[2]) };
  }

  const exact = [
    'inputs/jpeg_160x120_q75_s2.jpg',
    'inputs/jpeg_161x119_q85_s2_prog.jpg',
    'inputs/jpeg_cmyk.jpg',
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

  it('ImageBitmap, ImageData and OffscreenCanvas of an opaque PNG give its RGB', async () => {
    const c = cases.find((x) => x.input === 'inputs/resize_61x47.png')!;
    for (const how of ['bitmap', 'imagedata', 'offscreen'] as const) {
      const img = await decodeInPage(readInput(c), how);
      expect([img.width, img.height]).toEqual([61, 47]);
      expect(maxDiff(img.data, expected(blob, c.decoded!)).max, how).toBe(0);
    }
  });

  it('lossless WebP goes through createImageBitmap and matches PIL', async () => {
    const c = cases.find((x) => x.input === 'inputs/browser_lossless.webp')!;
    const img = await decodeInPage(readInput(c), 'blob');
    expect([img.width, img.height]).toEqual([c.width, c.height]);
    expect(maxDiff(img.data, expected(blob, c.decoded!)).max).toBe(0);
  });

  it('preprocess in the browser equals transformers pixel_values (cats 224)', async () => {
    const cfg = JSON.parse(readFileSync(join(FIXTURES, 'preprocess', 'preprocessor_config_224.json'), 'utf8'));
    const png = new Uint8Array(readFileSync(join(FIXTURES, 'images', 'cats.png')));
    const [shape, data] = await page.evaluate(
      async ([cfg, data]) => {
        const w = window as unknown as Record<string, any>;
        const proc = w.SiglipImage.SiglipImageProcessor.fromConfig(cfg);
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
