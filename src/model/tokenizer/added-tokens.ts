/**
 * transformers' added/special-token layer of the slow tokenizer, as SiglipTokenizer inherits it:
 * resolving the special tokens and their ids (PreTrainedTokenizer.__init__ / _add_tokens), lower-casing everything
 * except special tokens, splitting the text on added tokens and letting them eat neighbouring whitespace
 * (lstrip/rstrip/single_word), all with Python string semantics.
 */
import { SPECIAL_ATTRS, type AddedTokenSpec, type SiglipTokenizerConfig } from './config.js';
import { pyLowerPerChar, pyLstrip, pyRstrip } from './python-text.js';

export interface AddedToken {
  content: string;
  id: number;
  lstrip: boolean;
  rstrip: boolean;
  singleWord: boolean;
  normalized: boolean;
  special: boolean;
}

export interface VocabLookup {
  /** Id of a piece that exists in the SentencePiece vocabulary (any type), else undefined. */
  exactId(piece: string): number | undefined;
  /** Number of distinct pieces (len(get_vocab()) before added tokens). */
  distinctPieces(): number;
}

/** What a tokenizer class does with special tokens its config leaves out or gives as plain strings. */
export interface SpecialTokenDefaults {
  /** The class, for messages ("SiglipTokenizer needs an eos_token"). */
  className: string;
  /** Default contents of the special tokens (the class's __init__ defaults). */
  tokens: Partial<Record<(typeof SPECIAL_ATTRS)[number], string>>;
  /** Attributes whose plain-string values become AddedToken(lstrip=True, rstrip=True, normalized=False). */
  wrapped: ReadonlySet<string>;
}

/** SiglipTokenizer's own defaults: strings become AddedToken(lstrip=True, rstrip=True, normalized=False). */
export const SIGLIP_SPECIALS: SpecialTokenDefaults = {
  className: 'SiglipTokenizer',
  tokens: { eosToken: '</s>', unkToken: '<unk>', padToken: '</s>' },
  wrapped: new Set(['eosToken', 'unkToken', 'padToken']),
};

/** GemmaTokenizer's (SigLIP 2): <bos>, <eos>, <unk>, <pad>, as AddedToken(normalized=False, special=True). */
export const GEMMA_SPECIALS: SpecialTokenDefaults = {
  className: 'GemmaTokenizer',
  tokens: { bosToken: '<bos>', eosToken: '<eos>', unkToken: '<unk>', padToken: '<pad>' },
  wrapped: new Set(),
};

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');

export class AddedTokens {
  /** content -> token (transformers' _added_tokens_encoder / decoder). */
  readonly byContent = new Map<string, AddedToken>();
  /** all_special_tokens, in SPECIAL_TOKENS_ATTRIBUTES order. */
  readonly specialTokens: string[] = [];
  readonly special: Record<'eos' | 'unk' | 'pad', AddedToken> & { bos?: AddedToken };
  private readonly protect: RegExp | null;
  private readonly byLength: string[];

