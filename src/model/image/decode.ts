/**
 * Any supported input → RGB uint8, the way transformers' pipelines load an image: `load_image` =
 * `PIL.Image.open` → `ImageOps.exif_transpose` → `convert("RGB")` (alpha dropped, not composited; palettes
 * expanded; grey replicated).
 *
 * Every format is decoded by code that ships with the library, the same in Node and in browsers, so a photo gets the
 * same pixels (and embedding) everywhere: PNG and JPEG by our own JS decoders (decode-png.ts, decode-jpeg.ts,
 * bit-exact with Pillow, synchronous); WebP, AVIF, HEIC (WebAssembly builds of libwebp, libavif, libheif), GIF, BMP
 * and TIFF by modules loaded on the first file of their format (format-decoders.ts), so only `decodeImage` (async)
 * reads those. The browser's own decoder (createImageBitmap, whose pixels differ by browser and OS) is used only when
 * asked (`useBrowserDecoder: true`) and for formats we do not decode (ICO).
 * EXIF orientation is applied by default to encoded inputs (option `applyExifOrientation: false` turns it off);
 * pixel inputs are used as they are. Size limits are checked from each format's header before any pixel memory is
 * allocated (types.ts DEFAULT_MAX_PIXELS). Every failure is an ImageDecodeError naming the input and the format.
 */
import { decodeCanvasSource, decodeWithBrowser, isCanvasSource, isImageData, rgbaToRgb } from './browser-image.js';
import { decodeJpeg } from './decode-jpeg.js';
import { decodePng } from './decode-png.js';
import { applyOrientation, readExifOrientation, readXmpOrientation } from './exif-orientation.js';
import { FORMAT_DECODERS } from './format-decoders.js';
import { BROWSER_DECODABLE, sniffFormat, type ImageFormat } from './sniff.js';
import {
  assertRgbImage,
  DEFAULT_MAX_PIXELS,
  ImageDecodeError,
  isRgbImage,
  type DecodeOptions,
  type ImageInput,
  type RgbImage,
} from './types.js';
import { isNode } from './wasm-load.js';

const FORMAT_NAMES: Record<string, string> = {
  webp: 'WebP',
  gif: 'GIF',
  bmp: 'BMP',
  tiff: 'TIFF',
  avif: 'AVIF',
  heic: 'HEIC/HEIF',
  ico: 'ICO',
  jpeg2000: 'JPEG 2000',
  jpegxl: 'JPEG XL',
  svg: 'SVG',
  pdf: 'PDF',
};

/**
 * Decodes PNG or JPEG bytes synchronously (all platforms). Other formats throw, naming the format: those we read
 * (WebP, AVIF, HEIC, GIF, BMP, TIFF) load their decoder on demand, which only the async `decodeImage` can do.
 */
export function decodeBytes(bytes: Uint8Array, opts: DecodeOptions = {}, label = 'image'): RgbImage {
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  const orient = opts.applyExifOrientation ?? true;
  try {
    if (bytes.length === 0) throw new ImageDecodeError('empty input (0 bytes)');
    const format = sniffFormat(bytes);
    if (format === 'png') {
      const r = decodePng(bytes, maxPixels);
      if (!orient) return r.image;
      return applyOrientation(r.image, readExifOrientation(r.exif) ?? readXmpOrientation(r.xmp));
    }
    if (format === 'jpeg') {
      const r = decodeJpeg(bytes, maxPixels);
      return orient ? applyOrientation(r.image, readExifOrientation(r.exif)) : r.image;
    }
    if (format === 'unknown') {
      throw new ImageDecodeError(`not an image we can read (${bytes.length} bytes, unknown signature ${hex(bytes)})`);
    }
    if (FORMAT_DECODERS[format]) {
      throw new ImageDecodeError(`${FORMAT_NAMES[format]} is read by decodeImage (asynchronous); decodeBytes reads PNG and JPEG only`);
    }
    throw new ImageDecodeError(
      `${FORMAT_NAMES[format]} images are not supported: we read PNG, JPEG, WebP, AVIF, HEIC, GIF, BMP and TIFF` +
        (BROWSER_DECODABLE.has(format) ? `; ${FORMAT_NAMES[format]} only in a browser (createImageBitmap)` : '') +
        '; convert the file to one of those',
    );
  } catch (e) {
    if (e instanceof ImageDecodeError && label !== 'image') throw new ImageDecodeError(`${label}: ${e.message}`);
    throw e;
  }
}

