/** Test helpers for the tokenizer tests: a tiny protobuf writer (to build model variants) and a seeded PRNG. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const TOKENIZER_FIXTURES = join(__dirname, '../../fixtures', 'tokenizer');
export const baseModel = (): Uint8Array => new Uint8Array(readFileSync(join(TOKENIZER_FIXTURES, 'test_sentencepiece.model')));

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) (out.set(p, o), (o += p.length));
  return out;
}

function varint(n: number): Uint8Array {
  const out: number[] = [];
  do {
    const b = n % 128;
    n = Math.floor(n / 128);
    out.push(n > 0 ? b | 0x80 : b);
  } while (n > 0);
  return Uint8Array.from(out);
}
export const fVarint = (field: number, v: number) => concat(varint(field * 8), varint(v));
export const fBytes = (field: number, b: Uint8Array) => concat(varint(field * 8 + 2), varint(b.length), b);
export const fFloat = (field: number, v: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setFloat32(0, v, true);
  return concat(varint(field * 8 + 5), b);
};
const utf8 = (s: string) => new TextEncoder().encode(s);

/** A ModelProto.pieces entry (append to a model to add a piece). */
export const piece = (p: string, score: number, type = 1) => fBytes(1, concat(fBytes(1, utf8(p)), fFloat(2, score), fVarint(3, type)));
export const trainerSpec = (...fields: Uint8Array[]) => fBytes(2, concat(...fields));
export const normalizerSpec = (...fields: Uint8Array[]) => fBytes(3, concat(...fields));

/** The fixture model with 256 byte pieces and byte_fallback on. */
export const byteFallbackModel = () =>
  concat(baseModel(), ...Array.from({ length: 256 }, (_, b) => piece(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`, 0, 6)), trainerSpec(fVarint(35, 1)));

