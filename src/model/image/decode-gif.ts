/**
 * GIF → RGB as Pillow 9.4 gives the first frame: the logical screen, filled with the frame's transparent index (or
 * index 0) outside frame 1's rectangle, every index looked up in frame 1's palette (local, else global) — the
 * transparent index keeps its palette colour, as convert("RGB") does; indices past the palette are black.
 *
 * gifuct-js does the LZW decoding and de-interlacing. We walk the block structure first (bounds-checked, so a
 * truncated or looping file cannot run its parser off the end) and hand it only the blocks up to frame 1.
 */
import { checkDimensions, ImageDecodeError, type FormatDecoded } from './types.js';

interface FirstFrame {
  screenW: number;
  screenH: number;
  left: number;
  top: number;
  width: number;
  height: number;
  transparent: number | null;
  /** Bytes from the start of the file to the end of frame 1's image data. */
  end: number;
}

function walk(b: Uint8Array, maxPixels: number): FirstFrame {
  const bad = (what: string) => new ImageDecodeError(`gif: ${what}`);
  if (b.length < 13) throw bad('file is truncated (no screen descriptor)');
  const u16 = (p: number) => b[p] | (b[p + 1] << 8);
  const screenW = u16(6);
  const screenH = u16(8);
  checkDimensions('gif', screenW, screenH, maxPixels);
  let p = 13;
  if (b[10] & 0x80) p += 3 << ((b[10] & 7) + 1);
  let transparent: number | null = null;
  const skipSubBlocks = () => {
    for (;;) {
      if (p >= b.length) throw bad('file is truncated (inside a data block)');
      const n = b[p++];
      if (n === 0) return;
      p += n;
    }
  };
  for (;;) {
    if (p >= b.length) throw bad('file is truncated (no image)');
    const id = b[p++];
    if (id === 0x21) {
      if (p >= b.length) throw bad('file is truncated (inside an extension)');
      const label = b[p++];
      if (label === 0xf9 && p + 5 < b.length && b[p] >= 4) {
        transparent = b[p + 1] & 1 ? b[p + 4] : null;
      }
      skipSubBlocks();
    } else if (id === 0x2c) {
      if (p + 9 > b.length) throw bad('file is truncated (inside the image descriptor)');
      const frame = { left: u16(p), top: u16(p + 2), width: u16(p + 4), height: u16(p + 6) };
      const flags = b[p + 8];
      p += 9;
      if (flags & 0x80) p += 3 << ((flags & 7) + 1);
      if (p >= b.length) throw bad('file is truncated (no image data)');
      if (b[p] > 11) throw bad(`corrupt image data (LZW code size ${b[p]})`);
      p++;
      skipSubBlocks();
      if (frame.width === 0 || frame.height === 0) throw bad(`first frame has zero size ${frame.width}×${frame.height}`);
      if (frame.width * frame.height > maxPixels) checkDimensions('gif', frame.width, frame.height, maxPixels);
      return { screenW, screenH, ...frame, transparent, end: p };
    } else if (id === 0x3b) {
      throw bad('no image in the file');
    } else {
      throw bad(`corrupt block (0x${id.toString(16)} at byte ${p - 1})`);
    }
  }
}

export async function decodeGif(bytes: Uint8Array, maxPixels: number): Promise<FormatDecoded> {
  const f = walk(bytes, maxPixels);
  // CommonJS: its exports object is the namespace's `default` in Node and in a browser bundle's lazy chunk alike.
  const mod = await import('gifuct-js');
  const { parseGIF, decompressFrame } = ((mod as { default?: unknown }).default ?? mod) as typeof import('gifuct-js');
  const head = new Uint8Array(f.end + 1);
  head.set(bytes.subarray(0, f.end));
  head[f.end] = 0x3b; // trailer
  let frame: { pixels: number[]; colorTable?: number[][] };
  try {
    const gif = parseGIF(head.buffer);
    const first = gif.frames.find((x) => 'image' in x && x.image);
    if (!first || !('image' in first)) throw new ImageDecodeError('gif: no image in the file');
    frame = decompressFrame(first, gif.gct, false) as unknown as typeof frame;
  } catch (e) {
    if (e instanceof ImageDecodeError) throw e;
    throw new ImageDecodeError(`gif: gifuct-js could not decode it: ${(e as Error).message}`);
  }
  const table = frame.colorTable;
  const W = f.screenW;
  const H = f.screenH;
  const out = new Uint8Array(W * H * 3);
  const put = (o: number, index: number) => {
    if (!table) {
      out[o] = out[o + 1] = out[o + 2] = index; // no palette at all: Pillow reads the indices as grey
      return;
    }
    const c = table[index];
    if (c) {
      out[o] = c[0];
      out[o + 1] = c[1];
      out[o + 2] = c[2];
    }
  };
  const fill = f.transparent ?? 0;
  for (let o = 0; o < out.length; o += 3) put(o, fill);
  const x1 = Math.min(W, f.left + f.width);
  const y1 = Math.min(H, f.top + f.height);
  for (let y = f.top; y < y1; y++) {
    for (let x = f.left; x < x1; x++) put((y * W + x) * 3, frame.pixels[(y - f.top) * f.width + (x - f.left)] ?? 0);
  }
  return { image: { width: W, height: H, data: out } };
}
