/**
 * SiglipImageProcessor against transformers' own output (test/fixtures/preprocess/pixel_values.safetensors, made with
 * SiglipImageProcessor v4.44.2 + PIL): bit-identical, plus config handling.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DirectorySource } from '../../../src/model/source-node.js';
import { decodeImage, parsePreprocessorConfig, resizeBicubic, SiglipImageProcessor } from '../../../src/model/image/index.js';
import { expected, FIXTURES, GENERATED, loadCases, maxDiff } from '../../helpers/image-cases.js';
import { readSafetensors } from '../../helpers/safetensors-read.js';

const PRE = join(FIXTURES, 'preprocess');
const meta = JSON.parse(readFileSync(join(PRE, 'preprocess.json'), 'utf8')) as {
  cases: Record<string, { source: string; shape: [number, number, number, number] }>;
};
const ref = readSafetensors(join(PRE, 'pixel_values.safetensors'));
const configFor = (s: number) => JSON.parse(readFileSync(join(PRE, `preprocessor_config_${s}.json`), 'utf8'));

describe('pixel_values equal transformers SiglipImageProcessor', () => {
  for (const [name, c] of Object.entries(meta.cases)) {
    it(`${name} (${c.source} → ${c.shape[3]}²): max |Δ| = 0`, async () => {
      const proc = SiglipImageProcessor.fromConfig(configFor(c.shape[3]));
      const { pixelValues, shape } = await proc.preprocess([join(FIXTURES, c.source)]);
      expect(shape).toEqual(c.shape);
      const d = maxDiff(pixelValues, ref[name].data);
      expect(d.max, `worst at ${d.at}`).toBe(0); // the brief allows 2/255; we are bit-identical
    });
  }

  it('a batch is the per-image results stacked', async () => {
    const proc = SiglipImageProcessor.fromConfig(configFor(224));
    const { pixelValues, shape } = await proc.preprocess([join(FIXTURES, 'images/cats.png'), join(FIXTURES, 'images/noise_80x60.png')]);
    expect(shape).toEqual([2, 3, 224, 224]);
    const n = 3 * 224 * 224;
    expect(maxDiff(pixelValues.subarray(0, n), ref.cats_224.data).max).toBe(0);
    expect(maxDiff(pixelValues.subarray(n), ref.noise_80x60_224.data).max).toBe(0);
  });
});

describe('SiglipImageProcessor config', () => {
  it('fromSource reads preprocessor_config.json of a checkpoint directory', async () => {
    const proc = await SiglipImageProcessor.fromSource(new DirectorySource(join(FIXTURES, 'siglip-tiny')));
    expect(proc.size).toEqual({ height: 32, width: 32 });
    const { pixelValues, shape } = await proc.preprocess([join(FIXTURES, 'images/cats.png')]);
    expect(shape).toEqual([1, 3, 32, 32]);
    expect(Math.min(...pixelValues)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...pixelValues)).toBeLessThanOrEqual(1);
  });

  it('fromSource names the file on a bad config', async () => {
    const src = {
      description: 'mem',
      locate: (n: string) => `mem/${n}`,
      has: async () => true,
      size: async () => 10,
      read: async () => new TextEncoder().encode('{"resample": 0}'),
      stream: async function* () {},
    };
    await expect(SiglipImageProcessor.fromSource(src)).rejects.toThrow(/mem\/preprocessor_config.json: preprocessor config: resample 0 is not supported/);
  });

  it('defaults are SiglipImageProcessor’s', () => {
    expect(parsePreprocessorConfig({})).toEqual({
      do_resize: true,
      size: { height: 224, width: 224 },
      resample: 3,
      do_rescale: true,
      rescale_factor: 1 / 255,
      do_normalize: true,
      image_mean: [0.5, 0.5, 0.5],
      image_std: [0.5, 0.5, 0.5],
    });
    expect(parsePreprocessorConfig({ image_mean: 0.25, size: [20, 30] } as never)).toMatchObject({
      image_mean: [0.25, 0.25, 0.25],
      size: { height: 20, width: 30 },
    });
  });

  it.each([
    [{ resample: 0 }, /resample 0 is not supported/],
    [{ resample: 7 }, /resample 7 is not supported/],
    [{ size: { shortest_edge: 224 } }, /size must be \{"height": H, "width": W\}/],
    [{ size: { height: 0, width: 3 } }, /size height and width must be positive integers/],
    [{ image_mean: [0.5, 0.5] }, /image_mean must be 3 numbers/],
    [{ image_std: [0.5, 0, 0.5] }, /image_std must not contain 0/],
    [{ do_resize: 'yes' }, /do_resize must be true or false/],
    [{ image_processor_type: 'CLIPImageProcessor' }, /only SiglipImageProcessor/],
    [{ do_center_crop: true }, /no center crop/],
  ])('refuses %j', (cfg, msg) => {
    expect(() => SiglipImageProcessor.fromConfig(cfg as never)).toThrow(msg);
  });

  it('size is {height, width}: PIL gets (width, height)', async () => {
    const { cases, blob } = loadCases();
    const c = cases.find((x) => x.name === 'resize 61x47')!;
    const r = c.resizes.find((x) => x.width === 100 && x.height === 37)!;
    const proc = SiglipImageProcessor.fromConfig({ size: { height: 37, width: 100 }, do_normalize: false, do_rescale: false });
    const { pixelValues, shape } = await proc.preprocess([join(GENERATED, c.input!)]);
    expect(shape).toEqual([1, 3, 37, 100]);
    const rgb = expected(blob, r);
    const n = 37 * 100;
    for (let i = 0; i < n; i++) {
      for (let ch = 0; ch < 3; ch++) expect(pixelValues[ch * n + i]).toBe(rgb[i * 3 + ch]);
    }
  });

  it('rescale and normalize follow numpy’s float64→float32 steps', async () => {
    const img = { width: 1, height: 1, data: new Uint8Array([0, 128, 255]) };
    const run = async (cfg: object) => (await SiglipImageProcessor.fromConfig({ do_resize: false, ...cfg }).preprocess([img])).pixelValues;
    expect([...(await run({}))]).toEqual([-1, Math.fround(Math.fround(Math.fround(128 / 255) - 0.5) / 0.5), 1]);
    expect([...(await run({ do_normalize: false }))]).toEqual([0, Math.fround(128 * 0.00392156862745098), 1]);
    expect([...(await run({ do_rescale: false, image_mean: [1, 2, 3], image_std: [2, 2, 2] }))]).toEqual([-0.5, 63, 126]);
  });

  it('without do_resize the batch keeps the image size, which must agree', async () => {
    const proc = SiglipImageProcessor.fromConfig({ do_resize: false });
    const a = { width: 2, height: 1, data: new Uint8Array(6) };
    expect((await proc.preprocess([a, a])).shape).toEqual([2, 3, 1, 2]);
    await expect(proc.preprocess([a, { width: 1, height: 2, data: new Uint8Array(6) }])).rejects.toThrow(/image 1 is 1×2, others 2×1/);
    await expect(proc.preprocess([])).rejects.toThrow(/non-empty array/);
  });

  it('bilinear (resample 2) matches PIL too', async () => {
    const { cases, blob } = loadCases();
    const c = cases.find((x) => x.name === 'resize 61x47')!;
    const r = c.resizes.find((x) => x.filter === 'bilinear')!;
    const proc = SiglipImageProcessor.fromConfig({ resample: 2, size: { height: r.height, width: r.width } });
    const img = await decodeImage(join(GENERATED, c.input!));
    expect(maxDiff(proc.resize(img).data, expected(blob, r)).max).toBe(0);
    expect(maxDiff(resizeBicubic(img, r.width, r.height).data, expected(blob, r)).max).toBeGreaterThan(0);
  });
});
