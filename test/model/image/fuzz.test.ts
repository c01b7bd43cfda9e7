/**
 * Fuzz property of the image decoders: a mutated file of any format we read (PNG, JPEG, WebP, AVIF, HEIC, GIF, BMP,
 * TIFF) either decodes to a well-formed RGB image or throws an ImageDecodeError — never another exception, a crash of
 * a WebAssembly decoder, or a hang — and each takes well under a time limit. Seeded per run (the seed is printed;
 * TEST_SEED=n replays one, SIGLIP_FUZZ_N=n sets the mutations per file).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeImage, ImageDecodeError } from '../../../src/model/image/index.js';
import { FORMATS, GENERATED } from '../../helpers/image-cases.js';
import { makeRng, testSeed } from '../../helpers/random.js';

const SEED = testSeed('image fuzz');
const N = Number(process.env.SIGLIP_FUZZ_N ?? 24);
/** A hang shows up as a decode far beyond this (the slowest valid fixture decodes in a few ms). */
const LIMIT_MS = 3000;

const crcTable = new Uint32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc32 = (d: Uint8Array) => {
  let c = 0xffffffff;
  for (const b of d) c = crcTable[(c ^ b) & 255] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};

/** Rewrites every PNG chunk's CRC, so that mutations reach the decoder rather than stopping at the CRC check. */
function fixPngCrcs(b: Uint8Array): void {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let p = 8; p + 12 <= b.length; ) {
    const len = v.getUint32(p);
    if (p + 12 + len > b.length) return;
    v.setUint32(p + 8 + len, crc32(b.subarray(p + 4, p + 8 + len)));
    p += 12 + len;
  }
}

function mutate(src: Uint8Array, rand: () => number): Uint8Array {
  const pick = (n: number) => Math.floor(rand() * n);
  let b = src.slice();
  const kind = pick(6);
  if (kind === 0) {
    for (let i = 0, n = 1 + pick(8); i < n; i++) b[pick(b.length)] = pick(256); // random bytes
  } else if (kind === 1) {
    b = b.slice(0, 1 + pick(b.length - 1)); // truncation
  } else if (kind === 2) {
    const at = pick(b.length);
    const len = 1 + pick(64);
    b = new Uint8Array([...b.subarray(0, at), ...b.subarray(at, at + len), ...b.subarray(at)]); // a range repeated
  } else if (kind === 3) {
    const at = pick(b.length);
    b.fill(pick(2) ? 0xff : 0, at, at + 1 + pick(32)); // a run of 0x00 or 0xFF
  } else if (kind === 4) {
    for (let i = 0, n = 1 + pick(4); i < n; i++) {
      const p = 4 + pick(Math.min(b.length - 4, 200)); // header fields: sizes, counts, offsets
      b[p] = [0, 1, 0x7f, 0x80, 0xff][pick(5)];
    }
  } else {
    b[pick(b.length)] ^= 1 << pick(8); // one bit
  }
  if (b.length > 8 && b[0] === 0x89 && b[1] === 0x50) fixPngCrcs(b);
  return b;
}

function files(): { name: string; bytes: Uint8Array }[] {
  const fmt = readdirSync(join(FORMATS, 'inputs')).map((f) => join(FORMATS, 'inputs', f));
  const pngJpeg = readdirSync(join(GENERATED, 'inputs'))
    .filter((f) => /^(png_ct[0236]_d8_13x9|png_ct3_d2_adam7_13x9|jpeg_160x120_q75_s2(_prog)?|jpeg_cmyk|jpeg_restart|exif_jpeg_6|xmp_png_6)\./.test(f))
    .map((f) => join(GENERATED, 'inputs', f));
  return [...fmt, ...pngJpeg].map((p) => ({ name: p.split('/').slice(-1)[0], bytes: new Uint8Array(readFileSync(p)) }));
}

describe(`decoders under mutation (seed ${SEED}, ${N} mutations per file)`, () => {
  const all = files();
  it('has files of every format', () => {
    for (const ext of ['png', 'jpg', 'webp', 'avif', 'heic', 'gif', 'bmp', 'tif']) expect(all.some((f) => f.name.endsWith(`.${ext}`)), ext).toBe(true);
  });
  for (const f of all) {
    it(`${f.name}: decodes or throws ImageDecodeError, each under ${LIMIT_MS} ms`, async () => {
      const rand = makeRng(SEED ^ crc32(new TextEncoder().encode(f.name)));
      let decoded = 0;
      let refused = 0;
      let slowest = 0;
      for (let i = 0; i < N; i++) {
        const b = mutate(f.bytes, rand);
        const what = `${f.name} mutation ${i} (TEST_SEED=${SEED})`;
        const t0 = performance.now();
        try {
          const img = await decodeImage(b, { maxPixels: 1 << 24 });
          expect(img.width * img.height * 3, what).toBe(img.data.length);
          expect(img.width > 0 && img.height > 0, what).toBe(true);
          decoded++;
        } catch (e) {
          if (!(e instanceof ImageDecodeError)) throw new Error(`${what}: threw ${(e as Error)?.name}: ${(e as Error)?.message ?? e}`);
          refused++;
        }
        const ms = performance.now() - t0;
        slowest = Math.max(slowest, ms);
        expect(ms, `${what} took ${ms.toFixed(0)} ms`).toBeLessThan(LIMIT_MS);
      }
      expect(decoded + refused).toBe(N);
    });
  }
});
