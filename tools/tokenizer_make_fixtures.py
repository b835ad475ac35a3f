#!/usr/bin/env python3
# Writes the tokenizer golden fixtures (tests/tokenizer/data/encode_cases.json) from the Hugging
# Face `tokenizers` package run on the repo's Qwen3 tokenizer.json: the independent oracle.
#
# Command (from the repo root; tokenizers 0.23.3 and the zstd CLI were used):
#   python3 tools/tokenizer_make_fixtures.py --tokenizer data/qwen3-tokenizer/tokenizer.json.zst \
#       --out tests/tokenizer/data/encode_cases.json
#
# Each case holds the input (UTF-8 text, or hex bytes when the input is invalid UTF-8), the ids
# with special-token parsing on and off, HF's decode of the ids (skip_special_tokens=False) and
# NFC(text). Invalid UTF-8 is given to HF as bytes.decode("utf-8", "replace"): the behaviour the
# C++ tokenizer documents (each maximal invalid subsequence becomes U+FFFD).
import argparse
import json
import random
import subprocess
import unicodedata

from tokenizers import Tokenizer

SEED = 20261128

ENGLISH = [
    "Hello world", "Hello, world!", "The quick brown fox jumps over the lazy dog.",
    "  leading spaces", "trailing spaces   ", "a", " ", "", "I", "A.B.C.", "e.g. i.e. etc.",
    "Mr. Smith's car isn't here; they're sure we've seen it, I'm told, you'll see, he'd go.",
    "IT'S THEY'RE WE'VE I'M YOU'LL HE'D DON'T", "It'S tHey'Re", "rock 'n' roll", "'s 'tis",
    "Supercalifragilisticexpialidocious antidisestablishmentarianism",
    "hello\tworld", "line1\nline2", "para1\n\npara2", "a\r\nb\r\nc", "x\n\n\ny", "\n", "\n\n\n",
    "\t\t\tindented", "mixed \t \n \r\n  \n\t end", "    ", "word    \n    word",
    "https://example.com/path?q=1&r=2#frag", "user@example.org", "C:\\Windows\\System32",
    "$100.00 costs 50% more (approx.)", "!!!???...", "--flag=value -x", "snake_case camelCase",
    "ALLCAPS WORDS HERE", "Ünïcödé ñ façade café naïve", "«quotes» “curly” ‘single’ — dash – en",
]
CODE = [
    "def f(x):\n    return x * 2\n",
    "import numpy as np\n\nclass A:\n    def __init__(self):\n        self.x = [1, 2, 3]\n",
    "for i in range(10):\n\tprint(f\"{i:>4}\")\n",
    "#include <vector>\nint main() {\n  std::vector<int> v{1, 2, 3};\n  return v[0];\n}\n",
    "template <typename T> T max(T a, T b) { return a > b ? a : b; }",
    "if (x != nullptr && *x >= 0x7fffffff) { x->y <<= 3; }",
    '{"name": "longctx", "version": [0, 1, 0], "ok": true, "n": null}',
    '{\n  "a": {\n    "b": [1.5e-3, -2]\n  }\n}',
    "SELECT * FROM users WHERE id = 42;", "<div class=\"x\">&amp;</div>",
    "    # comment with    spaces\n\n\n    pass", "x=1;y=2;z=x+y", "a->b::c.d",
    "fn main() { println!(\"hi\"); }", "#!/bin/bash\necho $HOME | grep -v '^#'\n",
]
NUMBERS = [
    "0", "7", "42", "123", "1234", "12345678901234567890", "3.14159265358979",
    "1,000,000", "2026-11-28", "10:45:00", "+1 (555) 123-4567", "0xDEADBEEF", "1e10", "-273.15",
    "v1.2.3", "٣٤٥ ١٢", "१२३४", "①②③", "Ⅻ", "½ ¾", "x²+y³", "१२३ abc ٤٥٦",
]
SCRIPTS = [
    "Привет, мир! Как дела?", "Съешь же ещё этих мягких французских булок, да выпей чаю.",
    "ЁЛКИ-ПАЛКИ", "你好，世界！", "我们在北京吃烤鸭。今天天气很好。", "中文English混合123",
    "こんにちは世界", "日本語のテキストとカタカナ、ひらがな。", "ｶﾀｶﾅ 半角", "안녕하세요 세계",
    "한국어 문장입니다.", "مرحبا بالعالم", "السلام عليكم ورحمة الله", "नमस्ते दुनिया",
    "हिन्दी में लिखा गया वाक्य।", "สวัสดีชาวโลก", "ภาษาไทยไม่มีช่องว่าง", "Γειά σου Κόσμε",
    "שלום עולם", "Բարեւ աշխարհ", "გამარჯობა", "Xin chào thế giới", "Ελληνικά ἀρχαῖα",
    "ᚠᛇᚻ᛫ᛒᛦᚦ", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝕞𝕒𝕥𝕙", "ʕ•ᴥ•ʔ", "(╯°□°)╯︵ ┻━┻",
]
EMOJI = [
    "😀", "I ❤️ you", "👍🏽 👍🏿", "👨‍👩‍👧‍👦 family", "🏳️‍🌈", "🇺🇸🇯🇵🇩🇪", "🧑🏻‍💻 coding",
    "emoji😀in😀text", "🤖🚀✨🔥", "❤", "☃︎ vs ☃️", "🏴󠁧󠁢󠁳󠁣󠁴󠁿 scotland",
]
COMBINING = [
    "e\u0301", "cafe\u0301", "A\u030a", "n\u0303o", "\u1e9b\u0323", "Å vs A\u030a",
    "\u0041\u0308\u0304", "ﬁ ligature", "Ω vs \u2126", "\u0915\u093c", "한\u1100\u1161",
    "\u1100\u1161\u11a8", "a\u0301\u0302\u0303", "\u0301 leading combining",
]
SPECIAL = [
    "<|im_start|>user\nhi<|im_end|>", "<|im_start|>system\nYou are helpful.<|im_end|>\n"
    "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n",
    "<think>\nreasoning here\n</think>\n\nanswer", "<think></think>", "text<think>x</think>text",
    "<tool_call>\n{\"name\": \"f\", \"arguments\": {}}\n</tool_call>",
    "<tool_response>ok</tool_response>", "<|endoftext|>", "a<|endoftext|>b", "<|im_end|><|im_end|>",
    "<|im_sta", "<|im_start", "<|im_start|", "<|im_end", "<|im_end|>", "<|im", "<|", "<", "<th",
    "<think", "<think>>", "<<think>>", "< think>", "<|IM_START|>", "<|im_start|>x<|im_sta",
    "<|fim_prefix|>def<|fim_suffix|>pass<|fim_middle|>", "<|vision_start|><|image_pad|><|vision_end|>",
    "<|object_ref_start|>cat<|object_ref_end|><|box_start|>(1,2)<|box_end|>",
    "<|repo_name|>x<|file_sep|>y", " <|im_start|> spaced ", "\n<|im_end|>\n", "<|im_start|><think>",
    "<|endoftext|><|im_start|>", "<|im_start|>user\ne\u0301<|im_end|>",
]
# Characters where regex engines disagree on \s, case folding or letter classes.
EDGES = [
    "a\x85b", "a\u00a0 b", "x\u2028y", "a\u3000\u3000b", "a\x0b\x0cb", "\u180e x", "I'\u017f",
    "I'\u212a", "a\u200bb", "a \u00a0\nb", "x\u1680y", "z\u2007 w", "\ufeffBOM", "tab\x0b\n\x0c",
    "\x00nul\x01", "\x7f\x1b[0m", "  \u00a0  x", "a\u2029b", "\u0130stanbul \u0131",
]
# Byte strings that are not valid UTF-8 (stored as hex in the fixtures).
INVALID = [
    b"abc\xff", b"\xff\xfe", b"\xc3", b"caf\xc3", b"\xe2\x82", b"\xe2\x82 x", b"\xf0\x9f\x98",
    b"\xed\xa0\x80 surrogate", b"\xc0\xaf overlong", b"\xf4\x90\x80\x80 too big", b"\x80\x80\x80",
    b"ok \xf0\x9f\x98\x80 \xf0\x9f ok", b"<|im_end|>\xff<|im_start|>", b"\xe0\x80\x80",
]


