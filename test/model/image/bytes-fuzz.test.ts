// Image bytes as a user's folder or a request may hold them: the fixtures' PNG and JPEG files with bytes flipped,
// cut short or extended. decodeImage gives pixels or an ImageDecodeError — never another exception or a hang.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeImage, ImageDecodeError } from '../../../src/model/image/index.js';
import { FIXTURES } from '../../helpers/fixtures.js';
import { fc, flipBytes, fuzzParams } from '../../helpers/fuzz.js';

const INPUTS = join(FIXTURES, 'preprocess', 'generated', 'inputs');
const files = ['jpeg_160x120_q75_s2_prog.jpg', 'jpeg_160x120_q30_s2_opt.jpg', 'exif_jpeg_6.jpg', 'exif_png_3.png'].map((f) => new Uint8Array(readFileSync(join(INPUTS, f))));
files.push(new Uint8Array(readFileSync(join(FIXTURES, 'images', 'noise_80x60.png'))));

describe('image bytes fuzz', () => {
  it('every mutated PNG or JPEG: an RGB image or an ImageDecodeError', async () => {
    const counts = { decoded: 0, refused: 0 };
    const edit = fc.record({
      file: fc.nat({ max: files.length - 1 }),
      op: fc.oneof(
        fc.record({ flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 10 }) }),
        fc.record({ cut: fc.nat() }),
        fc.record({ tail: fc.uint8Array({ minLength: 1, maxLength: 256 }) }),
      ),
    });
    await fc.assert(
      fc.asyncProperty(edit, async ({ file, op }) => {
        const src = files[file]!;
        const bytes = 'flips' in op ? flipBytes(src, op.flips) : 'cut' in op ? src.subarray(0, op.cut % src.length) : new Uint8Array([...src, ...op.tail]);
        try {
          const img = await decodeImage(bytes);
          expect(img.width * img.height * 3).toBe(img.data.length);
          counts.decoded++;
        } catch (e) {
          if (!(e instanceof ImageDecodeError)) throw new Error(`not an ImageDecodeError: ${(e as Error)?.stack ?? e}`);
          counts.refused++;
        }
      }),
      fuzzParams('image bytes fuzz', 300, 20_000),
    );
    console.log(`[image bytes fuzz] ${counts.decoded} decoded, ${counts.refused} refused`);
  });
});
