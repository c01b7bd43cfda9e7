/**
 * BPE segmentation, in the two forms a Gemma tokenizer comes in (SigLIP 2's text side):
 *  - `tokenizer.model`, a SentencePiece BPE model, as bpe::Model::SampleEncode does it without sampling: the text
 *    is cut into characters (user-defined pieces, longest first, as one frozen symbol), then the adjacent pair whose
 *    concatenation is the vocabulary piece with the HIGHEST score is merged, again and again, ties going to the
 *    leftmost pair; UNUSED pieces are split back into the pieces they were merged from;
 *  - `tokenizer.json` (tokenizers' BPE), as Word::merge_all does it: the pair with the LOWEST merge rank first, ties
 *    to the leftmost; characters outside the vocabulary become their <0xNN> byte pieces before merging.
 * Both keep stale queue entries and skip them when popped (the C++ and Rust do the same), so the order of merges,
 * and so the result, is theirs. Pieces are binary strings (one char per UTF-8 byte), as in unigram.ts.
 */
import { byteToPiece, pieceKeys, PieceType, type SentencePieceModel } from './sentencepiece-model.js';
import { resolveUnknownPieces, type EncodedPiece, type PieceModel } from './unigram.js';
import { oneCharLen } from './utf8.js';

/** A candidate merge in the queue: symbols `left` and `right`, its priority, and what it makes. */
interface Pair {
  left: number;
  right: number;
  /** SentencePiece: the merged piece's score (higher first). tokenizers: −rank (so higher first too). */
  priority: number;
  /** SentencePiece: byte length of the merged piece (stale check). tokenizers: id of the merged piece. */
  check: number;
}

/** A binary max-heap on (priority, then smaller left first). */
class PairHeap {
  private readonly items: Pair[] = [];

  get size(): number {
    return this.items.length;
  }

  private before(a: Pair, b: Pair): boolean {
    return a.priority > b.priority || (a.priority === b.priority && a.left < b.left);
  }

