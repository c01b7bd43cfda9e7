/**
 * GemmaTokenizer (SigLIP 2) against transformers v4.50's GemmaTokenizer: test/fixtures/tokenizer-bpe/cases.json (40
 * strings: tokens, ids with and without special tokens, padded to 64, and padded for the lower-cased text), from
 * tokenizer.model (SentencePiece BPE) and from tokenizer.json (tokenizers' BPE with merges), and the input_ids of the
 * siglip2-tiny / siglip2-naflex-tiny references.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DirectorySource } from '../../../src/model/source-node.js';
import { configFromHfFiles, GemmaTokenizer, loadTokenizer, SiglipTokenizer } from '../../../src/model/tokenizer/index.js';
import { FIXTURES } from '../../helpers/fixtures.js';

interface Case {
  text: string;
  tokens: string[];
  ids_no_special: number[];
  ids_unpadded: number[];
  ids_padded: number[];
  ids_padded_lowercased: number[];
}
const cases = JSON.parse(readFileSync(join(FIXTURES, 'tokenizer-bpe', 'cases.json'), 'utf8')) as { cases: Case[]; special_ids: Record<string, number> };
const DIR = join(FIXTURES, 'siglip2-tiny');
const json = (f: string) => JSON.parse(readFileSync(join(DIR, f), 'utf8')) as unknown;
const config = configFromHfFiles(json('tokenizer_config.json'), json('special_tokens_map.json'));
const model = new Uint8Array(readFileSync(join(DIR, 'tokenizer.model')));

const variants = {
  'tokenizer.model': (lowerCase: boolean) => GemmaTokenizer.fromSentencePiece(model, config, 'tokenizer.model', { lowerCase }),
  'tokenizer.json': (lowerCase: boolean) => GemmaTokenizer.fromTokenizerJson(json('tokenizer.json'), config, 'tokenizer.json', { lowerCase }),
};

describe.each(Object.keys(variants) as (keyof typeof variants)[])('GemmaTokenizer from %s vs transformers (cases.json)', (file) => {
  const asWritten = variants[file](false);
  const lower = variants[file](true);

  it('has Gemma\'s special ids, no BOS, EOS appended, 64 long by default', () => {
    expect(asWritten.vocabSize).toBe(1536);
    expect([asWritten.padId, asWritten.eosId, asWritten.bosId, asWritten.unkId]).toEqual([0, 1, 2, 3]);
    expect([asWritten.addBos, asWritten.addEos]).toEqual([false, true]);
    expect(asWritten.maxLength).toBe(64);
    expect(lower.lowerCase).toBe(true);
  });

  it.each(cases.cases.map((c) => [JSON.stringify(c.text).slice(0, 60), c] as const))('%s', (_, c) => {
    expect(asWritten.tokenize(c.text)).toEqual(c.tokens);
    expect(asWritten.encode(c.text)).toEqual(c.ids_unpadded);
    expect(asWritten.encode(c.text).slice(0, -1)).toEqual(c.ids_no_special);
    expect(Array.from(asWritten.call([c.text]).inputIds)).toEqual(c.ids_padded);
    expect(Array.from(lower.call([c.text]).inputIds)).toEqual(c.ids_padded_lowercased);
  });

  it('batches every case into one [B, 64] tensor', () => {
    const { inputIds, shape } = lower.call(cases.cases.map((c) => c.text));
    expect(shape).toEqual([cases.cases.length, 64]);
    cases.cases.forEach((c, i) => expect(Array.from(inputIds.subarray(i * 64, (i + 1) * 64))).toEqual(c.ids_padded_lowercased));
  });
});

describe.each(['siglip2-tiny', 'siglip2-naflex-tiny'])('%s reference input_ids', (dir) => {
  it('match from the texts as written (lowerCase: false), loaded by class from the checkpoint', async () => {
    const ref = JSON.parse(readFileSync(join(FIXTURES, dir, 'reference.json'), 'utf8')) as { texts: string[]; input_ids: number[][] };
    const tok = await loadTokenizer(new DirectorySource(join(FIXTURES, dir)), { maxLength: 64, lowerCase: false });
    expect(tok).toBeInstanceOf(GemmaTokenizer);
    const { inputIds, shape } = tok.call(ref.texts);
    expect(shape).toEqual([ref.texts.length, 64]);
    expect(Array.from(inputIds)).toEqual(ref.input_ids.flat());
  });

  it('lower-cases by default', async () => {
    const tok = await loadTokenizer(new DirectorySource(join(FIXTURES, dir)));
    expect(tok.lowerCase).toBe(true);
    expect(tok.encode('A PHOTO OF 2 CATS')).toEqual(tok.encode('a photo of 2 cats'));
    // Special tokens are cut out before lower-casing: "<EOS>" stays text, "<eos>" is the token.
    expect(tok.encode('x <eos>')).toContain(1);
    expect(tok.encode('x <EOS>').slice(0, -1)).not.toContain(1);
  });
});

describe('which tokenizer a checkpoint has', () => {
  it('SigLIP v1 checkpoints still get SiglipTokenizer', async () => {
    expect(await loadTokenizer(new DirectorySource(join(FIXTURES, 'siglip-tiny')))).toBeInstanceOf(SiglipTokenizer);
  });

  it('a BPE model is refused by SiglipTokenizer, a unigram one by GemmaTokenizer, naming the file', () => {
    expect(() => SiglipTokenizer.fromSentencePiece(model, {}, 'x/tokenizer.model')).toThrow(/x\/tokenizer\.model: SentencePiece model type BPE is not supported; SigLIP \(v1\) needs a UNIGRAM model/);
    const unigram = new Uint8Array(readFileSync(join(FIXTURES, 'siglip-tiny', 'spiece.model')));
    expect(() => GemmaTokenizer.fromSentencePiece(unigram, {}, 'y/spiece.model')).toThrow(/y\/spiece\.model: SentencePiece model type UNIGRAM is not supported; the Gemma tokenizer \(SigLIP 2\) needs a BPE model/);
  });
});
