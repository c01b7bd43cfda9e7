/**
 * Robustness: seeded random Unicode never makes the tokenizer throw or yield ids outside the vocabulary, and
 * malformed model files (empty, truncated, random, non-unigram, inconsistent) fail with errors naming the file.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DirectorySource } from '../../../src/model/source-node.js';
import { parseSentencePieceModel, SentencePieceProcessor, SiglipTokenizer } from '../../../src/model/tokenizer/index.js';
import { baseModel, byteFallbackModel, concat, fBytes, fVarint, normalizerSpec, piece, trainerSpec } from './helpers.js';
import { makeRng, testSeed } from '../../helpers/random.js';

// A fresh seed every run (printed; TEST_SEED=n replays it), as for every randomized test here.
const SEED = testSeed('tokenizer fuzz');

/** Random strings: code points from all planes, lone surrogates, whitespace, specials and punctuation mixed in. */
function randomText(rand: () => number): string {
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)]!;
  const n = Math.floor(rand() * 40);
  let s = '';
  for (let i = 0; i < n; i++) {
    const r = rand();
    if (r < 0.25) s += String.fromCharCode(0x20 + Math.floor(rand() * 95));
    else if (r < 0.35) s += pick([' ', '  ', '\t', '\n', '\r\n', '\u00a0', '\u3000', '\u200b', '\ufeff', '\u2581', '\u0085', '\x1c']);
    else if (r < 0.42) s += pick(['</s>', '<unk>', '<s>', '</S>', '<UNK>', 'Σ', 'İ', 'ß', '\u0301', '🏳️‍🌈', '👍🏽', 'ﬁ', 'Ａ']);
    else if (r < 0.47) s += String.fromCharCode(0xd800 + Math.floor(rand() * 0x800)); // lone surrogate
    else if (r < 0.7) s += String.fromCodePoint(Math.floor(rand() * 0x3000));
    else if (r < 0.9) s += String.fromCodePoint(0x3000 + Math.floor(rand() * 0xa800));
    else s += String.fromCodePoint(0x10000 + Math.floor(rand() * 0x100000));
  }
  return s;
}

describe('fuzz', () => {
  const models = { base: baseModel(), byteFallback: byteFallbackModel() };
  it.each(Object.entries(models))('%s model: 3000 random strings never throw, ids stay in the vocabulary', (name, bytes) => {
    const rand = makeRng(SEED);
    const toks = [SiglipTokenizer.fromSentencePiece(bytes), SiglipTokenizer.fromSentencePiece(bytes, { doLowerCase: false })];
    for (let i = 0; i < 3000; i++) {
      const text = randomText(rand);
      for (const tok of toks) {
        let ids: number[];
        try {
          ids = tok.encode(text);
        } catch (e) {
          throw new Error(`seed ${SEED}, string ${i} ${JSON.stringify(text)}: ${(e as Error).message}`);
        }
        const bad = ids.filter((id) => !Number.isInteger(id) || id < 0 || id >= tok.vocabSize);
        if (bad.length || ids[ids.length - 1] !== tok.eosId) throw new Error(`seed ${SEED}, string ${i} ${JSON.stringify(text)}: ${ids}`);
      }
    }
    const { inputIds, shape } = toks[0]!.call(Array.from({ length: 50 }, () => randomText(rand)), { maxLength: 16 });
    expect(shape).toEqual([50, 16]);
    expect(inputIds.every((id) => id >= 0 && id < toks[0]!.vocabSize)).toBe(true);
  });

  it('handles a 200k-character input in reasonable time', () => {
    const rand = makeRng(SEED + 1);
    let text = '';
    while (text.length < 200_000) text += randomText(rand);
    const tok = SiglipTokenizer.fromSentencePiece(baseModel());
    const t0 = performance.now();
    const ids = tok.encode(text);
    const ms = performance.now() - t0;
    expect(ids.length).toBeGreaterThan(10_000);
    expect(ms).toBeLessThan(20_000);
    expect(Array.from(tok.call([text], { maxLength: 64 }).inputIds).slice(0, 63)).toEqual(ids.slice(0, 63));
  });

  it('empty and whitespace-only texts give just </s>', () => {
    const tok = SiglipTokenizer.fromSentencePiece(baseModel());
    for (const t of ['', ' ', '\t\n', '\u3000\u00a0', '!!!', '...', '\u2581\u2581']) expect(tok.encode(t)).toEqual([tok.eosId]);
  });
});

