#!/usr/bin/env python3
# Writes the GGUF reader fixtures with the independent Python `gguf` package (GGUFWriter) and a
# JSON of what each file contains (metadata values, tensor names/dims/types/offsets, sha256 of
# each tensor's bytes). Tests in tests/gguf/ read the files with our reader and compare.
#
# Command (from the repo root; gguf 0.19.0, numpy):
#   python3 tools/gguf_make_fixtures.py tests/gguf/data fuzz/corpus/gguf
# The optional second folder receives the fuzzer's seed corpus (small valid files).
import hashlib
import json
import os
import struct
import sys

import numpy as np
import gguf
from gguf import GGUFValueType as VT, GGMLQuantizationType as QT

SEED = 20261128


def jvalue(value, vtype, sub_type=None):
    """JSON form of a metadata value: {"type", "value"} or {"type", "elem_type", "elems"}."""
    if vtype == VT.ARRAY:
        if sub_type is None:
            sub_type = VT.get_type(value[0])
        return {"type": int(vtype), "elem_type": int(sub_type),
                "elems": [jvalue(v, sub_type) for v in value]}
    if vtype == VT.FLOAT32:
        value = float(np.float32(value))  # what the file actually holds
    if vtype == VT.BOOL:
        value = bool(value)
    return {"type": int(vtype), "value": value}


class Fixture:
    """Collects metadata in write order so the JSON lists it exactly as the file does."""

    def __init__(self, path, arch, alignment=None):
        self.path = path
        self.w = gguf.GGUFWriter(path, arch)
        self.kv = [{"key": "general.architecture", **jvalue(arch, VT.STRING)}]
        self.tensors = []
        if alignment is not None:
            self.w.add_custom_alignment(alignment)
            self.kv.append({"key": "general.alignment", **jvalue(alignment, VT.UINT32)})

    def add(self, key, value, vtype, sub_type=None):
        self.w.add_key_value(key, value, vtype, sub_type)
        self.kv.append({"key": key, **jvalue(value, vtype, sub_type)})

    def tensor(self, rng, name, ne, qtype):
        """Random bytes for a tensor of ggml shape `ne` (row length first) and type `qtype`."""
        block, type_size = gguf.GGML_QUANT_SIZES[qtype]
        assert ne[0] % block == 0
        rows = int(np.prod(ne[1:])) if len(ne) > 1 else 1
        row_bytes = ne[0] // block * type_size
        raw = rng.integers(0, 256, size=(rows * row_bytes,), dtype=np.uint8)
        # numpy shape is the reverse of ggml's ne; the last axis is the row in bytes.
        byte_shape = tuple(reversed(ne[1:])) + (row_bytes,)
        self.w.add_tensor(name, raw.reshape(byte_shape), raw_dtype=qtype)
        self.tensors.append({"name": name, "dims": list(ne), "type": int(qtype),
                             "n_elements": int(np.prod(ne)), "n_bytes": int(raw.size),
                             "sha256": hashlib.sha256(raw.tobytes()).hexdigest()})

    def write(self):
        self.w.write_header_to_file()
        self.w.write_kv_data_to_file()
        self.w.write_tensors_to_file()
        self.w.close()
        return self.check_with_reader()

    def check_with_reader(self):
        """Re-reads the file with gguf.GGUFReader; adds offsets and checks sizes and hashes."""
        r = gguf.GGUFReader(self.path)
        assert len(r.tensors) == len(self.tensors)
        for t, rt in zip(self.tensors, r.tensors):
            assert rt.name == t["name"] and int(rt.tensor_type) == t["type"]
            assert [int(x) for x in rt.shape] == t["dims"], (rt.shape, t["dims"])
            assert int(rt.n_bytes) == t["n_bytes"]
            data = np.asarray(rt.data).tobytes()
            assert hashlib.sha256(data).hexdigest() == t["sha256"]
            t["offset"] = int(rt.data_offset) - int(r.data_offset)
        return {"file": os.path.basename(self.path), "version": 3,
                "alignment": int(r.alignment), "data_offset": int(r.data_offset),
                "file_size": os.path.getsize(self.path),
                "metadata": self.kv, "tensors": self.tensors}