  constructor(cfg: SiglipTokenizerConfig, vocab: VocabLookup, where: string, defaults: SpecialTokenDefaults = SIGLIP_SPECIALS) {
    const order: AddedToken[] = [];
    const put = (t: AddedToken) => {
      if (!this.byContent.has(t.content)) order.push(t);
      this.byContent.set(t.content, t);
    };
    const full = (s: AddedTokenSpec, id: number, special: boolean): AddedToken => ({
      content: s.content,
      id,
      lstrip: s.lstrip ?? false,
      rstrip: s.rstrip ?? false,
      singleWord: s.singleWord ?? false,
      normalized: s.normalized ?? !special,
      special,
    });
    for (const t of cfg.addedTokens ?? []) put(full(t, t.id ?? -1, t.special ?? false));

    // Special tokens: an added_tokens_decoder entry with the same content wins; plain strings get the flags the
    // class gives them; tokens not yet added are added now, with the vocabulary's id or a new one (_add_tokens).
    const specials: AddedTokenSpec[] = [];
    const names: Partial<Record<string, AddedTokenSpec>> = {};
    for (const attr of SPECIAL_ATTRS) {
      const v = cfg[attr] === undefined ? defaults.tokens[attr] : cfg[attr];
      if (v === null || v === undefined) continue;
      const spec: AddedTokenSpec =
        typeof v === 'string'
          ? defaults.wrapped.has(attr)
            ? { content: v, lstrip: true, rstrip: true, normalized: false, special: true }
            : { content: v, normalized: false, special: true }
          : { ...v, special: true };
      names[attr] = this.byContent.get(spec.content) ?? spec;
      specials.push(names[attr]!);
    }
    for (const v of cfg.additionalSpecialTokens ?? []) {
      specials.push(typeof v === 'string' ? { content: v, normalized: false, special: true } : { ...v, special: true });
    }
    let added = 0;
    let distinct = vocab.distinctPieces() + [...this.byContent.keys()].filter((c) => vocab.exactId(c) === undefined).length;
    for (const s of specials) {
      if (!this.specialTokens.includes(s.content)) this.specialTokens.push(s.content);
      if (s.content === '' || this.byContent.has(s.content)) continue;
      let id = vocab.exactId(s.content);
      if (id === undefined) (id = distinct + added), added++;
      put(full(s, id, true));
    }
    distinct += added;
    for (const t of order) {
      if (t.id < 0) throw new Error(`${where}: added token "${t.content}" has no id`);
    }
    for (const attr of ['eos', 'unk', 'pad'] as const) {
      if (!names[`${attr}Token`]) throw new Error(`${where}: ${defaults.className} needs a ${attr}_token`);
    }
    this.special = {
      eos: this.byContent.get(names.eosToken!.content)!,
      unk: this.byContent.get(names.unkToken!.content)!,
      pad: this.byContent.get(names.padToken!.content)!,
    };
    if (names.bosToken) this.special.bos = this.byContent.get(names.bosToken.content);
    const protect = [...this.specialTokens, ...order.filter((t) => !t.special && t.normalized).map((t) => t.content)];
    const alts = protect.filter((s) => s !== '').map(escapeRe);
    this.protect = alts.length ? new RegExp(alts.join('|'), 'gu') : null;
    this.byLength = [...this.byContent.keys()].filter((k) => k !== '').sort((a, b) => b.length - a.length);
  }

  /** `re.sub(r"(<special>|...)|(.+?)", keep special / lower the character, text)`. */
  lowerCase(text: string): string {
    if (!this.protect) return pyLowerPerChar(text);
    let out = '';
    let last = 0;
    this.protect.lastIndex = 0;
    for (let m = this.protect.exec(text); m; m = this.protect.exec(text)) {
      out += pyLowerPerChar(text.slice(last, m.index)) + m[0];
      last = m.index + m[0].length;
    }
    return out + pyLowerPerChar(text.slice(last));
  }

  /** Trie.split: cuts the text around added tokens, leftmost match first, longest among those. */
  private cut(text: string): string[] {
    const out: string[] = [];
    let start = 0;
    for (let i = 0; i < text.length; ) {
      const hit = this.byLength.find((k) => text.startsWith(k, i));
      if (hit === undefined) {
        i++;
        continue;
      }
      if (i > start) out.push(text.slice(start, i));
      out.push(hit);
      i += hit.length;
      start = i;
    }
    if (start < text.length) out.push(text.slice(start));
    return out;
  }

  /**
   * The splitting part of PreTrainedTokenizer.tokenize: returns the pieces, each either an added token's content
   * (`added` set) or text still to be tokenized; fully stripped pieces are dropped.
   */
  split(text: string): { text: string; added?: AddedToken }[] {
    const tokens = this.cut(text);
    for (let i = 0; i < tokens.length; i++) {
      const tok = this.byContent.get(tokens[i]!);
      if (!tok) continue;
      const left = i > 0 ? tokens[i - 1]! : '';
      const right = i < tokens.length - 1 ? tokens[i + 1]! : '';
      if (tok.rstrip && right) tokens[i + 1] = pyLstrip(right);
      if (tok.lstrip && left) tokens[i - 1] = pyRstrip(left);
      if (tok.singleWord && left && !left.endsWith(' ')) {
        tokens[i - 1] += tokens[i];
        tokens[i] = '';
      } else if (tok.singleWord && right && !right.startsWith(' ')) {
        tokens[i + 1] = tokens[i] + tokens[i + 1]!;
        tokens[i] = '';
      }
    }
    return tokens.filter((t) => t !== '').map((t) => ({ text: t, added: this.byContent.get(t) }));
  }
}
