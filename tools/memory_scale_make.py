#!/usr/bin/env python3
"""Writes the memory store's scale check: a conversation of N turns (JSON lines, the import
format) with a Zipf-distributed vocabulary of 30,000 made-up words mixed with common English
words (so some query words are in most turns, as "like" or "good" are in real chats), and Q
questions made of 3-12 words of a random turn (its evidence). Used for `longctx memory import`
rate and `longctx memory bench` search latency at 100,000 turns (docs/PERFORMANCE.md).

    python3 tools/memory_scale_make.py --turns 100000 --queries 1000 --out /tmp/mem
"""
import argparse
import itertools
import json
import pathlib
import random


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--turns", type=int, default=100000)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    out = pathlib.Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(a.seed)
    common = ("the a and to of in I you it is was that for on with my we they at be this have "
              "but not so what are just like do go get").split()
    syllables = ["ka", "lo", "mi", "ne", "ra", "to", "su", "ve", "da", "pi", "mo", "ri", "sa",
                 "te", "lu", "no", "be", "fa"]
    vocab = sorted({"".join(rng.choice(syllables) for _ in range(rng.randint(2, 4)))
                    for _ in range(30000)})
    rng.shuffle(vocab)
    cum = list(itertools.accumulate(1.0 / (i + 1) for i in range(len(vocab))))
    names = ["Anna", "Boris", "Chen", "Dana", "Egor", "Fay"]
    lines = []
    for i in range(a.turns):
        k = rng.randint(5, 40)
        words = rng.choices(vocab, cum_weights=cum, k=k) + rng.choices(common, k=k // 2)
        rng.shuffle(words)
        day, month, year = 1 + (i // 30) % 28, 1 + (i // 900) % 12, 2020 + i // 10800
        lines.append(json.dumps({"role": "user" if i % 2 == 0 else "assistant",
                                 "name": names[i % 6],
                                 "time": f"{year}-{month:02d}-{day:02d}T12:{i % 60:02d}:00",
                                 "content": " ".join(words)}))
    (out / "scale.jsonl").write_text("\n".join(lines) + "\n")
    questions = []
    for _ in range(a.queries):
        p = rng.randrange(a.turns)
        words = json.loads(lines[p])["content"].split()
        rng.shuffle(words)
        questions.append({"conversation": "scale", "question": " ".join(words[:rng.randint(3, 12)]),
                          "evidence": [p], "kind": "random"})
    (out / "questions.json").write_text(json.dumps(questions))
    print(f"wrote {a.turns} turns and {a.queries} questions to {out}")


if __name__ == "__main__":
    main()
