/**
 * SigLIP's tokenizer, id for id what transformers v4.44.2 `SiglipTokenizer` (the slow, SentencePiece-based one)
 * returns. Its pipeline, in order:
 *   1. prepend U+2581 ("▁") after turning every "▁" in the text into a space (SiglipTokenizer.tokenize);
 *   2. lower-case everything but special tokens, one character at a time (do_lower_case);
 *   3. cut the text around added tokens (</s>, <unk>, ...), which strip the whitespace next to them;
 *   4. for each remaining piece: canonicalize_text (drop ASCII punctuation, collapse whitespace, strip), then
 *      SentencePiece-encode "<unk>" + piece with add_dummy_prefix off, and drop as many leading pieces as
 *      "<unk>" alone encodes to (that is how transformers gets a "▁" only where the text had one);
 *   5. drop a leading lone "▁" piece if a special token follows it; map pieces to ids (added tokens first);
 *   6. append </s> unless the ids already end with it, truncating first so that it fits; pad right.
 */
import { AddedTokens, type VocabLookup } from './added-tokens.js';
import { configFromHfFiles, type SiglipTokenizerConfig } from './config.js';
import { fromBinary, SentencePieceProcessor, toBinary } from './processor.js';
import { canonicalizeText } from './python-text.js';
import { MODEL_TYPE_UNIGRAM, parseSentencePieceModel, type SentencePieceModel } from './sentencepiece-model.js';
import { sentencePieceModelFromTokenizerJson } from './tokenizer-json.js';
import { readJson, type FileSource } from '../source.js';
import { parsingFile } from '../errors.js';

export type { SiglipTokenizerConfig } from './config.js';

const SPIECE_UNDERLINE = '\u2581';
const DEFAULT_MAX_LENGTH = 64;

export class SiglipTokenizer {
  readonly kind = 'siglip' as const;
  readonly vocabSize: number;
  readonly padId: number;
  readonly eosId: number;
  readonly unkId: number;
  /** Default sequence length of `call` (tokenizer_config's model_max_length, else 64). */
  maxLength: number;
  /** Lower-case before tokenizing (tokenizer_config's do_lower_case, default true); may be changed. */
  lowerCase: boolean;
  private readonly sp: SentencePieceProcessor;
  private readonly added: AddedTokens;
  private readonly unkToken: string;
  private readonly unkTokenLength: number;

  private constructor(model: SentencePieceModel, config: SiglipTokenizerConfig, where: string) {
    // transformers' get_spm_processor merges normalizer_spec.add_dummy_prefix = False into the model.
    this.sp = new SentencePieceProcessor({ ...model, normalizer: { ...model.normalizer, addDummyPrefix: false } }, where);
    this.vocabSize = this.sp.pieceSize;
    this.lowerCase = config.doLowerCase ?? true;
    this.maxLength = config.modelMaxLength ?? DEFAULT_MAX_LENGTH;
    // get_vocab() of transformers: every piece once (pieces are unique, parseSentencePieceModel checks it).
    const lookup: VocabLookup = { exactId: (p) => this.sp.model.exactId(toBinary(p)), distinctPieces: () => this.vocabSize };
    this.added = new AddedTokens(config, lookup, where);
    this.eosId = this.added.special.eos.id;
    this.padId = this.added.special.pad.id;
    this.unkToken = this.added.special.unk.content;
    this.unkId = this.added.special.unk.id;
    this.unkTokenLength = this.sp.encodeBinary(this.unkToken).length;
  }

  /** tokenizer_config's name for `lowerCase`. */
  get doLowerCase(): boolean {
    return this.lowerCase;
  }

  /** From the bytes of a `spiece.model` (SentencePiece ModelProto). */
  static fromSentencePiece(bytes: Uint8Array, config: SiglipTokenizerConfig = {}, fileName = 'spiece.model'): SiglipTokenizer {
    return new SiglipTokenizer(parseSentencePieceModel(bytes, fileName, [MODEL_TYPE_UNIGRAM]), config, fileName);
  }

  /** From a parsed Hugging Face `tokenizer.json` with a Unigram model; same ids as the equivalent spiece.model. */
  static fromTokenizerJson(json: unknown, config: SiglipTokenizerConfig = {}, fileName = 'tokenizer.json'): SiglipTokenizer {
    const { model, addedTokens } = sentencePieceModelFromTokenizerJson(json, fileName);
    return new SiglipTokenizer(model, { ...config, addedTokens: config.addedTokens ?? addedTokens }, fileName);
  }

