/**
 * HEIC/HEIF → RGB with libheif (+ libde265), the libheif-js WebAssembly build loaded on the first HEIC: the primary
 * image, its transformations (irot, imir, clap) applied by libheif, RGB interleaved, alpha dropped — what pillow-heif
 * hands to Pillow (which then leaves EXIF orientation alone: pillow-heif clears it, since libheif already rotated).
 *
 * libheif-js is LGPL-3.0, so it is an optional peer dependency: without it a HEIC file gets an error saying which
 * package to install. Its "bundle" build carries the .wasm inline (one 2 MB module, the same in Node and browsers).
 */
import { readHeifItemInfo } from './isobmff.js';
import { codecError, lazyCodec } from './wasm-load.js';
import { checkDimensions, ImageDecodeError, type FormatDecoded } from './types.js';

/* The parts of libheif-js's embind API used here (see libheif-js/libheif-wasm/libheif.d.ts). */
interface HeifError {
  code: { value: number };
  message: string;
}
interface HeifChannel {
  id: { value: number };
  width: number;
  height: number;
  stride: number;
  data: Uint8Array;
}
interface LibHeif {
  heif_context_alloc(): unknown;
  heif_context_free(ctx: unknown): void;
  heif_context_read_from_memory(ctx: unknown, bytes: Uint8Array): HeifError;
  heif_js_context_get_primary_image_handle(ctx: unknown): unknown;
  heif_image_handle_get_width(h: unknown): number;
  heif_image_handle_get_height(h: unknown): number;
  heif_image_handle_release(h: unknown): void;
  heif_js_decode_image2(h: unknown, cs: unknown, chroma: unknown): Promise<(Partial<HeifError> & { image: unknown; channels: HeifChannel[] }) | null>;
  heif_image_release(img: unknown): void;
  heif_colorspace: { heif_colorspace_RGB: unknown };
  heif_chroma: { heif_chroma_interleaved_RGBA: unknown };
  heif_channel: { heif_channel_interleaved: { value: number } };
}

let instance: LibHeif | null = null;
const load = lazyCodec<() => LibHeif>('heic', 'libheif-js', async () => {
  const mod = (await import('libheif-js/libheif-wasm/libheif-bundle.mjs')) as { default: () => LibHeif };
  return mod.default;
});

const isHeifError = (x: unknown): x is HeifError =>
  typeof x === 'object' && x !== null && 'code' in x && 'message' in x && typeof (x as HeifError).message === 'string';

export async function decodeHeic(bytes: Uint8Array, maxPixels: number): Promise<FormatDecoded> {
  const info = readHeifItemInfo(bytes, 'heic');
  checkDimensions('heic', info.width, info.height, maxPixels);
  const factory = await load();
  try {
    instance ??= factory();
    return await decodeWith(instance, bytes, maxPixels);
  } catch (e) {
    if (e instanceof WebAssembly.RuntimeError) instance = null; // a trapped instance is not reused
    throw codecError('heic', 'libheif', e);
  }
}

async function decodeWith(lib: LibHeif, bytes: Uint8Array, maxPixels: number): Promise<FormatDecoded> {
  const ctx = lib.heif_context_alloc();
  let handle: unknown = null;
  let img: { image: unknown; channels: HeifChannel[] } | null = null;
  try {
    const err = lib.heif_context_read_from_memory(ctx, bytes);
    if (err.code.value !== 0) throw new ImageDecodeError(`heic: libheif could not read it: ${err.message}`);
    handle = lib.heif_js_context_get_primary_image_handle(ctx);
    if (!handle || isHeifError(handle)) throw new ImageDecodeError(`heic: no primary image (${isHeifError(handle) ? handle.message : 'none'})`);
    const w = lib.heif_image_handle_get_width(handle);
    const h = lib.heif_image_handle_get_height(handle);
    checkDimensions('heic', w, h, maxPixels);
    const r = await lib.heif_js_decode_image2(handle, lib.heif_colorspace.heif_colorspace_RGB, lib.heif_chroma.heif_chroma_interleaved_RGBA);
    if (!r || (r.code && r.code.value !== 0) || !r.channels) {
      throw new ImageDecodeError(`heic: libheif could not decode it${r?.message ? `: ${r.message}` : ''}`);
    }
    img = r;
    const ch = r.channels.find((c) => c.id.value === lib.heif_channel.heif_channel_interleaved.value);
    if (!ch || ch.width !== w || ch.height !== h || ch.stride < w * 4 || ch.data.length < ch.stride * (h - 1) + w * 4) {
      throw new ImageDecodeError(`heic: libheif returned an unexpected image for ${w}×${h}`);
    }
    const out = new Uint8Array(w * h * 3);
    for (let y = 0, o = 0; y < h; y++) {
      for (let x = 0, i = y * ch.stride; x < w; x++, i += 4, o += 3) {
        out[o] = ch.data[i];
        out[o + 1] = ch.data[i + 1];
        out[o + 2] = ch.data[i + 2];
      }
    }
    return { image: { width: w, height: h, data: out } };
  } finally {
    if (img) lib.heif_image_release(img.image);
    if (handle && !isHeifError(handle)) lib.heif_image_handle_release(handle);
    lib.heif_context_free(ctx);
  }
}
