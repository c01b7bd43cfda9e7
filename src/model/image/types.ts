/**
 * Shared types, limits and the error class of the image pipeline.
 */

/** An 8-bit RGB image: row-major, 3 bytes per pixel, no padding between rows. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** Everything `decodeImage` accepts. Browser-only kinds are detected with `instanceof` guarded by `typeof`. */
export type ImageInput =
  | string /* file path (Node), or an http(s)/data/blob/file URL */
  | Uint8Array
  | ArrayBuffer
  | Blob
  | ImageBitmap
  | ImageData
  | HTMLImageElement
  | HTMLCanvasElement
  | OffscreenCanvas
  | RgbImage;

export interface DecodeOptions {
  /**
   * Rotate/flip by the EXIF (or PNG XMP) orientation tag, as transformers' `load_image` does with
   * `PIL.ImageOps.exif_transpose` before `convert("RGB")`. Default true. Only applies to encoded bytes
   * (paths, URLs, Uint8Array/ArrayBuffer, Blob); pixel inputs (RgbImage, ImageData, canvases) are taken as they are.
   */
  applyExifOrientation?: boolean;
  /** Refuse images with more pixels than this, checked from the header before decoding. */
  maxPixels?: number;
  /**
   * Decode with the browser's own decoder (createImageBitmap) instead of ours, where one exists. Its pixels depend on
   * the browser and OS (colour management, chroma upsampling, libwebp/libavif versions), so the same photo can get a
   * different embedding than in Node; ours give Pillow's pixels everywhere. Default false.
   */
  useBrowserDecoder?: boolean;
}

/**
 * Default pixel limit: PIL raises `DecompressionBombError` above 2 × `Image.MAX_IMAGE_PIXELS`
 * (2 × 89,478,485 = 178,956,970 pixels), so we accept exactly the images PIL (and so transformers) accepts.
 * Decoding one that large needs about 1–2 GB (JPEG coefficient blocks, PNG inflate buffer); pass a lower
 * `maxPixels` where memory is tight (browser tabs).
 */
export const DEFAULT_MAX_PIXELS = 178_956_970;

/** Thrown for inputs that are not a decodable image: unknown format, truncated, corrupt, too large, empty. */
export class ImageDecodeError extends Error {
  override name = 'ImageDecodeError';
}

/** Validates header dimensions before anything proportional to them is allocated. */
export function checkDimensions(format: string, width: number, height: number, maxPixels: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new ImageDecodeError(`${format}: image has zero or invalid size ${width}×${height}`);
  }
  if (width * height > maxPixels) {
    throw new ImageDecodeError(
      `${format}: image is ${width}×${height} = ${width * height} pixels, above the limit of ${maxPixels} ` +
        `(decompression-bomb guard, as PIL's MAX_IMAGE_PIXELS; raise it with the maxPixels option)`,
    );
  }
}

export function isRgbImage(x: unknown): x is RgbImage {
  if (typeof x !== 'object' || x === null) return false;
  const r = x as Partial<RgbImage>;
  return typeof r.width === 'number' && typeof r.height === 'number' && r.data instanceof Uint8Array;
}

/** Checks an RgbImage's fields agree, so a bad one fails here and not deep inside the resize. */
export function assertRgbImage(img: RgbImage, what = 'image'): void {
  const { width, height, data } = img;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new ImageDecodeError(`${what}: invalid size ${width}×${height}`);
  }
  if (data.length !== width * height * 3) {
    throw new ImageDecodeError(
      `${what}: data has ${data.length} bytes, expected ${width}×${height}×3 = ${width * height * 3} (RGB, 3 bytes per pixel)`,
    );
  }
}

/** What a decoder of a format beyond PNG and JPEG gives (format-decoders.ts). */
export interface FormatDecoded {
  image: RgbImage;
  /** EXIF block whose orientation tag exif_transpose would apply (WebP's EXIF chunk). */
  exif?: Uint8Array | null;
  /** An orientation the container states directly (TIFF's tag, AVIF's irot/imir). */
  orientation?: number | null;
}
