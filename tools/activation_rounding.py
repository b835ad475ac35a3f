#!/usr/bin/env python3
"""Per-matmul error that llama.cpp's CPU activation rounding causes, emulated in numpy.

Usage: python3 tools/activation_rounding.py MODEL.gguf [--layer 0] [--rows 512] [--as-type F16]
ggml-cpu (type_traits_cpu[w].vec_dot_type in ggml/src/ggml-cpu/ggml-cpu.c) converts the f32
activation x to the weight's vec_dot type before a dot product: F32->f32, F16->f16, BF16->bf16,
Q8_0/Q4_0/Q5_0->Q8_0 (32-blocks, fp16 scale amax/127), K-quants->Q8_K (256-blocks, f32 scale).
longctx's reference keeps x in f32. For each 2-D weight of one layer (dequantized with the gguf
package) this prints the relative RMS error of W·round(x) against W·x, for Gaussian inputs
(post-RMSNorm) and, for ffn_down, SwiGLU-like inputs silu(a)*b (heavier tails, coarser Q8 steps).
"""
import argparse

import numpy as np
from gguf import GGUFReader, GGMLQuantizationType as T
from gguf.quants import dequantize


def round_q8_0(x: np.ndarray) -> np.ndarray:
    b = x.reshape(-1, 32)
    amax = np.abs(b).max(axis=1, keepdims=True)
    d = (amax / 127.0).astype(np.float16).astype(np.float32)  # the block stores d as fp16
    inv = np.where(amax > 0, 127.0 / np.maximum(amax, 1e-30), 0.0)  # ggml: id = 1/d from f32 d
    q = np.round(b * inv)  # ggml rounds half away from zero; ties are measure-zero here
    return (q * d).reshape(x.shape)


def round_q8_k(x: np.ndarray) -> np.ndarray:
    b = x.reshape(-1, 256)
    amax = np.abs(b).max(axis=1, keepdims=True)
    iscale = np.where(amax > 0, 127.0 / np.maximum(amax, 1e-30), 0.0)
    q = np.minimum(np.round(b * iscale), 127)
    d = np.where(iscale > 0, 1.0 / np.maximum(iscale, 1e-30), 0.0)
    return (q * d).reshape(x.shape)


def round_bf16(x: np.ndarray) -> np.ndarray:
    u = x.astype(np.float32).view(np.uint32).astype(np.uint64)
    u = (u + 0x7FFF + ((u >> 16) & 1)) >> 16 << 16  # round to nearest even
    return u.astype(np.uint32).view(np.float32)


ROUNDERS = {
    T.F32: ("f32", lambda x: x),
    T.F16: ("f16", lambda x: x.astype(np.float16).astype(np.float32)),
    T.BF16: ("bf16", round_bf16),
    T.Q8_0: ("Q8_0", round_q8_0),
    T.Q4_0: ("Q8_0", round_q8_0),
    T.Q4_1: ("Q8_1", round_q8_0),  # Q8_1 has the same step as Q8_0 (the sum field is exact)
    T.Q5_0: ("Q8_0", round_q8_0),
    T.Q5_1: ("Q8_1", round_q8_0),
    T.Q4_K: ("Q8_K", round_q8_k),
    T.Q5_K: ("Q8_K", round_q8_k),
    T.Q6_K: ("Q8_K", round_q8_k),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--layer", type=int, default=0)
    ap.add_argument("--rows", type=int, default=512, help="weight rows used per tensor")
    ap.add_argument("--samples", type=int, default=16, help="random input vectors per tensor")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--as-type", help="round activations as for this weight type instead "
                    "(e.g. F16 with a BF16 file: the F16-weights case without writing one)")
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    reader = GGUFReader(args.model)
    names = [f"blk.{args.layer}." + n for n in
             ("attn_q.weight", "attn_k.weight", "attn_output.weight", "ffn_gate.weight",
              "ffn_down.weight", "ffn_gate_exps.weight", "ffn_down_exps.weight")] + ["output.weight"]
    for t in reader.tensors:
        if t.name not in names:
            continue
        w = dequantize(t.data, t.tensor_type).astype(np.float64)
        if w.ndim == 3:
            w = w[0]  # first expert
        w = w[: args.rows]
        label, rnd = ROUNDERS[T[args.as_type] if args.as_type else T(t.tensor_type)]
        k = w.shape[1]
        kinds = ["gauss"] + (["swiglu"] if "down" in t.name else [])
        for kind in kinds:
            if kind == "gauss":
                x = rng.standard_normal((args.samples, k))
            else:
                a = rng.standard_normal((args.samples, k))
                x = a / (1 + np.exp(-a)) * rng.standard_normal((args.samples, k))
            x = x.astype(np.float32)
            y = x.astype(np.float64) @ w.T
            yr = rnd(x).astype(np.float64) @ w.T
            rel = np.sqrt(((y - yr) ** 2).mean()) / np.sqrt((y ** 2).mean())
            print(f"{t.name:28s} {T(t.tensor_type).name:5s} act->{label:5s} {kind:6s} "
                  f"rel RMS err {rel:.3e}")


if __name__ == "__main__":
    main()
