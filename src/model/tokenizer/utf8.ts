/** UTF-8 helpers with SentencePiece's exact rules (util.h: OneCharLen, DecodeUTF8, IsValidDecodeUTF8). */

/** Length of the character starting with byte `b`, from its high nibble only (no validation), like OneCharLen. */
export function oneCharLen(b: number): number {
  const hi = b >>> 4;
  return hi < 12 ? 1 : hi < 14 ? 2 : hi === 14 ? 3 : 4;
}

const isTrail = (b: number | undefined): boolean => b !== undefined && (b & 0xc0) === 0x80;
const isValidCodepoint = (c: number): boolean => c < 0xd800 || (c >= 0xe000 && c <= 0x10ffff);

/**
 * Byte length of the valid UTF-8 character at `pos`, or 0 when the bytes there are malformed (overlong,
 * surrogate, > U+10FFFF, truncated, stray continuation byte). SentencePiece then consumes one byte and emits U+FFFD.
 */
export function validCharLen(s: Uint8Array, pos: number, end: number): number {
  const b0 = s[pos]!;
  const len = end - pos;
  if (b0 < 0x80) return 1;
  if (len >= 2 && (b0 & 0xe0) === 0xc0) {
    const cp = ((b0 & 0x1f) << 6) | (s[pos + 1]! & 0x3f);
    return isTrail(s[pos + 1]) && cp >= 0x80 && isValidCodepoint(cp) ? 2 : 0;
  }
  if (len >= 3 && (b0 & 0xf0) === 0xe0) {
    const cp = ((b0 & 0x0f) << 12) | ((s[pos + 1]! & 0x3f) << 6) | (s[pos + 2]! & 0x3f);
    return isTrail(s[pos + 1]) && isTrail(s[pos + 2]) && cp >= 0x800 && isValidCodepoint(cp) ? 3 : 0;
  }
  if (len >= 4 && (b0 & 0xf8) === 0xf0) {
    const cp = ((b0 & 0x07) << 18) | ((s[pos + 1]! & 0x3f) << 12) | ((s[pos + 2]! & 0x3f) << 6) | (s[pos + 3]! & 0x3f);
    return isTrail(s[pos + 1]) && isTrail(s[pos + 2]) && isTrail(s[pos + 3]) && cp >= 0x10000 && isValidCodepoint(cp)
      ? 4
      : 0;
  }
  return 0;
}

/** A growable byte buffer (the normalizer's output). */
export class ByteBuffer {
  data = new Uint8Array(64);
  length = 0;

  private grow(extra: number): void {
    if (this.length + extra <= this.data.byteLength) return;
    let cap = this.data.byteLength * 2;
    while (cap < this.length + extra) cap *= 2;
    const d = new Uint8Array(cap);
    d.set(this.data.subarray(0, this.length));
    this.data = d;
  }

  push(b: number): void {
    this.grow(1);
    this.data[this.length++] = b;
  }

  append(bytes: Uint8Array, start = 0, end = bytes.byteLength): void {
    this.grow(end - start);
    this.data.set(bytes.subarray(start, end), this.length);
    this.length += end - start;
  }

  endsWith(suffix: Uint8Array): boolean {
    if (this.length < suffix.byteLength) return false;
    for (let i = 0; i < suffix.byteLength; i++) if (this.data[this.length - suffix.byteLength + i] !== suffix[i]) return false;
    return true;
  }

  view(): Uint8Array {
    return this.data.subarray(0, this.length);
  }
}
