/**
 * One image → pixel_values, the unit of work of the decode workers (and of the inline fallback): read (bounded by
 * `maxBytes`), decode (bounded by `maxPixels`, checked from the header), resize and normalize exactly as the
 * model's image processor (SiglipImageProcessor, or Siglip2ImageProcessor for NaFlex) does. Failures come back as values naming the reason, never as a thrown error, so
 * a bad file is one skipped file.
 */
import { open } from 'node:fs/promises';
import { decodeImage, ImageDecodeError } from '../model/image/index.js';
import { preprocessImages, type ImageProcessor, type PreprocessedImages } from '../model/image-inputs.js';

export interface PreprocessRequest {
  /** A file to read, or … */
  path?: string;
  /** … its bytes. */
  bytes?: Uint8Array;
  maxBytes: number;
  maxPixels: number;
}

export type PreprocessResult =
  /** `images`: one image, preprocessed as the model's processor does (NaFlex: with its mask and patch grid). */
  | { ok: true; images: PreprocessedImages; width: number; height: number }
  | { ok: false; error: string; /** false: not the input's fault (e.g. the decoder worker died). */ inputFault: boolean };

async function readBounded(path: string, maxBytes: number): Promise<Uint8Array> {
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    if (size > maxBytes) throw new ImageDecodeError(`file is ${size} bytes, over the limit of ${maxBytes} bytes`);
    const buf = new Uint8Array(size);
    let got = 0;
    while (got < size) {
      const { bytesRead } = await fh.read(buf, got, size - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return got === size ? buf : buf.subarray(0, got);
  } finally {
    await fh.close();
  }
}

export async function preprocessOne(req: PreprocessRequest, processor: ImageProcessor): Promise<PreprocessResult> {
  try {
    let bytes: Uint8Array;
    if (req.bytes) {
      if (req.bytes.length > req.maxBytes) throw new ImageDecodeError(`image is ${req.bytes.length} bytes, over the limit of ${req.maxBytes} bytes`);
      bytes = req.bytes;
    } else if (req.path !== undefined) {
      try {
        bytes = await readBounded(req.path, req.maxBytes);
      } catch (e) {
        if (e instanceof ImageDecodeError) throw e;
        throw new ImageDecodeError(`cannot read the file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      }
    } else {
      throw new Error('preprocess: neither path nor bytes');
    }
    const img = await decodeImage(bytes, { maxPixels: req.maxPixels });
    return { ok: true, images: await preprocessImages(processor, [img]), width: img.width, height: img.height };
  } catch (e) {
    const err = e as Error;
    // Decoders name the format and the fault ("PNG: truncated …"); anything else is still this input's fault when
    // it is a decode error, and reported with its own message otherwise.
    return { ok: false, error: err.message.replace(/^image bytes: /, ''), inputFault: err instanceof ImageDecodeError || err instanceof RangeError || err instanceof TypeError };
  }
}
