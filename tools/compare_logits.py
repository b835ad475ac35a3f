#!/usr/bin/env python3
"""Compare two logit dumps (float32 .npy [n_positions, n_vocab]) position by position.

Usage: python3 tools/compare_logits.py A.npy B.npy [--json out.json] [--per-position]
A is the reference (longctx), B the other engine (llama.cpp). Per position: top-1 agreement,
max |A-B|, that maximum divided by A's logit spread (max - min of A's row), KL(softmax A ||
softmax B) in nats, and the gap between A's top two logits (a small gap makes top-1 fragile).
"""
import argparse
import json
import sys

import numpy as np


def compare(a: np.ndarray, b: np.ndarray) -> dict:
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    d = np.abs(a - b)
    max_abs = d.max(axis=1)
    spread = a.max(axis=1) - a.min(axis=1)
    rel = max_abs / np.where(spread > 0, spread, np.inf)
    # log-softmax with the max subtracted, so large logits cannot overflow exp.
    la = a - a.max(axis=1, keepdims=True)
    la -= np.log(np.exp(la).sum(axis=1, keepdims=True))
    lb = b - b.max(axis=1, keepdims=True)
    lb -= np.log(np.exp(lb).sum(axis=1, keepdims=True))
    kl = (np.exp(la) * (la - lb)).sum(axis=1)
    top_a = a.argmax(axis=1)
    top_b = b.argmax(axis=1)
    srt = np.sort(a, axis=1)
    gap = srt[:, -1] - srt[:, -2]
    # Relative RMS error of the whole row: scale-free, less dominated by one outlier than max.
    rel_rms = np.sqrt(((a - b) ** 2).mean(axis=1)) / np.maximum(a.std(axis=1), 1e-30)
    per = [
        {
            "pos": int(i),
            "top1_a": int(top_a[i]),
            "top1_b": int(top_b[i]),
            "top1_agree": bool(top_a[i] == top_b[i]),
            "max_abs": float(max_abs[i]),
            "spread": float(spread[i]),
            "max_abs_over_spread": float(rel[i]),
            "rel_rms": float(rel_rms[i]),
            "kl": float(kl[i]),
            "top12_gap_a": float(gap[i]),
        }
        for i in range(a.shape[0])
    ]
    summary = {
        "positions": int(a.shape[0]),
        "n_vocab": int(a.shape[1]),
        "top1_agree": int((top_a == top_b).sum()),
        "max_abs": float(max_abs.max()),
        "max_abs_over_spread": float(rel.max()),
        "mean_spread": float(spread.mean()),
        "max_rel_rms": float(rel_rms.max()),
        "mean_kl": float(kl.mean()),
        "max_kl": float(kl.max()),
        "min_top12_gap_a": float(gap.min()),
    }
    return {"summary": summary, "positions": per}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("a", help="reference logits .npy [n, n_vocab]")
    ap.add_argument("b", help="other logits .npy [n, n_vocab]")
    ap.add_argument("--json", help="write the summary and per-position numbers here")
    ap.add_argument("--per-position", action="store_true", help="print one line per position")
    args = ap.parse_args()
    a = np.load(args.a)
    b = np.load(args.b)
    if a.ndim != 2 or a.shape != b.shape:
        print(f"shape mismatch: {args.a} {a.shape} vs {args.b} {b.shape}", file=sys.stderr)
        return 2
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        print("non-finite logits: A %d, B %d" % ((~np.isfinite(a)).sum(), (~np.isfinite(b)).sum()),
              file=sys.stderr)
        return 2
    r = compare(a, b)
    if args.per_position:
        for p in r["positions"]:
            print("pos %3d top1 %6d/%6d %s max|d| %.3e spread %.3e rel %.3e relrms %.2e KL %.3e "
                  "gap %.3e" % (p["pos"], p["top1_a"], p["top1_b"], "ok  " if p["top1_agree"]
                                else "DIFF", p["max_abs"], p["spread"], p["max_abs_over_spread"],
                                p["rel_rms"], p["kl"], p["top12_gap_a"]))
    s = r["summary"]
    print("positions %d  top1 %d/%d  max|d| %.3e  max|d|/spread %.3e  mean spread %.3e  "
          "max relRMS %.3e  mean KL %.3e  max KL %.3e  min top1-2 gap %.3e" % (
              s["positions"], s["top1_agree"], s["positions"], s["max_abs"],
              s["max_abs_over_spread"], s["mean_spread"], s["max_rel_rms"], s["mean_kl"],
              s["max_kl"], s["min_top12_gap_a"]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(r, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