def all_types(out, rng):
    """Every metadata type, arrays of each, nested arrays, unicode; alignment 64; mixed tensors."""
    f = Fixture(os.path.join(out, "all_types.gguf"), "testarch", alignment=64)
    f.add("t.u8", 200, VT.UINT8)
    f.add("t.i8", -100, VT.INT8)
    f.add("t.u16", 65000, VT.UINT16)
    f.add("t.i16", -32000, VT.INT16)
    f.add("t.u32", 4000000000, VT.UINT32)
    f.add("t.i32", -2000000000, VT.INT32)
    f.add("t.f32", 0.1, VT.FLOAT32)
    f.add("t.bool_true", True, VT.BOOL)
    f.add("t.bool_false", False, VT.BOOL)
    f.add("t.str", "hello, world", VT.STRING)
    f.add("t.str_empty", "", VT.STRING)
    f.add("t.u64", 2**64 - 1, VT.UINT64)
    f.add("t.i64", -(2**63), VT.INT64)
    f.add("t.f64", -1.25e-300, VT.FLOAT64)
    f.add("t.unicode.ключ.鍵", "Grüße — 你好 🎉 \u00e9\u0301 \"quoted\" \\ \n tab\t", VT.STRING)
    f.add("t.arr.u8", [0, 1, 255], VT.ARRAY, VT.UINT8)
    f.add("t.arr.i8", [-128, 0, 127], VT.ARRAY, VT.INT8)
    f.add("t.arr.u16", [0, 65535], VT.ARRAY, VT.UINT16)
    f.add("t.arr.i16", [-32768, 32767], VT.ARRAY, VT.INT16)
    f.add("t.arr.u32", [0, 4294967295, 7], VT.ARRAY, VT.UINT32)
    f.add("t.arr.i32", [-2147483648, 2147483647, -1], VT.ARRAY, VT.INT32)
    f.add("t.arr.f32", [1.5, -0.0, 3.4028234663852886e38, 1e-45], VT.ARRAY, VT.FLOAT32)
    f.add("t.arr.bool", [True, False, True], VT.ARRAY, VT.BOOL)
    f.add("t.arr.str", ["a", "", "ü", "<|im_start|>", "x" * 100], VT.ARRAY, VT.STRING)
    f.add("t.arr.u64", [0, 2**64 - 1], VT.ARRAY, VT.UINT64)
    f.add("t.arr.i64", [-(2**63), 2**63 - 1], VT.ARRAY, VT.INT64)
    f.add("t.arr.f64", [3.141592653589793, -2.5e100], VT.ARRAY, VT.FLOAT64)
    # Nested arrays: gguf-py infers the inner element type (python int -> int32, str -> string).
    f.add("t.arr.nested_int", [[1, 2, 3], [4], [-5, 6]], VT.ARRAY, VT.ARRAY)
    f.add("t.arr.nested_str", [["a", "b"], ["ç"]], VT.ARRAY, VT.ARRAY)
    f.add("t.arr.nested2", [[[1.5], [2.5, 3.5]], [[4.5]]], VT.ARRAY, VT.ARRAY)
    f.add("t.arr.long_i32", list(range(-50, 50)), VT.ARRAY, VT.INT32)
    f.tensor(rng, "tok_embd.weight", [64, 10], QT.F32)
    f.tensor(rng, "blk.0.attn_norm.weight", [17], QT.F32)
    f.tensor(rng, "blk.0.attn_q.weight", [64, 3], QT.F16)
    f.tensor(rng, "blk.0.attn_k.weight", [64, 2], QT.BF16)
    f.tensor(rng, "blk.0.ffn_up.weight", [96, 5], QT.Q8_0)
    f.tensor(rng, "blk.0.ffn_down.weight", [256, 3], QT.Q4_K)
    f.tensor(rng, "blk.0.ffn_gate.weight", [256, 2], QT.Q6_K)
    f.tensor(rng, "blk.0.q4_0_3d", [32, 2, 3], QT.Q4_0)
    f.tensor(rng, "blk.0.f32_4d", [3, 2, 2, 2], QT.F32)
    f.tensor(rng, "blk.0.q5_k", [512, 1], QT.Q5_K)
    return f.write()


