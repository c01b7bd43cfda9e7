#!/usr/bin/python3
"""Dev-only generator of extra SiglipTokenizer reference cases (test/fixtures/tokenizer/generated_cases.json).

transformers is not installable here, so this script re-implements the few Python lines of transformers v4.44.2's
`SiglipTokenizer` (+ the parts of `PreTrainedTokenizer.tokenize` / `prepare_for_model` / `pad` it relies on) around
the real SentencePiece library (the `sentencepiece` 0.1.97 wheel of the system Python). Before writing anything it
checks that this re-implementation reproduces every case of test/fixtures/tokenizer/cases.json and the input_ids of
the siglip-tiny / siglip-odd reference.json files (which were made with transformers itself), and it refuses to write
output if any differs.

Model variants (byte fallback, user-defined pieces, identity normalizer, ...) are made by appending protobuf fields
to the fixture model: protobuf merges a repeated occurrence of a sub-message into the earlier one and appends to
repeated fields, which is exactly `ModelProto.MergeFrom`. The appended bytes are stored (hex) in the output so the
TypeScript tests can rebuild the same model without Python.

Run: /usr/bin/python3 scripts/gen-tokenizer-cases.py   (the tests never need it)
"""
import hashlib
import json
import os
import random
import re
import string
import struct
import sys

import sentencepiece as spm

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "test", "fixtures")
OUT = os.path.join(FIX, "tokenizer", "generated_cases.json")
SPIECE_UNDERLINE = "\u2581"
SEED = 20240531


# ---------------------------------------------------------------- protobuf writing (just enough for the variants)
def varint(n):
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field_varint(num, value):
    return varint(num << 3) + varint(value)


def field_bytes(num, data):
    return varint((num << 3) | 2) + varint(len(data)) + data


def field_float(num, value):
    return varint((num << 3) | 5) + struct.pack("<f", value)


def piece_msg(piece, score, ptype):
    return field_bytes(1, field_bytes(1, piece.encode("utf-8")) + field_float(2, score) + field_varint(3, ptype))


def trainer_msg(body):
    return field_bytes(2, body)


def normalizer_msg(body):
    return field_bytes(3, body)


# HF's get_spm_processor: normalizer_spec.add_dummy_prefix = False, merged into the model.
NO_DUMMY_PREFIX = normalizer_msg(field_varint(3, 0))


# ---------------------------------------------------------------- the SiglipTokenizer re-implementation
class AddedTok:
    def __init__(self, content, lstrip=True, rstrip=True, single_word=False, normalized=False, special=True):
        self.content, self.lstrip, self.rstrip = content, lstrip, rstrip
        self.single_word, self.normalized, self.special = single_word, normalized, special


