/**
 * Embeddings of a batch of photos where some may not decode: each image is decoded on its own (a corrupt or
 * unsupported file becomes that item's error, not the batch's), the rest run as one forward pass, and each item can
 * come with a small thumbnail made from the pixels already decoded (no second decode). What indexing a photo folder
 * needs; the worker answers it (SiglipWorkerModel.embedImagesSettled), and it runs on a SiglipModel as it is.
 *
 * The embeddings are those of SiglipModel.embedImages on the same images: the same decoding, preprocessing and
 * forward pass (only the batch differs, which does not change a row's numbers).
 */
import { InputError } from '../model/errors.js';
import { BOX, decodeImage, resizeWith, type ImageInput, type RgbImage } from '../model/image/index.js';
import type { SiglipModel } from '../model/siglip-model.js';

export interface EmbedSettledOptions {
  /** Also a thumbnail of each image that fits this many pixels on its longer side (JPEG); default none. */
  thumbnailSize?: number;
  /** NaFlex models: the patch budget per image (as embedImages takes it). */
  maxNumPatches?: number;
}

export type SettledEmbedding =
  | {
      status: 'fulfilled';
      /** L2-normalized, [D]. */
      embedding: Float32Array;
      /** The decoded image's size (after EXIF orientation). */
      width: number;
      height: number;
      /** Where asked for and a canvas exists (OffscreenCanvas): a JPEG of at most thumbnailSize pixels a side. */
      thumbnail?: Blob;
    }
  | { status: 'rejected'; reason: Error };

type Embedder = Pick<SiglipModel, 'embedImages' | 'embedDim'>;

export async function embedImagesSettled(model: Embedder, images: ImageInput[], opts: EmbedSettledOptions = {}): Promise<SettledEmbedding[]> {
  if (!Array.isArray(images)) throw new InputError('embedImagesSettled() takes an array of images');
  const size = opts.thumbnailSize;
  if (size !== undefined && !(Number.isInteger(size) && size >= 1 && size <= 4096)) throw new InputError(`thumbnailSize must be an integer in 1..4096, got ${size}`);
  const results: SettledEmbedding[] = new Array(images.length);
  const decoded: RgbImage[] = [];
  const which: number[] = [];
  for (let i = 0; i < images.length; i++) {
    try {
      const rgb = await decodeImage(images[i]!);
      const thumbnail = size ? await thumbnailOf(rgb, size) : undefined;
      decoded.push(rgb);
      which.push(i);
      results[i] = { status: 'fulfilled', embedding: new Float32Array(0), width: rgb.width, height: rgb.height, ...(thumbnail ? { thumbnail } : {}) };
    } catch (e) {
      results[i] = { status: 'rejected', reason: e instanceof Error ? e : new Error(String(e)) };
    }
  }
  if (decoded.length === 0) return results;
  // The decoded pixels go through embedImages as they are (no second decode): its preprocessing, fixed-resolution
  // or NaFlex, and one batch.
  const embeds = await model.embedImages(decoded, opts.maxNumPatches !== undefined ? { maxNumPatches: opts.maxNumPatches } : {});
  const D = model.embedDim;
  which.forEach((i, k) => {
    (results[i] as { embedding: Float32Array }).embedding = embeds.slice(k * D, (k + 1) * D);
  });
  return results;
}

/** A JPEG of the image scaled (box filter: each pixel the mean of those it covers) to fit `size` a side. */
async function thumbnailOf(rgb: RgbImage, size: number): Promise<Blob | undefined> {
  if (typeof OffscreenCanvas === 'undefined') return undefined;
  const scale = Math.min(1, size / Math.max(rgb.width, rgb.height));
  const w = Math.max(1, Math.round(rgb.width * scale));
  const h = Math.max(1, Math.round(rgb.height * scale));
  const small = scale < 1 ? resizeWith(rgb, w, h, BOX) : rgb;
  const rgba = new Uint8ClampedArray(w * h * 4);
  for (let i = 0, o = 0; o < rgba.length; i += 3, o += 4) {
    rgba[o] = small.data[i]!;
    rgba[o + 1] = small.data[i + 1]!;
    rgba[o + 2] = small.data[i + 2]!;
    rgba[o + 3] = 255;
  }
  const canvas = new OffscreenCanvas(w, h);
  const ctx = canvas.getContext('2d');
  if (!ctx) return undefined;
  ctx.putImageData(new ImageData(rgba, w, h), 0, 0);
  return canvas.convertToBlob({ type: 'image/jpeg', quality: 0.85 });
}