def qwen_like(out, rng):
    """A small Qwen3-shaped file with the default alignment, a vocabulary and a chat template."""
    f = Fixture(os.path.join(out, "qwen_like.gguf"), "qwen3")
    f.add("general.name", "Tiny Qwen3 Fixture", VT.STRING)
    f.add("qwen3.block_count", 2, VT.UINT32)
    f.add("qwen3.context_length", 40960, VT.UINT32)
    f.add("qwen3.embedding_length", 64, VT.UINT32)
    f.add("qwen3.rope.freq_base", 1000000.0, VT.FLOAT32)
    f.add("qwen3.attention.layer_norm_rms_epsilon", 1e-6, VT.FLOAT32)
    f.add("tokenizer.ggml.model", "gpt2", VT.STRING)
    tokens = ["!", "\"", "#"] + ["tok%d" % k for k in range(297)]
    f.add("tokenizer.ggml.tokens", tokens, VT.ARRAY, VT.STRING)
    f.add("tokenizer.ggml.token_type", [1] * len(tokens), VT.ARRAY, VT.INT32)
    f.add("tokenizer.ggml.add_bos_token", False, VT.BOOL)
    f.add("tokenizer.chat_template", "{%- for message in messages %}" + "x" * 300 +
          "{%- endfor %}", VT.STRING)
    f.tensor(rng, "token_embd.weight", [64, 300], QT.Q8_0)
    for blk in range(2):
        f.tensor(rng, "blk.%d.attn_norm.weight" % blk, [64], QT.F32)
        f.tensor(rng, "blk.%d.attn_q.weight" % blk, [64, 64], QT.F16)
        f.tensor(rng, "blk.%d.ffn_down.weight" % blk, [256, 64], QT.Q4_K)
    f.tensor(rng, "output_norm.weight", [64], QT.F32)
    return f.write()


def no_tensors(out):
    f = Fixture(os.path.join(out, "no_tensors.gguf"), "llama")
    f.add("general.name", "metadata only", VT.STRING)
    return f.write()


def as_v2(out, info, name="qwen_like_v2.gguf"):
    """GGUF v2 has the v3 layout (v3 only added big-endian files), so patching the version field
    of a little-endian v3 file yields exactly what a v2 writer emits."""
    data = bytearray(open(os.path.join(out, info["file"]), "rb").read())
    assert struct.unpack_from("<I", data, 4)[0] == 3
    struct.pack_into("<I", data, 4, 2)
    open(os.path.join(out, name), "wb").write(bytes(data))
    return {**info, "file": name, "version": 2}


def big_endian(out):
    """A big-endian v3 file from GGUFWriter(endianess=BIG): our reader must reject it by name."""
    path = os.path.join(out, "big_endian.gguf")
    w = gguf.GGUFWriter(path, "llama", endianess=gguf.GGUFEndian.BIG)
    w.add_uint32("llama.block_count", 2)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    assert struct.unpack_from(">I", open(path, "rb").read(), 4)[0] == 3


def seeds(out, fixture_dir, rng):
    """Seed corpus for fuzz/fuzz_gguf.cpp: the two small fixtures plus tiny files exercising a
    small alignment and a v2 header (< 50 KB in all)."""
    os.makedirs(out, exist_ok=True)
    for name in ("all_types.gguf", "no_tensors.gguf"):
        data = open(os.path.join(fixture_dir, name), "rb").read()
        open(os.path.join(out, name), "wb").write(data)
    f = Fixture(os.path.join(out, "tiny_align8.gguf"), "qwen3", alignment=8)
    f.add("qwen3.block_count", 1, VT.UINT32)
    f.add("tokenizer.ggml.tokens", ["a", "b"], VT.ARRAY, VT.STRING)
    f.tensor(rng, "a", [4], QT.F32)
    f.tensor(rng, "b", [32, 2], QT.Q8_0)
    info = f.write()
    as_v2(out, info, "tiny_v2.gguf")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/gguf/data"
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(SEED)
    fixtures = [all_types(out, rng), qwen_like(out, rng), no_tensors(out)]
    fixtures.append(as_v2(out, fixtures[1]))
    if len(sys.argv) > 2:
        seeds(sys.argv[2], out, rng)
    big_endian(out)
    with open(os.path.join(out, "fixtures.json"), "w", encoding="utf-8") as fp:
        json.dump({"generator": "python3 tools/gguf_make_fixtures.py tests/gguf/data fuzz/corpus/gguf",
                   "gguf_version": "0.19.0", "fixtures": fixtures}, fp, indent=1,
                  ensure_ascii=False)
    for fx in fixtures:
        print("%-24s %6d bytes, %2d keys, %2d tensors" %
              (fx["file"], fx["file_size"], len(fx["metadata"]), len(fx["tensors"])))


if __name__ == "__main__":
    main()
