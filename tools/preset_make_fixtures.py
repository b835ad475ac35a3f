#!/usr/bin/env python3
"""Fixtures for tests/model/test_quant_preset.cpp: the type llama-quantize gives every tensor.

Command (repo root, after `cmake --build build`; llama.cpp at commit 0c1e570 built in /tmp):
  python3 tools/preset_make_fixtures.py --longctx build/src/longctx \
      --quantize /tmp/llama-build/bin/llama-quantize --out tests/model/data/quant_presets.json

Two ways of asking the oracle, both recorded per case as "method":
  quantize  `longctx synth --type F16` writes a real model cut to N layers; llama-quantize
            quantizes it; the `gguf` package reads each output tensor's type.
  dry-run   for full layer counts of big models (tens of GB in f16): a one-layer synth file is
            widened to N layers with the `gguf` package (same metadata, layer 0's tensors repeated,
            data left as a sparse hole) and `llama-quantize --dry-run` prints each tensor's type.
            For every "quantize" case the dry-run is run as well and must agree, which checks this
            log parsing against the real output files.
The synth files carry no tokenizer (`--tokenizer none`): llama-quantize does not need one, and
the `gguf` package reads a 151936-token vocabulary slowly. Scratch files go to a temporary folder
in /tmp and are deleted.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

import gguf

PRESETS = ["Q4_K_M", "Q5_K_M", "Q6_K", "Q8_0", "Q4_0", "Q5_K_S", "Q4_K_S", "BF16", "F16",
           "Q4_1", "Q5_0", "Q5_1", "Q3_K_M", "Q2_K"]
# (shape, layers, method). Layer counts vary n/8, 7n/8 and the every-third pattern of the
# "more bits" rule; full counts are the published models' (0.6B: 28, 8B: 36, 30B-A3B: 48).
CASES = [
    ("qwen3-tiny", 2, "quantize"),      # rows of 64: the block-size fallbacks, tied embeddings
    ("qwen3moe-tiny", 2, "quantize"),   # 8 experts: the Mixtral-style attention rules
    ("qwen3-0.6b", 4, "quantize"),
    ("qwen3-0.6b", 8, "quantize"),
    ("qwen3-0.6b", 28, "dry-run"),
    ("qwen3-0.6b", 17, "dry-run"),
    ("qwen3-8b", 36, "dry-run"),
    ("qwen3-8b", 12, "dry-run"),
    ("qwen3-30b-a3b", 48, "dry-run"),
    ("qwen3-30b-a3b", 10, "dry-run"),
]
THREADS = "2"
LINE = re.compile(r"\[\s*\d+/\s*\d+\]\s+(\S+)\s+- \[[^\]]*\], type =\s*(\S+), size = [^(]*"
                  r"(?:\((\S+)\))?\s*$")


def type_id(name):
    return int(gguf.GGMLQuantizationType[name.upper()])


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
    return r.stdout + r.stderr


def synth(args, shape, layers, path):
    run([args.longctx, "synth", "--shape", shape, "--layers", str(layers), "--type", "F16",
         "--tokenizer", "none", "-q", "-o", path])


def widen(seed_path, n_layer, path):
    """Writes seed_path's metadata and tensor list with layer 0 repeated n_layer times; the
    tensor data is a sparse hole (--dry-run never reads it)."""
    r = gguf.GGUFReader(seed_path)
    arch = bytes(r.fields["general.architecture"].parts[-1]).decode()
    w = gguf.GGUFWriter(path, arch)
    for name, f in r.fields.items():
        if name.startswith("GGUF.") or name == "general.architecture":
            continue
        vtype = f.types[0]
        val = n_layer if name == f"{arch}.block_count" else f.contents()
        sub = f.types[-1] if vtype == gguf.GGUFValueType.ARRAY else None
        w.add_key_value(name, val, vtype, sub_type=sub)
    tensors = []
    for t in r.tensors:
        if t.name.startswith("blk.0."):
            tensors += [(f"blk.{i}." + t.name[6:], t) for i in range(n_layer)]
        elif not t.name.startswith("blk."):
            tensors.append((t.name, t))
    tensors.sort(key=lambda nt: (int(nt[0].split(".")[1]) if nt[0].startswith("blk.") else -1))
    data = 0
    for name, t in tensors:
        shape = [int(d) for d in reversed(t.shape)]
        dtype = "float32" if t.tensor_type == gguf.GGMLQuantizationType.F32 else "float16"
        w.add_tensor_info(name, shape, dtype, int(t.n_bytes), raw_dtype=t.tensor_type)
        data += (int(t.n_bytes) + 31) // 32 * 32
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_ti_data_to_file()
    w.close()
    head = (os.path.getsize(path) + 31) // 32 * 32
    os.truncate(path, head + data)


def dry_run(args, src, preset):
    out = run([args.quantize, "--dry-run", src, preset, THREADS])
    types = {}
    for line in out.splitlines():
        m = LINE.search(line)
        if m:
            types[m.group(1)] = type_id(m.group(3) or m.group(2))
    if not types:
        sys.exit(f"no tensor lines in llama-quantize --dry-run output:\n{out[-2000:]}")
    return types


def quantize(args, src, preset, tmp):
    """Returns the output file's types by name, its general.file_type and its tensor bytes."""
    dst = os.path.join(tmp, f"out-{preset}.gguf")
    run([args.quantize, src, dst, preset, THREADS])
    r = gguf.GGUFReader(dst)
    types = {t.name: int(t.tensor_type) for t in r.tensors}
    ftype = int(r.fields["general.file_type"].contents())
    n_bytes = sum(int(t.n_bytes) for t in r.tensors)
    del r
    os.remove(dst)
    return types, ftype, n_bytes


