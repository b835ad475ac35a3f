#!/usr/bin/env python3
# Oracle for the token sampler (tests/runtime/test_sampler.cpp): for random cases it computes,
# with Hugging Face transformers' logits processors, which tokens survive the filters and their
# renormalised probabilities.
# Command (from the repo root):
#   python3 tools/sampler_make_fixtures.py tests/runtime/data/sampler_oracle.json
# (transformers 5.24, torch 2.x; seeded, so the output is reproducible.)
#
# Pipeline, in Hugging Face generate()'s order: RepetitionPenaltyLogitsProcessor over the window
# (the last penalty_last_n history ids, out-of-vocabulary ids dropped), then presence/frequency as
# in vLLM / OpenAI (l -= presence * [count > 0] + frequency * count; transformers has no such
# processor, so the formula is written out here), then TemperatureLogitsWarper, TopKLogitsWarper,
# TopPLogitsWarper, MinPLogitsWarper, softmax. Temperature 0 means greedy: the argmax, first id
# on ties.
#
# Cases whose answer hinges on rounding are rejected and redrawn: a tie at the top-k cut, a
# cumulative probability within 1e-4 of top_p (or a tie at the top-p cut), a p / p_max ratio
# within 1e-4 of min_p. Logits and parameters are multiples of 1/1024, exact in float32 and
# printed exactly in JSON; -inf logits (masked tokens) are written as null.
import json
import sys

import numpy as np
import torch
from transformers.generation.logits_process import (
    MinPLogitsWarper,
    RepetitionPenaltyLogitsProcessor,
    TemperatureLogitsWarper,
    TopKLogitsWarper,
    TopPLogitsWarper,
)

BOUNDARY = 1e-4


def q(x):
    """Rounds to a multiple of 1/1024 (exact in float32 and in a JSON decimal)."""
    return float(np.round(np.float64(x) * 1024.0) / 1024.0)


def draw_case(rng, index):
    n_vocab = int(rng.integers(50, 1001))
    scale = rng.uniform(0.5, 2.0)
    logits = np.round(rng.normal(0.0, scale, n_vocab) * 1024.0) / 1024.0
    if index % 5 == 3:  # some cases mask a third of the vocabulary
        logits[rng.random(n_vocab) < 0.33] = -np.inf
    # History: repeats from a small pool so counts exceed 1, plus out-of-vocabulary ids; in odd
    # cases the pool is the 12 most likely tokens, so the penalties move the surviving set.
    if index % 2 == 1:
        pool = np.argsort(-logits, kind="stable")[:12]
    else:
        pool = rng.integers(0, n_vocab, size=int(rng.integers(1, 30)))
    history = [int(rng.choice(pool)) for _ in range(int(rng.integers(0, 120)))]
    for _ in range(int(rng.integers(0, 4))):
        history.insert(int(rng.integers(0, len(history) + 1)),
                       int(rng.choice([-1, -7, n_vocab, n_vocab + 11])))
    params = {
        "temperature": 0.0 if index % 10 == 0 else q(rng.uniform(0.3, 1.5)),
        "top_k": int(rng.choice([0, 1, 5, 20, 40, 2000], p=[0.3, 0.05, 0.15, 0.2, 0.15, 0.15])),
        "top_p": 1.0 if rng.random() < 0.3 else q(rng.uniform(0.5, 0.99)),
        "min_p": 0.0 if rng.random() < 0.5 else q(rng.uniform(0.005, 0.1)),
        "repetition_penalty": float(rng.choice([1.0, q(rng.uniform(1.0, 1.6)), 0.8125])),
        "presence_penalty": 0.0 if rng.random() < 0.5 else q(rng.uniform(0.0, 1.5)),
        "frequency_penalty": 0.0 if rng.random() < 0.5 else q(rng.uniform(0.0, 0.5)),
        "penalty_last_n": int(rng.choice([-1, 0, 16, 64])),
    }
    if index == 1:  # one plain softmax: every filter off
        params.update(top_k=0, top_p=1.0, min_p=0.0, temperature=1.0)
    return n_vocab, logits.astype(np.float32), history, params


