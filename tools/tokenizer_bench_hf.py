#!/usr/bin/env python3
# Times Hugging Face `tokenizers` on one thread on the same corpus as bench/tokenizer
# (the golden fixture texts joined by "\n", repeated to the target size), for docs/PERFORMANCE.md.
#
# Command (from the repo root; tokenizers 0.23.3):
#   RAYON_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false python3 tools/tokenizer_bench_hf.py \
#       --tokenizer data/qwen3-tokenizer/tokenizer.json.zst --mb 4 --reps 3
import argparse
import json
import os
import subprocess
import time

# One thread for the Rust side; must be set before tokenizers is imported.
os.environ.setdefault("RAYON_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
from tokenizers import Tokenizer  # noqa: E402


def build_corpus(cases_path: str, target: int) -> str:
    with open(cases_path, encoding="utf-8") as f:
        cases = json.load(f)["cases"]
    unit = "".join(c["text"] + "\n" for c in cases if "text" in c)
    corpus = ""
    while len(corpus.encode("utf-8")) < target:
        corpus += unit
    return corpus


def best(reps: int, fn):
    times, n = [], 0
    for _ in range(reps):
        t0 = time.perf_counter()
        n = fn()
        times.append(time.perf_counter() - t0)
    return min(times), n


def report(name: str, nbytes: int, tokens: int, sec: float) -> None:
    print(f"{name:<22} {nbytes:>10} bytes {tokens:>9} tokens {sec:8.3f} s "
          f"{nbytes / sec / 1e6:8.2f} MB/s {tokens / sec:12.0f} tokens/s")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--cases", default="tests/tokenizer/data/encode_cases.json")
    ap.add_argument("--mb", type=float, default=4.0)
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    if args.tokenizer.endswith(".zst"):
        raw = subprocess.run(["zstd", "-dc", args.tokenizer], check=True, capture_output=True).stdout
        tok = Tokenizer.from_str(raw.decode("utf-8"))
    else:
        tok = Tokenizer.from_file(args.tokenizer)
    corpus = build_corpus(args.cases, int(args.mb * 1e6))
    lines = [l for l in corpus.split("\n") if l]

    sec, n = best(args.reps, lambda: len(tok.encode(corpus, add_special_tokens=False).ids))
    report("hf whole-text", len(corpus.encode()), n, sec)
    sec, n = best(args.reps, lambda: sum(
        len(e.ids) for e in tok.encode_batch(lines, add_special_tokens=False)))
    report("hf line-by-line batch", sum(len(l.encode()) for l in lines), n, sec)


if __name__ == "__main__":
    main()
