#!/usr/bin/env python3
"""Throughput of `longctx serve` under concurrent streaming clients (docs/PERFORMANCE.md).

Starts `longctx serve` on 127.0.0.1 (or uses --url), then for each prompt length runs one
streaming client alone and then --clients streaming clients at once, each sending a chat request
of about --prompt tokens of distinct text and asking for exactly --reply tokens (ignore_eos),
and reports per run:
  - decode tokens/s: completion tokens over the union of the clients' decode intervals (from a
    client's first content chunk to its last), i.e. while at least one sequence was decoding;
  - time to first token (median and max over the clients) and the wall time;
  - the longest pause between two content chunks of one client (a decoding stream held up by
    another request's prefill), the largest over the clients;
  - steady decode: --parallel clients at once (one per sequence), content chunks received
    between the last client's first chunk and the first client's last one (every sequence
    decoding, no prompt in the steps) over that window, against the single client's rate;
  - the prefill-reuse check: one client sends a conversation of about --prompt tokens, then
    resends it with the reply and a new user turn: usage.prompt_tokens_details.cached_tokens
    against prompt_tokens.
Standard library only.

  python3 tools/server_bench.py --bin build/src/longctx --model q06_q8.gguf --parallel 4 \\
      --clients 8 --prompt 512,4096 --reply 256 [--server-args "-ctk q8_0 -ctv q8_0"]
"""
import argparse
import json
import os
import random
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

WORDS = ("river mountain quiet engine lantern harbor copper meadow signal orchard velvet ember "
         "glacier compass thunder willow marble canyon ribbon falcon prism saddle beacon").split()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def text_of(n_words, seed):
    rng = random.Random(seed)
    return " ".join(rng.choice(WORDS) for _ in range(n_words))


def chat_stream(host, port, messages, max_tokens, timeout=3600):
    """One streamed chat request over a raw socket (a light client: on a small machine the load
    generator must not take the CPU the server needs). Returns (t_start, t_first_content, t_end,
    n_content_chunks, usage, text, content_times): the last is the arrival time of each content
    chunk (of the read that completed it)."""
    body = json.dumps({"messages": messages, "max_tokens": max_tokens, "stream": True,
                       "ignore_eos": True, "temperature": 0,
                       "stream_options": {"include_usage": True},
                       "chat_template_kwargs": {"enable_thinking": False}}).encode()
    s = socket.create_connection((host, port), timeout=timeout)
    t0 = time.monotonic()
    s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n"
              b"Content-Type: application/json\r\nContent-Length: " + str(len(body)).encode() +
              b"\r\n\r\n" + body)
    buf = bytearray()
    first = None
    marks = []  # (arrival time, bytes received so far)
    while True:
        chunk = s.recv(1 << 16)
        if not chunk:
            break
        buf += chunk
        marks.append((time.monotonic(), len(buf)))
        if first is None and b'"delta":{"content":"' in chunk:
            first = time.monotonic()
    t1 = time.monotonic()
    s.close()
    head, _, rest = bytes(buf).partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(head[:200].decode(errors="replace") + rest[:300].decode(errors="replace"))
    usage, text, chunks, times = None, [], 0, []
    offset, m = len(head) + 4, 0  # byte offset of the line's end in buf; index into marks
    for raw in rest.split(b"\n"):
        offset += len(raw) + 1
        line = raw.strip()
        if not line.startswith(b"data: {"):
            continue
        j = json.loads(line[6:])
        if j.get("usage"):
            usage = j["usage"]
        for ch in j.get("choices", []):
            piece = ch.get("delta", {}).get("content")
            if piece:
                chunks += 1
                text.append(piece)
                while m + 1 < len(marks) and marks[m][1] < min(offset, len(buf)):
                    m += 1
                times.append(marks[m][0])
    return t0, first, t1, chunks, usage, "".join(text), times


def union_length(intervals):
    total, end = 0.0, None
    for a, b in sorted(intervals):
        if end is None or a > end:
            total += b - a
            end = b
        elif b > end:
            total += b - end
            end = b
    return total


def run_clients(host, port, n, prompt_words, reply, seed):
    results = [None] * n
    errors = []

    def worker(i):
        try:
            msgs = [{"role": "user", "content": text_of(prompt_words, seed * 1000 + i)}]
            results[i] = chat_stream(host, port, msgs, reply)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(f"client {i}: {e}")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - t0
    if errors:
        raise RuntimeError("; ".join(errors))
    completion = sum(r[4]["completion_tokens"] for r in results)
    prompt_tokens = [r[4]["prompt_tokens"] for r in results]
    decode = union_length([(r[1], r[2]) for r in results if r[1] is not None])
    ttft = [r[1] - r[0] for r in results if r[1] is not None]
    # Steady decode: from the moment every client has its first content chunk to the moment
    # the first one has its last, all of them decode together and no prompt is being prefilled
    # (with as many clients as sequences): content chunks received in that window over its length.
    w0 = max(r[6][0] for r in results if r[6])
    w1 = min(r[6][-1] for r in results if r[6])
    in_window = sum(1 for r in results for t in r[6] if w0 < t <= w1)
    gaps = [b - a for r in results for a, b in zip(r[6], r[6][1:])]
    return {"clients": n, "prompt_tokens": statistics.median(prompt_tokens),
            "completion_tokens": completion, "wall_s": wall, "decode_s": decode,
            "decode_tps": completion / decode if decode > 0 else 0.0,
            "steady_s": max(0.0, w1 - w0),
            "steady_tps": in_window / (w1 - w0) if w1 > w0 else 0.0,
            "ttft_median_s": statistics.median(ttft), "ttft_max_s": max(ttft),
            "max_gap_s": max(gaps) if gaps else 0.0}