def tensor_bytes(shapes, types):
    """Bytes of all tensors from the gguf package's block table (elements, bytes per block)."""
    total = 0
    for name, ne in shapes.items():
        block, block_bytes = gguf.GGML_QUANT_SIZES[gguf.GGMLQuantizationType(types[name])]
        n = 1
        for d in ne:
            n *= d
        assert n % block == 0, name
        total += n // block * block_bytes
    return total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--longctx", required=True)
    ap.add_argument("--quantize", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    cases = []
    with tempfile.TemporaryDirectory(dir="/tmp", prefix="presets-") as tmp:
        for shape, layers, method in CASES:
            print(f"{shape} x{layers} ({method})", file=sys.stderr, flush=True)
            src = os.path.join(tmp, "src.gguf")
            if method == "quantize":
                synth(args, shape, layers, src)
            else:
                seed = os.path.join(tmp, f"seed-{shape}.gguf")
                if not os.path.exists(seed):
                    synth(args, shape, 1, seed)
                widen(seed, layers, src)
            shapes = {t.name: [int(d) for d in t.shape] for t in gguf.GGUFReader(src).tensors}
            names = None
            presets = {}
            for p in PRESETS:
                dry = dry_run(args, src, p)
                ftype = None
                n_bytes = tensor_bytes(shapes, dry)
                if method == "quantize":
                    types, ftype, file_bytes = quantize(args, src, p, tmp)
                    if types != dry or file_bytes != n_bytes:
                        sys.exit(f"{shape} x{layers} {p}: --dry-run log disagrees with the file")
                else:
                    types = dry
                if names is None:
                    names = list(types)
                assert list(types) == names
                presets[p] = {"ftype": ftype, "bytes": n_bytes,
                              "types": [types[n] for n in names]}
            os.remove(src)
            cases.append({"shape": shape, "n_layer": layers, "method": method,
                          "names": names, "presets": presets})
    doc = {"generator": "python3 tools/preset_make_fixtures.py --longctx build/src/longctx "
                        "--quantize /tmp/llama-build/bin/llama-quantize "
                        "--out tests/model/data/quant_presets.json",
           "oracle": "llama-quantize, llama.cpp commit 0c1e570",
           "cases": cases}
    with open(args.out, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {args.out} ({os.path.getsize(args.out)} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
