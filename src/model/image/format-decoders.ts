/// <reference path="./wasm-modules.d.ts" />
/**
 * The decoders of the formats beyond PNG and JPEG, each in its own module loaded on the first file of its format
 * (dynamic import): a page or process that only sees PNG/JPEG never loads libwebp, libavif, libheif or the others.
 */
import type { ImageFormat } from './sniff.js';
import type { FormatDecoded } from './types.js';

// In types.js, not here: the decoders import the type, and this module imports the decoders.
export type { FormatDecoded };

export type FormatDecoder = (bytes: Uint8Array, maxPixels: number) => Promise<FormatDecoded>;

export const FORMAT_DECODERS: Partial<Record<ImageFormat, () => Promise<FormatDecoder>>> = {
  webp: () => import('./decode-webp.js').then((m) => m.decodeWebp),
  avif: () => import('./decode-avif.js').then((m) => m.decodeAvif),
  heic: () => import('./decode-heic.js').then((m) => m.decodeHeic),
  gif: () => import('./decode-gif.js').then((m) => m.decodeGif),
  bmp: () => import('./decode-bmp.js').then((m) => m.decodeBmp),
  tiff: () => import('./decode-tiff.js').then((m) => m.decodeTiff),
};
