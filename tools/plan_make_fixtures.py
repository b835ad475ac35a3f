#!/usr/bin/env python3
# Writes tests/plan/data/kv_bytes.json: KV-cache bytes per token of every Qwen3 catalog model for
# every KV type the planner knows, computed with the `gguf` package's block sizes (an oracle
# independent of src/quant/types.cpp) from the published config.json shapes.
#
# Command: python3 tools/plan_make_fixtures.py tests/plan/data/kv_bytes.json
import json
import sys

from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType as T

# name: (num_hidden_layers, num_key_value_heads, head_dim) from each model's config.json
# (shared/data/qwen3-family.md); the 2507 updates share their base model's attention shape.
MODELS = {
    "qwen3-0.6b": (28, 8, 128),
    "qwen3-1.7b": (28, 8, 128),
    "qwen3-4b": (36, 8, 128),
    "qwen3-4b-2507": (36, 8, 128),
    "qwen3-8b": (36, 8, 128),
    "qwen3-14b": (40, 8, 128),
    "qwen3-32b": (64, 8, 128),
    "qwen3-30b-a3b": (48, 4, 128),
    "qwen3-30b-a3b-2507": (48, 4, 128),
    "qwen3-coder-30b-a3b": (48, 4, 128),
    "qwen3-235b-a22b": (94, 4, 128),
    "qwen3-235b-a22b-2507": (94, 4, 128),
}
TYPES = {"f32": T.F32, "f16": T.F16, "bf16": T.BF16, "q8_0": T.Q8_0, "q4_0": T.Q4_0,
         "q4_1": T.Q4_1, "q5_0": T.Q5_0, "q5_1": T.Q5_1}


def row_bytes(t, n):
    block, size = GGML_QUANT_SIZES[t]
    assert n % block == 0
    return n // block * size


def main():
    out = {}
    for name, (layers, kv_heads, head_dim) in MODELS.items():
        # K and V rows of every kv head in every layer, one token.
        out[name] = {k: layers * kv_heads * 2 * row_bytes(t, head_dim) for k, t in TYPES.items()}
    with open(sys.argv[1], "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