class RefSiglip:
    def __init__(self, model_bytes, do_lower_case=True, additional_special=(), extra_added=(), pad_token="</s>"):
        self.sp = spm.SentencePieceProcessor(model_proto=model_bytes + NO_DUMMY_PREFIX)
        self.do_lower_case = do_lower_case
        self.unk_token, self.eos_token, self.pad_token = "<unk>", "</s>", pad_token
        # all_special_tokens order: bos, eos, unk, sep, pad, cls, mask, additional (deduplicated)
        self.all_special_tokens = []
        for t in [self.eos_token, self.unk_token, self.pad_token] + [a.content for a in additional_special]:
            if t not in self.all_special_tokens:
                self.all_special_tokens.append(t)
        self.added = {}  # content -> (id, AddedTok)
        for tok in [AddedTok(self.unk_token), AddedTok(self.eos_token)] + list(additional_special) + list(extra_added):
            if tok.content in self.added:
                continue
            pid = self.sp.piece_to_id(tok.content)
            if pid == self.sp.piece_to_id(self.unk_token) and tok.content != self.unk_token:
                pid = self.sp.get_piece_size() + len([1 for c, (i, _) in self.added.items() if i >= self.sp.get_piece_size()])
            self.added[tok.content] = (pid, tok)
        self.eos_id = self.convert(self.eos_token)
        self.pad_id = self.convert(self.pad_token)
        self.unk_token_length = len(self.sp.encode(self.unk_token))

    def convert(self, token):
        if token in self.added:
            return self.added[token][0]
        return self.sp.piece_to_id(token)

    @staticmethod
    def canonicalize(text):
        text = text.translate(str.maketrans("", "", string.punctuation))
        text = re.sub(r"\s+", " ", text)
        return text.strip()

    def _tokenize(self, text):
        text = self.canonicalize(text)
        tokens = self.sp.encode(self.unk_token + text, out_type=str)
        return tokens[self.unk_token_length:] if len(tokens) >= self.unk_token_length else tokens

    def trie_split(self, text):
        # leftmost-longest split on the added tokens (what transformers' Trie.split does for non-pathological sets)
        keys = sorted(self.added.keys(), key=len, reverse=True)
        out, start, i = [], 0, 0
        while i < len(text):
            hit = next((k for k in keys if text.startswith(k, i)), None)
            if hit is None:
                i += 1
                continue
            if i > start:
                out.append(text[start:i])
            out.append(hit)
            i += len(hit)
            start = i
        if start < len(text):
            out.append(text[start:])
        return out

    def tokenize(self, text):
        text = SPIECE_UNDERLINE + text.replace(SPIECE_UNDERLINE, " ")
        if self.do_lower_case:
            esc = [re.escape(t) for t in self.all_special_tokens]
            esc += [re.escape(t.content) for _, t in self.added.values() if not t.special and t.normalized]
            pattern = r"(" + r"|".join(esc) + r")|" + r"(.+?)"
            text = re.sub(pattern, lambda m: m.groups()[0] or m.groups()[1].lower(), text)
        tokens = self.trie_split(text)
        for i, token in enumerate(tokens):
            if token in self.added:
                tok = self.added[token][1]
                left = tokens[i - 1] if i > 0 else None
                right = tokens[i + 1] if i < len(tokens) - 1 else None
                if tok.rstrip and right:
                    tokens[i + 1] = right.lstrip()
                if tok.lstrip and left:
                    tokens[i - 1] = left.rstrip()
                if tok.single_word and left and left[-1] != " ":
                    tokens[i - 1] += token
                    tokens[i] = ""
                elif tok.single_word and right and right[0] != " ":
                    tokens[i + 1] = token + tokens[i + 1]
                    tokens[i] = ""
        out = []
        for token in tokens:
            if not token:
                continue
            if token in self.added:
                out.append(token)
            else:
                out.extend(self._tokenize(token))
        if len(out) > 1 and out[0] == SPIECE_UNDERLINE and out[1] in self.all_special_tokens:
            out = out[1:]
        return out

    def ids_no_special(self, text):
        return [self.convert(t) for t in self.tokenize(text)]

    def add_eos(self, ids):
        return ids if len(ids) > 0 and ids[-1] == self.eos_id else ids + [self.eos_id]

    def encode(self, text):
        return self.add_eos(self.ids_no_special(text))

    def call(self, text, max_length):
        ids = self.ids_no_special(text)
        total = len(ids) + 1
        if max_length and total > max_length:
            remove = total - max_length
            if len(ids) > remove:
                ids = ids[:-remove]
        ids = self.add_eos(ids)
        return ids + [self.pad_id] * max(0, max_length - len(ids))


# ---------------------------------------------------------------- self-check against transformers' own outputs
def check_given(base):
    cases = json.load(open(os.path.join(FIX, "tokenizer", "cases.json")))
    L = cases["max_length"]
    n = 0
    for v in cases["vocabs"].values():
        for lower in (True, False):
            ref = RefSiglip(base, do_lower_case=lower)
            for c in v["cases"]:
                sfx = "" if lower else "_do_lower_case_false"
                exp_u, exp_p = c["ids_unpadded" + sfx], c["ids_padded" + sfx]
                got_u, got_p = ref.encode(c["text"]), ref.call(c["text"], L)
                if got_u != exp_u or got_p != exp_p:
                    sys.exit(f"MISMATCH lower={lower} {c['text']!r}\n got {got_u}\n exp {exp_u}")
                if lower and ref.tokenize(c["text"]) != c["tokens"]:
                    sys.exit(f"TOKENS MISMATCH {c['text']!r}: {ref.tokenize(c['text'])} vs {c['tokens']}")
                n += 1
    for d in ("siglip-tiny", "siglip-odd"):
        r = json.load(open(os.path.join(FIX, d, "reference.json")))
        ref = RefSiglip(open(os.path.join(FIX, d, "spiece.model"), "rb").read())
        L = r["tokenizer"]["max_length"]
        for text, exp in zip(r["texts"], r["input_ids"]):
            if ref.call(text, L) != exp:
                sys.exit(f"MISMATCH {d} {text!r}")
            n += 1
    print(f"re-implementation reproduces all {n} transformers-made cases", file=sys.stderr)


