#!/usr/bin/env python3
# Writes a vocab-only GGUF (no tensors) for the Qwen3 tokenizer the way llama.cpp's converter does
# for Qwen2/Qwen3 (the "gpt2" BPE path): the test checks that Tokenizer::from_gguf agrees with the
# Hugging Face fixtures.
#
# Command (from the repo root; gguf 0.19.0, tokenizers 0.23.3 and the zstd CLI were used):
#   python3 tools/tokenizer_make_gguf.py --tokenizer-dir data/qwen3-tokenizer \
#       --out tests/tokenizer/data/qwen3-vocab.gguf.zst
#
# Token list and types follow the converter's rules: ids up to the model's vocab_size (151936
# for Qwen3, from its config.json) that the tokenizer lacks become "[PAD<id>]" with type UNUSED;
# added tokens are CONTROL when special or when they look like "<|...|>", else USER_DEFINED; the
# rest NORMAL. Merges and special-token ids come from gguf.SpecialVocab, as in the converter.
import argparse
import json
import os
import shutil
import subprocess
import tempfile

import gguf
from tokenizers import Tokenizer

QWEN3_VOCAB_SIZE = 151936  # config.json "vocab_size" of every Qwen3 model
QWEN3_BOS_ID = 151643      # config.json "bos_token_id" (never added: add_bos_token is false)
QWEN3_EOS_ID = 151645      # config.json "eos_token_id"


def looks_special(text: str) -> bool:
    # The converter also marks "<|...|>" added tokens as control even when HF says non-special.
    return text.startswith("<|") and text.endswith("|>")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokenizer-dir", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(args.tokenizer_dir, "tokenizer.json.zst")
        subprocess.run(["zstd", "-q", "-d", src, "-o", os.path.join(tmp, "tokenizer.json")],
                       check=True)
        shutil.copy(os.path.join(args.tokenizer_dir, "tokenizer_config.json"), tmp)
        with open(os.path.join(tmp, "config.json"), "w") as f:
            json.dump({"vocab_size": QWEN3_VOCAB_SIZE, "bos_token_id": QWEN3_BOS_ID,
                       "eos_token_id": QWEN3_EOS_ID}, f)

        tok = Tokenizer.from_file(os.path.join(tmp, "tokenizer.json"))
        reverse = {i: t for t, i in tok.get_vocab(with_added_tokens=True).items()}
        added = tok.get_added_tokens_decoder()
        tokens, types = [], []
        for i in range(QWEN3_VOCAB_SIZE):
            if i not in reverse:
                tokens.append(f"[PAD{i}]")
                types.append(gguf.TokenType.UNUSED)
            elif i in added:
                tokens.append(reverse[i])
                special = added[i].special or looks_special(reverse[i])
                types.append(gguf.TokenType.CONTROL if special else gguf.TokenType.USER_DEFINED)
            else:
                tokens.append(reverse[i])
                types.append(gguf.TokenType.NORMAL)

        plain = args.out[:-4] if args.out.endswith(".zst") else args.out
        w = gguf.GGUFWriter(plain, "qwen3")
        w.add_tokenizer_model("gpt2")
        w.add_tokenizer_pre("qwen2")
        w.add_token_list(tokens)
        w.add_token_types(types)
        special = gguf.SpecialVocab(tmp, load_merges=True, n_vocab=len(tokens))
        special.add_to_gguf(w)
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_ti_data_to_file()
        w.close()
    if plain != args.out:
        subprocess.run(["zstd", "-q", "-f", "-19", "--rm", plain, "-o", args.out], check=True)
    print(f"wrote {args.out}: {len(tokens)} tokens")


if __name__ == "__main__":
    main()
