/**
 * SentencePiece's unigram model: Viterbi over the normalized UTF-8 bytes exactly as unigram::Model::EncodeOptimized
 * does it (float32 path scores, first-best kept on ties, one UNK node of score min_score - 10 for any character with
 * no one-character piece, user-defined pieces scored length * max_score - 0.1), then the post-processing of
 * SentencePieceProcessor::PopulateSentencePieceText (runs of unknown pieces merged, or split into <0xXX> byte
 * pieces when byte_fallback is on). Pieces are handled as "binary strings" (one char per byte).
 */
import { byteToPiece, pieceKeys, PieceType, type SentencePieceModel } from './sentencepiece-model.js';
import { oneCharLen } from './utf8.js';

const FLT_MIN = 1.1754943508222875e-38;
const UNK_PENALTY = 10;
const f32 = Math.fround;

export interface EncodedPiece {
  /** The piece's UTF-8 bytes as a binary string. */
  piece: string;
  id: number;
}

/** What SentencePieceProcessor needs of a segmentation model (unigram here, BPE in bpe.ts). */
export interface PieceModel {
  readonly unkId: number;
  readonly size: number;
  pieceToId(piece: string): number;
  exactId(piece: string): number | undefined;
  piece(id: number): string;
  encode(text: string): EncodedPiece[];
  postprocess(pieces: EncodedPiece[]): EncodedPiece[];
}

export class UnigramModel implements PieceModel {
  readonly unkId: number;
  readonly byteFallback: boolean;
  readonly size: number;
  private readonly types: Uint8Array;
  private readonly scores: Float32Array;
  private readonly minScore: number;
  private readonly maxScore: number;
  /** Pieces the lattice can use (NORMAL, USER_DEFINED, UNUSED), sorted bytewise, with their ids: a compact trie. */
  private readonly sortedKeys: string[];
  private readonly sortedIds: Int32Array;
  /** PieceToId: CONTROL/UNKNOWN/BYTE pieces are looked up first, as in ModelInterface. */
  private readonly reserved = new Map<string, number>();
  private readonly normal = new Map<string, number>();
  private readonly idToPiece: string[];

  constructor(model: SentencePieceModel) {
    this.types = model.types;
    this.scores = model.scores;
    this.byteFallback = model.trainer.byteFallback;
    this.size = model.pieces.length;
    this.idToPiece = pieceKeys(model);
    let unk = -1;
    let min = Infinity;
    let max = FLT_MIN; // SentencePiece starts max_score_ at FLT_MIN, not -FLT_MAX
    const keys: string[] = [];
    for (let i = 0; i < this.size; i++) {
      const t = this.types[i]!;
      const key = this.idToPiece[i]!;
      if (t === PieceType.NORMAL || t === PieceType.USER_DEFINED || t === PieceType.UNUSED) {
        if (!this.normal.has(key)) (this.normal.set(key, i), keys.push(key));
      } else if (!this.reserved.has(key)) {
        this.reserved.set(key, i);
      }
      if (t === PieceType.UNKNOWN) unk = i;
      if (t === PieceType.NORMAL) {
        min = Math.min(min, this.scores[i]!);
        max = Math.max(max, this.scores[i]!);
      }
    }
    this.unkId = unk;
    this.minScore = Number.isFinite(min) ? min : f32(3.4028234663852886e38);
    this.maxScore = max;
    // Default sort compares UTF-16 code units, which for binary strings is SentencePiece's bytewise order.
    keys.sort();
    this.sortedKeys = keys;
    this.sortedIds = Int32Array.from(keys, (k) => this.normal.get(k)!);
  }

  pieceToId(piece: string): number {
    return this.reserved.get(piece) ?? this.normal.get(piece) ?? this.unkId;
  }

  /** Id of a piece that is in the vocabulary (any type), else undefined. */
  exactId(piece: string): number | undefined {
    return this.reserved.get(piece) ?? this.normal.get(piece);
  }