# ---------------------------------------------------------------- texts
CURATED = [
    "", " ", "  ", "\t", "\n", "\r\n", "\u00a0", "\u3000", "\u2003", "\u200b", "\ufeff", "\u0085", "\x1c", "\x0b\x0c",
    "a", "A", "hello world", "  hello   world  ", "hello\u00a0world", "hello\u3000world", "hello\u2009world",
    "hello\u200bworld", "hello\u200cworld\u200d", "hello\ufeffworld", "\u3000leading ideographic",
    "trailing nbsp\u00a0", "\u00a0\u00a0nbsp only\u00a0\u00a0", "tab\tsep\tvalues", "line\nbreaks\n\nhere",
    "cr\ronly", "vertical\x0btab", "form\x0cfeed", "info\x1fsep", "next\u0085line", "line\u2028sep\u2029para",
    "!!!", "...", "?!", "'\"", "()[]{}<>", "@#$%^&*", "-_-", "~`|\\/", ":;,.", "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
    "!!! ???", "a.b.c", "U.S.A.", "e.g. i.e.", "don't", "rock'n'roll", "C++ and C#", "50% off!", "#hashtag @user",
    "https://example.com/path?q=1&r=2", "user@mail.example.org", "3.14159", "1,000,000", "-42", "+1 (555) 123-4567",
    "¿Qué tal?", "¡Hola!", "«Bonjour»", "„Guten Tag“", "『日本』", "【注意】", "…", "——", "–", "·", "•", "¶§",
    "Ａｂｃ　ＤＥＦ", "１２３", "ｶﾀｶﾅ", "ﾊﾟﾋﾟﾌﾟ", "ﬁne ﬂow", "x² + y³", "H₂O", "Ⅻ chapters", "① ② ③", "½ cup", "™ ® ©",
    "㍿", "㌔", "ℌ𝔢𝔩𝔩𝔬", "𝐁𝐨𝐥𝐝", "Ω ohm Ω", "Å Å", "µ μ", "ſ", "ẞ ß", "İstanbul", "ISTANBUL", "ıi", "ΣΑΣ", "ὈΔΥΣΣΕΎΣ",
    "Ǆ ǅ ǆ", "ǰ", "ŉ", "e\u0301", "é", "n\u0303", "a\u0308\u0301", "\u0301", "\u0301\u0301leading marks", "o\u0338",
    "Ａ！", "！", "？", "＂quoted＂", "（full）", "ｈｔｔｐ：／／", "\uff5e", "\uff0e\uff0c",
    "café", "naïve", "résumé", "Zürich", "São Paulo", "Kraków", "Ærøskøbing", "Þórsmörk", "İzmir", "Đà Nẵng",
    "Привет, мир!", "Ёлка", "Ελληνικά", "Ωμέγα", "עברית", "שָׁלוֹם", "العربية", "مرحبا بالعالم", "ـــ", "لا",
    "فارسی", "اردو", "हिन्दी", "नमस्ते दुनिया", "क्षत्रिय", "বাংলা", "ਪੰਜਾਬੀ", "ગુજરાતી", "தமிழ்", "తెలుగు", "ಕನ್ನಡ",
    "മലയാളം", "සිංහල", "ไทย ภาษา", "ພາສາລາວ", "မြန်မာ", "ខ្មែរ", "ქართული", "Հայերեն", "አማርኛ", "ᠮᠣᠩᠭᠣᠯ", "ᏣᎳᎩ",
    "中文", "漢字", "日本語", "ひらがな", "カタカナ", "한국어", "한글", "ㄱㄴㄷ", "ᄀᄁ", "𠀀𠀁", "𪚥", "〇一二三",
    "猫が好き", "我爱北京天安门", "東京タワー", "서울특별시", "ｶﾞｷﾞ", "ー", "〜", "々", "〃",
    "😀", "🐱🐶", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "❤️", "❤", "☺︎", "🇯🇵🇺🇸", "#️⃣", "1️⃣", "🫠", "🧑🏿‍🚀", "a😀b", "😀 😀  😀",
    "\U0001d11e music", "\U000e0041 tag", "\U0010ffff", "\ue000 private", "\ufffd", "\ufffe", "\u2581", "\u2581\u2581",
    "\u2581a", "a\u2581", "a\u2581b", "\u2581 \u2581", "▁▁▁hello▁▁▁", "_ underscore _",
    "</s>", "<unk>", "<s>", "<pad>", "</S>", "<UNK>", "<Unk>", "</s></s>", "a</s>b", "a </s> b", "</s> x", "x </s>",
    "<unk><unk>", "<unk> x <unk>", " <unk>", "<unk> ", "hello</s>world", "HELLO </S> WORLD", "x<unk>y", "</s>\t\n",
    "\u2581</s>", "\u00a0</s>\u00a0", "</s>\u3000a", "<</s>>", "<<unk>>", "</s>!", "!</s>",
    "A long paragraph for summarization.", "A long paragraph for summarization. </s>", "Summary of the text. </s>",
    "the real mountain view", "San Francisco",
]

