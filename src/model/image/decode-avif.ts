/**
 * AVIF → RGB with libavif + dav1d (the @jsquash/avif WebAssembly build, loaded on the first AVIF), as Pillow ≥ 11.2
 * reads it: 8-bit RGB (10/12-bit scaled by libavif), alpha dropped, and the stored rotation/mirror (irot/imir)
 * applied the way Pillow does — as the equivalent EXIF orientation, through exif_transpose.
 */
import { irotImirToOrientation, readHeifItemInfo } from './isobmff.js';
import { codecError, lazyCodec, wasmBytes } from './wasm-load.js';
import { checkDimensions, ImageDecodeError, type FormatDecoded } from './types.js';

interface AvifCodec {
  init(module: WebAssembly.Module): Promise<void>;
  decode(bytes: Uint8Array, opts: { bitDepth: 8 }): Promise<{ width: number; height: number; data: Uint8ClampedArray } | null>;
}

let compiled: WebAssembly.Module | null = null;

const codec = lazyCodec<AvifCodec>('avif', '@jsquash/avif', async () => {
  const [mod, bytes] = await Promise.all([
    import('@jsquash/avif/decode.js'),
    wasmBytes('@jsquash/avif/codec/dec/avif_dec.wasm', () => import('@jsquash/avif/codec/dec/avif_dec.wasm')),
  ]);
  compiled = await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
  await mod.init(compiled);
  return { init: mod.init, decode: mod.default as unknown as AvifCodec['decode'] };
});

export async function decodeAvif(bytes: Uint8Array, maxPixels: number): Promise<FormatDecoded> {
  const info = readHeifItemInfo(bytes, 'avif');
  checkDimensions('avif', info.width, info.height, maxPixels);
  const c = await codec();
  let img: { width: number; height: number; data: Uint8ClampedArray } | null;
  try {
    img = await c.decode(bytes, { bitDepth: 8 });
  } catch (e) {
    if (e instanceof WebAssembly.RuntimeError && compiled) await c.init(compiled);
    throw codecError('avif', 'libavif', e);
  }
  if (!img) throw new ImageDecodeError('avif: libavif could not decode it');
  const { width, height, data } = img;
  if (width * height > maxPixels || data.length !== width * height * 4) {
    throw new ImageDecodeError(`avif: libavif returned ${width}×${height} with ${data.length} bytes (header says ${info.width}×${info.height})`);
  }
  const out = new Uint8Array(width * height * 3);
  for (let i = 0, o = 0; o < out.length; i += 4, o += 3) {
    out[o] = data[i];
    out[o + 1] = data[i + 1];
    out[o + 2] = data[i + 2];
  }
  return { image: { width, height, data: out }, orientation: irotImirToOrientation(info.irot, info.imir) };
}
