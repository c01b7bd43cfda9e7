/**
 * SigLIP 2's tokenizer: Gemma's SentencePiece BPE model with byte fallback, id for id what transformers v4.50's
 * `GemmaTokenizer` (the slow one) returns, with lower-casing in front of it. Its pipeline, in order:
 *   1. cut the text around added tokens (<pad>, <eos>, <bos>, <unk>, <start_of_turn>, …: no whitespace stripping);
 *   2. lower-case each remaining piece of text (on by default, see below);
 *   3. SentencePiece on each piece as the model file says: Gemma's has an identity normalizer, no dummy prefix, keeps
 *      runs of spaces, turns each space into "▁"; user-defined pieces (<mask>, "\n", "\t") stay whole; BPE merges;
 *      characters outside the vocabulary become their UTF-8 bytes as <0xNN> pieces;
 *   4. <bos> in front if add_bos_token (SigLIP 2: no), <eos> after if add_eos_token (SigLIP 2: yes), truncating first
 *      so that they fit; pad right with <pad> (id 0; SigLIP v1 pads with </s>).
 *
 * Lower-casing: SigLIP 2 was trained on lower-cased text and its checkpoints say `do_lower_case: true`, but
 * GemmaTokenizer (≤ v4.5x) ignores that; the lower-casing `Siglip2Tokenizer` of later transformers versions puts a
 * Lowercase normalizer after the added-token split, which is what step 2 does. `lowerCase: false` gives v4.50's ids.
 */
import { AddedTokens, GEMMA_SPECIALS, type VocabLookup } from './added-tokens.js';
import { configFromHfFiles, type SiglipTokenizerConfig } from './config.js';
import { fromBinary, SentencePieceProcessor, toBinary } from './processor.js';
import { pyLower } from './python-text.js';
import { MODEL_TYPE_BPE, parseSentencePieceModel, type SentencePieceModel } from './sentencepiece-model.js';
import { bpeModelFromTokenizerJson } from './tokenizer-json-bpe.js';
import { readJson, type FileSource } from '../source.js';
import { parsingFile } from '../errors.js';

const DEFAULT_MAX_LENGTH = 64;

export interface GemmaTokenizerOptions {
  /** Lower-case the text (default true: SigLIP 2 was trained on lower-cased text). */
  lowerCase?: boolean;
}

export class GemmaTokenizer {
  readonly kind = 'gemma' as const;
  readonly vocabSize: number;
  readonly padId: number;
  readonly eosId: number;
  readonly bosId: number | null;
  readonly unkId: number;
  readonly addBos: boolean;
  readonly addEos: boolean;
  /** Default sequence length of `call` (64 unless set: SigLIP 2's text length). */
  maxLength: number;
  /** Whether `tokenize`/`call` lower-case the text first. */
  lowerCase: boolean;
  private readonly sp: SentencePieceProcessor;
  private readonly added: AddedTokens;

  private constructor(model: SentencePieceModel, config: SiglipTokenizerConfig, opts: GemmaTokenizerOptions & { addBos?: boolean; addEos?: boolean }, where: string) {
    this.sp = new SentencePieceProcessor(model, where);
    this.vocabSize = this.sp.pieceSize;
    const lookup: VocabLookup = { exactId: (p) => this.sp.model.exactId(toBinary(p)), distinctPieces: () => this.vocabSize };
    this.added = new AddedTokens(config, lookup, where, GEMMA_SPECIALS);
    this.eosId = this.added.special.eos.id;
    this.padId = this.added.special.pad.id;
    this.unkId = this.added.special.unk.id;
    this.bosId = this.added.special.bos?.id ?? null;
    // GemmaTokenizer's own defaults are add_bos_token=True, add_eos_token=False; SigLIP 2's config turns them around.
    this.addBos = config.addBosToken ?? opts.addBos ?? true;
    this.addEos = config.addEosToken ?? opts.addEos ?? false;
    if (this.addBos && this.bosId === null) throw new Error(`${where}: add_bos_token is true but there is no bos_token`);
    for (const [name, id] of [['eos', this.eosId], ['pad', this.padId], ['bos', this.bosId]] as const) {
      if (id !== null && id >= this.vocabSize) throw new Error(`${where}: ${name}_token has id ${id}, outside the vocabulary of ${this.vocabSize}`);
    }
    this.maxLength = config.modelMaxLength !== undefined && config.modelMaxLength <= 4096 ? config.modelMaxLength : DEFAULT_MAX_LENGTH;
    this.lowerCase = opts.lowerCase ?? true;
  }

  /** From the bytes of a `tokenizer.model` (a SentencePiece BPE ModelProto). */
  static fromSentencePiece(bytes: Uint8Array, config: SiglipTokenizerConfig = {}, fileName = 'tokenizer.model', opts: GemmaTokenizerOptions = {}): GemmaTokenizer {
    return new GemmaTokenizer(parseSentencePieceModel(bytes, fileName, [MODEL_TYPE_BPE]), config, opts, fileName);
  }

