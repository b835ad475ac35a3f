#!/usr/bin/env python3
"""Oracle for the chat formats known by name (src/chat/builtin_templates.cpp,
tests/chat/test_builtin_templates.cpp): the prompts llama-server renders for them.

Command (from the repo root; llama-server built from llama.cpp, e.g. the unslothai/llama.cpp
mirror at d32676d7, with -DGGML_NATIVE=OFF; MODEL any GGUF with a tokenizer, such as
`longctx synth --shape qwen3-tiny -o tiny.gguf`):
    python3 tools/chat_builtin_fixtures.py --llama-server PATH --model MODEL \\
        tests/chat/data/builtin_templates.json

For each name, one llama-server is started with `--chat-template NAME --no-jinja` (its own C++
formatter for the name, not a Jinja template) and each conversation below is posted to its
/apply-template endpoint; the prompt it answers is recorded. The model plays no part in the text
(these formats take no special tokens from it).
"""
import argparse
import json
import socket
import subprocess
import sys
import time
import urllib.request

NAMES = ["chatml", "llama2", "llama2-sys", "llama3", "mistral-v7", "mistral-v7-tekken", "phi3",
         "phi4", "falcon3", "zephyr", "gemma", "vicuna", "vicuna-orca", "deepseek", "deepseek3",
         "command-r"]

CONVERSATIONS = [
    [{"role": "system", "content": "You are a test."}, {"role": "user", "content": "Hi there"}],
    [{"role": "user", "content": "Hello"}],
    [{"role": "system", "content": "  Be brief.  "},
     {"role": "user", "content": " What is 2+2? "},
     {"role": "assistant", "content": " 4 "},
     {"role": "user", "content": "And 3+3?\n"}],
    [{"role": "system", "content": "one"}, {"role": "system", "content": "two"},
     {"role": "user", "content": "q"}, {"role": "assistant", "content": "a"},
     {"role": "user", "content": "q2"}, {"role": "assistant", "content": "a2"},
     {"role": "user", "content": "q3"}],
    [{"role": "user", "content": "caf\u00e9 \u2014 \u65e5\u672c {{ not jinja }} {% raw %}"}],
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(port, path, body):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", json.dumps(body).encode(),
                                 {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--llama-server", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("out")
    a = ap.parse_args()
    cases = []
    for name in NAMES:
        port = free_port()
        p = subprocess.Popen([a.llama_server, "-m", a.model, "--port", str(port), "-c", "512",
                              "-np", "1", "--no-jinja", "--chat-template", name],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(120):
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                        if r.status == 200:
                            break
                except Exception:
                    pass
                if p.poll() is not None:
                    sys.exit(f"llama-server exited for --chat-template {name}")
                time.sleep(0.25)
            for conv in CONVERSATIONS:
                prompt = post(port, "/apply-template", {"messages": conv})["prompt"]
                cases.append({"name": name, "messages": conv, "prompt": prompt})
        finally:
            p.terminate()
            p.wait()
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump({"generator": "tools/chat_builtin_fixtures.py (llama-server /apply-template)",
                   "cases": cases}, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"{len(cases)} cases -> {a.out}")


if __name__ == "__main__":
    main()