def reuse_check(host, port, prompt_words, reply, seed):
    msgs = [{"role": "user", "content": text_of(prompt_words, seed)}]
    _, _, _, _, u1, text, _ = chat_stream(host, port, msgs, reply)
    msgs += [{"role": "assistant", "content": text}, {"role": "user", "content": "And then?"}]
    _, _, _, _, u2, _, _ = chat_stream(host, port, msgs, 8)
    return {"first_prompt_tokens": u1["prompt_tokens"], "resent_prompt_tokens": u2["prompt_tokens"],
            "cached_tokens": u2["prompt_tokens_details"]["cached_tokens"],
            "prefilled": u2["prompt_tokens"] - u2["prompt_tokens_details"]["cached_tokens"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default="build/src/longctx")
    ap.add_argument("--model")
    ap.add_argument("--url", help="use a running server (http://127.0.0.1:PORT)")
    ap.add_argument("--parallel", type=int, default=4)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--prompt", default="512,4096", help="prompt lengths in tokens (about)")
    ap.add_argument("--reply", type=int, default=256)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--server-args", default="")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json")
    a = ap.parse_args()
    lengths = [int(x) for x in a.prompt.split(",")]
    proc = None
    if a.url:
        host, port = a.url.split("//")[1].split(":")
        port = int(port)
    else:
        host, port = "127.0.0.1", free_port()
        # Room for the prompts (the text's token count runs up to ~15% over --prompt) and reply.
        ctx = int(max(lengths) * 1.2) + a.reply + 256
        cmd = [a.bin, "serve", "-m", a.model, "--host", host, "--port", str(port),
               "--parallel", str(a.parallel), "--ctx", str(ctx), "--no-ui",
               "--max-queue", str(4 * a.clients)] + shlex.split(a.server_args)
        if a.threads:
            cmd += ["--threads", str(a.threads)]
        print("server:", " ".join(cmd), file=sys.stderr)
        proc = subprocess.Popen(cmd, stderr=subprocess.DEVNULL)
        for _ in range(600):
            if proc.poll() is not None:  # refused its arguments, or failed to load
                raise SystemExit(f"the server exited with status {proc.returncode} at start; run "
                                 "the command above by hand to see why")
            try:
                with urllib.request.urlopen(f"http://{host}:{port}/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except Exception:  # noqa: BLE001 - not up yet
                time.sleep(0.5)
        else:
            raise SystemExit("server did not come up")
    out = {"parallel": a.parallel, "clients": a.clients, "reply": a.reply, "runs": []}
    try:
        for n_tok in lengths:
            words = max(8, int(n_tok / 1.05))  # the words above are ~1 token each after a space
            single = run_clients(host, port, 1, words, a.reply, a.seed + n_tok)
            multi = run_clients(host, port, a.clients, words, a.reply, a.seed + n_tok + 7)
            steady = run_clients(host, port, a.parallel, words, a.reply, a.seed + n_tok + 13)
            reuse = reuse_check(host, port, words, 32, a.seed + n_tok + 99)
            ratio = multi["decode_tps"] / single["decode_tps"] if single["decode_tps"] else 0.0
            steady_ratio = (steady["steady_tps"] / single["decode_tps"]
                            if single["decode_tps"] else 0.0)
            out["runs"].append({"prompt": n_tok, "single": single, "concurrent": multi,
                                "ratio": ratio, "steady": steady, "steady_ratio": steady_ratio,
                                "reuse": reuse})
            print(f"prompt ~{single['prompt_tokens']} tokens, reply {a.reply}: "
                  f"1 client {single['decode_tps']:.1f} t/s (ttft {single['ttft_median_s']:.2f} s); "
                  f"{a.clients} clients on {a.parallel} sequences {multi['decode_tps']:.1f} t/s "
                  f"= {ratio:.2f}x (ttft median {multi['ttft_median_s']:.2f} s, max "
                  f"{multi['ttft_max_s']:.2f} s, longest pause {multi['max_gap_s']:.2f} s, "
                  f"wall {multi['wall_s']:.1f} s); "
                  f"{a.parallel} clients decoding together {steady['steady_tps']:.1f} t/s = "
                  f"{steady_ratio:.2f}x (over {steady['steady_s']:.1f} s); resent history: "
                  f"{reuse['cached_tokens']} of {reuse['resent_prompt_tokens']} cached, "
                  f"{reuse['prefilled']} prefilled", flush=True)
    finally:
        if proc:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