def window_ids(history, params, n_vocab):
    n = params["penalty_last_n"]
    window = history if n == -1 else (history[-n:] if n > 0 else [])
    return [t for t in window if 0 <= t < n_vocab]


def oracle(n_vocab, logits, history, params):
    """Returns [(id, prob)] most likely first, or None when the case sits on a boundary."""
    scores = torch.from_numpy(logits.copy()).unsqueeze(0)  # [1, n_vocab] float32
    ids = window_ids(history, params, n_vocab)
    if ids:
        input_ids = torch.tensor([ids], dtype=torch.long)
        scores = RepetitionPenaltyLogitsProcessor(params["repetition_penalty"])(input_ids, scores)
        counts = torch.bincount(torch.tensor(ids), minlength=n_vocab).to(torch.float32)
        scores = scores - params["presence_penalty"] * (counts > 0).to(torch.float32)
        scores = scores - params["frequency_penalty"] * counts
    if params["temperature"] == 0.0:
        return [(int(np.argmax(scores[0].numpy())), 1.0)]
    dummy = torch.zeros((1, 1), dtype=torch.long)
    scores = TemperatureLogitsWarper(params["temperature"])(dummy, scores)
    flat = np.sort(scores[0].numpy())[::-1]
    k = params["top_k"]
    if 0 < k < n_vocab:
        if flat[k - 1] == flat[k] and np.isfinite(flat[k]):
            return None
        scores = TopKLogitsWarper(k)(dummy, scores)
    if params["top_p"] < 1.0:
        kept = np.sort(scores[0].numpy().astype(np.float64))[::-1]
        kept = kept[np.isfinite(kept)]
        p = np.exp(kept - kept[0])
        p /= p.sum()
        cum = np.cumsum(p)
        if np.any(np.abs(cum - params["top_p"]) < BOUNDARY):
            return None
        cut = int(np.searchsorted(cum, params["top_p"]))  # first index with cum >= top_p
        if cut + 1 < len(kept) and kept[cut] == kept[cut + 1]:
            return None
        scores = TopPLogitsWarper(params["top_p"])(dummy, scores)
    if params["min_p"] > 0.0:
        kept = scores[0].numpy().astype(np.float64)
        kept = kept[np.isfinite(kept)]
        ratio = np.exp(kept - kept.max())
        if np.any(np.abs(ratio - params["min_p"]) < BOUNDARY):
            return None
        scores = MinPLogitsWarper(params["min_p"])(dummy, scores)
    probs = torch.softmax(scores[0].to(torch.float64), dim=-1).numpy()
    order = np.argsort(-probs, kind="stable")
    return [(int(i), float(probs[i])) for i in order if probs[i] > 0.0]


def main():
    rng = np.random.default_rng(20261128)
    cases = []
    rejected = 0
    while len(cases) < 24:
        n_vocab, logits, history, params = draw_case(rng, len(cases))
        expected = oracle(n_vocab, logits, history, params)
        if expected is None:
            rejected += 1
            continue
        cases.append({
            "n_vocab": n_vocab,
            "logits": [None if not np.isfinite(x) else float(x) for x in logits],
            "history": history,
            "params": params,
            "expected": [[i, round(p, 9)] for i, p in expected],
        })
    doc = {
        "generator": "python3 tools/sampler_make_fixtures.py tests/runtime/data/sampler_oracle.json",
        "rejected_boundary_cases": rejected,
        "cases": cases,
    }
    with open(sys.argv[1], "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    sizes = [len(c["expected"]) for c in cases]
    print(f"{len(cases)} cases ({rejected} rejected near a boundary); surviving sets: {sizes}")


if __name__ == "__main__":
    main()