CURATED_SET = set(CURATED)


def random_pool():
    ranges = [
        (0x20, 0x7E, 30), (0x09, 0x0D, 3), (0xA0, 0xFF, 6), (0x100, 0x17F, 4), (0x180, 0x24F, 2), (0x300, 0x36F, 3),
        (0x370, 0x3FF, 3), (0x400, 0x4FF, 4), (0x530, 0x58F, 1), (0x590, 0x5FF, 2), (0x600, 0x6FF, 4),
        (0x900, 0x97F, 4), (0x980, 0x9FF, 1), (0xE00, 0xE7F, 2), (0x10A0, 0x10FF, 1), (0x1100, 0x11FF, 1),
        (0x1E00, 0x1EFF, 2), (0x2000, 0x206F, 4), (0x2070, 0x209F, 1), (0x20A0, 0x20CF, 1), (0x2100, 0x214F, 2),
        (0x2150, 0x218F, 1), (0x2190, 0x21FF, 1), (0x2460, 0x24FF, 2), (0x2500, 0x257F, 1), (0x2580, 0x259F, 1),
        (0x2600, 0x27BF, 2), (0x3000, 0x303F, 3), (0x3040, 0x30FF, 4), (0x3130, 0x318F, 1), (0x3200, 0x33FF, 2),
        (0x4E00, 0x9FFF, 6), (0xAC00, 0xD7A3, 4), (0xF900, 0xFAFF, 1), (0xFB00, 0xFB4F, 1), (0xFE00, 0xFE0F, 1),
        (0xFE30, 0xFE4F, 1), (0xFE50, 0xFE6F, 1), (0xFF00, 0xFFEF, 4), (0x1D400, 0x1D7FF, 1), (0x1F300, 0x1F64F, 4),
        (0x1F900, 0x1F9FF, 2), (0x20000, 0x2A6DF, 1), (0xE0000, 0xE007F, 1), (0x10000, 0x10FFFF, 1),
    ]
    return ranges


def random_text(rng, ranges, n):
    total = sum(w for _, _, w in ranges)
    out = []
    for _ in range(n):
        r = rng.uniform(0, total)
        for lo, hi, w in ranges:
            if r < w:
                break
            r -= w
        cp = rng.randint(lo, hi)
        if 0xD800 <= cp <= 0xDFFF:
            cp = 0x20
        out.append(chr(cp))
    return "".join(out)


