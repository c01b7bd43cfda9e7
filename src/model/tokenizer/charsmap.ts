/**
 * SentencePiece's precompiled character map: `<uint32 LE trie size><darts-clone double array><NUL-separated
 * replacement strings>`. The double array maps UTF-8 byte sequences to offsets of their replacement in the string
 * blob; the normalizer takes the longest match at each position (Normalizer::NormalizePrefix).
 */

export class PrecompiledCharsmap {
  private readonly units: Uint32Array;
  private readonly strings: Uint8Array;
  private readonly cache = new Map<number, Uint8Array>();

  constructor(blob: Uint8Array, where: string) {
    // Same checks as Normalizer::DecodePrecompiledCharsMap.
    if (blob.byteLength <= 4) throw new Error(`${where}: precompiled_charsmap is broken (${blob.byteLength} bytes)`);
    const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
    const trieSize = dv.getUint32(0, true);
    if (trieSize >= blob.byteLength) {
      throw new Error(`${where}: precompiled_charsmap is broken (trie of ${trieSize} bytes in a ${blob.byteLength}-byte blob)`);
    }
    const n = Math.floor(trieSize / 4);
    if (n === 0 || 4 + trieSize > blob.byteLength) {
      throw new Error(`${where}: precompiled_charsmap is broken (trie of ${trieSize} bytes)`);
    }
    this.units = new Uint32Array(n);
    for (let i = 0; i < n; i++) this.units[i] = dv.getUint32(4 + 4 * i, true);
    this.strings = blob.subarray(4 + trieSize);
  }

  /**
   * Longest rule matching a prefix of `input[pos..end)`: returns the byte length matched (0 if none) and writes the
   * replacement to `out.value`. This is darts-clone's commonPrefixSearch, keeping only the longest hit. Indices
   * that fall outside the array (only in a corrupt blob) end the search instead of reading out of bounds.
   */
  longestMatch(input: Uint8Array, pos: number, end: number, out: { value: Uint8Array }): number {
    const units = this.units;
    let id = (units[0]! >>> 10) << ((units[0]! & (1 << 9)) >>> 6);
    let best = 0;
    let bestValue = -1;
    for (let i = pos; i < end; i++) {
      const c = input[i]!;
      id = (id ^ c) >>> 0;
      if (id >= units.length) break;
      const unit = units[id]!;
      // label(): low byte plus the leaf flag (bit 31); a leaf unit never equals a byte.
      if ((unit & 0x800000ff) >>> 0 !== c) break;
      id = (id ^ ((unit >>> 10) << ((unit & (1 << 9)) >>> 6))) >>> 0;
      if ((unit >>> 8) & 1) {
        if (id >= units.length) break;
        best = i + 1 - pos;
        bestValue = units[id]! & 0x7fffffff;
      }
    }
    if (best > 0) out.value = this.replacement(bestValue);
    return best;
  }

  /** The NUL-terminated replacement string at `offset` (may be empty: the character is deleted). */
  private replacement(offset: number): Uint8Array {
    let r = this.cache.get(offset);
    if (r) return r;
    const s = this.strings;
    let e = offset;
    while (e < s.byteLength && s[e] !== 0) e++;
    r = offset < s.byteLength ? s.subarray(offset, e) : new Uint8Array(0);
    this.cache.set(offset, r);
    return r;
  }
}
