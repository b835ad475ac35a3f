#!/usr/bin/env python3
# Writes tests/model/data/model_oracle_qact.json.zst: the whole-model oracle of the quantized cases
# with every matmul input rounded the way the cpu backend's SIMD kernels read it (as ggml-cpu
# does), so cpu-<isa> backends can be held to a tight bound. model_oracle.json keeps f32 inputs.
#
#   Command (from the repo root):
#     python3 tools/model_qact_fixtures.py \
#         --llama-cpp /tmp/llama_cpp_python-0.3.36/vendor/llama.cpp --out tests/model/data
#     python3 tools/model_qact_fixtures.py \
#         --llama-cpp /tmp/llama_cpp_python-0.3.36/vendor/llama.cpp --check --perturb-runs 6 \
#         --out tests/model/data
#   Needs torch, transformers, numpy, zstandard and llama.cpp's gguf-py (tested: torch 2.15,
#   transformers 5.24, numpy 2.4, gguf-py 0.19.0 of llama.cpp 0c1e570); --check needs no torch.
#
# It reads the committed GGUFs (never regenerates them) and builds the HF model from their
# dequantized weights with tools/model_make_fixtures.py's code. Every case whose GGUF holds a
# weight type that rounds activations (BF16, Q8_0, Q4_0, Q4_K, Q5_K, Q6_K) gets forward
# pre-hooks on every matmul (nn.Linear, the MoE router, each expert's gate / up / down
# projection), rounding the input per the GGUF type of that matmul's weight:
#   F32, F16, other types: unchanged;  BF16: round-to-nearest-even to bfloat16;
#   Q8_0, Q4_0 -> Q8_0 blocks of 32: amax = max|x|, d = amax / 127 (f32), id = 1 / d (f32),
#     q = round-half-away(x * id), value = fp16(d) * q   (quant/quantize_ref.cpp quantize_q8_0);
#   Q4_K, Q5_K, Q6_K -> Q8_K blocks of 256 (ggml quantize_row_q8_K_ref): max = the first element
#     of largest magnitude, with its sign; iscale = -127 / max, q = min(127, rint(iscale * x))
#     (round half to even), d = 1 / iscale, value = d * q; a zero block stays zero.
# The embedding lookup is exact; the lm_head reads output.weight's type (token_embd.weight's when
# tied). --check recomputes every case with model_make_fixtures.py's plain-numpy forward pass
# (float64) with the same rounding applied and reports the largest difference; it also measures
# how far tiny input perturbations (relative 1e-6, like float32 summation-order differences) move
# the logits by flipping rounding decisions -- the data the C++ test's bound is derived from.
import argparse
import json
import shlex
import sys
import types
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import model_make_fixtures as mmf  # noqa: E402

ROUNDING = {"F32": None, "F16": None, "BF16": "bf16", "Q8_0": "q8_0", "Q4_0": "q8_0",
            "Q4_K": "q8_k", "Q5_K": "q8_k", "Q6_K": "q8_k"}


def act_kind(type_name):
    """Activation format the cpu kernels read for a weight type (None: plain f32)."""
    return ROUNDING.get(type_name)


def round_bf16(x):
    u = x.astype(np.float32).view(np.uint32).astype(np.uint64)
    u = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16) << 16            # nearest, ties to even
    return u.astype(np.uint32).view(np.float32)


def round_half_away(v):
    """std::round on float32: the fractional part v - trunc(v) is exact in float32."""
    t = np.trunc(v)
    return np.where(np.abs(v - t) >= np.float32(0.5), t + np.sign(v), t).astype(np.float32)


def round_q8_0(x):
    b = x.astype(np.float32).reshape(-1, 32)
    amax = np.abs(b).max(axis=1, keepdims=True)
    d = amax / np.float32(127)                                   # float32 division
    with np.errstate(divide="ignore"):
        inv = np.where(d != 0, np.float32(1) / d, np.float32(0)).astype(np.float32)
    q = np.clip(round_half_away(b * inv), -128, 127)
    return (d.astype(np.float16).astype(np.float32) * q).reshape(x.shape)


def round_q8_k(x):
    b = x.astype(np.float32).reshape(-1, 256)
    idx = np.abs(b).argmax(axis=1)                               # first of largest magnitude
    mx = b[np.arange(b.shape[0]), idx][:, None]
    zero = mx == 0
    with np.errstate(divide="ignore"):
        iscale = np.where(zero, np.float32(0), np.float32(-127) / np.where(zero, 1, mx))
        iscale = iscale.astype(np.float32)
        d = np.where(zero, np.float32(0), np.float32(1) / np.where(zero, 1, iscale))
    q = np.minimum(np.rint(iscale * b), 127).astype(np.float32)
    return (d.astype(np.float32) * q).astype(np.float32).reshape(x.shape)