def random_mix(rng: random.Random, pools: list[list[str]], n: int) -> list[str]:
    # Joins random samples from all pools with random separators: exercises boundaries between
    # scripts, digits, punctuation and whitespace that the hand-written lists do not.
    seps = [" ", "", "\n", "  ", "\t", ", ", "\r\n", "\n\n", ". ", "   \n"]
    flat = [s for pool in pools for s in pool if s]
    out = []
    for _ in range(n):
        k = rng.randint(2, 6)
        parts = [rng.choice(flat) for _ in range(k)]
        text = ""
        for p in parts:
            text += p + rng.choice(seps)
        out.append(text)
    return out


def random_numbers(rng: random.Random, n: int) -> list[str]:
    out = []
    for _ in range(n):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 30)))
        out.append(rng.choice(["", " ", "x", "v", "$", "-"]) + digits + rng.choice(["", " ", ".", "km"]))
    return out


def long_document(rng: random.Random, pools: list[list[str]], target: int) -> str:
    # ~target bytes of paragraphs mixing every pool: one long input for the whole pipeline.
    flat = [s for pool in pools for s in pool if s]
    text = ""
    while len(text.encode()) < target:
        para = " ".join(rng.choice(flat) for _ in range(rng.randint(3, 12)))
        text += para + rng.choice(["\n\n", "\n", " ", "\r\n"])
    return text