  /** From a parsed `tokenizer.json` with a BPE model; the same ids as the equivalent tokenizer.model. */
  static fromTokenizerJson(json: unknown, config: SiglipTokenizerConfig = {}, fileName = 'tokenizer.json', opts: GemmaTokenizerOptions = {}): GemmaTokenizer {
    const t = bpeModelFromTokenizerJson(json, fileName);
    return new GemmaTokenizer(
      t.model,
      { ...config, addedTokens: config.addedTokens ?? t.addedTokens },
      { lowerCase: opts.lowerCase ?? (t.lowerCase || undefined), addBos: t.addBos, addEos: t.addEos },
      fileName,
    );
  }

  /** Reads tokenizer.model (or else tokenizer.json) plus tokenizer_config.json / special_tokens_map.json if present. */
  static async fromSource(source: FileSource, opts: GemmaTokenizerOptions & { maxLength?: number } = {}): Promise<GemmaTokenizer> {
    const [tc, sm] = await Promise.all(
      ['tokenizer_config.json', 'special_tokens_map.json'].map(async (f) => ((await source.has(f)) ? readJson(source, f) : undefined)),
    );
    const config = parsingFile(source.locate('tokenizer_config.json'), () => configFromHfFiles(tc, sm, source.locate('tokenizer_config.json')));
    const flags = { lowerCase: opts.lowerCase };
    let tok: GemmaTokenizer;
    // tokenizer.model as checkpoints name it; a SentencePiece file handed over under v1's name (spiece.model) too.
    const spm = (await source.has('tokenizer.model')) ? 'tokenizer.model' : (await source.has('spiece.model')) ? 'spiece.model' : null;
    if (spm) {
      const bytes = await source.read(spm);
      const file = source.locate(spm);
      tok = parsingFile(file, () => GemmaTokenizer.fromSentencePiece(bytes, config, file, flags));
    } else if (await source.has('tokenizer.json')) {
      const json = await readJson(source, 'tokenizer.json');
      const file = source.locate('tokenizer.json');
      tok = parsingFile(file, () => GemmaTokenizer.fromTokenizerJson(json, config, file, flags));
    } else {
      throw new Error(`${source.description}: no Gemma tokenizer found (neither tokenizer.model nor tokenizer.json)`);
    }
    if (opts.maxLength !== undefined) tok.maxLength = opts.maxLength;
    return tok;
  }

  /** The tokens of `text`: what `GemmaTokenizer.tokenize` gives (for lower-cased text when `lowerCase` is on). */
  tokenize(text: string): string[] {
    const tokens: string[] = [];
    for (const part of this.added.split(text)) {
      if (part.added) tokens.push(part.text);
      else for (const p of this.sp.encodeBinary(this.lowerCase ? pyLower(part.text) : part.text)) tokens.push(fromBinary(p));
    }
    return tokens;
  }

  /** Ids without special tokens (added tokens by their ids, pieces by piece_to_id). */
  private idsWithoutSpecials(text: string): number[] {
    return this.tokenize(text).map((t) => this.added.byContent.get(t)?.id ?? this.sp.pieceToId(t));
  }

  private withSpecials(ids: number[]): number[] {
    return [...(this.addBos ? [this.bosId!] : []), ...ids, ...(this.addEos ? [this.eosId] : [])];
  }

  /** Ids with the special tokens, neither padded nor truncated (`tokenizer(text).input_ids`). */
  encode(text: string): number[] {
    return this.withSpecials(this.idsWithoutSpecials(text));
  }

  /** `tokenizer(text, truncation=True, max_length=L)`: the text's ids cut so that the special tokens fit. */
  encodeTruncated(text: string, maxLength: number): number[] {
    let ids = this.idsWithoutSpecials(text);
    const specials = (this.addBos ? 1 : 0) + (this.addEos ? 1 : 0);
    const remove = ids.length + specials - maxLength;
    // As transformers' truncate_sequences: nothing is cut when that would remove every id (it logs an error).
    if (remove > 0 && ids.length > remove) ids = ids.slice(0, ids.length - remove);
    return this.withSpecials(ids);
  }

  /** Batch as `tokenizer(texts, padding='max_length', truncation=True, max_length)` returns it: [B, L], right-padded. */
  call(texts: string[], opts: { maxLength?: number } = {}): { inputIds: Int32Array; shape: [number, number] } {
    const L = opts.maxLength ?? this.maxLength;
    if (!Number.isInteger(L) || L < 1) throw new Error(`GemmaTokenizer: maxLength must be a positive integer, got ${L}`);
    const out = new Int32Array(texts.length * L).fill(this.padId);
    texts.forEach((text, row) => {
      const ids = this.encodeTruncated(text, L);
      if (ids.length > L) throw new Error(`GemmaTokenizer: text ${row} needs ${ids.length} ids, more than maxLength ${L}`);
      out.set(ids, row * L);
    });
    return { inputIds: out, shape: [texts.length, L] };
  }
}
