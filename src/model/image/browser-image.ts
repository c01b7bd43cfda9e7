/**
 * Browser-only inputs: ImageData, ImageBitmap, <img>, <canvas>, OffscreenCanvas, and encoded bytes through
 * createImageBitmap — only when asked (`useBrowserDecoder`) or for a format we do not read (ICO).
 *
 * Parity with PIL holds for bytes/Blob/URL inputs, which our own decoders read (decode.ts), not for this path.
 * Pixels that come through a canvas can differ: the browser may colour-manage (ICC profiles, display colour space)
 * and canvases store premultiplied alpha, so RGB under partly transparent pixels is rounded (PIL keeps it as is).
 * We ask createImageBitmap for `colorSpaceConversion: 'none'` and `premultiplyAlpha: 'none'` to limit this.
 * Nothing here runs in Node: every global is checked with `typeof` first.
 */
import { ImageDecodeError, type RgbImage } from './types.js';

type CanvasSource = ImageBitmap | HTMLImageElement | HTMLCanvasElement | OffscreenCanvas;

const has = (name: string): boolean => typeof (globalThis as Record<string, unknown>)[name] !== 'undefined';
const isA = <T>(x: unknown, ctor: string): x is T =>
  has(ctor) && x instanceof ((globalThis as Record<string, unknown>)[ctor] as new () => T);

export function isImageData(x: unknown): x is ImageData {
  return isA<ImageData>(x, 'ImageData');
}

export function isCanvasSource(x: unknown): x is CanvasSource {
  return (
    isA<ImageBitmap>(x, 'ImageBitmap') ||
    isA<HTMLImageElement>(x, 'HTMLImageElement') ||
    isA<HTMLCanvasElement>(x, 'HTMLCanvasElement') ||
    isA<OffscreenCanvas>(x, 'OffscreenCanvas')
  );
}

/** RGBA → RGB by dropping alpha (what PIL's convert("RGB") does). */
export function rgbaToRgb(rgba: Uint8Array | Uint8ClampedArray, width: number, height: number): RgbImage {
  const out = new Uint8Array(width * height * 3);
  for (let i = 0, o = 0; o < out.length; i += 4, o += 3) {
    out[o] = rgba[i];
    out[o + 1] = rgba[i + 1];
    out[o + 2] = rgba[i + 2];
  }
  return { width, height, data: out };
}

function sizeOf(src: CanvasSource): [number, number] {
  if (isA<HTMLImageElement>(src, 'HTMLImageElement')) return [src.naturalWidth, src.naturalHeight];
  return [src.width, src.height];
}

/** Draws the source onto a 2D canvas of its own size and reads the pixels back. */
export async function decodeCanvasSource(src: CanvasSource): Promise<RgbImage> {
  if (isA<HTMLImageElement>(src, 'HTMLImageElement') && !src.complete) await src.decode();
  const [w, h] = sizeOf(src);
  if (!w || !h) throw new ImageDecodeError(`image element/bitmap has zero size ${w}×${h} (not loaded?)`);
  let ctx: OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D | null;
  if (has('OffscreenCanvas')) {
    ctx = new OffscreenCanvas(w, h).getContext('2d', { willReadFrequently: true });
  } else if (has('document')) {
    const canvas = document.createElement('canvas');
    canvas.width = w;
    canvas.height = h;
    ctx = canvas.getContext('2d', { willReadFrequently: true });
  } else {
    throw new ImageDecodeError('no canvas available to read this image (needs OffscreenCanvas or a DOM)');
  }
  if (!ctx) throw new ImageDecodeError('could not create a 2D canvas context to read the image');
  ctx.drawImage(src, 0, 0);
  const { data } = ctx.getImageData(0, 0, w, h);
  return rgbaToRgb(data, w, h);
}

/**
 * Encoded bytes in a format only the browser can decode. `applyExifOrientation: false` cannot be honoured for
 * every browser and format, so orientation follows the browser ('from-image') in this path.
 */
export async function decodeWithBrowser(blob: Blob, label: string): Promise<RgbImage> {
  if (!has('createImageBitmap')) {
    throw new ImageDecodeError(`${label}: this format needs the browser's decoder (createImageBitmap), not available here`);
  }
  let bmp: ImageBitmap;
  try {
    bmp = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none', imageOrientation: 'from-image' });
  } catch (e) {
    throw new ImageDecodeError(`${label}: the browser could not decode it (${(e as Error).message})`);
  }
  try {
    return await decodeCanvasSource(bmp);
  } finally {
    bmp.close();
  }
}
