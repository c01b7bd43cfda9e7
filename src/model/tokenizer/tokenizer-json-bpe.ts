/**
 * A Hugging Face `tokenizer.json` with a BPE model — Gemma's, as transformers' GemmaConverter writes it for SigLIP 2
 * checkpoints — turned into the data a SentencePiece BPE `tokenizer.model` gives, plus the merges in rank order
 * (which then decide the merge order, as in tokenizers; bpe.ts). What else such a file may say, and how it maps:
 *  - normalizer: Replace(" " → "▁") = SentencePiece's escaped whitespace, Prepend("▁") = a dummy prefix,
 *    Lowercase = lower-casing (SigLIP 2's own tokenizer in later transformers); nothing else is accepted;
 *  - pre_tokenizer: none, or Split(" ") (a no-op once the normalizer has replaced every space);
 *  - post_processor: a TemplateProcessing that appends or prepends special tokens (read for add_bos / add_eos when
 *    tokenizer_config.json does not say);
 *  - added tokens: special → CONTROL pieces; non-special and not normalized → USER_DEFINED (kept whole).
 */
import { addedTokenFromJson, type AddedTokenSpec } from './config.js';
import { MODEL_TYPE_BPE, PieceType, validateModel, type SentencePieceModel } from './sentencepiece-model.js';

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const encoder = new TextEncoder();

export interface BpeTokenizerJson {
  model: SentencePieceModel;
  addedTokens: AddedTokenSpec[];
  /** A Lowercase step in the normalizer. */
  lowerCase: boolean;
  /** From the post-processor's template, when it has one. */
  addBos?: boolean;
  addEos?: boolean;
}

function steps(n: unknown): Json[] {
  if (!isObj(n)) return [];
  if (n.type === 'Sequence' && Array.isArray(n.normalizers)) return n.normalizers.flatMap(steps);
  return [n];
}

const patternString = (p: unknown): string | undefined => (isObj(p) && typeof p.String === 'string' ? p.String : undefined);

function parseMerges(raw: unknown, where: string): [string, string][] {
  if (!Array.isArray(raw)) throw new Error(`${where}: model.merges is missing or not a list`);
  return raw.map((m, i) => {
    if (Array.isArray(m) && m.length === 2 && typeof m[0] === 'string' && typeof m[1] === 'string') return [m[0], m[1]];
    if (typeof m === 'string') {
      // The older "left right" form (pieces hold no spaces: the normalizer turned them into ▁).
      const parts = m.split(' ');
      if (parts.length === 2 && parts[0] && parts[1]) return [parts[0], parts[1]];
    }
    throw new Error(`${where}: model.merges[${i}] is not a pair of pieces`);
  });
}

