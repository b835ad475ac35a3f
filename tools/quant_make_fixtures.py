#!/usr/bin/env python3
# Writes the oracle fixtures of tests/quant/data/ for the block-format tests (tests/quant/).
#
# Command (from the repo root; the ggml library is optional, see below):
#   python3 tools/quant_make_fixtures.py --out tests/quant/data \
#       --ggml-lib /tmp/ggml-build/src/libggml-base.so
#
# Oracles: the `gguf` Python package (0.19.0, numpy 2.4) for every dequantizer and for the
# quantizers it has (F16 via numpy, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0). It has no K-quant
# quantizer (checked below), so Q4_K / Q5_K / Q6_K reference blocks come from ggml's own
# quantize_row_q*_K_ref, called through ctypes in a libggml-base.so of ggml-org/ggml commit
# d99724f2b141 (a Release build made outside this repo; no ggml code is kept here). Without
# --ggml-lib the K-quant quantizer fixtures are not written. When the library is given, the legacy quantizers
# are also cross-checked: gguf and ggml must produce identical bytes.
#
# File format (little-endian), one file per (kind, type), zstd-compressed (*.bin.zst):
#   char[4] "LQF1"; u32 type_id (GGUF id); u32 kind; u32 n_elements; u32 n_bytes; payloads:
#   kind 0 (deq_*): n_bytes packed blocks, then the oracle's n_elements floats;
#   kind 1 (q_f16, q_bf16, q_input): n_elements input floats, then the oracle's n_bytes output;
#   kind 2 (q_<block type>): only the oracle's n_bytes of blocks for the n_elements floats of
#   q_input (shared by all block types to keep the fixtures small; its n_bytes is 0).
import argparse
import ctypes
import os
import struct
import subprocess

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf import quants
from gguf.constants import GGML_QUANT_SIZES

MAGIC = b"LQF1"
KIND_DEQUANT, KIND_QUANT, KIND_QUANT_SHARED_INPUT = 0, 1, 2

# Byte offsets of the fp16 scale fields in each block (d, and dmin / m where present).
SCALE_OFFSETS = {
    T.Q4_0: [0], T.Q4_1: [0, 2], T.Q5_0: [0], T.Q5_1: [0, 2], T.Q8_0: [0],
    T.Q2_K: [80, 82], T.Q3_K: [108], T.Q4_K: [0, 2], T.Q5_K: [0, 2], T.Q6_K: [208],
}
BLOCK_TYPES = list(SCALE_OFFSETS)
LEGACY_QUANT = [T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q8_0]
K_QUANT = [T.Q4_K, T.Q5_K, T.Q6_K]


def write_fixture(out_dir, name, qtype, kind, floats, blob):
    floats = np.ascontiguousarray(floats, dtype=np.float32)
    blob = np.ascontiguousarray(blob).view(np.uint8)
    header = MAGIC + struct.pack("<4I", int(qtype), kind, floats.size, blob.size)
    if kind == KIND_DEQUANT:
        payload = blob.tobytes() + floats.tobytes()
    elif kind == KIND_QUANT:
        payload = floats.tobytes() + blob.tobytes()
    else:
        payload = blob.tobytes()
    path = os.path.join(out_dir, name + ".bin")
    with open(path, "wb") as f:
        f.write(header + payload)
    subprocess.run(["zstd", "-19", "-q", "-f", "--rm", path], check=True)
    print(f"{name}: {floats.size} floats, {blob.size} bytes")


def sane_fp16_scales(rng, n):
    """Finite fp16 scales: random sign, magnitude 10^U(-6, 1) (the low end is subnormal)."""
    mag = 10.0 ** rng.uniform(-6, 1, n)
    sign = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    return (sign * mag).astype(np.float16).view(np.uint16)


def random_blocks(rng, qtype, n_blocks):
    """Random quant bytes with sane fp16 scales; the first blocks are edge cases."""
    _, type_size = GGML_QUANT_SIZES[qtype]
    blocks = rng.integers(0, 256, size=(n_blocks, type_size), dtype=np.uint8)
    offsets = SCALE_OFFSETS[qtype]
    edges = [0x0000, 0x8000, 0x7BFF, 0xFBFF, 0x0001, 0x03FF, 0x8001, 0x3C00, 0xBC00]
    for off in offsets:
        vals = sane_fp16_scales(rng, n_blocks)
        vals[: len(edges)] = edges  # zero, -0, +-65504, subnormals, +-1
        blocks[:, off:off + 2] = vals.view(np.uint8).reshape(n_blocks, 2)
    non_scale = np.ones(type_size, dtype=bool)
    for off in offsets:
        non_scale[off:off + 2] = False
    blocks[len(edges), non_scale] = 0x00      # all quant bits clear
    blocks[len(edges) + 1, non_scale] = 0xFF  # all quant bits set
    return blocks


