/**
 * The part of SentencePieceProcessor that SiglipTokenizer and GemmaTokenizer use: `encode(text, out_type=str)`, `piece_to_id`,
 * `get_piece_size`. Built from a parsed ModelProto (or the equivalent data from a tokenizer.json).
 */
import { SentencePieceNormalizer } from './normalizer.js';
import { binaryString, MODEL_TYPE_BPE, PieceType, type SentencePieceModel } from './sentencepiece-model.js';
import { BpeModel } from './bpe.js';
import { UnigramModel, type PieceModel } from './unigram.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });

/** Binary string (one char per byte) -> JS string. */
export function fromBinary(s: string): string {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
  return decoder.decode(b);
}

/** JS string -> binary string of its UTF-8 (lone surrogates become U+FFFD, as TextEncoder does). */
export function toBinary(s: string): string {
  return binaryString(encoder.encode(s));
}

export class SentencePieceProcessor {
  /** Unigram (SigLIP's spiece.model) or BPE (Gemma's tokenizer.model / tokenizer.json), as the model says. */
  readonly model: PieceModel;
  readonly normalizer: SentencePieceNormalizer;

  constructor(spm: SentencePieceModel, where: string) {
    this.model = spm.trainer.modelType === MODEL_TYPE_BPE ? new BpeModel(spm, where) : new UnigramModel(spm);
    const userDefined = spm.pieces.filter((_, i) => spm.types[i] === PieceType.USER_DEFINED);
    this.normalizer = new SentencePieceNormalizer(spm.normalizer, spm.trainer.treatWhitespaceAsSuffix, userDefined, where);
  }

  get pieceSize(): number {
    return this.model.size;
  }

  /** Pieces as binary strings (exact bytes); `fromBinary` turns them into text. */
  encodeBinary(text: string): string[] {
    return this.encodeBytes(encoder.encode(text));
  }

  /** Like encodeBinary from raw UTF-8 (malformed bytes become U+FFFD, one per byte, as in SentencePiece). */
  encodeBytes(utf8: Uint8Array): string[] {
    const normalized = this.normalizer.normalize(utf8);
    const pieces = this.model.postprocess(this.model.encode(binaryString(normalized)));
    return pieces.map((p) => p.piece);
  }

  encodeAsPieces(text: string): string[] {
    return this.encodeBinary(text).map(fromBinary);
  }

  pieceToId(piece: string): number {
    return this.model.pieceToId(toBinary(piece));
  }

  idToPiece(id: number): string {
    return fromBinary(this.model.piece(id));
  }
}
