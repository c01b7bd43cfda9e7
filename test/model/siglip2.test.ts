/**
 * SigLIP 2 through the public API: fixed resolution (siglip2-tiny: SiglipModel's forward, Gemma tokenizer, bilinear
 * preprocessing). The forward pass itself is in parity.test.ts; here, what is around it: pixel values and ids as the
 * fixtures give them, and the calls users make.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { SiglipModel } from '../../src/model/siglip-model.js';
import { GemmaTokenizer } from '../../src/model/tokenizer/index.js';
import { expectClose, TOL } from '../helpers/compare.js';
import { testEngine } from '../helpers/engine.js';
import { FIXTURES, loadReference } from '../helpers/fixtures.js';

const engine = await testEngine();
const IMAGES = join(FIXTURES, 'images');

describe('siglip2-tiny (fixed resolution, model_type "siglip")', async () => {
  const ref = await loadReference('siglip2-tiny');
  const meta = JSON.parse(readFileSync(join(FIXTURES, 'siglip2-tiny', 'reference.json'), 'utf8')) as { texts: string[] };
  const model = await SiglipModel.load(join(FIXTURES, 'siglip2-tiny'), { engine });
  const asWritten = await SiglipModel.load(join(FIXTURES, 'siglip2-tiny'), { engine, lowerCase: false });
  afterAll(async () => {
    await model.dispose();
    await asWritten.dispose();
  });

  test('preprocess (bilinear, resample 2) gives the fixture pixel_values exactly', async () => {
    const { pixelValues, shape } = await model.preprocess([join(IMAGES, 'cats.png'), join(IMAGES, 'noise_80x60.png')]);
    expect(shape).toEqual(ref.inputs.pixelValues.shape);
    let worst = 0;
    for (let i = 0; i < pixelValues.length; i++) worst = Math.max(worst, Math.abs(pixelValues[i]! - ref.inputs.pixelValues.data[i]!));
    expect(worst).toBe(0);
  });

  test('tokenize: the Gemma tokenizer; ids as written equal the fixture, lower-cased by default', () => {
    expect(model.tokenizer).toBeInstanceOf(GemmaTokenizer);
    expect(model.tokenizer.lowerCase).toBe(true);
    expect(asWritten.tokenizer.lowerCase).toBe(false);
    const { inputIds, shape } = asWritten.tokenize(meta.texts);
    expect(shape).toEqual([4, 64]);
    expect(Array.from(inputIds)).toEqual(Array.from(ref.inputs.inputIds.data));
    // The third text has capitals: lower-casing changes its ids, and only its.
    const lower = model.tokenize(meta.texts).inputIds;
    const row = (a: Int32Array, i: number) => Array.from(a.subarray(i * 64, (i + 1) * 64));
    expect(row(lower, 0)).toEqual(row(inputIds, 0));
    expect(row(lower, 2)).not.toEqual(row(inputIds, 2));
    expect(row(lower, 2)).toEqual(row(asWritten.tokenize([meta.texts[2]!.toLowerCase()]).inputIds, 0));
  });

  test('embedImages / embedTexts equal the forward pass on the fixture inputs', async () => {
    const img = await asWritten.embedImages([join(IMAGES, 'cats.png'), join(IMAGES, 'noise_80x60.png')]);
    expectClose(img, ref.outputs.get('image_embeds')!.data, TOL.modelF32, 'image_embeds');
    const txt = await asWritten.embedTexts(meta.texts);
    expectClose(txt, ref.outputs.get('text_embeds')!.data, TOL.modelF32, 'text_embeds');
  });

  test('classify: one score per label, sigmoid of the logits, best first', async () => {
    const out = await model.classify(join(IMAGES, 'cats.png'), ['cats', 'dogs', 'a remote']);
    expect(out.map((r) => r.label).sort()).toEqual(['a remote', 'cats', 'dogs']);
    for (const r of out) expect(r.score > 0 && r.score < 1).toBe(true);
    expect(out[0]!.score).toBeGreaterThanOrEqual(out[2]!.score);
  });
});