export function bpeModelFromTokenizerJson(json: unknown, where = 'tokenizer.json'): BpeTokenizerJson {
  if (!isObj(json) || !isObj(json.model)) throw new Error(`${where}: not a tokenizer.json (no "model" object)`);
  const m = json.model;
  if (m.type !== 'BPE') throw new Error(`${where}: tokenizer model type ${JSON.stringify(m.type ?? null)} is not supported here; the Gemma tokenizer is BPE`);
  if (!isObj(m.vocab)) throw new Error(`${where}: model.vocab is missing or not an object`);
  for (const key of ['continuing_subword_prefix', 'end_of_word_suffix'] as const) {
    if (m[key] !== undefined && m[key] !== null && m[key] !== '') throw new Error(`${where}: model.${key} is not supported (Gemma's BPE has none)`);
  }
  if (m.dropout !== undefined && m.dropout !== null) throw new Error(`${where}: model.dropout is not supported (a deterministic tokenizer has none)`);
  const entries = Object.entries(m.vocab);
  const n = entries.length;
  if (n === 0) throw new Error(`${where}: model.vocab is empty`);
  const pieces: Uint8Array[] = new Array(n);
  for (const [piece, id] of entries) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= n) {
      throw new Error(`${where}: model.vocab["${piece}"] = ${JSON.stringify(id)}: ids must be 0..${n - 1}`);
    }
    if (pieces[id]) throw new Error(`${where}: model.vocab gives id ${id} twice`);
    pieces[id] = encoder.encode(piece);
  }
  const types = new Uint8Array(n).fill(PieceType.NORMAL);
  const byteFallback = m.byte_fallback === true;
  if (byteFallback) for (const [p, id] of entries) if (/^<0x[0-9A-F]{2}>$/.test(p)) types[id as number] = PieceType.BYTE;

  const addedTokens: AddedTokenSpec[] = [];
  if (json.added_tokens !== undefined && !Array.isArray(json.added_tokens)) throw new Error(`${where}: added_tokens is not a list`);
  for (const t of (json.added_tokens as unknown[] | undefined) ?? []) {
    const id = isObj(t) && typeof t.id === 'number' && Number.isInteger(t.id) ? t.id : -1;
    const spec = addedTokenFromJson(t, where, id);
    if (id < 0) throw new Error(`${where}: added token ${JSON.stringify(spec.content)} has no id`);
    if (spec.special) {
      addedTokens.push(spec);
      if (id < n) types[id] = PieceType.CONTROL;
    } else if (!spec.normalized && id < n) {
      types[id] = PieceType.USER_DEFINED;
    } else {
      addedTokens.push(spec);
    }
  }
  const unk = m.unk_token;
  const unkId = typeof unk === 'string' ? (m.vocab as Json)[unk] : undefined;
  if (typeof unkId !== 'number') throw new Error(`${where}: model.unk_token is missing or not in the vocabulary; SentencePiece needs an unknown piece`);
  types[unkId] = PieceType.UNKNOWN;

  let escape = false;
  let prefix = false;
  let lowerCase = false;
  for (const step of steps(json.normalizer)) {
    const type = String(step.type);
    if (type === 'Replace' && patternString(step.pattern) === ' ' && step.content === '\u2581') escape = true;
    else if (type === 'Prepend' && step.prepend === '\u2581') prefix = true;
    else if (type === 'Lowercase') lowerCase = true;
    else throw new Error(`${where}: normalizer ${type} ${JSON.stringify(step).slice(0, 80)} is not supported (the Gemma tokenizer's is Replace(" ", "▁"))`);
  }
  const pre = json.pre_tokenizer;
  if (pre !== undefined && pre !== null) {
    const noop = isObj(pre) && pre.type === 'Split' && patternString(pre.pattern) === ' ' && escape;
    if (!noop) throw new Error(`${where}: pre_tokenizer ${JSON.stringify(pre).slice(0, 80)} is not supported (the Gemma tokenizer has none that applies)`);
  }
  const template = isObj(json.post_processor) && json.post_processor.type === 'TemplateProcessing' && Array.isArray(json.post_processor.single) ? json.post_processor.single : null;
  let addBos: boolean | undefined;
  let addEos: boolean | undefined;
  if (template) {
    const at = template.findIndex((x) => isObj(x) && isObj(x.Sequence));
    const special = (x: unknown) => (isObj(x) && isObj(x.SpecialToken) ? String(x.SpecialToken.id) : null);
    addBos = template.slice(0, Math.max(0, at)).some((x) => special(x) !== null);
    addEos = template.slice(at + 1).some((x) => special(x) !== null);
  }
  const model: SentencePieceModel = {
    pieces,
    scores: new Float32Array(n),
    types,
    trainer: { modelType: MODEL_TYPE_BPE, byteFallback, treatWhitespaceAsSuffix: false },
    normalizer: { name: 'tokenizer.json', precompiledCharsmap: new Uint8Array(0), addDummyPrefix: prefix, removeExtraWhitespaces: false, escapeWhitespaces: escape },
    merges: parseMerges(m.merges, where),
  };
  validateModel(model, where, [MODEL_TYPE_BPE]);
  return { model, addedTokens, lowerCase, addBos, addEos };
}