function hex(b: Uint8Array): string {
  return [...b.subarray(0, 8)].map((x) => x.toString(16).padStart(2, '0')).join(' ');
}

/** Reads a path (Node) or URL (anywhere fetch works) into memory. */
async function readStringSource(s: string): Promise<Uint8Array> {
  const isUrl = /^(https?|data|blob):/i.test(s);
  if (!isUrl && isNode()) {
    // Loaded lazily so browser bundles (node:* external) never execute it.
    const { readFile } = await import('node:fs/promises');
    try {
      return new Uint8Array(await readFile(/^file:/i.test(s) ? new URL(s) : s));
    } catch (e) {
      throw new ImageDecodeError(`${s}: cannot read the file (${(e as Error).message})`);
    }
  }
  let res: Response;
  try {
    res = await fetch(s);
  } catch (e) {
    throw new ImageDecodeError(`${s}: cannot fetch (${(e as Error).message})`);
  }
  if (!res.ok) throw new ImageDecodeError(`${s}: HTTP ${res.status} ${res.statusText}`.trim());
  return new Uint8Array(await res.arrayBuffer());
}

/** Decodes encoded bytes of any format we read; the formats beyond PNG/JPEG load their decoder on first use. */
export async function decodeBytesAsync(bytes: Uint8Array, opts: DecodeOptions = {}, label = 'image'): Promise<RgbImage> {
  const format: ImageFormat = bytes.length ? sniffFormat(bytes) : 'unknown';
  const load = FORMAT_DECODERS[format];
  if (!load) return decodeBytes(bytes, opts, label);
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  try {
    const decode = await load();
    const r = await decode(bytes, maxPixels);
    if (!(opts.applyExifOrientation ?? true)) return r.image;
    return applyOrientation(r.image, r.orientation ?? readExifOrientation(r.exif ?? null));
  } catch (e) {
    // A library's own exception (TypeError, RangeError, a WebAssembly trap) is still a decode failure of this file.
    const err = e instanceof ImageDecodeError ? e : new ImageDecodeError(`${format}: could not decode it (${(e as Error)?.message ?? e})`);
    throw label === 'image' ? err : new ImageDecodeError(`${label}: ${err.message}`);
  }
}

/** Encoded bytes: our decoders, or the browser's when asked for (and for the formats we do not read, e.g. ICO). */
async function decodeEncoded(bytes: Uint8Array, opts: DecodeOptions, label: string, blob?: Blob): Promise<RgbImage> {
  const format = bytes.length ? sniffFormat(bytes) : 'unknown';
  const ours = format === 'png' || format === 'jpeg' || FORMAT_DECODERS[format] !== undefined;
  if ((opts.useBrowserDecoder || !ours) && BROWSER_DECODABLE.has(format) && typeof createImageBitmap === 'function') {
    return decodeWithBrowser(blob ?? new Blob([bytes as Uint8Array<ArrayBuffer>]), label);
  }
  return decodeBytesAsync(bytes, opts, label);
}

/**
 * Decodes any supported input to RGB. Encoded inputs (path, URL, bytes, Blob) follow transformers' `load_image`
 * (EXIF orientation applied unless `applyExifOrientation: false`). An RgbImage is returned as is (not copied).
 */
export async function decodeImage(input: ImageInput, opts: DecodeOptions = {}): Promise<RgbImage> {
  if (typeof input === 'string') return decodeEncoded(await readStringSource(input), opts, input);
  if (input instanceof Uint8Array) return decodeEncoded(input, opts, 'image bytes');
  if (input instanceof ArrayBuffer) return decodeEncoded(new Uint8Array(input), opts, 'image bytes');
  if (typeof Blob !== 'undefined' && input instanceof Blob) {
    const name = (input as Blob & { name?: string }).name;
    return decodeEncoded(new Uint8Array(await input.arrayBuffer()), opts, name ? `${name}` : 'image blob', input);
  }
  if (isImageData(input)) return rgbaToRgb(input.data, input.width, input.height);
  if (isCanvasSource(input)) return decodeCanvasSource(input);
  if (isRgbImage(input)) {
    assertRgbImage(input);
    return input;
  }
  throw new TypeError(
    'decodeImage: unsupported input; expected a path/URL string, Uint8Array, ArrayBuffer, Blob, ImageBitmap, ' +
      'ImageData, HTMLImageElement, HTMLCanvasElement, OffscreenCanvas or {width, height, data} RGB image',
  );
}
