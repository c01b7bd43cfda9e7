// spiece.model and tokenizer.json from a hostile or damaged checkpoint: bit flips, truncation and mutated JSON
// values. Loading either gives a tokenizer whose ids are all inside its vocabulary, or a CheckpointError naming the
// file — never another exception or a hang.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointError } from '../../../src/model/errors.js';
import { GemmaTokenizer, loadTokenizer, SiglipTokenizer, type TextTokenizer } from '../../../src/model/tokenizer/index.js';
import { FIXTURES } from '../../helpers/fixtures.js';
import { fc, flipBytes, fuzzParams, HOSTILE_VALUES, leafPaths, memorySource, withValue } from '../../helpers/fuzz.js';
import { toTokenizerJson } from './helpers.js';

const TEXTS = ['a photo of 2 cats', 'Ünïcödé 猫 🐈 text', '', '   spaces   ', 'x'.repeat(500)];
const spiece = new Uint8Array(readFileSync(join(FIXTURES, 'siglip-tiny', 'spiece.model')));
const tokenizerConfig = new Uint8Array(readFileSync(join(FIXTURES, 'siglip-tiny', 'tokenizer_config.json')));

async function loadOrError(files: Record<string, Uint8Array>, file: string): Promise<'ok' | 'refused'> {
  let tok: SiglipTokenizer;
  try {
    tok = await SiglipTokenizer.fromSource(memorySource({ 'tokenizer_config.json': tokenizerConfig, ...files }), { maxLength: 16 });
  } catch (e) {
    if (!(e instanceof CheckpointError)) throw new Error(`not a CheckpointError: ${(e as Error)?.stack ?? e}`);
    expect(e.file).toBe(file);
    return 'refused';
  }
  // A tokenizer that loads must give ids its own vocabulary holds (the model checks them against its table too).
  const { inputIds } = tok.call(TEXTS, { maxLength: 16 });
  for (const id of inputIds) expect(Number.isInteger(id) && id >= 0 && id < tok.vocabSize, `id ${id}`).toBe(true);
  return 'ok';
}

describe('tokenizer files fuzz', () => {
  it('spiece.model with flipped bytes or cut short: a working tokenizer or a CheckpointError', async () => {
    const counts = { ok: 0, refused: 0 };
    const edit = fc.oneof(
      fc.record({ flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 12 }) }),
      fc.record({ cut: fc.nat() }),
    );
    await fc.assert(
      fc.asyncProperty(edit, async (m) => {
        const bytes = 'cut' in m ? spiece.subarray(0, m.cut % spiece.length) : flipBytes(spiece, m.flips);
        counts[await loadOrError({ 'spiece.model': bytes }, 'spiece.model')]++;
      }),
      fuzzParams('spiece.model fuzz', 150, 20_000),
    );
    console.log(`[spiece.model fuzz] ${counts.ok} loaded, ${counts.refused} refused`);
    expect(counts.refused).toBeGreaterThan(0);
  });

  it('tokenizer.json with mutated values: a working tokenizer or a CheckpointError', async () => {
    const json = toTokenizerJson(spiece) as Record<string, unknown>;
    // The vocabulary's thousands of leaves would drown the rest: mutate its first entries and everything else.
    const paths = leafPaths({ ...json, model: { ...(json.model as object), vocab: (json.model as { vocab: unknown[] }).vocab.slice(0, 5) } });
    const counts = { ok: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...paths), fc.option(HOSTILE_VALUES, { nil: undefined }), async (path, value) => {
        const bytes = new TextEncoder().encode(JSON.stringify(withValue(json, path, value)));
        counts[await loadOrError({ 'tokenizer.json': bytes }, 'tokenizer.json')]++;
      }),
      fuzzParams('tokenizer.json fuzz', 120, 20_000),
    );
    console.log(`[tokenizer.json fuzz] ${counts.ok} loaded, ${counts.refused} refused`);
  });
});

// SigLIP 2's Gemma tokenizer files: the same promise for tokenizer.model (SentencePiece BPE) and a BPE tokenizer.json.
const gemmaDir = join(FIXTURES, 'siglip2-tiny');
const gemmaModel = new Uint8Array(readFileSync(join(gemmaDir, 'tokenizer.model')));
const gemmaConfig = new Uint8Array(readFileSync(join(gemmaDir, 'tokenizer_config.json')));
const gemmaJson = JSON.parse(readFileSync(join(gemmaDir, 'tokenizer.json'), 'utf8')) as Record<string, unknown>;

async function loadGemmaOrError(files: Record<string, Uint8Array>, file: string): Promise<'ok' | 'refused'> {
  let tok: TextTokenizer;
  try {
    tok = await loadTokenizer(memorySource({ 'tokenizer_config.json': gemmaConfig, ...files }), { maxLength: 16 });
  } catch (e) {
    if (!(e instanceof CheckpointError)) throw new Error(`not a CheckpointError: ${(e as Error)?.stack ?? e}`);
    expect(e.file).toBe(file);
    return 'refused';
  }
  expect(tok).toBeInstanceOf(GemmaTokenizer);
  const { inputIds } = tok.call(TEXTS, { maxLength: 16 });
  for (const id of inputIds) expect(Number.isInteger(id) && id >= 0 && id < tok.vocabSize, `id ${id}`).toBe(true);
  return 'ok';
}

describe('Gemma tokenizer files fuzz', () => {
  it('tokenizer.model with flipped bytes or cut short: a working tokenizer or a CheckpointError', async () => {
    const counts = { ok: 0, refused: 0 };
    const edit = fc.oneof(
      fc.record({ flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 12 }) }),
      fc.record({ cut: fc.nat() }),
    );
    await fc.assert(
      fc.asyncProperty(edit, async (m) => {
        const bytes = 'cut' in m ? gemmaModel.subarray(0, m.cut % gemmaModel.length) : flipBytes(gemmaModel, m.flips);
        counts[await loadGemmaOrError({ 'tokenizer.model': bytes }, 'tokenizer.model')]++;
      }),
      fuzzParams('tokenizer.model fuzz', 150, 20_000),
    );
    console.log(`[tokenizer.model fuzz] ${counts.ok} loaded, ${counts.refused} refused`);
    expect(counts.refused).toBeGreaterThan(0);
  });

  it('a BPE tokenizer.json with mutated values: a working tokenizer or a CheckpointError', async () => {
    const model = gemmaJson.model as { vocab: Record<string, number>; merges: unknown[] };
    // Mutate a few vocabulary entries and merges and every other field; the thousands of the rest would drown them.
    const small = { ...gemmaJson, model: { ...model, vocab: Object.fromEntries(Object.entries(model.vocab).slice(0, 5)), merges: model.merges.slice(0, 5) } };
    const paths = leafPaths(small);
    const counts = { ok: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...paths), fc.option(HOSTILE_VALUES, { nil: undefined }), async (path, value) => {
        const bytes = new TextEncoder().encode(JSON.stringify(withValue(gemmaJson, path, value)));
        counts[await loadGemmaOrError({ 'tokenizer.json': bytes }, 'tokenizer.json')]++;
      }),
      fuzzParams('BPE tokenizer.json fuzz', 120, 20_000),
    );
    console.log(`[BPE tokenizer.json fuzz] ${counts.ok} loaded, ${counts.refused} refused`);
    expect(counts.refused).toBeGreaterThan(0);
  });
});
