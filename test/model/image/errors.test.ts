/** Bad input fails fast with a clear ImageDecodeError, before any allocation proportional to the claimed size. */
import { deflateSync, unzlibSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { decodeBytes, decodeImage, DEFAULT_MAX_PIXELS, ImageDecodeError } from '../../../src/model/image/index.js';
import { loadCases, readInput } from '../../helpers/image-cases.js';

const { cases } = loadCases();
const file = (input: string) => readInput(cases.find((c) => c.input === input)!);
const png = file('inputs/resize_61x47.png');
const jpeg = file('inputs/jpeg_160x120_q75_s2.jpg');
const jpegProg = file('inputs/jpeg_160x120_q75_s2_prog.jpg');

/** Timed: a refusal must not decode (or allocate for) the claimed size. */
function refuses(bytes: Uint8Array, pattern: RegExp, opts = {}) {
  const t0 = performance.now();
  let err: unknown;
  try {
    decodeBytes(bytes, opts);
  } catch (e) {
    err = e;
  }
  const ms = performance.now() - t0;
  expect(err, `expected an error matching ${pattern}`).toBeInstanceOf(ImageDecodeError);
  expect((err as Error).message).toMatch(pattern);
  expect(ms).toBeLessThan(200);
}

const crc32 = (d: Uint8Array) => {
  let c = -1;
  for (const b of d) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ -1) >>> 0;
};

/** A copy of `png` with IHDR width/height replaced (CRC fixed so only the size is wrong). */
function pngWithSize(w: number, h: number): Uint8Array {
  const b = png.slice();
  const v = new DataView(b.buffer);
  v.setUint32(16, w);
  v.setUint32(20, h);
  v.setUint32(29, crc32(b.subarray(12, 29)));
  return b;
}

/** A copy of `jpeg` with the SOF0 height/width replaced. */
function jpegWithSize(w: number, h: number): Uint8Array {
  const b = jpeg.slice();
  for (let i = 2; i < b.length; ) {
    const m = b[i + 1];
    if (m === 0xc0) {
      b[i + 5] = h >> 8;
      b[i + 6] = h & 255;
      b[i + 7] = w >> 8;
      b[i + 8] = w & 255;
      return b;
    }
    i += 2 + ((b[i + 2] << 8) | b[i + 3]);
  }
  throw new Error('no SOF0');
}

describe('malformed input', () => {
  it('random bytes and empty input', () => {
    const rnd = new Uint8Array(1000).map((_, i) => (i * 7919 + 13) % 251);
    refuses(rnd, /not an image we can read \(1000 bytes, unknown signature/);
    refuses(new Uint8Array(0), /empty input/);
    refuses(new TextEncoder().encode('<html>not found</html>'), /unknown signature/);
  });

  it('truncated PNG: in the header, in the image data', () => {
    refuses(png.subarray(0, 20), /png: file is truncated \(inside the IHDR chunk\)/);
    refuses(png.subarray(0, 33), /png: file is truncated \(no image data\)/);
    for (const cut of [60, Math.floor(png.length / 2), png.length - 20]) {
      refuses(png.subarray(0, cut), /png: (file|image data) is truncated/);
    }
  });

  it('PNG cut after its image data decodes, as in PIL', () => {
    expect(decodeBytes(png.subarray(0, png.length - 12)).width).toBe(61); // IEND missing
    expect(decodeBytes(png.subarray(0, png.length - 6)).width).toBe(61); // IEND cut
  });

  it('corrupt PNG: bad CRC before the image data, bad zlib data', () => {
    const b = png.slice();
    b[20] ^= 1;
    refuses(b, /bad CRC in the IHDR chunk/);
    const z = png.slice();
    const idat = 33 + 8;
    z.fill(0xff, idat + 2, idat + 40);
    refuses(z, /png: image data is (truncated or corrupt|truncated)/);
  });

  it('PNG whose image data is corrupt but still inflates is refused (zlib checksum), as PIL does', () => {
    // One pixel byte changed and the data recompressed, keeping the original Adler-32: it inflates to the right size.
    const idatLen = new DataView(png.buffer, png.byteOffset).getUint32(33);
    const z = png.subarray(41, 41 + idatLen);
    const raw = unzlibSync(z);
    raw[raw.length >> 1] ^= 0x40;
    const body = new Uint8Array([...z.subarray(0, 2), ...deflateSync(raw), ...z.subarray(z.length - 4)]);
    const chunk = new Uint8Array(12 + body.length);
    const v = new DataView(chunk.buffer);
    v.setUint32(0, body.length);
    chunk.set([0x49, 0x44, 0x41, 0x54], 4);
    chunk.set(body, 8);
    v.setUint32(8 + body.length, crc32(chunk.subarray(4, 8 + body.length)));
    const bad = new Uint8Array([...png.subarray(0, 33), ...chunk, ...png.subarray(41 + idatLen + 4)]);
    refuses(bad, /png: image data is corrupt \(zlib checksum mismatch: broken data stream\)/);
  });

  it('truncated JPEG: in the header, in the scan data, progressive without the end', () => {
    refuses(jpeg.subarray(0, 3), /jpeg: missing SOI|truncated|unknown signature/);
    refuses(jpeg.subarray(0, 100), /jpeg: file is truncated/);
    for (const cut of [Math.floor(jpeg.length / 2), jpeg.length - 40]) {
      refuses(jpeg.subarray(0, cut), /jpeg: image data is truncated or corrupt/);
    }
    refuses(jpegProg.subarray(0, jpegProg.length - 100), /jpeg: file is truncated \(no end-of-image marker/);
  });

  it('baseline JPEG complete but without EOI decodes, as in PIL', () => {
    expect(decodeBytes(jpeg.subarray(0, jpeg.length - 2)).width).toBe(160);
  });

  it('zero-sized images', () => {
    refuses(pngWithSize(0, 47), /png: image has zero or invalid size 0×47/);
    refuses(pngWithSize(61, 0), /png: image has zero or invalid size 61×0/);
    refuses(jpegWithSize(0, 120), /jpeg: image has zero or invalid size 0×120/);
    refuses(jpegWithSize(160, 0), /jpeg: image height 0/);
  });

  it('absurd sizes are refused from the header (no allocation)', () => {
    refuses(pngWithSize(100000, 100000), /png: image is 100000×100000 = 10000000000 pixels, above the limit of 178956970/);
    refuses(jpegWithSize(65535, 65535), /jpeg: image is 65535×65535 = 4294836225 pixels, above the limit/);
    expect(DEFAULT_MAX_PIXELS).toBe(178_956_970);
    refuses(png, /above the limit of 1000/, { maxPixels: 1000 });
  });

  it('garbled JPEG entropy data never throws anything but ImageDecodeError', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const b = jpeg.slice();
      for (let i = 0; i < 30; i++) b[700 + ((seed * 7919 * (i + 1)) % (b.length - 800))] = (seed * 31 + i * 17) & 255;
      try {
        decodeBytes(b);
      } catch (e) {
        expect(e).toBeInstanceOf(ImageDecodeError);
      }
    }
  });

  it('errors from paths name the file', async () => {
    await expect(decodeImage(new Blob([png.slice(0, 60)]))).rejects.toThrow(/image blob: png: (file|image data) is truncated/);
  });
});