describe('malformed model files', () => {
  const good = baseModel();
  const load = (b: Uint8Array) => () => SiglipTokenizer.fromSentencePiece(b, {}, 'bad/spiece.model');

  it('empty file', () => expect(load(new Uint8Array(0))).toThrow(/bad\/spiece\.model: empty file/));

  it('truncated anywhere', () => {
    const rand = makeRng(SEED + 2);
    const cuts = [1, 2, 5, 10, 100, 1000, good.length - 1, good.length - 2, good.length - 100];
    for (let i = 0; i < 60; i++) cuts.push(1 + Math.floor(rand() * (good.length - 1)));
    for (const cut of cuts) expect(load(good.subarray(0, cut)), `cut at ${cut}`).toThrow(/bad\/spiece\.model: /);
  });

  it('random bytes', () => {
    const rand = makeRng(SEED + 3);
    for (let i = 0; i < 50; i++) {
      const b = Uint8Array.from({ length: 1 + Math.floor(rand() * 5000) }, () => Math.floor(rand() * 256));
      expect(load(b), `random file ${i}`).toThrow(/bad\/spiece\.model: /);
    }
  });

  it('text or JSON given as a model', () => {
    expect(load(new TextEncoder().encode('{"model": {"type": "Unigram"}}'))).toThrow(/bad\/spiece\.model: not a valid SentencePiece model/);
    expect(load(new TextEncoder().encode('hello world'))).toThrow(/bad\/spiece\.model: /);
  });

  it('a BPE (or other non-unigram) model is refused', () => {
    expect(load(concat(good, trainerSpec(fVarint(3, 2))))).toThrow(/bad\/spiece\.model: SentencePiece model type BPE is not supported/);
    expect(load(concat(good, trainerSpec(fVarint(3, 4))))).toThrow(/type CHAR is not supported/);
  });

  it('inconsistent pieces', () => {
    expect(load(concat(good, piece('▁the', -1)))).toThrow(/"▁the" is defined twice/);
    expect(load(concat(good, piece('<0x41>', 0, 6)))).toThrow(/byte_fallback is off/);
    expect(load(concat(good, trainerSpec(fVarint(35, 1))))).toThrow(/not all 256 byte pieces/);
    expect(load(concat(good, piece('<unk2>', 0, 2)))).toThrow(/more than one UNKNOWN/);
    const noUnk = concat(piece('a', -1), piece('b', -2), trainerSpec(fVarint(4, 2)), normalizerSpec(fBytes(1, new Uint8Array([0x78]))));
    expect(load(noUnk)).toThrow(/no UNKNOWN/);
  });

  it('a broken charsmap header is an error; a garbage trie never crashes encoding', () => {
    expect(load(concat(good, normalizerSpec(fBytes(2, new Uint8Array([1, 2, 3])))))).toThrow(/precompiled_charsmap is broken/);
    const rand = makeRng(SEED + 4);
    const blob = Uint8Array.from({ length: 4 + 4096 + 200 }, () => Math.floor(rand() * 256));
    new DataView(blob.buffer).setUint32(0, 4096, true);
    const tok = SiglipTokenizer.fromSentencePiece(concat(good, normalizerSpec(fBytes(2, blob))));
    for (let i = 0; i < 300; i++) {
      const ids = tok.encode(randomText(rand));
      expect(ids.every((id) => id >= 0 && id < tok.vocabSize)).toBe(true);
    }
  });

  it('fromSource names the full path of a bad spiece.model', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'siglip-tok-'));
    writeFileSync(join(dir, 'spiece.model'), good.subarray(0, 5000));
    await expect(SiglipTokenizer.fromSource(new DirectorySource(dir))).rejects.toThrow(join(dir, 'spiece.model'));
    const empty = mkdtempSync(join(tmpdir(), 'siglip-tok-'));
    await expect(SiglipTokenizer.fromSource(new DirectorySource(empty))).rejects.toThrow(/no tokenizer found/);
  });
});

describe('SentencePiece level: malformed UTF-8 bytes', () => {
  it('become U+FFFD one byte at a time, not normalized further (values from the sentencepiece 0.1.97 wheel)', () => {
    const sp = new SentencePieceProcessor(parseSentencePieceModel(concat(baseModel(), normalizerSpec(fVarint(3, 0)))), 'x');
    const enc = (b: number[]) => sp.encodeBytes(Uint8Array.from(b)).map((p) => Array.from(p, (c) => c.charCodeAt(0)));
    const FFFD = [0xef, 0xbf, 0xbd];
    expect(enc([0x61, 0xff, 0x62])).toEqual([[0x61], FFFD, [0x62]]);
    expect(enc([0xed, 0xa0, 0x80, 0x78])).toEqual([[...FFFD, ...FFFD, ...FFFD], [0x78]]); // encoded surrogate
    expect(enc([0xc0, 0xaf, 0x7a])).toEqual([[...FFFD, ...FFFD], [0x7a]]); // overlong
    expect(enc([0x61, 0x62, 0xe3, 0x81])).toEqual([[0x61], [0x62], [...FFFD, ...FFFD]]); // truncated
    expect(enc([0xf0, 0x9f, 0x98])).toEqual([[...FFFD, ...FFFD, ...FFFD]]);
    expect(enc(FFFD)).toEqual([]); // a real U+FFFD is deleted by nmt_nfkc's charsmap
  });
});

describe('call()', () => {
  const tok = SiglipTokenizer.fromSentencePiece(baseModel());
  it('rejects a maxLength below 1, and a row that cannot fit (maxLength 1, as transformers cannot truncate it)', () => {
    expect(() => tok.call(['a'], { maxLength: 0 })).toThrow(/maxLength/);
    expect(Array.from(tok.call([''], { maxLength: 1 }).inputIds)).toEqual([tok.eosId]);
    expect(() => tok.call(['a photo'], { maxLength: 1 })).toThrow(/more than maxLength 1/);
  });
  it('truncates keeping room for </s>', () => {
    const ids = tok.encode('a photo of a cat and a dog on a couch');
    for (const L of [2, 3, 5, 8]) {
      expect(Array.from(tok.call(['a photo of a cat and a dog on a couch'], { maxLength: L }).inputIds)).toEqual([...ids.slice(0, L - 1), tok.eosId]);
    }
  });
});
