/**
 * SentencePiece's Normalizer::Normalize on UTF-8 bytes: user-defined symbols are copied untouched, everything else
 * goes through the precompiled charsmap (longest match; unmatched valid characters are copied; a malformed byte
 * becomes U+FFFD), and the whitespace rules run on the *normalized* text, so spaces that the charsmap produces
 * (NBSP, ideographic space, zero-width space, ...) are collapsed, stripped and escaped like typed spaces.
 */
import { PrecompiledCharsmap } from './charsmap.js';
import { binaryString, type NormalizerSpec } from './sentencepiece-model.js';
import { ByteBuffer, validCharLen } from './utf8.js';

const SPACE = 0x20;
const SPACE_SYMBOL = new Uint8Array([0xe2, 0x96, 0x81]); // U+2581, SentencePiece's escaped space
const REPLACEMENT = new Uint8Array([0xef, 0xbf, 0xbd]); // U+FFFD
const ONE_SPACE = new Uint8Array([SPACE]);

export class SentencePieceNormalizer {
  private readonly charsmap: PrecompiledCharsmap | null;
  /** User-defined symbols by byte length (longest first), matched before the charsmap (PrefixMatcher). */
  private readonly userDefined: Map<number, Set<string>>;
  private readonly userLengths: number[];

  constructor(
    private readonly spec: NormalizerSpec,
    private readonly treatWhitespaceAsSuffix: boolean,
    userDefinedSymbols: Uint8Array[],
    where: string,
  ) {
    this.charsmap = spec.precompiledCharsmap.byteLength > 0 ? new PrecompiledCharsmap(spec.precompiledCharsmap, where) : null;
    this.userDefined = new Map();
    for (const s of userDefinedSymbols) {
      let set = this.userDefined.get(s.byteLength);
      if (!set) this.userDefined.set(s.byteLength, (set = new Set()));
      set.add(binaryString(s));
    }
    this.userLengths = [...this.userDefined.keys()].sort((a, b) => b - a);
  }

  /** Normalizer::NormalizePrefix: how many input bytes the next unit consumes, and what it becomes. */
  private prefix(input: Uint8Array, pos: number, end: number, out: { value: Uint8Array }): number {
    for (const len of this.userLengths) {
      if (len <= end - pos && this.userDefined.get(len)!.has(binaryString(input, pos, pos + len))) {
        out.value = input.subarray(pos, pos + len);
        return len;
      }
    }
    if (this.charsmap) {
      const n = this.charsmap.longestMatch(input, pos, end, out);
      if (n > 0) return n;
    }
    const len = validCharLen(input, pos, end);
    if (len === 0) {
      out.value = REPLACEMENT;
      return 1;
    }
    out.value = input.subarray(pos, pos + len);
    return len;
  }

  normalize(input: Uint8Array): Uint8Array {
    const { removeExtraWhitespaces: removeExtra, escapeWhitespaces: escape, addDummyPrefix } = this.spec;
    const end = input.byteLength;
    const out = new ByteBuffer();
    if (end === 0) return out.view();
    const p = { value: input };
    let pos = 0;
    if (removeExtra) {
      // Leading whitespace: only units that normalize to exactly one space are dropped here.
      while (pos < end) {
        const n = this.prefix(input, pos, end, p);
        if (!(p.value.byteLength === 1 && p.value[0] === SPACE)) break;
        pos += n;
      }
    }
    if (pos >= end) return out.view();
    const addWs = () => (escape ? out.append(SPACE_SYMBOL) : out.push(SPACE));
    if (!this.treatWhitespaceAsSuffix && addDummyPrefix) addWs();

    let prevSpace = removeExtra;
    while (pos < end) {
      const n = this.prefix(input, pos, end, p);
      const sp = p.value;
      let k = 0;
      while (prevSpace && k < sp.byteLength && sp[k] === SPACE) k++;
      if (k < sp.byteLength) {
        for (let i = k; i < sp.byteLength; i++) {
          if (escape && sp[i] === SPACE) out.append(SPACE_SYMBOL);
          else out.push(sp[i]!);
        }
        prevSpace = sp[sp.byteLength - 1] === SPACE;
      }
      pos += n;
      if (!removeExtra) prevSpace = false;
    }
    if (removeExtra) {
      const space = escape ? SPACE_SYMBOL : ONE_SPACE;
      while (out.endsWith(space)) out.length -= space.byteLength;
    }
    if (this.treatWhitespaceAsSuffix && addDummyPrefix) addWs();
    return out.view();
  }
}
