/**
 * Python string semantics that SiglipTokenizer's wrapper code depends on, reproduced in JS:
 * `str.isspace()` / `re`'s `\s` (they agree), `str.strip()`, `str.lower()` applied one character at a time (the
 * lower-casing regex in PreTrainedTokenizer.tokenize matches single characters, so there is no final-sigma context),
 * `string.punctuation` removal and SigLIP's `canonicalize_text`.
 */

/** Python's whitespace (str.isspace; also re's `\s` on str): differs from JS `\s` (no U+FEFF; adds 1C-1F, 85). */
const WS = '\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const WS_RUN = new RegExp(`[${WS}]+`, 'g');
const WS_LEFT = new RegExp(`^[${WS}]+`);
const WS_RIGHT = new RegExp(`[${WS}]+$`);
const WS_ONE = new RegExp(`^[${WS}]$`);

export const isPySpace = (ch: string): boolean => WS_ONE.test(ch);
export const pyLstrip = (s: string): string => s.replace(WS_LEFT, '');
export const pyRstrip = (s: string): string => s.replace(WS_RIGHT, '');
export const pyStrip = (s: string): string => pyRstrip(pyLstrip(s));

/** Python's `string.punctuation`. */
const PUNCT = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g;

/** SiglipTokenizer.canonicalize_text (keep_punctuation_exact_string=None). */
export function canonicalizeText(text: string): string {
  return pyStrip(text.replace(PUNCT, '').replace(WS_RUN, ' '));
}

/**
 * Letters that JS engines with Unicode 16+ lower-case but Python (≤ 3.13, Unicode ≤ 15.1) leaves alone: lower-casing
 * them would give ids transformers never produces.
 */
const NEWER_CASED = /[\u1c89\ua7cb\ua7cc\ua7ce\ua7d2\ua7d4\ua7da\ua7dc\u{10d50}-\u{10d65}\u{16ea0}-\u{16eb8}]/u;

/**
 * Python `c.lower()` for every character `c` of `s` separately. JS `toLowerCase()` (no locale) uses the same full
 * Unicode mappings (e.g. 'İ' -> 'i̇'); its only context-dependent rule is the final sigma, which per-character
 * lowering never applies, so 'Σ' is mapped to 'σ' first.
 */
export function pyLowerPerChar(s: string): string {
  const lowered = s.replace(/\u03a3/g, '\u03c3');
  if (!NEWER_CASED.test(s)) return lowered.toLowerCase();
  let out = '';
  for (const ch of lowered) out += NEWER_CASED.test(ch) ? ch : ch.toLowerCase();
  return out;
}

/**
 * Python's `s.lower()` on the whole string (so with the final-sigma rule, as JS `toLowerCase()` has it too), leaving
 * alone the letters Python's Unicode tables do not case yet.
 */
export function pyLower(s: string): string {
  if (!NEWER_CASED.test(s)) return s.toLowerCase();
  let out = '';
  let run = '';
  for (const ch of s) {
    if (NEWER_CASED.test(ch)) (out += run.toLowerCase() + ch), (run = '');
    else run += ch;
  }
  return out + run.toLowerCase();
}