ROUNDERS = {None: lambda x: x.astype(np.float32), "bf16": round_bf16, "q8_0": round_q8_0,
            "q8_k": round_q8_k}


def round_act(type_name, x):
    """float32 array [..., n] -> the float32 values the kernel's activation format holds."""
    return ROUNDERS[act_kind(type_name)](np.ascontiguousarray(x, dtype=np.float32))


def needs_qact(tensor_types):
    tied = "output.weight" not in tensor_types
    return any(act_kind(tensor_types[n]) is not None for n in matmul_names(tensor_types, tied))


# ---------------------------------------------------------------------------------------------
# transformers with rounded matmul inputs

def linear_gguf_name(mod_name, tied):
    """HF module name of a matmul -> GGUF weight name (None: not a matmul we know)."""
    if mod_name == "lm_head":
        return "token_embd.weight" if tied else "output.weight"
    parts = mod_name.split(".")
    if len(parts) < 5 or parts[:2] != ["model", "layers"]:
        return None
    blk, rest = parts[2], ".".join(parts[3:])
    base = {"self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k",
            "self_attn.v_proj": "attn_v", "self_attn.o_proj": "attn_output",
            "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up", "mlp.down_proj": "ffn_down",
            "mlp.gate": "ffn_gate_inp"}.get(rest)
    return f"blk.{blk}.{base}.weight" if base else None


def torch_round(type_name, x):
    import torch
    if act_kind(type_name) is None:
        return x
    r = round_act(type_name, x.detach().cpu().numpy())
    return torch.from_numpy(r).to(x.dtype)


def rounded_experts_forward(types_gud):
    """Qwen3MoeExperts.forward (transformers 5.24) with each expert projection's input rounded
    by its GGUF tensor type; gate and up run as two matmuls so their types may differ."""
    import torch
    t_gate, t_up, t_down = types_gud

    def forward(self, hidden_states, top_k_index, top_k_weights):
        out = torch.zeros_like(hidden_states)
        n_ff = self.gate_up_proj.shape[1] // 2
        for e in range(self.num_experts):
            token_idx, top_k_pos = torch.where(top_k_index == e)
            if token_idx.numel() == 0:
                continue
            h = hidden_states[token_idx]
            w = self.gate_up_proj[e]
            gate = torch.nn.functional.linear(torch_round(t_gate, h), w[:n_ff])
            up = torch.nn.functional.linear(torch_round(t_up, h), w[n_ff:])
            a = self.act_fn(gate) * up
            y = torch.nn.functional.linear(torch_round(t_down, a), self.down_proj[e])
            y = y * top_k_weights[token_idx, top_k_pos, None]
            out.index_add_(0, token_idx, y.to(out.dtype))
        return out
    return forward


def install_rounding(model, tensor_types):
    """Pre-hooks on every matmul of the HF model; returns the GGUF names covered."""
    import torch
    tied = bool(model.config.tie_word_embeddings)
    covered = set()
    for mod_name, mod in model.named_modules():
        if mod_name.endswith("mlp.experts"):
            blk = mod_name.split(".")[2]
            names = [f"blk.{blk}.ffn_{k}_exps.weight" for k in ("gate", "up", "down")]
            mod.forward = types.MethodType(
                rounded_experts_forward([tensor_types[n] for n in names]), mod)
            covered.update(names)
            continue
        gname = linear_gguf_name(mod_name, tied)
        is_linear = isinstance(mod, torch.nn.Linear)
        if gname is None:
            assert not is_linear, f"unmapped nn.Linear {mod_name}"
            continue
        tname = tensor_types[gname]

        def hook(_m, args, tname=tname):
            return (torch_round(tname, args[0]),) + tuple(args[1:])
        mod.register_forward_pre_hook(hook)
        covered.add(gname)
    return covered


def matmul_names(tensor_types, tied):
    """GGUF tensors a forward pass multiplies by (the embedding table only when tied)."""
    out = {n for n in tensor_types if n.endswith(".weight") and "norm" not in n
           and n != "token_embd.weight"}
    if tied:
        out.add("token_embd.weight")
    return out


