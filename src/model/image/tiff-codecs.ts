/**
 * TIFF's LZW and PackBits decompression, bounded: every code is checked against the table (libtiff refuses a code
 * past the next free entry as a corrupted table, and so do we) and output stops at the strip's size.
 *
 * Our own rather than utif2's: its LZW decoder follows table links without checks, and a corrupt code that makes an
 * entry point at itself loops forever (found by test/model/image/fuzz.test.ts) — a hang cannot be interrupted from JS.
 */
import { ImageDecodeError } from './types.js';

const corrupt = (what: string) => new ImageDecodeError(`tiff: image data is corrupt (${what})`);

/** TIFF 6.0 LZW (MSB-first codes of 9–12 bits, "early change"); returns the bytes written to `out`. */
export function lzwDecode(src: Uint8Array, out: Uint8Array): number {
  const prefix = new Int16Array(4096);
  const suffix = new Uint8Array(4096);
  const first = new Uint8Array(4096);
  const length = new Uint16Array(4096);
  for (let i = 0; i < 256; i++) {
    suffix[i] = first[i] = i;
    length[i] = 1;
    prefix[i] = -1;
  }
  const bits = src.length * 8;
  let pos = 0;
  let width = 9;
  let next = 258;
  let prev = -1;
  let o = 0;
  const emit = (code: number) => {
    const n = length[code];
    let end = o + n;
    if (end > out.length) {
      // Write only what fits, from the string's start: walk to the fitting part first.
      let c = code;
      for (let k = n; k > out.length - o; k--) c = prefix[c];
      end = out.length;
      for (let p = end - 1; p >= o; p--, c = prefix[c]) out[p] = suffix[c];
    } else {
      for (let p = end - 1, c = code; p >= o; p--, c = prefix[c]) out[p] = suffix[c];
    }
    o = end;
  };
  while (pos + width <= bits && o < out.length) {
    // Read `width` bits MSB-first.
    let code = 0;
    for (let k = 0; k < width; k++, pos++) code = (code << 1) | ((src[pos >> 3] >> (7 - (pos & 7))) & 1);
    if (code === 257) break; // EOI
    if (code === 256) {
      width = 9;
      next = 258;
      prev = -1;
      continue;
    }
    if (prev < 0) {
      if (code > 255) throw corrupt(`LZW code ${code} right after a clear code`);
      emit(code);
      prev = code;
      continue;
    }
    if (next >= 4096) throw corrupt('LZW table overflow (no clear code)');
    if (code < next) {
      emit(code);
      prefix[next] = prev;
      suffix[next] = first[code];
    } else if (code === next) {
      prefix[next] = prev;
      suffix[next] = first[prev];
    } else {
      throw corrupt(`LZW code ${code} past the table's ${next} entries`);
    }
    first[next] = first[prev];
    length[next] = length[prev] + 1;
    next++;
    if (code === next - 1) emit(code);
    if (next + 1 === 1 << width && width < 12) width++;
    prev = code;
  }
  return o;
}

/** PackBits (Apple RLE): n ≥ 0 copies n+1 literal bytes, −127…−1 repeats the next byte 1−n times, −128 is a no-op. */
export function packBitsDecode(src: Uint8Array, out: Uint8Array): number {
  let o = 0;
  for (let p = 0; p < src.length && o < out.length; ) {
    const n = (src[p++] << 24) >> 24;
    if (n >= 0) {
      const count = Math.min(n + 1, src.length - p, out.length - o);
      out.set(src.subarray(p, p + count), o);
      o += count;
      p += n + 1;
    } else if (n !== -128) {
      if (p >= src.length) break;
      const count = Math.min(1 - n, out.length - o);
      out.fill(src[p++], o, o + count);
      o += count;
    }
  }
  return o;
}
