/**
 * SiglipTokenizer against transformers v4.44.2's own outputs: test/fixtures/tokenizer/cases.json (40 strings,
 * padded and not, with and without lower-casing) and the input_ids of the siglip-tiny / siglip-odd references.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SiglipTokenizer } from '../../../src/model/tokenizer/index.js';
import { DirectorySource } from '../../../src/model/source-node.js';

const FIX = join(__dirname, '../../fixtures');
const modelBytes = () => new Uint8Array(readFileSync(join(FIX, 'tokenizer', 'test_sentencepiece.model')));

interface Case {
  text: string;
  tokens: string[];
  ids_padded: number[];
  ids_unpadded: number[];
  ids_padded_do_lower_case_false: number[];
  ids_unpadded_do_lower_case_false: number[];
}
const cases = JSON.parse(readFileSync(join(FIX, 'tokenizer', 'cases.json'), 'utf8')) as {
  max_length: number;
  vocabs: Record<string, { eos_token_id: number; pad_token_id: number; unk_token_id: number; piece_size: number; cases: Case[] }>;
};
const vocab = cases.vocabs['test_sentencepiece.model']!;

describe('SiglipTokenizer vs transformers (cases.json)', () => {
  const lower = SiglipTokenizer.fromSentencePiece(modelBytes());
  const upper = SiglipTokenizer.fromSentencePiece(modelBytes(), { doLowerCase: false });
  const L = cases.max_length;

  it('has the special ids and vocabulary size of the fixture', () => {
    expect(lower.vocabSize).toBe(vocab.piece_size);
    expect(lower.eosId).toBe(vocab.eos_token_id);
    expect(lower.padId).toBe(vocab.pad_token_id);
    expect(lower.unkId).toBe(vocab.unk_token_id);
    expect(lower.maxLength).toBe(64);
  });

  it.each(vocab.cases.map((c) => [JSON.stringify(c.text).slice(0, 60), c] as const))('%s', (_, c) => {
    expect(lower.tokenize(c.text)).toEqual(c.tokens);
    expect(lower.encode(c.text)).toEqual(c.ids_unpadded);
    expect(upper.encode(c.text)).toEqual(c.ids_unpadded_do_lower_case_false);
    expect(Array.from(lower.call([c.text], { maxLength: L }).inputIds)).toEqual(c.ids_padded);
    expect(Array.from(upper.call([c.text], { maxLength: L }).inputIds)).toEqual(c.ids_padded_do_lower_case_false);
  });

  it('batches all cases into one [B, L] tensor', () => {
    const { inputIds, shape } = lower.call(vocab.cases.map((c) => c.text), { maxLength: L });
    expect(shape).toEqual([vocab.cases.length, L]);
    vocab.cases.forEach((c, i) => expect(Array.from(inputIds.subarray(i * L, (i + 1) * L))).toEqual(c.ids_padded));
  });
});

describe.each(['siglip-tiny', 'siglip-odd'])('%s reference input_ids', (dir) => {
  it('match from the texts, via fromSource (tokenizer_config + special_tokens_map)', async () => {
    const ref = JSON.parse(readFileSync(join(FIX, dir, 'reference.json'), 'utf8')) as {
      texts: string[];
      input_ids: number[][];
      tokenizer: { max_length: number; eos_token_id: number; pad_token_id: number };
    };
    const tok = await SiglipTokenizer.fromSource(new DirectorySource(join(FIX, dir)));
    expect(tok.maxLength).toBe(ref.tokenizer.max_length); // from tokenizer_config.json's model_max_length
    expect(tok.eosId).toBe(ref.tokenizer.eos_token_id);
    expect(tok.padId).toBe(ref.tokenizer.pad_token_id);
    const { inputIds, shape } = tok.call(ref.texts);
    expect(shape).toEqual([ref.texts.length, ref.tokenizer.max_length]);
    expect(Array.from(inputIds)).toEqual(ref.input_ids.flat());
  });

  it('lets the model override maxLength', async () => {
    const tok = await SiglipTokenizer.fromSource(new DirectorySource(join(FIX, dir)), { maxLength: 7 });
    expect(tok.maxLength).toBe(7);
    expect(tok.call(['a photo of 2 cats']).shape).toEqual([1, 7]);
  });
});

describe('Python string semantics (values from CPython 3.11)', () => {
  it('lower-cases one character at a time (no final sigma), full mappings, special tokens kept', async () => {
    const { pyLowerPerChar, canonicalizeText } = await import('../../../src/model/tokenizer/python-text.js');
    expect(pyLowerPerChar('ΣΑΣ ΟΔΟΣ')).toBe('σασ οδοσ');
    expect(pyLowerPerChar('İSTANBUL')).toBe('i\u0307stanbul');
    expect(pyLowerPerChar('ǅẞ')).toBe('ǆß');
    expect(pyLowerPerChar('A\nB')).toBe('a\nb');
    expect(canonicalizeText('  a\u00a0\u2003b\x1c\ufeffc!!  ')).toBe('a b \ufeffc'); // U+FEFF is not Python whitespace
    expect(canonicalizeText('\x85x\u200by\u3000')).toBe('x\u200by');
    expect(canonicalizeText("don't-stop_(now)")).toBe('dontstopnow');
    expect(canonicalizeText('\u2028\u2029')).toBe('');
  });

  it('special tokens are not lower-cased, but upper-case look-alikes become them', () => {
    const tok = SiglipTokenizer.fromSentencePiece(modelBytes());
    expect(tok.tokenize('</S><UNK></s>X')).toEqual(['</s>', '<unk>', '</s>', 'x']);
    expect(SiglipTokenizer.fromSentencePiece(modelBytes(), { doLowerCase: false }).tokenize('<UNK>')).not.toContain('<unk>');
  });
});

describe('config from tokenizer_config.json / special_tokens_map.json', () => {
  it('special_tokens_map wins; huge model_max_length means "no limit" (64 is used)', async () => {
    const { configFromHfFiles } = await import('../../../src/model/tokenizer/index.js');
    const cfg = configFromHfFiles(
      { model_max_length: 1e30, do_lower_case: false, eos_token: '<s>', pad_token: '<unk>' },
      { eos_token: { content: '</s>', lstrip: true, rstrip: true } },
    );
    expect(cfg.doLowerCase).toBe(false);
    expect(cfg.modelMaxLength).toBeUndefined();
    expect(cfg.eosToken).toMatchObject({ content: '</s>', special: true, normalized: false });
    const tok = SiglipTokenizer.fromSentencePiece(modelBytes(), cfg);
    expect([tok.maxLength, tok.eosId, tok.padId, tok.unkId]).toEqual([64, 2, 0, 0]);
    expect(Array.from(tok.call(['Hi'], { maxLength: 5 }).inputIds)).toEqual([...tok.encode('Hi'), 0, 0].slice(0, 5));
  });
});