def tie_distance(type_name, x):
    """Per row of float32 x: how close any element is to a rounding boundary of the activation
    format (q units for Q8_0 / Q8_K, float32 ulps for BF16; inf for plain f32)."""
    kind = act_kind(type_name)
    x = x.astype(np.float32)
    if kind == "bf16":
        low = x.view(np.uint32) & 0xFFFF
        return np.abs(low.astype(np.int64) - 0x8000).min(axis=-1).astype(np.float64)
    if kind is None:
        return np.full(x.shape[0], np.inf)
    bs = 32 if kind == "q8_0" else 256
    b = x.reshape(x.shape[0], -1, bs)
    if kind == "q8_0":
        d = np.abs(b).max(axis=-1, keepdims=True) / np.float32(127)
        v = b * (np.float32(1) / d)
    else:
        idx = np.abs(b).argmax(axis=-1)[..., None]
        v = b * (np.float32(-127) / np.take_along_axis(b, idx, axis=-1))
    return np.abs(np.abs(v - np.trunc(v)) - 0.5).reshape(x.shape[0], -1).min(axis=-1)


def tie_free_prompt(ids, meta, tensors, ttypes):
    """The prompt with every token whose layer-0 attention input (RMSNorm of its embedding, the
    same for every position) lies near a rounding boundary replaced by the next token id that
    does not. With bf16-representable embeddings and norm weights, x * 127 / amax is a ratio of
    short products and often an exact half-integer: a 1-ulp difference in the norm (any two
    implementations) would flip it. Margins: 1e-3 q units (float32 error at 127 is ~1e-5) or
    64 float32 ulps for BF16."""
    arch = meta["general.architecture"]
    eps = float(meta[f"{arch}.attention.layer_norm_rms_epsilon"])
    emb = tensors["token_embd.weight"][1].astype(np.float64)
    x = mmf.np_rms(emb, tensors["blk.0.attn_norm.weight"][1], eps).astype(np.float32)
    t = ttypes["blk.0.attn_q.weight"]
    margin = 64 if act_kind(t) == "bf16" else 1e-3
    safe = tie_distance(t, x) > margin
    out = []
    for i in ids:
        while not safe[i]:
            i = (i + 1) % len(safe)
        out.append(int(i))
    return out, int((~safe).sum())


def generate(args):
    import torch
    torch.set_num_threads(1)
    out_dir = Path(args.out)
    base = mmf_oracle(out_dir)
    cases = []
    for cname, gname, weights, overrides, options, _n in mmf.CASES:
        ref = next(c for c in base["cases"] if c["name"] == cname)
        meta, tensors = mmf.read_gguf(read_zst(out_dir / ref["gguf"]))
        ttypes = {n: t for n, (t, _) in tensors.items()}
        assert ttypes == ref["tensor_types"], cname
        if not needs_qact(ttypes):
            continue
        arch, kwargs, _ = mmf.MODELS[mmf.GGUFS[gname][0]]
        model = mmf.model_from_gguf(arch, {**kwargs, **overrides}, tensors)
        covered = install_rounding(model, ttypes)
        want = matmul_names(ttypes, model.config.tie_word_embeddings)
        assert covered == want, (cname, sorted(want ^ covered))
        ids, n_unsafe = tie_free_prompt(ref["prompt_ids"], meta, tensors, ttypes)
        n_replaced = sum(a != b for a, b in zip(ids, ref["prompt_ids"]))
        print(f"{cname}: {n_unsafe} of {mmf.N_VOCAB} tokens near a layer-0 rounding boundary; "
              f"{n_replaced} prompt ids replaced", flush=True)
        with torch.no_grad():
            logits = model(torch.tensor([ids])).logits[0].float().numpy()
        model_f32 = mmf.model_from_gguf(arch, {**kwargs, **overrides}, tensors)
        with torch.no_grad():
            plain = model_f32(torch.tensor([ids])).logits[0].double().numpy()
        spread = (plain.max(axis=1) - plain.min(axis=1)).mean()
        print(f"{cname:16s} max|qact - f32-input logits| {np.abs(logits - plain).max():.3g} "
              f"(mean spread {spread:.1f}); rounded inputs: "
              f"{sorted({act_kind(ttypes[n]) or 'f32' for n in want})}", flush=True)
        cases.append({"name": cname, "gguf": ref["gguf"], "arch": arch, "weights": weights,
                      "options": ref["options"], "prompt_ids": ids,
                      "logits": [mmf.f32list(r) for r in logits], "greedy": None,
                      "tensor_types": ttypes})
    generator = shlex.join(["python3", "tools/model_qact_fixtures.py"] + sys.argv[1:])
    doc = {"generator": generator, "versions": versions(args.llama_cpp), "cases": cases}
    js = json.dumps(doc, separators=(",", ":")).encode()
    (out_dir / "model_oracle_qact.json.zst").write_bytes(mmf.zstd_bytes(js))
    print(f"model_oracle_qact.json.zst: {len(cases)} cases, {len(js)} bytes of JSON")


