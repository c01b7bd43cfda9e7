/**
 * A Hugging Face `tokenizer.json` (tokenizers' fast format) with a Unigram model, turned into the same data a
 * `spiece.model` gives, so that both go through one SentencePiece pipeline and give the same ids:
 * vocab [[piece, score], ...] -> pieces; unk_id -> the UNKNOWN piece; special added tokens in the vocabulary ->
 * CONTROL pieces, non-special unnormalized ones -> USER_DEFINED pieces (how transformers' converter writes
 * SentencePiece's types); "<0xXX>" pieces -> BYTE when byte_fallback is on; a Precompiled normalizer's base64
 * charsmap -> precompiled_charsmap. Whitespace handling is SentencePiece's default (collapse, strip, escape as ▁),
 * which the converter expresses as Strip/Replace(" {2,}")/Metaspace steps.
 */
import { addedTokenFromJson, type AddedTokenSpec } from './config.js';
import { PieceType, validateModel, type SentencePieceModel } from './sentencepiece-model.js';

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const encoder = new TextEncoder();

/** Normalizer steps that do not change what the SentencePiece pipeline does (or that SigLIP's wrapper redoes). */
const HARMLESS_NORMALIZERS = new Set(['Precompiled', 'Strip', 'Replace', 'Lowercase', 'Prepend', 'Sequence']);

function decodeBase64(s: string, where: string): Uint8Array {
  try {
    const bin = atob(s);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  } catch {
    throw new Error(`${where}: normalizer.precompiled_charsmap is not valid base64`);
  }
}

/** All normalizer steps, flattening Sequence. */
function normalizerSteps(n: unknown): Json[] {
  if (!isObj(n)) return [];
  if (n.type === 'Sequence' && Array.isArray(n.normalizers)) return n.normalizers.flatMap(normalizerSteps);
  return [n];
}

export function sentencePieceModelFromTokenizerJson(
  json: unknown,
  where = 'tokenizer.json',
): { model: SentencePieceModel; addedTokens: AddedTokenSpec[] } {
  if (!isObj(json) || !isObj(json.model)) throw new Error(`${where}: not a tokenizer.json (no "model" object)`);
  const m = json.model;
  if (m.type !== 'Unigram') {
    throw new Error(`${where}: tokenizer model type ${JSON.stringify(m.type ?? null)} is not supported; SigLIP needs a Unigram model`);
  }
  if (!Array.isArray(m.vocab) || m.vocab.length === 0) throw new Error(`${where}: model.vocab is missing or empty`);
  const n = m.vocab.length;
  const pieces: Uint8Array[] = new Array(n);
  const scores = new Float32Array(n);
  const types = new Uint8Array(n).fill(PieceType.NORMAL);
  m.vocab.forEach((e: unknown, i: number) => {
    if (!Array.isArray(e) || typeof e[0] !== 'string' || typeof e[1] !== 'number') {
      throw new Error(`${where}: model.vocab[${i}] is not a [piece, score] pair`);
    }
    pieces[i] = encoder.encode(e[0]);
    scores[i] = e[1];
  });
  const byteFallback = m.byte_fallback === true;
  if (byteFallback) {
    m.vocab.forEach((e: unknown[], i: number) => {
      if (/^<0x[0-9A-F]{2}>$/.test(e[0] as string)) types[i] = PieceType.BYTE;
    });
  }
  const addedTokens: AddedTokenSpec[] = [];
  if (json.added_tokens !== undefined && !Array.isArray(json.added_tokens)) throw new Error(`${where}: added_tokens is not a list`);
  for (const t of (json.added_tokens as unknown[] | undefined) ?? []) {
    const id = isObj(t) && typeof t.id === 'number' ? t.id : -1;
    const spec = addedTokenFromJson(t, where, id);
    if (id < 0) throw new Error(`${where}: added token ${JSON.stringify(spec.content)} has no id`);
    if (spec.special) {
      addedTokens.push(spec);
      if (id < n) types[id] = PieceType.CONTROL;
    } else if (!spec.normalized && id < n) {
      types[id] = PieceType.USER_DEFINED; // SentencePiece user_defined_symbols, matched inside the model
    } else {
      addedTokens.push(spec);
    }
  }
  if (typeof m.unk_id !== 'number' || !Number.isInteger(m.unk_id) || m.unk_id < 0 || m.unk_id >= n) {
    throw new Error(`${where}: model.unk_id is missing or out of range; SentencePiece needs an unknown piece`);
  }
  types[m.unk_id] = PieceType.UNKNOWN;

  let charsmap: Uint8Array = new Uint8Array(0);
  for (const step of normalizerSteps(json.normalizer)) {
    const type = String(step.type);
    if (!HARMLESS_NORMALIZERS.has(type)) {
      throw new Error(`${where}: normalizer ${type} is not supported (SigLIP's tokenizer is SentencePiece's charsmap)`);
    }
    if (type === 'Precompiled' && typeof step.precompiled_charsmap === 'string' && step.precompiled_charsmap !== '') {
      charsmap = decodeBase64(step.precompiled_charsmap, where);
    }
  }
  const model: SentencePieceModel = {
    pieces,
    scores,
    types,
    trainer: { modelType: 1, byteFallback, treatWhitespaceAsSuffix: false },
    normalizer: {
      name: 'tokenizer.json',
      precompiledCharsmap: charsmap,
      addDummyPrefix: false,
      removeExtraWhitespaces: true,
      escapeWhitespaces: true,
    },
  };
  validateModel(model, where);
  return { model, addedTokens };
}