  /** Reads spiece.model (or else tokenizer.json) plus tokenizer_config.json / special_tokens_map.json if present. */
  static async fromSource(source: FileSource, opts: { maxLength?: number; lowerCase?: boolean } = {}): Promise<SiglipTokenizer> {
    const [tc, sm] = await Promise.all(
      ['tokenizer_config.json', 'special_tokens_map.json'].map(async (f) => ((await source.has(f)) ? readJson(source, f) : undefined)),
    );
    // Whatever a file's content makes a parser throw is a CheckpointError naming that file.
    const config = parsingFile(source.locate('tokenizer_config.json'), () => configFromHfFiles(tc, sm, source.locate('tokenizer_config.json')));
    let tok: SiglipTokenizer;
    if (await source.has('spiece.model')) {
      const bytes = await source.read('spiece.model');
      const file = source.locate('spiece.model');
      tok = parsingFile(file, () => SiglipTokenizer.fromSentencePiece(bytes, config, file));
    } else if (await source.has('tokenizer.json')) {
      const json = await readJson(source, 'tokenizer.json');
      const file = source.locate('tokenizer.json');
      tok = parsingFile(file, () => SiglipTokenizer.fromTokenizerJson(json, config, file));
    } else {
      throw new Error(`${source.description}: no tokenizer found (neither spiece.model nor tokenizer.json)`);
    }
    if (opts.maxLength !== undefined) tok.maxLength = opts.maxLength;
    if (opts.lowerCase !== undefined) tok.lowerCase = opts.lowerCase;
    return tok;
  }

  /** SiglipTokenizer._tokenize: SentencePiece without its dummy prefix, via the "<unk>" prefix trick. */
  private spTokenize(text: string): string[] {
    const pieces = this.sp.encodeBinary(this.unkToken + canonicalizeText(text));
    const kept = pieces.length >= this.unkTokenLength ? pieces.slice(this.unkTokenLength) : pieces;
    return kept.map(fromBinary);
  }

  /** The tokens transformers' `tokenizer.tokenize(text)` returns (no </s>). */
  tokenize(text: string): string[] {
    let t = SPIECE_UNDERLINE + text.replaceAll(SPIECE_UNDERLINE, ' ');
    if (this.lowerCase) t = this.added.lowerCase(t);
    const tokens: string[] = [];
    for (const part of this.added.split(t)) {
      if (part.added) tokens.push(part.text);
      else for (const p of this.spTokenize(part.text)) tokens.push(p);
    }
    if (tokens.length > 1 && tokens[0] === SPIECE_UNDERLINE && this.added.specialTokens.includes(tokens[1]!)) tokens.shift();
    return tokens;
  }

  /** Ids of the tokens, without </s> (convert_tokens_to_ids: added tokens first, then piece_to_id). */
  private idsWithoutEos(text: string): number[] {
    return this.tokenize(text).map((t) => this.added.byContent.get(t)?.id ?? this.sp.pieceToId(t));
  }

  /** build_inputs_with_special_tokens: </s> appended unless already last. */
  private addEos(ids: number[]): number[] {
    return ids.length > 0 && ids[ids.length - 1] === this.eosId ? ids : [...ids, this.eosId];
  }

  /** Ids with </s>, neither padded nor truncated (`tokenizer(text).input_ids`). */
  encode(text: string): number[] {
    return this.addEos(this.idsWithoutEos(text));
  }

  /**
   * One row of `tokenizer(text, truncation=True, max_length=L)`: room is kept for one </s> (prepare_for_model
   * truncates to L - 1 ids first, unless that would remove everything, in which case transformers leaves the ids
   * alone), then </s> is added unless the truncated ids already end with it.
   */
  encodeTruncated(text: string, maxLength: number): number[] {
    let ids = this.idsWithoutEos(text);
    const remove = ids.length + 1 - maxLength;
    if (maxLength > 0 && remove > 0 && ids.length > remove) ids = ids.slice(0, ids.length - remove);
    return this.addEos(ids);
  }

  /** Batch as `SiglipTokenizer(texts, padding='max_length', truncation=True, max_length)` returns it. */
  call(texts: string[], opts: { maxLength?: number } = {}): { inputIds: Int32Array; shape: [number, number] } {
    const L = opts.maxLength ?? this.maxLength;
    if (!Number.isInteger(L) || L < 1) throw new Error(`SiglipTokenizer: maxLength must be a positive integer, got ${L}`);
    const out = new Int32Array(texts.length * L).fill(this.padId);
    texts.forEach((text, row) => {
      const ids = this.encodeTruncated(text, L);
      // Only possible when L is 1: transformers cannot truncate and would return a longer, ragged row.
      if (ids.length > L) throw new Error(`SiglipTokenizer: text ${row} needs ${ids.length} ids, more than maxLength ${L}`);
      out.set(ids, row * L);
    });
    return { inputIds: out, shape: [texts.length, L] };
  }
}