  piece(id: number): string {
    return this.idToPiece[id] ?? '';
  }

  type(id: number): number {
    return this.types[id] ?? 0;
  }

  /** First index in [lo, hi) whose byte at `depth` is >= c (keys that end before `depth` sort first). */
  private lowerBound(lo: number, hi: number, depth: number, c: number): number {
    const keys = this.sortedKeys;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const k = keys[mid]!;
      const v = k.length > depth ? k.charCodeAt(depth) : -1;
      if (v < c) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Best segmentation of `text` (a binary string of normalized UTF-8), as unigram::Model::EncodeOptimized. */
  encode(text: string): EncodedPiece[] {
    const size = text.length;
    if (size === 0) return [];
    const best = new Float64Array(size + 1); // always float32-representable values
    const from = new Int32Array(size + 1).fill(-1);
    const ids = new Int32Array(size + 1);
    const unkScore = f32(this.minScore - UNK_PENALTY);
    const keys = this.sortedKeys;
    const consider = (end: number, start: number, id: number, cand: number) => {
      if (from[end] === -1 || cand > best[end]!) {
        best[end] = f32(cand);
        from[end] = start;
        ids[end] = id;
      }
    };
    for (let start = 0; start < size; ) {
      const mblen = Math.min(oneCharLen(text.charCodeAt(start)), size - start);
      const base = best[start]!;
      let hasSingle = false;
      let lo = 0;
      let hi = keys.length;
      for (let k = start; k < size; k++) {
        const depth = k - start;
        const c = text.charCodeAt(k);
        const nlo = this.lowerBound(lo, hi, depth, c);
        const nhi = this.lowerBound(nlo, hi, depth, c + 1);
        if (nlo === nhi) break; // no piece continues with this byte
        lo = nlo;
        hi = nhi;
        if (keys[lo]!.length !== depth + 1) continue;
        const id = this.sortedIds[lo]!;
        const type = this.types[id]!;
        if (type === PieceType.UNUSED) continue;
        const length = depth + 1;
        // User-defined: (float)(length * max_score) - 0.1 is a double in C++; the sum is stored back as float.
        const cand = type === PieceType.USER_DEFINED ? f32(length * this.maxScore) - 0.1 + base : f32(this.scores[id]! + base);
        consider(start + length, start, id, cand);
        if (length === mblen) hasSingle = true;
      }
      if (!hasSingle) consider(start + mblen, start, this.unkId, f32(unkScore + base));
      start += mblen;
    }
    const out: EncodedPiece[] = [];
    for (let end = size; end > 0; ) {
      const start = from[end]!;
      if (start < 0 || start >= end) throw new Error('unigram: broken lattice (internal error)');
      out.push({ piece: text.slice(start, end), id: ids[end]! });
      end = start;
    }
    return out.reverse();
  }

  postprocess(pieces: EncodedPiece[]): EncodedPiece[] {
    return resolveUnknownPieces(pieces, this.types, this.byteFallback, (piece) => this.pieceToId(piece));
  }
}

/**
 * SentencePiece's PopulateSentencePieceText treatment of unknown pieces, for either segmentation model: spelled as
 * byte pieces when the model has byte fallback, else a run of unknowns merged into one.
 */
export function resolveUnknownPieces(pieces: EncodedPiece[], types: ArrayLike<number>, byteFallback: boolean, pieceToId: (piece: string) => number): EncodedPiece[] {
  const out: EncodedPiece[] = [];
  let prevUnk = false;
  for (const p of pieces) {
    const isUnk = types[p.id] === PieceType.UNKNOWN;
    if (isUnk && byteFallback) {
      for (let i = 0; i < p.piece.length; i++) {
        const bp = byteToPiece(p.piece.charCodeAt(i));
        out.push({ piece: bp, id: pieceToId(bp) });
      }
    } else if (isUnk && prevUnk) {
      out[out.length - 1]!.piece += p.piece;
    } else {
      out.push({ ...p });
    }
    prevUnk = isUnk;
  }
  return out;
}