def quant_inputs(rng, n_rows):
    """Rows of 256 floats, one distribution per row (each row is one K-quant super-block)."""
    rows = []
    for r in range(n_rows):
        kind = r % 14
        if kind == 0:
            x = rng.normal(0, 1, 256)
        elif kind == 1:
            x = rng.uniform(-1, 1, 256)
        elif kind == 2:  # normal with 5% outliers 50x larger
            x = rng.normal(0, 1, 256)
            x[rng.random(256) < 0.05] *= 50
        elif kind == 3:
            x = np.zeros(256)
        elif kind == 4:  # tiny: fp16 scales become subnormal
            x = rng.normal(0, 1e-6, 256)
        elif kind == 5:  # all positive
            x = rng.uniform(0.5, 2.0, 256)
        elif kind == 6:  # all negative
            x = -rng.uniform(0.1, 3.0, 256)
        elif kind == 7:  # half-integer grid: exact rounding ties, +-max in the same block
            x = rng.integers(-16, 17, 256) * 0.5
        elif kind == 8:  # sub-blocks of 32 with very different magnitudes
            x = rng.normal(0, 1, 256) * np.repeat(10.0 ** rng.uniform(-3, 1, 8), 32)
        elif kind == 9:  # large, still within fp16 range after scaling
            x = rng.normal(0, 1000, 256)
        elif kind == 10:  # sparse
            x = np.where(rng.random(256) < 0.1, rng.normal(0, 1, 256), 0.0)
        elif kind == 11:  # constant
            x = np.full(256, 0.37)
        elif kind == 12:  # one all-zero sub-block of 32 and one of 16
            x = rng.normal(0, 1e-3, 256)
            x[64:96] = 0
            x[200:216] = 0
        else:  # scales so small the fp16 scale underflows to zero
            x = rng.normal(0, 1e-9, 256)
        rows.append(x)
    return np.array(rows, dtype=np.float32)


def f16_inputs(rng):
    """fp32 inputs for fp16/bf16 rounding: random bit patterns plus hand-picked boundaries."""
    bits = rng.integers(0, 2**32, 16384, dtype=np.uint64).astype(np.uint32)
    # Concentrate half of them on exponents fp16 can represent (2^-26 .. 2^17).
    exps = rng.integers(101, 145, 8192).astype(np.uint32)
    bits[:8192] = (bits[:8192] & np.uint32(0x807FFFFF)) | (exps << np.uint32(23))
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 65504, 65519.996, 65520, 65536,
                        2**-14, 2**-24, 2**-25, 2**-25 * 1.0000001, 3 * 2**-25, 5 * 2**-25, 2**-15 * 1.5,
                        1 + 2**-11, 1 + 3 * 2**-11, 1 + 2**-11 + 2**-20, 3.4e38, 1e-45],
                       dtype=np.float32)
    out = np.concatenate([bits.view(np.float32), special, -special])
    out_bits = out.view(np.uint32).copy()
    out_bits[-3:] = [0x7F800001, 0xFFC00123, 0x7FBFFFFF]  # signalling / payload NaNs
    return out_bits.view(np.float32)


class Ggml:
    """ctypes binding of ggml's quantize_row_*_ref (void f(const float*, void*, int64_t))."""

    def __init__(self, path):
        self.lib = ctypes.CDLL(path)

    def quantize(self, qtype, x):
        x = np.ascontiguousarray(x, dtype=np.float32).ravel()
        block_size, type_size = GGML_QUANT_SIZES[qtype]
        out = np.zeros(x.size // block_size * type_size, dtype=np.uint8)
        fn = getattr(self.lib, "quantize_row_" + qtype.name.lower().replace("_k", "_K") + "_ref")
        fn.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
        fn.restype = None
        fn(x.ctypes.data, out.ctypes.data, x.size)
        return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--ggml-lib", help="libggml-base.so exporting quantize_row_*_ref")
    ap.add_argument("--seed", type=int, default=20261128)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    rng = np.random.default_rng(args.seed)

    # --- Dequantization: random packed data -> oracle floats.
    for qtype in BLOCK_TYPES:
        n_blocks = 512 if GGML_QUANT_SIZES[qtype][0] == 32 else 256
        blocks = random_blocks(rng, qtype, n_blocks)
        floats = quants.dequantize(blocks, qtype).ravel()
        write_fixture(args.out, "deq_" + qtype.name.lower(), qtype, KIND_DEQUANT, floats, blocks)
    all16 = np.arange(65536, dtype=np.uint32).astype(np.uint16)  # every 16-bit pattern
    write_fixture(args.out, "deq_f16", T.F16, KIND_DEQUANT,
                  quants.dequantize(all16.view(np.uint8), T.F16), all16)
    write_fixture(args.out, "deq_bf16", T.BF16, KIND_DEQUANT,
                  quants.dequantize(all16.view(np.uint8), T.BF16).ravel(), all16)
    f32_bits = rng.integers(0, 2**32, 4096, dtype=np.uint64).astype(np.uint32)
    write_fixture(args.out, "deq_f32", T.F32, KIND_DEQUANT, f32_bits.view(np.float32), f32_bits)

    # --- Quantization: float inputs -> oracle blocks.
    x = quant_inputs(rng, 112)
    write_fixture(args.out, "q_input", T.F32, KIND_QUANT, x, np.zeros(0, dtype=np.uint8))
    ggml = Ggml(args.ggml_lib) if args.ggml_lib else None
    for qtype in LEGACY_QUANT:
        blocks = quants.quantize(x, qtype).ravel()
        if ggml is not None:
            assert np.array_equal(blocks, ggml.quantize(qtype, x)), f"gguf != ggml for {qtype.name}"
        write_fixture(args.out, "q_" + qtype.name.lower(), qtype, KIND_QUANT_SHARED_INPUT, x,
                      blocks)
    for qtype in K_QUANT:
        try:
            quants.quantize(x[:1], qtype)
            raise SystemExit(f"gguf now quantizes {qtype.name}: use it as the oracle")
        except NotImplementedError:
            pass
        if ggml is not None:
            write_fixture(args.out, "q_" + qtype.name.lower(), qtype, KIND_QUANT_SHARED_INPUT,
                          x, ggml.quantize(qtype, x))
    h = f16_inputs(rng)
    with np.errstate(over="ignore"):
        write_fixture(args.out, "q_f16", T.F16, KIND_QUANT, h, h.astype(np.float16).view(np.uint16))
    write_fixture(args.out, "q_bf16", T.BF16, KIND_QUANT, h, quants.quantize(h, T.BF16).ravel())


if __name__ == "__main__":
    main()