def load_tokenizer(path: str) -> Tokenizer:
    if path.endswith(".zst"):
        raw = subprocess.run(["zstd", "-dc", path], check=True, capture_output=True).stdout
        return Tokenizer.from_str(raw.decode("utf-8"))
    return Tokenizer.from_file(path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    tok = load_tokenizer(args.tokenizer)
    rng = random.Random(SEED)
    pools = [ENGLISH, CODE, NUMBERS, SCRIPTS, EMOJI, COMBINING, SPECIAL, EDGES]
    texts = [s for pool in pools for s in pool]
    texts += random_mix(rng, pools, 160)
    texts += random_numbers(rng, 30)
    texts.append(long_document(rng, pools, 30000))

    cases = []
    inputs = [(t, None) for t in texts] + [(b.decode("utf-8", "replace"), b) for b in INVALID]
    for text, raw in inputs:
        tok.encode_special_tokens = False
        ids = tok.encode(text, add_special_tokens=False).ids
        tok.encode_special_tokens = True
        ids_plain = tok.encode(text, add_special_tokens=False).ids
        decoded = tok.decode(ids, skip_special_tokens=False)
        nfc = unicodedata.normalize("NFC", text)
        # Round trip: the decode of the ids is the NFC form of the input, in both modes.
        assert decoded == nfc, (text, decoded)
        assert tok.decode(ids_plain, skip_special_tokens=False) == nfc, text
        case = {"ids": ids, "ids_no_special": ids_plain, "decoded": decoded, "nfc": nfc}
        if raw is None:
            case["text"] = text
        else:
            case["bytes_hex"] = raw.hex()
        cases.append(case)

    with open(args.out, "w", encoding="utf-8") as f:
        json.dump({"tokenizer": "qwen3", "seed": SEED, "cases": cases}, f, ensure_ascii=False,
                  separators=(",", ":"))
        f.write("\n")
    print(f"wrote {len(cases)} cases to {args.out}")


if __name__ == "__main__":
    main()
