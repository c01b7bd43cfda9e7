/**
 * Image input for SigLIP: decoding (PNG, JPEG, WebP, AVIF, HEIC, GIF, BMP, TIFF with PIL's pixels on every platform;
 * see decode.ts), EXIF orientation, PIL-exact
 * resizing and SiglipImageProcessor's rescale/normalize. See decode.ts and image-processor.ts for what matches
 * transformers and where we differ.
 */
export type { DecodeOptions, ImageInput, RgbImage } from './types.js';
export { DEFAULT_MAX_PIXELS, ImageDecodeError } from './types.js';
export { decodeBytes, decodeBytesAsync, decodeImage } from './decode.js';
export { resizeBicubic, resizeWith, BICUBIC, BILINEAR, BOX, HAMMING, LANCZOS, type ResampleFilter } from './resize-bicubic.js';
export { applyOrientation, readExifOrientation } from './exif-orientation.js';
export { sniffFormat, type ImageFormat } from './sniff.js';
export {
  SiglipImageProcessor,
  parsePreprocessorConfig,
  SIGLIP_DEFAULTS,
  type PreprocessorConfig,
} from './image-processor.js';
export {
  Siglip2ImageProcessor,
  parseSiglip2PreprocessorConfig,
  sizeForMaxNumPatches,
  MAX_NUM_PATCHES_LIMIT,
  type NaflexInputs,
  type Siglip2PreprocessorConfig,
} from './siglip2-image-processor.js';