  push(p: Pair): void {
    const h = this.items;
    h.push(p);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  pop(): Pair {
    const h = this.items;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.before(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.before(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

const pairKey = (a: string, b: string) => `${a.length}:${a}${b}`;

export class BpeModel implements PieceModel {
  readonly unkId: number;
  readonly byteFallback: boolean;
  readonly size: number;
  private readonly types: Uint8Array;
  private readonly scores: Float32Array;
  private readonly idToPiece: string[];
  /** Pieces merges may produce (NORMAL, USER_DEFINED, UNUSED): SentencePiece's `pieces_`. */
  private readonly normal = new Map<string, number>();
  /** CONTROL, UNKNOWN and BYTE pieces: looked up first by PieceToId. */
  private readonly reserved = new Map<string, number>();
  /** User-defined pieces by byte length, longest first: frozen single symbols (PrefixMatcher). */
  private readonly userByLength: [number, Set<string>][];
  /** tokenizers' merges: "left,right" → [rank, id of the merged piece]; null for a SentencePiece model. */
  private readonly merges: Map<string, [number, number]> | null;

  constructor(model: SentencePieceModel, where = 'tokenizer') {
    this.types = model.types;
    this.scores = model.scores;
    this.byteFallback = model.trainer.byteFallback;
    this.size = model.pieces.length;
    this.idToPiece = pieceKeys(model);
    let unk = -1;
    const user = new Map<number, Set<string>>();
    for (let i = 0; i < this.size; i++) {
      const t = this.types[i]!;
      const key = this.idToPiece[i]!;
      if (t === PieceType.NORMAL || t === PieceType.USER_DEFINED || t === PieceType.UNUSED) {
        if (!this.normal.has(key)) this.normal.set(key, i);
      } else if (!this.reserved.has(key)) {
        this.reserved.set(key, i);
      }
      if (t === PieceType.USER_DEFINED) {
        let set = user.get(key.length);
        if (!set) user.set(key.length, (set = new Set()));
        set.add(key);
      }
      if (t === PieceType.UNKNOWN) unk = i;
    }
    this.unkId = unk;
    this.userByLength = [...user].sort((a, b) => b[0] - a[0]);
    if (model.merges) {
      this.merges = new Map();
      const enc = new TextEncoder();
      const bin = (s: string) => String.fromCharCode(...enc.encode(s));
      model.merges.forEach(([a, b], rank) => {
        const ka = bin(a);
        const kb = bin(b);
        const id = this.normal.get(ka + kb) ?? this.reserved.get(ka + kb);
        if (id === undefined) throw new Error(`${where}: merge ${rank} ("${a}" + "${b}") makes a piece that is not in the vocabulary`);
        const k = pairKey(ka, kb);
        if (!this.merges!.has(k)) this.merges!.set(k, [rank, id]);
      });
    } else {
      this.merges = null;
    }
  }

  pieceToId(piece: string): number {
    return this.reserved.get(piece) ?? this.normal.get(piece) ?? this.unkId;
  }

  exactId(piece: string): number | undefined {
    return this.reserved.get(piece) ?? this.normal.get(piece);
  }

  piece(id: number): string {
    return this.idToPiece[id] ?? '';
  }

  /** Length of the user-defined piece at `pos` (longest), or 0. */
  private userMatch(text: string, pos: number): number {
    for (const [len, set] of this.userByLength) {
      if (len <= text.length - pos && set.has(text.slice(pos, pos + len))) return len;
    }
    return 0;
  }

  /** Segments `text` (a binary string of normalized UTF-8). */
  encode(text: string): EncodedPiece[] {
    if (text.length === 0) return [];
    return this.merges ? this.encodeByRank(text) : this.encodeByScore(text);
  }

  /** SentencePiece's bpe::Model (no sampling). */
  private encodeByScore(text: string): EncodedPiece[] {
    // Symbols: [start, length) spans of `text`; length 0 once merged into the symbol on their left.
    const start: number[] = [];
    const len: number[] = [];
    const frozen: boolean[] = [];
    for (let pos = 0; pos < text.length; ) {
      const user = this.userMatch(text, pos);
      const n = user || Math.min(oneCharLen(text.charCodeAt(pos)), text.length - pos);
      start.push(pos);
      len.push(n);
      frozen.push(user > 0);
      pos += n;
    }
    const count = start.length;
    const prev = Array.from({ length: count }, (_, i) => i - 1);
    const next = Array.from({ length: count }, (_, i) => (i + 1 < count ? i + 1 : -1));
    const heap = new PairHeap();
    // Pieces that UNUSED merges produced, and what they were merged from (resegmentation).
    const revMerge = new Map<string, [string, string]>();
    const piece = (i: number) => text.slice(start[i]!, start[i]! + len[i]!);
    const maybeAdd = (left: number, right: number) => {
      if (left < 0 || right < 0 || frozen[left] || frozen[right]) return;
      const merged = text.slice(start[left]!, start[left]! + len[left]! + len[right]!);
      const id = this.normal.get(merged);
      if (id === undefined) return;
      heap.push({ left, right, priority: this.scores[id]!, check: merged.length });
      if (this.types[id] === PieceType.UNUSED) revMerge.set(merged, [piece(left), piece(right)]);
    };
    for (let i = 1; i < count; i++) maybeAdd(i - 1, i);
    while (heap.size) {
      const top = heap.pop();
      if (len[top.left] === 0 || len[top.right] === 0 || len[top.left]! + len[top.right]! !== top.check) continue;
      len[top.left] = top.check;
      next[top.left] = next[top.right]!;
      if (next[top.right]! >= 0) prev[next[top.right]!] = top.left;
      len[top.right] = 0;
      maybeAdd(prev[top.left]!, top.left);
      maybeAdd(top.left, next[top.left]!);
    }
    const out: EncodedPiece[] = [];
    const resegment = (w: string) => {
      const id = this.pieceToId(w);
      const back = this.types[id] === PieceType.UNUSED ? revMerge.get(w) : undefined;
      if (!back) {
        out.push({ piece: w, id });
        return;
      }
      resegment(back[0]);
      resegment(back[1]);
    };
    for (let i = 0; i !== -1; i = next[i]!) resegment(piece(i));
    return out;
  }

  /** tokenizers' BPE (Word::merge_all, no dropout), with its byte fallback on the initial characters. */
  private encodeByRank(text: string): EncodedPiece[] {
    const merges = this.merges!;
    const ids: number[] = [];
    const pieces: string[] = [];
    const frozen: boolean[] = [];
    for (let pos = 0; pos < text.length; ) {
      // Added tokens that are not special (tokenizers splits them out before the model): one symbol, never merged.
      const user = this.userMatch(text, pos);
      const n = user || Math.min(oneCharLen(text.charCodeAt(pos)), text.length - pos);
      const ch = text.slice(pos, pos + n);
      const id = this.exactId(ch);
      while (frozen.length < ids.length) frozen.push(false);
      if (user) {
        ids.push(id!);
        pieces.push(ch);
        frozen.push(true);
      } else if (id !== undefined) {
        ids.push(id);
        pieces.push(ch);
      } else if (this.byteFallback) {
        for (let i = 0; i < n; i++) {
          const b = byteToPiece(ch.charCodeAt(i));
          ids.push(this.pieceToId(b));
          pieces.push(b);
        }
      } else {
        ids.push(this.unkId);
        pieces.push(ch);
      }
      pos += n;
    }
    const count = ids.length;
    while (frozen.length < count) frozen.push(false);
    const prev = Array.from({ length: count }, (_, i) => i - 1);
    const next = Array.from({ length: count }, (_, i) => (i + 1 < count ? i + 1 : -1));
    const alive = new Array<boolean>(count).fill(true);
    const heap = new PairHeap();
    const lookup = (a: number, b: number) => (frozen[a] || frozen[b] ? undefined : merges.get(pairKey(pieces[a]!, pieces[b]!)));
    const add = (a: number, b: number) => {
      const m = lookup(a, b);
      if (m) heap.push({ left: a, right: b, priority: -m[0], check: m[1] });
    };
    for (let i = 1; i < count; i++) add(i - 1, i);
    while (heap.size) {
      const top = heap.pop();
      const pos = top.left;
      if (!alive[pos] || next[pos] === -1) continue;
      const right = next[pos]!;
      const m = lookup(pos, right);
      if (!m || m[1] !== top.check) continue;
      pieces[pos] = pieces[pos]! + pieces[right]!;
      ids[pos] = m[1];
      alive[right] = false;
      next[pos] = next[right]!;
      if (next[right]! >= 0) prev[next[right]!] = pos;
      if (prev[pos]! >= 0) add(prev[pos]!, pos);
      if (next[pos]! >= 0) add(pos, next[pos]!);
    }
    const out: EncodedPiece[] = [];
    for (let i = 0; i !== -1; i = next[i]!) out.push({ piece: pieces[i]!, id: ids[i]! });
    return out;
  }

  /** PopulateSentencePieceText's treatment of unknown pieces: bytes with byte fallback, else runs merged. */
  postprocess(pieces: EncodedPiece[]): EncodedPiece[] {
    return resolveUnknownPieces(pieces, this.types, this.byteFallback, (piece) => this.pieceToId(piece));
  }
}