def versions(llama_cpp):
    import torch
    import transformers
    import gguf
    return {"torch": torch.__version__.split("+")[0], "transformers": transformers.__version__,
            "numpy": np.__version__,
            "gguf-py": getattr(gguf, "__version__", None) or mmf.gguf_py_version(llama_cpp),
            "llama.cpp": mmf.llama_cpp_commit(llama_cpp)}


def read_zst(path):
    import zstandard
    return zstandard.ZstdDecompressor().stream_reader(open(path, "rb")).read()


def mmf_oracle(out_dir):
    return json.loads(read_zst(out_dir / "model_oracle.json.zst"))


# ---------------------------------------------------------------------------------------------
# --check: numpy forward (float64) with the same rounding

def np_act(ttypes, perturb=None):
    def act(name, x):
        if act_kind(ttypes[name]) is None:
            return x
        x32 = x.astype(np.float32)
        if perturb is not None:       # relative noise before rounding (summation-order stand-in)
            x32 = (x32 * (1 + perturb * perturb_rng.standard_normal(x32.shape))).astype(np.float32)
        return round_act(ttypes[name], x32).astype(np.float64)
    return act


perturb_rng = np.random.default_rng(0)


def per_position(got, ref):
    """max_t |got - ref| / spread of ref, per position."""
    return np.abs(got - ref).max(axis=1) / (ref.max(axis=1) - ref.min(axis=1))


def check(args):
    out_dir = Path(args.out)
    doc = json.loads(read_zst(out_dir / "model_oracle_qact.json.zst"))
    ok = True
    for case in doc["cases"]:
        meta, tensors = mmf.read_gguf(read_zst(out_dir / case["gguf"]))
        ttypes = {n: t for n, (t, _) in tensors.items()}
        ref = np.array(case["logits"], dtype=np.float64)
        ids, opts = case["prompt_ids"], case["options"]
        e = per_position(mmf.np_forward(meta, tensors, ids, opts, np_act(ttypes)), ref)
        e_plain = per_position(mmf.np_forward(meta, tensors, ids, opts), ref)
        # the rounded numpy pass must match at the median position (a flipped rounding decision
        # moves single positions) and the unrounded one must not. bf16 alone: its tiny model has
        # a near-tie in layer 0's attention output that float64 numpy (and the C++ kernels) round
        # the other way from float32 torch, moving most later positions by ~1e-3; it must still
        # sit well below the unrounded pass.
        if "bf16" in {act_kind(t) for t in ttypes.values()}:
            good = np.median(e) < 0.5 * np.median(e_plain)
        else:
            good = np.median(e) < 1e-5 and np.median(e_plain) > 100 * np.median(e)
        ok &= bool(good)
        print(f"{case['name']:16s} numpy/HF per-position |dlogit|/spread: max {e.max():.2e} "
              f"median {np.median(e):.2e}; unrounded numpy: max {e_plain.max():.2e} median "
              f"{np.median(e_plain):.2e} {'OK' if good else 'FAIL'}", flush=True)
        for eps in (1e-7, 1e-6) if args.perturb_runs else ():
            runs = [per_position(mmf.np_forward(meta, tensors, ids, opts, np_act(ttypes, eps)),
                                 ref) for _ in range(args.perturb_runs)]
            print(f"    inputs perturbed by relative {eps:g} ({args.perturb_runs} runs): max "
                  f"{max(r.max() for r in runs):.2e}, largest median "
                  f"{max(np.median(r) for r in runs):.2e}, positions > 1e-4: "
                  f"{max(int((r > 1e-4).sum()) for r in runs)}/{len(ids)}", flush=True)
    print("check", "passed" if ok else "FAILED")
    return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--llama-cpp", required=True, type=Path,
                    help="llama.cpp source dir (its gguf-py/ reads the GGUFs)")
    ap.add_argument("--out", default="tests/model/data", help="fixture directory")
    ap.add_argument("--check", action="store_true",
                    help="verify the written fixture with a numpy forward pass")
    ap.add_argument("--perturb-runs", type=int, default=0,
                    help="--check: also run this many randomly perturbed numpy passes")
    args = ap.parse_args()
    sys.path.insert(0, str(args.llama_cpp / "gguf-py"))
    if args.check:
        return check(args)
    generate(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
