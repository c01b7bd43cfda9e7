/**
 * SiglipTokenizer settings and how transformers resolves them from a checkpoint's tokenizer_config.json and
 * special_tokens_map.json (PreTrainedTokenizerBase._from_pretrained + SiglipTokenizer.__init__ + _add_tokens).
 */

/** transformers' AddedToken: how an added/special token is matched and how it treats whitespace around it. */
export interface AddedTokenSpec {
  content: string;
  /** Id from added_tokens_decoder / tokenizer.json; when absent, the vocabulary's id or a new one past the end. */
  id?: number;
  lstrip?: boolean;
  rstrip?: boolean;
  singleWord?: boolean;
  normalized?: boolean;
  special?: boolean;
}

export interface SiglipTokenizerConfig {
  /** Lower-case the text before anything else (default true). */
  doLowerCase?: boolean;
  /** tokenizer_config's model_max_length (default 64). */
  modelMaxLength?: number;
  /** GemmaTokenizer: add_bos_token / add_eos_token (SigLIP 2's checkpoints say false / true). */
  addBosToken?: boolean;
  addEosToken?: boolean;
  bosToken?: string | AddedTokenSpec | null;
  eosToken?: string | AddedTokenSpec | null;
  unkToken?: string | AddedTokenSpec | null;
  sepToken?: string | AddedTokenSpec | null;
  padToken?: string | AddedTokenSpec | null;
  clsToken?: string | AddedTokenSpec | null;
  maskToken?: string | AddedTokenSpec | null;
  additionalSpecialTokens?: (string | AddedTokenSpec)[];
  /** tokenizer_config's added_tokens_decoder (or tokenizer.json's added_tokens), with ids. */
  addedTokens?: AddedTokenSpec[];
}

/** SPECIAL_TOKENS_ATTRIBUTES order, which fixes the order of all_special_tokens. */
export const SPECIAL_ATTRS = ['bosToken', 'eosToken', 'unkToken', 'sepToken', 'padToken', 'clsToken', 'maskToken'] as const;
const HF_NAMES: Record<(typeof SPECIAL_ATTRS)[number], string> = {
  bosToken: 'bos_token',
  eosToken: 'eos_token',
  unkToken: 'unk_token',
  sepToken: 'sep_token',
  padToken: 'pad_token',
  clsToken: 'cls_token',
  maskToken: 'mask_token',
};

/** Python's transformers treats numbers >= ~1e29 (VERY_LARGE_INTEGER) as "no limit". */
const NO_LIMIT = 1e29;

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** An AddedToken as serialized by transformers ({content, lstrip, rstrip, single_word, normalized, special}). */
export function addedTokenFromJson(v: unknown, where: string, id?: number, forceSpecial = false): AddedTokenSpec {
  if (typeof v === 'string') return { content: v, id };
  if (!isObj(v) || typeof v.content !== 'string') throw new Error(`${where}: malformed added token ${JSON.stringify(v)}`);
  const special = forceSpecial || v.special === true;
  return {
    content: v.content,
    id,
    lstrip: v.lstrip === true,
    rstrip: v.rstrip === true,
    singleWord: v.single_word === true,
    // AddedToken's default: normalized = not special
    normalized: typeof v.normalized === 'boolean' ? v.normalized : !special,
    special,
  };
}

/**
 * Config from the two JSON files (either may be missing). special_tokens_map.json wins over tokenizer_config.json
 * for the special tokens, as in transformers' from_pretrained.
 */
export function configFromHfFiles(tokenizerConfig: unknown, specialTokensMap: unknown, where = 'tokenizer_config.json'): SiglipTokenizerConfig {
  const tc: Json = isObj(tokenizerConfig) ? tokenizerConfig : {};
  const sm: Json = isObj(specialTokensMap) ? specialTokensMap : {};
  const cfg: SiglipTokenizerConfig = {};
  if (typeof tc.do_lower_case === 'boolean') cfg.doLowerCase = tc.do_lower_case;
  if (typeof tc.add_bos_token === 'boolean') cfg.addBosToken = tc.add_bos_token;
  if (typeof tc.add_eos_token === 'boolean') cfg.addEosToken = tc.add_eos_token;
  if (typeof tc.model_max_length === 'number' && tc.model_max_length > 0 && tc.model_max_length < NO_LIMIT) {
    cfg.modelMaxLength = Math.floor(tc.model_max_length);
  }
  for (const attr of SPECIAL_ATTRS) {
    const name = HF_NAMES[attr];
    const v = sm[name] ?? tc[name];
    if (v === null) cfg[attr] = null;
    // special_tokens_map entries are AddedToken(**value, special=True)
    else if (v !== undefined) cfg[attr] = typeof v === 'string' ? v : addedTokenFromJson(v, where, undefined, true);
  }
  const extra = sm.additional_special_tokens ?? tc.additional_special_tokens;
  if (Array.isArray(extra)) {
    cfg.additionalSpecialTokens = extra.map((t) => (typeof t === 'string' ? t : addedTokenFromJson(t, where, undefined, true)));
  }
  if (isObj(tc.added_tokens_decoder)) {
    cfg.addedTokens = Object.entries(tc.added_tokens_decoder).map(([id, t]) => {
      const n = Number(id);
      if (!Number.isInteger(n) || n < 0) throw new Error(`${where}: added_tokens_decoder has a bad id "${id}"`);
      return addedTokenFromJson(t, where, n);
    });
  }
  return cfg;
}