def word_text(rng, n_words):
    words = ["a", "photo", "of", "the", "cat", "dog", "CAR", "Zürich", "naïve", "東京", "猫", "서울", "мир", "हिन्दी",
             "مرحبا", "😀", "2", "10", "3.5", "it's", "e-mail", "</s>", "<unk>", "\u00a0", "\t", "...", "Ｆｕｌｌ", "ﬁ",
             "Σ", "ΟΔΟΣ", "İ", "straße", "\u2581", "x\u0301"]
    seps = [" ", " ", " ", "  ", "\t", "\n", "\u00a0", "\u3000", "", ", ", ". "]
    return "".join(rng.choice(words) + rng.choice(seps) for _ in range(n_words))


def make_texts(rng):
    texts = list(CURATED)
    ranges = random_pool()
    for _ in range(300):
        texts.append(random_text(rng, ranges, rng.randint(1, 20)))
    for _ in range(150):
        texts.append(word_text(rng, rng.randint(1, 12)))
    for n in (200, 1000, 3000):
        texts.append(word_text(rng, n // 4))
        texts.append(random_text(rng, ranges, n))
    texts.append("word " * 2000)
    texts.append("猫" * 500)
    texts.append("😀" * 300)
    texts.append(" " * 1000 + "x" + "\t" * 500)
    texts.append("!" * 1000)
    seen, out = set(), []
    for t in texts:
        if t not in seen:
            seen.add(t)
            out.append(t)
    return out


# ---------------------------------------------------------------- variants
def byte_fallback_append():
    body = b"".join(piece_msg("<0x%02X>" % b, 0.0, 6) for b in range(256))
    return body + trainer_msg(field_varint(35, 1))


def user_defined_append():
    # new USER_DEFINED pieces (appended after id 999), plus one UNUSED piece
    pieces = [("photo", 0.0, 4), ("▁cat", 0.0, 4), ("猫", 0.0, 4), ("ab", 0.0, 4), ("🐱", 0.0, 4), ("▁new▁york", 0.0, 4),
              ("▁dogs", -1.0, 5)]
    return b"".join(piece_msg(p, s, t) for p, s, t in pieces)


VARIANTS = [
    ("base", b"", "the fixture model as is"),
    ("byte_fallback", byte_fallback_append(), "256 BYTE pieces <0x00>..<0xFF> appended (ids 1000..1255), "
                                              "trainer_spec.byte_fallback = true"),
    ("user_defined", user_defined_append(), "USER_DEFINED pieces photo, ▁cat, 猫, ab, 🐱, ▁new▁york and an UNUSED "
                                            "piece ▁dogs appended (ids 1000..1006)"),
    ("identity_norm", normalizer_msg(field_bytes(2, b"")), "normalizer_spec.precompiled_charsmap = empty (identity)"),
    ("keep_whitespace", normalizer_msg(field_varint(4, 0)), "normalizer_spec.remove_extra_whitespaces = false"),
    ("no_escape", normalizer_msg(field_varint(5, 0)), "normalizer_spec.escape_whitespaces = false"),
    ("ws_suffix", trainer_msg(field_varint(24, 1)) + normalizer_msg(field_varint(3, 1)),
     "trainer_spec.treat_whitespace_as_suffix = true, add_dummy_prefix = true (HF then sets it false)"),
]

# Extra tokenizer-level configurations on the base model (tokenizer_config-style added tokens).
CONFIGS = [
    # tokenizer_config.json-style: an extra special token and a normalized non-special added token (new ids)
    ("extra_special", {
        "additional_special_tokens": ["<extra>"],
        "added_tokens_decoder": {
            "1000": {"content": "<extra>", "lstrip": False, "rstrip": False, "single_word": False,
                     "normalized": False, "special": True},
            "1001": {"content": "photo of", "lstrip": False, "rstrip": True, "single_word": False,
                     "normalized": True, "special": False}}}),
    # pad differs from eos: shows where truncation leaves an existing </s> in place of the appended one
    ("pad_is_unk", {"pad_token": "<unk>", "additional_special_tokens": [], "added_tokens_decoder": {}}),
]


def ref_for_config(base, cfg, do_lower_case=True):
    toks = {v["content"]: AddedTok(v["content"], v["lstrip"], v["rstrip"], v["single_word"], v["normalized"],
                                   v["special"]) for v in cfg["added_tokens_decoder"].values()}
    add_sp = [toks[t] for t in cfg["additional_special_tokens"]]
    extra = [t for c, t in toks.items() if c not in cfg["additional_special_tokens"]]
    ref = RefSiglip(base, do_lower_case=do_lower_case, additional_special=add_sp, extra_added=extra,
                    pad_token=cfg.get("pad_token", "</s>"))
    for k, v in cfg["added_tokens_decoder"].items():
        assert ref.added[v["content"]][0] == int(k), (k, ref.added[v["content"]])
    return ref


def main():
    base = open(os.path.join(FIX, "tokenizer", "test_sentencepiece.model"), "rb").read()
    check_given(base)
    rng = random.Random(SEED)
    texts = make_texts(rng)
    short = [t for t in texts if len(t) <= 64]
    # variants: every curated text plus a sample of the random ones (keeps the file small)
    cur = [t for t in short if t in CURATED_SET]
    subset = cur[:12] + rng.sample(cur[12:], 110) + rng.sample([t for t in short if t not in CURATED_SET], 40)
    out = {
        "provenance": (
            "Generated by scripts/gen-tokenizer-cases.py with the sentencepiece %s Python wheel and a re-implementation "
            "of transformers v4.44.2 SiglipTokenizer's wrapper code (NOT transformers itself). The re-implementation "
            "reproduces all cases of cases.json and the siglip-tiny/-odd reference.json input_ids. seed=%d"
            % (spm.__version__, SEED)),
        "base_model": "test_sentencepiece.model",
        "base_sha256": hashlib.sha256(base).hexdigest(),
        "fields": {
            "ids": "SiglipTokenizer(text) input_ids without padding/truncation (eos included)",
            "ids_nolower": "same with do_lower_case=False, only when different from ids",
            "call16": "SiglipTokenizer([text], padding='max_length', truncation=True, max_length=16) input_ids",
            "n": "number of ids (when ids are omitted for very long texts)",
            "call64": "same with max_length=64 (long texts only)",
        },
        "variants": [],
    }
    for name, append, desc in VARIANTS:
        model = base + append
        ref, ref_nl = RefSiglip(model), RefSiglip(model, do_lower_case=False)
        cases = []
        for t in (texts if name == "base" else subset):
            ids = ref.encode(t)
            c = {"text": t}
            if len(ids) <= 300:
                c["ids"] = ids
            else:
                c["n"] = len(ids)
                c["call64"] = ref.call(t, 64)
            nl = ref_nl.encode(t)
            if nl != ids:
                c["ids_nolower"] = nl if len(nl) <= 300 else {"n": len(nl), "call64": ref_nl.call(t, 64)}
            c["call16"] = ref.call(t, 16)
            cases.append(c)
        out["variants"].append({"name": name, "description": desc, "append_hex": append.hex(),
                                "vocab_size": ref.sp.get_piece_size(), "config": None, "cases": cases})
    for name, cfg in CONFIGS:
        ref, ref_nl = ref_for_config(base, cfg), ref_for_config(base, cfg, do_lower_case=False)
        extra = ["a photo of a cat", "A PHOTO OF a cat", "photo of<extra>x", "x <extra> y", "<extra>", "<EXTRA>",
                 "photo ofphoto of", " photo of ", "a <extra>photo of b", "photoof", "</s><extra></s>",
                 "one two three four five six seven eight nine ten </s> eleven twelve",
                 "one two three four five six seven eight nine te </s> eleven twelve",
                 "one two three four five six seven eight nine ten eleven twelve </s>", "<unk></s>", "</s><unk>"]
        extra += ["a " * n + "</s> b c d e f g" for n in (13, 14, 15)] + ["a " * 15 + "</s>", "a " * 14 + "</s>"]
        cases = []
        for t in extra + subset[:120]:
            c = {"text": t, "ids": ref.encode(t), "call16": ref.call(t, 16)}
            nl = ref_nl.encode(t)
            if nl != c["ids"]:
                c["ids_nolower"] = nl
            cases.append(c)
        out["variants"].append({"name": name, "description": "base model with extra added tokens", "append_hex": "",
                                "vocab_size": ref.sp.get_piece_size(), "config": cfg, "cases": cases})
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    n = sum(len(v["cases"]) for v in out["variants"])
    print(f"wrote {n} cases ({os.path.getsize(OUT)} bytes) to {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
