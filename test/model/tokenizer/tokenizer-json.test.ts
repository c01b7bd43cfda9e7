/**
 * tokenizer.json (Hugging Face fast format, Unigram model): converted in the test from the fixture spiece.model
 * (and its byte-fallback / user-defined variants), it must give the same ids as the spiece.model path.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BlobSource } from '../../../src/model/source.js';
import { configFromHfFiles, SiglipTokenizer } from '../../../src/model/tokenizer/index.js';
import { baseModel, byteFallbackModel, concat, piece, TOKENIZER_FIXTURES, toTokenizerJson } from './helpers.js';

const FIX = join(__dirname, '../../fixtures');

const cases = JSON.parse(readFileSync(join(TOKENIZER_FIXTURES, 'cases.json'), 'utf8')).vocabs['test_sentencepiece.model'].cases as {
  text: string;
  ids_unpadded: number[];
}[];
const generated = JSON.parse(readFileSync(join(TOKENIZER_FIXTURES, 'generated_cases.json'), 'utf8')).variants as {
  name: string;
  config: unknown;
  cases: { text: string; ids?: number[] }[];
}[];
const texts = [...cases.map((c) => c.text), ...generated.find((v) => v.name === 'base')!.cases.map((c) => c.text)];

describe('tokenizer.json path', () => {
  const userDefined = concat(baseModel(), piece('photo', 0, 4), piece('▁cat', 0, 4), piece('猫', 0, 4));
  it.each([
    ['base', baseModel()],
    ['byte fallback', byteFallbackModel()],
    ['user-defined pieces', userDefined],
  ])('%s: same ids as spiece.model on %#', (_, bytes) => {
    for (const lower of [true, false]) {
      const a = SiglipTokenizer.fromSentencePiece(bytes, { doLowerCase: lower });
      const b = SiglipTokenizer.fromTokenizerJson(toTokenizerJson(bytes), { doLowerCase: lower });
      expect([b.vocabSize, b.eosId, b.padId, b.unkId]).toEqual([a.vocabSize, a.eosId, a.padId, a.unkId]);
      const diffs = texts.filter((t) => JSON.stringify(a.encode(t)) !== JSON.stringify(b.encode(t)));
      expect(diffs.slice(0, 5)).toEqual([]);
      expect(Array.from(b.call(texts.slice(0, 100), { maxLength: 16 }).inputIds)).toEqual(Array.from(a.call(texts.slice(0, 100), { maxLength: 16 }).inputIds));
    }
  });

  it('matches transformers on cases.json', () => {
    const tok = SiglipTokenizer.fromTokenizerJson(toTokenizerJson(baseModel()));
    for (const c of cases) expect(tok.encode(c.text)).toEqual(c.ids_unpadded);
  });

  it('takes the added tokens of tokenizer_config.json when given (extra special and normalized tokens)', () => {
    const v = generated.find((g) => g.name === 'extra_special')!;
    const cfg = configFromHfFiles(v.config, undefined);
    const tok = SiglipTokenizer.fromTokenizerJson(toTokenizerJson(baseModel()), cfg);
    for (const c of v.cases) expect(tok.encode(c.text), JSON.stringify(c.text)).toEqual(c.ids);
  });

  it('fromSource falls back to tokenizer.json when there is no spiece.model', async () => {
    const ref = JSON.parse(readFileSync(join(FIX, 'siglip-tiny', 'reference.json'), 'utf8'));
    const file = (name: string) => new Blob([readFileSync(join(FIX, 'siglip-tiny', name))]);
    const source = new BlobSource({
      'tokenizer.json': new Blob([JSON.stringify(toTokenizerJson(baseModel()))]),
      'tokenizer_config.json': file('tokenizer_config.json'),
      'special_tokens_map.json': file('special_tokens_map.json'),
    });
    const tok = await SiglipTokenizer.fromSource(source);
    expect(Array.from(tok.call(ref.texts).inputIds)).toEqual(ref.input_ids.flat());
  });

  it('clear errors for what it cannot use', () => {
    const good = toTokenizerJson(baseModel()) as { model: Record<string, unknown>; normalizer: unknown };
    const load = (j: unknown) => () => SiglipTokenizer.fromTokenizerJson(j, {}, 'x/tokenizer.json');
    expect(load({ ...good, model: { type: 'BPE', vocab: {}, merges: [] } })).toThrow(/x\/tokenizer\.json: tokenizer model type "BPE" is not supported/);
    expect(load({ ...good, model: { ...good.model, unk_id: null } })).toThrow(/x\/tokenizer\.json: model\.unk_id/);
    expect(load({ ...good, model: { ...good.model, vocab: [['a', 'b']] } })).toThrow(/model\.vocab\[0\]/);
    expect(load({ ...good, normalizer: { type: 'NFKC' } })).toThrow(/normalizer NFKC is not supported/);
    expect(load({ ...good, normalizer: { type: 'Precompiled', precompiled_charsmap: '!!!' } })).toThrow(/not valid base64/);
    expect(load([])).toThrow(/not a tokenizer\.json/);
  });
});
