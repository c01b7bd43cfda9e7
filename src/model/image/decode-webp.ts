/**
 * WebP → RGB with libwebp (the @jsquash/webp WebAssembly build, loaded on the first WebP), as Pillow reads it:
 * RGBA from libwebp (fancy upsampling, unpremultiplied), alpha dropped; an animation's first frame on its canvas;
 * EXIF orientation from the EXIF chunk.
 */
import { codecError, lazyCodec, wasmBytes } from './wasm-load.js';
import { readWebpLayout } from './webp-riff.js';
import { checkDimensions, ImageDecodeError, type FormatDecoded } from './types.js';

interface WebpCodec {
  init(module: WebAssembly.Module): Promise<void>;
  decode(bytes: Uint8Array): Promise<{ width: number; height: number; data: Uint8ClampedArray }>;
}

let compiled: WebAssembly.Module | null = null;

const codec = lazyCodec<WebpCodec>('webp', '@jsquash/webp', async () => {
  const [mod, bytes] = await Promise.all([
    import('@jsquash/webp/decode.js'),
    wasmBytes('@jsquash/webp/codec/dec/webp_dec.wasm', () => import('@jsquash/webp/codec/dec/webp_dec.wasm')),
  ]);
  compiled = await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
  await mod.init(compiled);
  return { init: mod.init, decode: mod.default as unknown as WebpCodec['decode'] };
});

export async function decodeWebp(bytes: Uint8Array, maxPixels: number): Promise<FormatDecoded> {
  const layout = readWebpLayout(bytes);
  checkDimensions('webp', layout.width, layout.height, maxPixels);
  const c = await codec();
  let frame: { width: number; height: number; data: Uint8ClampedArray };
  try {
    frame = await c.decode(layout.still);
  } catch (e) {
    if (e instanceof WebAssembly.RuntimeError && compiled) await c.init(compiled); // a trapped instance is not reused
    throw codecError('webp', 'libwebp', e);
  }
  const { width: W, height: H, x, y } = layout;
  if (frame.width + x > W || frame.height + y > H || frame.data.length !== frame.width * frame.height * 4) {
    throw new ImageDecodeError(`webp: libwebp returned a ${frame.width}×${frame.height} image for a ${W}×${H} canvas`);
  }
  const out = new Uint8Array(W * H * 3); // transparent black outside the first frame, as WebPAnimDecoder's canvas
  for (let r = 0; r < frame.height; r++) {
    let i = r * frame.width * 4;
    let o = ((r + y) * W + x) * 3;
    for (let k = 0; k < frame.width; k++, i += 4, o += 3) {
      out[o] = frame.data[i];
      out[o + 1] = frame.data[i + 1];
      out[o + 2] = frame.data[i + 2];
    }
  }
  return { image: { width: W, height: H, data: out }, exif: layout.exif };
}
