/** Test helpers for the tokenizer tests: a tiny protobuf writer (to build model variants) and a seeded PRNG. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSentencePieceModel, PieceType } from '../../../src/model/tokenizer/index.js';

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


/** What transformers' SentencePiece converter writes for a unigram spiece.model (the parts that matter here). */
export function toTokenizerJson(bytes: Uint8Array): unknown {
  const m = parseSentencePieceModel(bytes);
  const dec = new TextDecoder();
  const vocab = m.pieces.map((p, i) => [dec.decode(p), m.scores[i]]);
  // added_tokens: the tokenizer's special tokens (SigLIP: <unk>, </s>, with its lstrip/rstrip) and the
  // SentencePiece user-defined symbols; other control pieces (<s>) are plain vocabulary entries.
  const added = m.pieces.flatMap((p, i) => {
    const t = m.types[i];
    const content = dec.decode(p);
    if (content === '<unk>' || content === '</s>') {
      return [{ id: i, content, single_word: false, lstrip: true, rstrip: true, normalized: false, special: true }];
    }
    if (t === PieceType.USER_DEFINED) return [{ id: i, content: dec.decode(p), single_word: false, lstrip: false, rstrip: false, normalized: false, special: false }];
    return [];
  });
  const json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: {
      type: 'Sequence',
      normalizers: [
        { type: 'Precompiled', precompiled_charsmap: Buffer.from(m.normalizer.precompiledCharsmap).toString('base64') },
        { type: 'Strip', strip_left: false, strip_right: true },
        { type: 'Replace', pattern: { Regex: ' {2,}' }, content: '▁' },
      ],
    },
    pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
    post_processor: null,
    decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
    model: { type: 'Unigram', unk_id: m.types.indexOf(PieceType.UNKNOWN), vocab, byte_fallback: m.trainer.byteFallback },
  };
  return JSON.parse(JSON.stringify(json)); // as read from a file
}

