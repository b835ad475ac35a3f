#!/usr/bin/env python3
"""Side-by-side speed of longctx and llama.cpp on the same GGUF files, alternating the two.

Usage (from the repo root, after building both):
  python3 tools/perf_compare.py --llama-bench /tmp/llama-build/bin/llama-bench \
      --longctx build/src/longctx --threads 2 --rounds 3 \
      --case /tmp/bench_models/qwen3-0.6b-q8_0.gguf:0,4096:512:128 [--case ...] \
      [--skip-llama-depth 16384] [--bw GBPS] [--kv q8_0] [--json-out results.json]

Each --case is MODEL:DEPTHS:N_PROMPT:N_GEN. For every case and depth, each round runs
llama-bench once (-r 1) and then `longctx bench` once (-r 1) with the same prompt/gen sizes,
threads and KV cache type (--kv, default f16: both programs get it for K and V; a quantized
cache runs llama.cpp with -fa 1, which it needs for a quantized V); the table reports the median tokens/s of the rounds for each program, the
ratio, and longctx's achieved GB/s (decode) or GFLOP/s (prefill) and share of the bandwidth
limit (longctx measures it at start-up with a STREAM-style read). llama-bench fills its depth
with a real prefill before every test, which takes minutes at large depths on this machine;
--skip-llama-depth D leaves llama.cpp out at depth D (the table then shows '-').
Only the Python standard library is used.
"""
import argparse
import json
import statistics
import subprocess
import sys


def run_json(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    start = out.index("[")
    return json.loads(out[start:])


def test_name(r):
    name = f"pp{r['n_prompt']}" if r["n_prompt"] > 0 else f"tg{r['n_gen']}"
    return name + (f" @ d{r['n_depth']}" if r["n_depth"] > 0 else "")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--llama-bench", required=True)
    ap.add_argument("--longctx", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--case", action="append", required=True)
    ap.add_argument("--skip-llama-depth", type=int, action="append", default=[])
    ap.add_argument("--json-out")
    ap.add_argument("--kv", default="f16", help="KV cache type for K and V (both programs)")
    ap.add_argument("--bw", help="bandwidth limit in GB/s passed to longctx bench (default: it "
                    "measures one per run)")
    args = ap.parse_args()

    rows = []  # (model, test, llama samples, longctx samples, longctx extra)
    raw = []
    for case in args.case:
        model, depths, n_prompt, n_gen = case.rsplit(":", 3)
        for depth in [int(d) for d in depths.split(",")]:
            common = ["-p", n_prompt, "-n", n_gen, "-d", str(depth), "-t", str(args.threads),
                      "-r", "1", "-o", "json"]
            llama, ours = {}, {}
            for rnd in range(args.rounds):
                if depth not in args.skip_llama_depth:
                    fa = ["-fa", "1"] if args.kv not in ("f16", "bf16", "f32") else []
                    for r in run_json([args.llama_bench, "-m", model, "-ctk", args.kv, "-ctv",
                                       args.kv] + fa + common):
                        llama.setdefault(test_name(r), []).append(r["avg_ts"])
                        raw.append({"program": "llama.cpp", "model": model, **r})
                bw = ["--bw", args.bw] if args.bw else []
                for r in run_json([args.longctx, "bench", "-m", model, "-q", "--kv-type",
                                   args.kv] + bw + common):
                    ours.setdefault(test_name(r), []).append(r)
                    raw.append({"program": "longctx", "model": model, **r})
                print(f"{model} d{depth} round {rnd + 1}/{args.rounds} done", file=sys.stderr)
            for name, rs in ours.items():
                rows.append((model, name, llama.get(name, []), rs))

    print("| model | KV | test | llama.cpp t/s | longctx t/s | longctx / llama.cpp | longctx GB/s "
          "| longctx % of limit | longctx GFLOP/s | limit GB/s |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for model, name, lt, rs in rows:
        ts = statistics.median(r["avg_ts"] for r in rs)
        mid = sorted(rs, key=lambda r: r["avg_ts"])[len(rs) // 2]
        lmed = statistics.median(lt) if lt else None
        ratio = "%.2fx" % (ts / lmed) if lmed else "-"
        is_gen = mid["n_prompt"] == 0
        lcell = "-" if lmed is None else "%.2f (%s)" % (lmed, ", ".join("%.1f" % v for v in lt))
        ocell = "%.2f (%s)" % (ts, ", ".join("%.1f" % r["avg_ts"] for r in rs))
        share = "%.0f%%" % (100 * mid["bw_share"]) if is_gen else ""
        gbps = "%.1f" % mid["gbps"] if is_gen else ""
        gflops = "" if is_gen else "%.0f" % mid["gflops"]
        print("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %.1f |" % (
            model.split("/")[-1], args.kv, name, lcell, ocell, ratio, gbps, share, gflops,
            mid["bw_limit_gbps"]))
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(raw, f, indent=1)


if __name__ == "__main__":
    main()
