/**
 * Images on their way from a page to the worker, each crossing once at most:
 *   Blob / File                 structured clone: a reference to the same bytes, nothing copied
 *   ArrayBuffer                 transferred (it is detached in the page afterwards)
 *   Uint8Array (whole buffer)   its buffer transferred; a view of part of a buffer: those bytes copied once, the copy
 *                               transferred (the rest of the buffer is the caller's)
 *   RgbImage {width, height, data}   as Uint8Array, for `data`
 *   ImageBitmap                 transferred (closed in the page afterwards)
 *   ImageData                   structured clone (one copy of its pixels)
 *   <img>, <canvas>, OffscreenCanvas   made into an ImageBitmap here (the browser decodes off the main thread), then
 *                               transferred: elements cannot cross
 *   string                      a URL relative to the page is made absolute (the worker's base URL is its script's)
 * The worker decodes with the library's own decoders, so an image's pixels — and its embedding — are those of the
 * main-thread API for every input but elements and bitmaps, whose pixels the browser gives in both cases.
 */
import type { ImageInput } from '../model/image/types.js';

const has = (name: string): boolean => typeof (globalThis as Record<string, unknown>)[name] !== 'undefined';
const isA = <T>(x: unknown, ctor: string): x is T => has(ctor) && x instanceof ((globalThis as Record<string, unknown>)[ctor] as new () => T);

/** The page's URL, against which relative references are resolved. */
export function pageBase(): string | undefined {
  const doc = (globalThis as { document?: { baseURI?: string } }).document;
  return doc?.baseURI ?? (globalThis as { location?: { href?: string } }).location?.href;
}

/** "/x", "./x", "../x" and other relative URLs → absolute against the page; ids, absolute, data: and blob: URLs stay. */
export function absoluteUrl(ref: string): string {
  const base = pageBase();
  if (!base || /^[a-z][a-z0-9+.-]*:/i.test(ref)) return ref;
  if (!/^\.{0,2}\//.test(ref)) return ref;
  return new URL(ref, base).href;
}

/** A string as an image reference: relative URLs made absolute (anything not URL-shaped is left to the worker). */
function imageUrl(s: string): string {
  const base = pageBase();
  if (!base || /^[a-z][a-z0-9+.-]*:/i.test(s)) return s;
  try {
    return new URL(s, base).href;
  } catch {
    return s;
  }
}

/** Bytes to hand over: the whole buffer when the view covers it, else a copy of just these bytes. */
function ownBytes(u: Uint8Array, transfer: Transferable[]): Uint8Array {
  const b = u.buffer;
  if (b instanceof ArrayBuffer && u.byteOffset === 0 && u.byteLength === b.byteLength) {
    if (!transfer.includes(b)) transfer.push(b);
    return u;
  }
  const copy = u.slice();
  transfer.push(copy.buffer);
  return copy;
}

/** Typed arrays of a forward pass's inputs, handed over the same way. */
export function ownArray<T extends Float32Array | Int32Array>(a: T, transfer: Transferable[]): T {
  const b = a.buffer;
  if (b instanceof ArrayBuffer && a.byteOffset === 0 && a.byteLength === b.byteLength) {
    if (!transfer.includes(b)) transfer.push(b);
    return a;
  }
  const copy = a.slice() as T;
  transfer.push(copy.buffer as ArrayBuffer);
  return copy;
}

/** One image made ready to cross; what it hands over goes to `transfer`. */
export async function imageForWorker(img: ImageInput, transfer: Transferable[]): Promise<unknown> {
  if (typeof img === 'string') return imageUrl(img);
  if (img instanceof ArrayBuffer) {
    if (!transfer.includes(img)) transfer.push(img);
    return img;
  }
  if (img instanceof Uint8Array) return ownBytes(img, transfer);
  if (isA<Blob>(img, 'Blob')) return img;
  if (isA<ImageBitmap>(img, 'ImageBitmap')) {
    transfer.push(img);
    return img;
  }
  if (isA<ImageData>(img, 'ImageData')) return img;
  if (isA<HTMLImageElement>(img, 'HTMLImageElement')) {
    if (!img.complete) await img.decode();
    // Default options: the pixels a canvas gives for it on the main thread (what decodeImage does with an <img>).
    const bmp = await createImageBitmap(img);
    transfer.push(bmp);
    return bmp;
  }
  if (isA<HTMLCanvasElement>(img, 'HTMLCanvasElement') || isA<OffscreenCanvas>(img, 'OffscreenCanvas')) {
    const bmp = await createImageBitmap(img);
    transfer.push(bmp);
    return bmp;
  }
  const rgb = img as { width?: unknown; height?: unknown; data?: unknown };
  if (rgb && typeof rgb === 'object' && rgb.data instanceof Uint8Array) return { width: rgb.width, height: rgb.height, data: ownBytes(rgb.data, transfer) };
  return img; // anything else: the worker's decodeImage says what is wrong with it
}

/** A list of images (or, for a wrong argument, the argument as it is: the worker's checks report it). */
export async function imagesForWorker(images: unknown, transfer: Transferable[]): Promise<unknown> {
  if (!Array.isArray(images)) return images;
  const out: unknown[] = [];
  for (const img of images) out.push(await imageForWorker(img as ImageInput, transfer));
  return out;
}
