/**
 * The WebP container (RIFF): canvas size from the header (checked before decoding), the EXIF chunk, and for an
 * animation the first frame, cut out as a still WebP of its own plus where it sits on the canvas. Pillow reads every
 * WebP through libwebp's WebPAnimDecoder, whose first frame is a transparent-black canvas with frame 1 decoded into
 * its rectangle (a key frame: no blending), so that is what we rebuild around libwebp's still-image decoder.
 */
import { ImageDecodeError } from './types.js';

export interface WebpLayout {
  width: number;
  height: number;
  /** A still WebP to hand to libwebp: the file itself, or frame 1 of an animation re-wrapped. */
  still: Uint8Array;
  /** Where `still` goes on the canvas (non-zero only for an animation's first frame). */
  x: number;
  y: number;
  exif: Uint8Array | null;
}

const fourcc = (b: Uint8Array, p: number) => String.fromCharCode(b[p], b[p + 1], b[p + 2], b[p + 3]);
const u24 = (b: Uint8Array, p: number) => b[p] | (b[p + 1] << 8) | (b[p + 2] << 16);
const u32 = (b: Uint8Array, p: number) => (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16)) + b[p + 3] * 2 ** 24;

interface Chunk {
  id: string;
  start: number; // payload start
  size: number;
}

function chunks(b: Uint8Array, start: number, end: number): Chunk[] {
  const out: Chunk[] = [];
  for (let p = start; p + 8 <= end; ) {
    const size = u32(b, p + 4);
    if (p + 8 + size > end) throw new ImageDecodeError(`webp: file is truncated (inside the ${fourcc(b, p).trim()} chunk)`);
    out.push({ id: fourcc(b, p), start: p + 8, size });
    p += 8 + size + (size & 1);
  }
  return out;
}

/** Width and height a VP8 or VP8L bitstream declares. */
function bitstreamSize(b: Uint8Array, c: Chunk): [number, number] {
  const p = c.start;
  if (c.id === 'VP8 ') {
    if (c.size < 10 || b[p + 3] !== 0x9d || b[p + 4] !== 0x01 || b[p + 5] !== 0x2a) throw new ImageDecodeError('webp: corrupt VP8 frame header');
    return [(b[p + 6] | (b[p + 7] << 8)) & 0x3fff, (b[p + 8] | (b[p + 9] << 8)) & 0x3fff];
  }
  if (c.size < 5 || b[p] !== 0x2f) throw new ImageDecodeError('webp: corrupt VP8L header');
  const bits = u32(b, p + 1);
  return [(bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1];
}

function riffChunk(id: string, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + payload.length + (payload.length & 1));
  for (let i = 0; i < 4; i++) out[i] = id.charCodeAt(i);
  new DataView(out.buffer).setUint32(4, payload.length, true);
  out.set(payload, 8);
  return out;
}

function riff(parts: Uint8Array[]): Uint8Array {
  const body = parts.reduce((n, p) => n + p.length, 4);
  const out = new Uint8Array(8 + body);
  out.set([0x52, 0x49, 0x46, 0x46]);
  new DataView(out.buffer).setUint32(4, body, true);
  out.set([0x57, 0x45, 0x42, 0x50], 8);
  let o = 12;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function readWebpLayout(b: Uint8Array): WebpLayout {
  if (b.length < 20) throw new ImageDecodeError('webp: file is truncated (no header)');
  const end = Math.min(b.length, 8 + u32(b, 4));
  const list = chunks(b, 12, end);
  const first = list[0];
  if (!first) throw new ImageDecodeError('webp: no image data');
  if (first.id === 'VP8 ' || first.id === 'VP8L') {
    const [width, height] = bitstreamSize(b, first);
    return { width, height, still: b, x: 0, y: 0, exif: null };
  }
  if (first.id !== 'VP8X' || first.size < 10) throw new ImageDecodeError(`webp: unexpected first chunk "${first.id}"`);
  const flags = b[first.start];
  const width = u24(b, first.start + 4) + 1;
  const height = u24(b, first.start + 7) + 1;
  const exifChunk = list.find((c) => c.id === 'EXIF');
  const exif = exifChunk ? b.subarray(exifChunk.start, exifChunk.start + exifChunk.size) : null;
  if (!(flags & 0x02)) {
    const bits = list.find((c) => c.id === 'VP8 ' || c.id === 'VP8L');
    if (!bits) throw new ImageDecodeError('webp: no image data (VP8/VP8L chunk missing)');
    return { width, height, still: b, x: 0, y: 0, exif };
  }
  const frame = list.find((c) => c.id === 'ANMF');
  if (!frame || frame.size < 16) throw new ImageDecodeError('webp: animation without a frame');
  const f = frame.start;
  const x = 2 * u24(b, f);
  const y = 2 * u24(b, f + 3);
  const fw = u24(b, f + 6) + 1;
  const fh = u24(b, f + 9) + 1;
  const sub = chunks(b, f + 16, f + frame.size);
  const bits = sub.find((c) => c.id === 'VP8 ' || c.id === 'VP8L');
  if (!bits) throw new ImageDecodeError('webp: first animation frame has no image data');
  const [bw, bh] = bitstreamSize(b, bits);
  if (bw !== fw || bh !== fh || x + fw > width || y + fh > height) {
    throw new ImageDecodeError(`webp: first frame ${fw}×${fh} at (${x}, ${y}) does not fit the ${width}×${height} canvas`);
  }
  const alph = sub.find((c) => c.id === 'ALPH');
  const payload = (c: Chunk) => b.subarray(c.start, c.start + c.size);
  let still: Uint8Array;
  if (alph && bits.id === 'VP8 ') {
    const vp8x = new Uint8Array(10);
    vp8x[0] = 0x10; // alpha
    vp8x.set([(fw - 1) & 255, ((fw - 1) >> 8) & 255, (fw - 1) >> 16, (fh - 1) & 255, ((fh - 1) >> 8) & 255, (fh - 1) >> 16], 4);
    still = riff([riffChunk('VP8X', vp8x), riffChunk('ALPH', payload(alph)), riffChunk('VP8 ', payload(bits))]);
  } else {
    still = riff([riffChunk(bits.id, payload(bits))]);
  }
  return { width, height, still, x, y, exif };
}
