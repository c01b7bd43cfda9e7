// embedImagesSettled on a SiglipModel in Node (siglip-tiny): one result per image, in order; a file that cannot be
// decoded is that item's ImageDecodeError, not the batch's; the embeddings equal embedImages' for the same images;
// thumbnails are asked for only where a canvas exists (not in Node).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SiglipModel } from '../../src/model/siglip-model.js';
import { ImageDecodeError } from '../../src/model/image/types.js';
import { InputError } from '../../src/model/errors.js';
import { embedImagesSettled } from '../../src/worker/embed-settled.js';
import { FIXTURES } from '../helpers/fixtures.js';

let model: SiglipModel;
beforeAll(async () => {
  model = await SiglipModel.load(join(FIXTURES, 'siglip-tiny'));
});
afterAll(async () => {
  await model?.dispose();
});

describe('embedImagesSettled', () => {
  it('embeds the good images as one batch, and reports the bad ones each', async () => {
    const cats = join(FIXTURES, 'images', 'cats.png');
    const noise = new Uint8Array(readFileSync(join(FIXTURES, 'images', 'noise_80x60.png')));
    const broken = noise.slice(0, 100);
    const r = await embedImagesSettled(model, [cats, broken, noise, new Uint8Array([1, 2, 3])], { thumbnailSize: 64 });
    expect(r.map((x) => x.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected']);
    const want = await model.embedImages([cats, noise]);
    const D = model.embedDim;
    const got = r.filter((x) => x.status === 'fulfilled');
    got.forEach((x, i) => {
      expect(x.embedding.length).toBe(D);
      for (let k = 0; k < D; k++) expect(Math.abs(x.embedding[k]! - want[i * D + k]!)).toBeLessThanOrEqual(1e-6);
      expect(x.thumbnail).toBeUndefined(); // no OffscreenCanvas in Node
    });
    expect(got.map((x) => [x.width, x.height])).toEqual([[640, 480], [80, 60]]);
    for (const x of r) if (x.status === 'rejected') expect(x.reason).toBeInstanceOf(ImageDecodeError);
  });

  it('all bad: no forward pass, every item its error; bad arguments are InputErrors', async () => {
    const r = await embedImagesSettled(model, [new Uint8Array(0)]);
    expect(r).toHaveLength(1);
    expect(r[0]!.status).toBe('rejected');
    await expect(embedImagesSettled(model, 'x' as unknown as string[])).rejects.toBeInstanceOf(InputError);
    await expect(embedImagesSettled(model, [], { thumbnailSize: 0 })).rejects.toThrow(/thumbnailSize/);
    expect(await embedImagesSettled(model, [])).toEqual([]);
  });
});
