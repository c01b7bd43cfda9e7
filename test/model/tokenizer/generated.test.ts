/**
 * The ~1800 extra cases of test/fixtures/tokenizer/generated_cases.json: made by scripts/gen-tokenizer-cases.py with
 * the real SentencePiece library (0.1.97) and a re-implementation of transformers' SiglipTokenizer wrapper that
 * reproduces every transformers-made case first. Model variants are the fixture model plus appended protobuf
 * fields (stored as hex), rebuilt here the same way.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configFromHfFiles, SiglipTokenizer } from '../../../src/model/tokenizer/index.js';

const DIR = join(__dirname, '../../fixtures', 'tokenizer');
const base = new Uint8Array(readFileSync(join(DIR, 'test_sentencepiece.model')));

interface GenCase {
  text: string;
  ids?: number[];
  n?: number;
  call64?: number[];
  ids_nolower?: number[] | { n: number; call64: number[] };
  call16: number[];
}
interface Variant {
  name: string;
  description: string;
  append_hex: string;
  vocab_size: number;
  config: unknown;
  cases: GenCase[];
}
const gen = JSON.parse(readFileSync(join(DIR, 'generated_cases.json'), 'utf8')) as { provenance: string; variants: Variant[] };

const hex = (s: string) => Uint8Array.from(s.match(/../g) ?? [], (h) => parseInt(h, 16));
const concat = (a: Uint8Array, b: Uint8Array) => {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
};
const label = (t: string) => JSON.stringify(t.length > 50 ? t.slice(0, 50) + '…' : t);

describe.each(gen.variants.map((v) => [v.name, v] as const))('generated cases: %s', (_, v) => {
  const bytes = concat(base, hex(v.append_hex));
  const cfg = v.config ? configFromHfFiles(v.config, undefined) : {};
  const lower = SiglipTokenizer.fromSentencePiece(bytes, cfg, `${v.name}.model`);
  const upper = SiglipTokenizer.fromSentencePiece(bytes, { ...cfg, doLowerCase: false }, `${v.name}.model`);

  it('vocabulary size', () => expect(lower.vocabSize).toBe(v.vocab_size));

  it(`${v.cases.length} texts: ids, ids without lower-casing, batch of max_length 16 (and 64 for long texts)`, () => {
    const failures: string[] = [];
    const check = (what: string, text: string, got: number[], want: number[]) => {
      if (JSON.stringify(got) !== JSON.stringify(want)) failures.push(`${what} ${label(text)}\n  got  ${got}\n  want ${want}`);
    };
    for (const c of v.cases) {
      const ids = lower.encode(c.text);
      if (c.ids) check('ids', c.text, ids, c.ids);
      if (c.n !== undefined) check('n', c.text, [ids.length], [c.n]);
      if (c.call64) check('call64', c.text, Array.from(lower.call([c.text], { maxLength: 64 }).inputIds), c.call64);
      check('call16', c.text, Array.from(lower.call([c.text], { maxLength: 16 }).inputIds), c.call16);
      const nl = c.ids_nolower ?? c.ids;
      if (Array.isArray(nl)) check('ids_nolower', c.text, upper.encode(c.text), nl);
      else if (nl) check('call64_nolower', c.text, Array.from(upper.call([c.text], { maxLength: 64 }).inputIds), nl.call64);
    }
    expect(failures.slice(0, 10).join('\n')).toBe('');
  });
});
