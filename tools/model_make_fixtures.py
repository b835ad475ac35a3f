#!/usr/bin/env python3
# Writes the whole-model forward-pass oracle (tests/model/data/): tiny random-weight Qwen3,
# Qwen3-MoE and Qwen2 models converted to GGUF by llama.cpp's own converter (and quantizer),
# with the logits / greedy tokens Hugging Face transformers computes from the weights each GGUF
# actually holds.
#
#   Command (from the repo root):
#     python3 tools/model_make_fixtures.py --llama-cpp LLAMA_CPP_SRC --llama-bin LLAMA_BIN \
#         --out tests/model/data
#     python3 tools/model_make_fixtures.py --llama-cpp LLAMA_CPP_SRC --check --out tests/model/data
#   LLAMA_CPP_SRC: a llama.cpp checkout (convert_hf_to_gguf.py, conversion/, gguf-py/), tested at
#   commit 0c1e570; LLAMA_BIN: its build's bin/ (llama-quantize). Nothing of llama.cpp is copied
#   here: the converter and quantizer are run, and its gguf-py reads the results back.
#   Needs: pip install torch transformers tokenizers numpy zstandard sentencepiece
#          (tested: torch 2.15, transformers 5.24, tokenizers 0.23.3, numpy 2.4, sentencepiece
#          0.2.3 -- the converter imports it even for BPE tokenizers; --check needs only numpy,
#          zstandard and llama.cpp's gguf-py)
#
# Per case:
#   1. a tiny random-weight HF model (float32, fixed seed, every weight rounded to a
#      bf16-representable value so the f32 GGUFs compress) + a tiny byte-level BPE tokenizer
#      (Qwen2 pre-tokenizer regex and NFC, copied as config from data/qwen3-tokenizer) and the real
#      Qwen3 chat template, saved with save_pretrained;
#   2. convert_hf_to_gguf.py --outtype f32|bf16, then llama-quantize Q8_0 / Q4_K_M where asked;
#      the GGUF committed is exactly what those tools wrote;
#   3. the final GGUF read back with gguf-py, every tensor dequantized (gguf.quants.dequantize)
#      and loaded into a fresh HF model of the case's config, which runs in float32: logits for
#      every prompt position; for F32 cases also 64 greedy tokens (EOS disabled) and the smallest
#      top1-top2 logit margin along that path.
# --check re-reads the committed fixtures and GGUFs and recomputes the logits with a separate
# plain-numpy forward pass (no torch / transformers), as an independent second implementation.
import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
N_VOCAB = 300           # 256 byte tokens + 39 merges + 5 added tokens
N_CTX = 256
N_GREEDY = 64

# ---------------------------------------------------------------------------------------------
# cases

QWEN3_SMALL = dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                   num_key_value_heads=2, head_dim=32, intermediate_size=96,
                   max_position_embeddings=256, rms_norm_eps=1e-6)
QWEN3_K = dict(hidden_size=256, num_hidden_layers=2, num_attention_heads=4,
               num_key_value_heads=2, head_dim=64, intermediate_size=512,
               max_position_embeddings=256, rms_norm_eps=1e-6)
QWEN3MOE_SMALL = dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                      num_key_value_heads=2, head_dim=32, intermediate_size=96,
                      moe_intermediate_size=32, num_experts=8, num_experts_per_tok=2,
                      decoder_sparse_step=1, mlp_only_layers=[], max_position_embeddings=256,
                      rms_norm_eps=1e-6)
QWEN2_SMALL = dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                   num_key_value_heads=2, intermediate_size=96, max_position_embeddings=256,
                   rms_norm_eps=1e-6)
ROPE_DEFAULT = {"rope_type": "default", "rope_theta": 1000000.0}

# HF models: name -> (arch, config kwargs, seed). The seed was chosen so every greedy margin of
# the F32 cases that use the model stays well above 1e-2 (see the README for the values).
MODELS = {
    "qwen3_tied": ("qwen3", {**QWEN3_SMALL, "tie_word_embeddings": True,
                             "rope_parameters": ROPE_DEFAULT}, 102),
    "qwen3_untied": ("qwen3", {**QWEN3_SMALL, "tie_word_embeddings": False,
                               "rope_parameters": ROPE_DEFAULT}, 152),
    "qwen3_yarn": ("qwen3", {**QWEN3_SMALL, "tie_word_embeddings": False,
                             "max_position_embeddings": 64,
                             "rope_parameters": {"rope_type": "yarn", "rope_theta": 1000000.0,
                                                 "factor": 4.0,
                                                 "original_max_position_embeddings": 16}}, 108),
    "qwen3_k": ("qwen3", {**QWEN3_K, "tie_word_embeddings": False,
                          "rope_parameters": ROPE_DEFAULT}, 14),
    "qwen3moe_norm": ("qwen3moe", {**QWEN3MOE_SMALL, "norm_topk_prob": True,
                                   "tie_word_embeddings": False,
                                   "rope_parameters": ROPE_DEFAULT}, 131),
    "qwen3moe_nonorm": ("qwen3moe", {**QWEN3MOE_SMALL, "norm_topk_prob": False,
                                     "tie_word_embeddings": False,
                                     "rope_parameters": ROPE_DEFAULT}, 101),
    "qwen2_bias": ("qwen2", {**QWEN2_SMALL, "tie_word_embeddings": False,
                             "rope_parameters": ROPE_DEFAULT}, 130),
}

# GGUF files: name -> (model, converter outtype, llama-quantize type or None)
GGUFS = {
    "qwen3_tied_f32": ("qwen3_tied", "f32", None),
    "qwen3_untied_f32": ("qwen3_untied", "f32", None),
    "qwen3_yarn_f32": ("qwen3_yarn", "f32", None),
    "qwen3moe_norm_f32": ("qwen3moe_norm", "f32", None),
    "qwen3moe_nonorm_f32": ("qwen3moe_nonorm", "f32", None),
    "qwen2_bias_f32": ("qwen2_bias", "f32", None),
    "qwen3_bf16": ("qwen3_untied", "bf16", None),
    "qwen3_q8_0": ("qwen3_untied", "f32", "Q8_0"),
    "qwen3_q4_k_m": ("qwen3_k", "f32", "Q4_K_M"),
    "qwen3moe_q8_0": ("qwen3moe_norm", "f32", "Q8_0"),
}

# cases: (name, gguf, weights, HF config overrides, engine options besides n_ctx, prompt length)
CASES = [
    ("qwen3_tied_f32", "qwen3_tied_f32", "f32", {}, {}, 32),
    ("qwen3_untied_f32", "qwen3_untied_f32", "f32", {}, {}, 32),
    ("qwen3_linear_f32", "qwen3_untied_f32", "f32",
     {"rope_parameters": {"rope_type": "linear", "rope_theta": 1000000.0, "factor": 2.0}},
     {"rope_scaling": "linear", "rope_factor": 2}, 32),
    ("qwen3_yarn_f32", "qwen3_yarn_f32", "f32", {}, {}, 48),
    ("qwen3moe_norm_f32", "qwen3moe_norm_f32", "f32", {}, {}, 32),
    # llama.cpp's converter writes no norm_topk_prob key for qwen3moe (llama.cpp always
    # renormalises), so the engine must be told: option norm_topk_prob false.
    ("qwen3moe_nonorm_f32", "qwen3moe_nonorm_f32", "f32", {}, {"norm_topk_prob": False}, 32),
    ("qwen3moe_k3_f32", "qwen3moe_norm_f32", "f32", {"num_experts_per_tok": 3},
     {"n_expert_used": 3}, 32),
    ("qwen2_bias_f32", "qwen2_bias_f32", "f32", {}, {}, 32),
    ("qwen3_bf16", "qwen3_bf16", "bf16", {}, {}, 32),
    ("qwen3_q8_0", "qwen3_q8_0", "q8_0", {}, {}, 32),
    ("qwen3_q4_k_m", "qwen3_q4_k_m", "q4_k_m", {}, {}, 32),
    ("qwen3moe_q8_0", "qwen3moe_q8_0", "q8_0", {}, {}, 32),
]


def prompt_ids(n, seed):
    """n token ids < N_VOCAB with repeats: a random run, then earlier pieces repeated."""
    rng = np.random.default_rng(seed)
    ids = list(rng.integers(0, N_VOCAB, size=(n * 3) // 4))
    while len(ids) < n:
        start = int(rng.integers(0, len(ids) - 3))
        ids += ids[start:start + 3]
    return [int(i) for i in ids[:n]]


# ---------------------------------------------------------------------------------------------
# tokenizer (a tiny byte-level BPE configured like the real Qwen3 one)

def tokenizer_corpus():
    words = ("the model reads long context and answers with care while memory grows past the "
             "window so a summary keeps pinned facts in place think step by step then reply "
             "numbers 12 345 6789 and code def main(): return x + y # comment").split()
    rng = np.random.default_rng(7)
    return [" ".join(words[i] for i in rng.integers(0, len(words), 12)) for _ in range(400)]


def write_tokenizer(out_dir, qwen_tok_dir):
    from tokenizers import AddedToken, Tokenizer, models, pre_tokenizers, trainers
    import zstandard

    real = json.loads(zstandard.ZstdDecompressor().stream_reader(
        open(qwen_tok_dir / "tokenizer.json.zst", "rb")).read())
    real_cfg = json.loads((qwen_tok_dir / "tokenizer_config.json").read_text())

    tok = Tokenizer(models.BPE())
    # normalizer / pre-tokenizer / decoder: the real tokenizer's JSON config, loaded as config
    cfg = json.loads(tok.to_str())
    for key in ("normalizer", "pre_tokenizer", "decoder"):
        cfg[key] = real[key]
    tok = Tokenizer.from_str(json.dumps(cfg))
    trainer = trainers.BpeTrainer(vocab_size=N_VOCAB - 5, show_progress=False, min_frequency=1,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(tokenizer_corpus(), trainer=trainer)
    assert tok.get_vocab_size() == N_VOCAB - 5, tok.get_vocab_size()
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False)
                            for t in ("<|endoftext|>", "<|im_start|>", "<|im_end|>")])
    tok.add_tokens([AddedToken(t, special=False, normalized=False)
                    for t in ("<think>", "</think>")])
    assert tok.get_vocab_size() == N_VOCAB
    tok.save(str(out_dir / "tokenizer.json"))
    added = {}
    for t in json.loads(tok.to_str())["added_tokens"]:
        added[str(t["id"])] = {k: t[k] for k in ("content", "lstrip", "normalized", "rstrip",
                                                  "single_word", "special")}
    (out_dir / "tokenizer_config.json").write_text(json.dumps({
        "add_bos_token": False, "add_prefix_space": False, "added_tokens_decoder": added,
        "bos_token": None, "eos_token": "<|im_end|>", "pad_token": "<|endoftext|>",
        "errors": "replace", "model_max_length": N_CTX, "split_special_tokens": False,
        "tokenizer_class": "Qwen2Tokenizer", "unk_token": None, "clean_up_tokenization_spaces": False,
        "chat_template": real_cfg["chat_template"]}, indent=1))


# ---------------------------------------------------------------------------------------------
# HF models

def hf_classes(arch):
    import transformers as tf
    return {"qwen3": (tf.Qwen3Config, tf.Qwen3ForCausalLM),
            "qwen3moe": (tf.Qwen3MoeConfig, tf.Qwen3MoeForCausalLM),
            "qwen2": (tf.Qwen2Config, tf.Qwen2ForCausalLM)}[arch]


def hf_config(arch, kwargs):
    cfg_cls, _ = hf_classes(arch)
    special = dict(bos_token_id=None, eos_token_id=N_VOCAB - 3, pad_token_id=N_VOCAB - 5)
    return cfg_cls(vocab_size=N_VOCAB, hidden_act="silu", **special, **kwargs)


def build_model(arch, kwargs, seed):
    """Random weights, peaky on purpose: std 1 embeddings / lm_head, std 0.2 linears, norms ~1."""
    import torch
    _, model_cls = hf_classes(arch)
    cfg = hf_config(arch, kwargs)
    torch.manual_seed(seed)
    model = model_cls(cfg).float().eval()
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            r = torch.randn(p.shape, generator=gen)
            if "norm" in name:
                v = 1.0 + 0.2 * r
            elif name.endswith(".bias"):
                v = 0.5 * r
            elif "embed_tokens" in name:
                v = r
            elif "lm_head" in name:
                v = r
            elif name.endswith("mlp.gate.weight"):        # MoE router: decisive expert choice
                v = 0.8 * r
            else:
                v = 0.2 * r
            p.copy_(v.to(torch.bfloat16).float())          # bf16-representable f32
    return model


def save_hf(model, out_dir, qwen_tok_dir):
    out_dir.mkdir(parents=True)
    model.save_pretrained(out_dir, safe_serialization=True)
    write_tokenizer(out_dir, qwen_tok_dir)


# ---------------------------------------------------------------------------------------------
# llama.cpp: converter and quantizer (run, never copied)

# The converter identifies the BPE pre-tokenizer by hashing how the tokenizer splits a fixed
# text; a tiny trained vocabulary gives an unknown hash, so the converter's detection is patched
# at import time to answer "qwen2" (what it answers for the real Qwen3 tokenizer, whose
# pre-tokenizer config this tokenizer copies). Everything else runs unmodified.
CONVERT_WRAPPER = r"""
import runpy, sys
src = sys.argv[1]
sys.path[0:0] = [src, src + "/gguf-py"]
import torch
torch.set_num_threads(1)
import conversion.base
conversion.base.TextModel.get_vocab_base_pre = lambda self, tokenizer: "qwen2"
sys.argv = [src + "/convert_hf_to_gguf.py"] + sys.argv[2:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def run(cmd, **kw):
    res = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if res.returncode != 0:
        sys.stderr.write(res.stdout + res.stderr)
        raise SystemExit(f"failed: {shlex.join(map(str, cmd))}")
    return res


def convert(llama_cpp, model_dir, outfile, outtype):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "NO_LOCAL_GGUF": ""}
    run([sys.executable, "-c", CONVERT_WRAPPER, str(llama_cpp), str(model_dir),
         "--outfile", str(outfile), "--outtype", outtype], env=env)


def quantize(llama_bin, src, dst, qtype):
    env = {**os.environ, "LD_LIBRARY_PATH": f"{llama_bin}:{os.environ.get('LD_LIBRARY_PATH', '')}"}
    run([str(Path(llama_bin) / "llama-quantize"), str(src), str(dst), qtype, "1"], env=env)


# ---------------------------------------------------------------------------------------------
# GGUF -> weights

def read_gguf(path_or_bytes):
    """(metadata dict of plain values, {name: (type name, float32 array in torch/HF order)})."""
    import gguf
    from gguf.quants import dequantize
    if isinstance(path_or_bytes, (bytes, bytearray)):
        tmp = tempfile.NamedTemporaryFile(suffix=".gguf", delete=False)
        tmp.write(path_or_bytes)
        tmp.close()
        path = tmp.name
    else:
        path, tmp = str(path_or_bytes), None
    reader = gguf.GGUFReader(path)
    meta = {}
    for f in reader.fields.values():
        if f.name.startswith("GGUF.") or f.name in ("tokenizer.ggml.tokens",
                                                     "tokenizer.ggml.merges",
                                                     "tokenizer.ggml.token_type"):
            continue
        meta[f.name] = f.contents()
    tensors = {}
    for t in reader.tensors:
        shape = tuple(int(d) for d in reversed(t.shape))            # numpy / torch order
        data = dequantize(t.data, t.tensor_type).astype(np.float32).reshape(shape)
        tensors[t.name] = (t.tensor_type.name, data.copy())
    del reader
    if tmp is not None:
        os.unlink(path)
    return meta, tensors


def hf_state_from_gguf(arch, tensors, n_layer):
    """GGUF tensor names -> HF parameter names (Qwen: no q/k permutation; experts stacked)."""
    import torch
    sd = {}
    names = {"attn_norm": "input_layernorm.weight", "ffn_norm": "post_attention_layernorm.weight",
             "attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj",
             "attn_v": "self_attn.v_proj", "attn_output": "self_attn.o_proj",
             "attn_q_norm": "self_attn.q_norm.weight", "attn_k_norm": "self_attn.k_norm.weight",
             "ffn_gate": "mlp.gate_proj.weight", "ffn_up": "mlp.up_proj.weight",
             "ffn_down": "mlp.down_proj.weight", "ffn_gate_inp": "mlp.gate.weight"}
    used = set()
    for name, (_, a) in tensors.items():
        t = torch.from_numpy(a)
        if name == "token_embd.weight":
            sd["model.embed_tokens.weight"] = t
        elif name == "output.weight":
            sd["lm_head.weight"] = t
        elif name == "output_norm.weight":
            sd["model.norm.weight"] = t
        elif name.startswith("blk."):
            _, bid, rest = name.split(".", 2)
            base, suffix = rest.rsplit(".", 1)
            pre = f"model.layers.{bid}."
            if base in ("ffn_gate_exps", "ffn_up_exps", "ffn_down_exps"):
                continue
            hf = names[base]
            if base in ("attn_q", "attn_k", "attn_v", "attn_output"):
                hf = f"{hf}.{suffix}"
            sd[pre + hf] = t
        else:
            raise SystemExit(f"unexpected tensor {name}")
        used.add(name)
    if arch == "qwen3moe":
        for i in range(n_layer):
            g = tensors[f"blk.{i}.ffn_gate_exps.weight"][1]    # [expert][n_ff][n_embd]
            u = tensors[f"blk.{i}.ffn_up_exps.weight"][1]
            d = tensors[f"blk.{i}.ffn_down_exps.weight"][1]    # [expert][n_embd][n_ff]
            sd[f"model.layers.{i}.mlp.experts.gate_up_proj"] = torch.from_numpy(
                np.concatenate([g, u], axis=1))
            sd[f"model.layers.{i}.mlp.experts.down_proj"] = torch.from_numpy(d)
    return sd


def model_from_gguf(arch, kwargs, tensors):
    import torch
    _, model_cls = hf_classes(arch)
    cfg = hf_config(arch, kwargs)
    torch.manual_seed(0)
    model = model_cls(cfg).float().eval()
    sd = hf_state_from_gguf(arch, tensors, cfg.num_hidden_layers)
    if cfg.tie_word_embeddings:
        assert "lm_head.weight" not in sd
    missing, unexpected = model.load_state_dict(sd, strict=False)
    missing = [m for m in missing if not (cfg.tie_word_embeddings and m == "lm_head.weight")]
    if missing or unexpected:
        raise SystemExit(f"state dict mismatch: missing {missing} unexpected {unexpected}")
    if cfg.tie_word_embeddings:
        assert model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr()
    return model


# ---------------------------------------------------------------------------------------------
# oracle

def f32list(a):
    return [float(v) for v in np.asarray(a, dtype=np.float32).reshape(-1)]


def margin(row):
    top = np.sort(np.asarray(row, dtype=np.float64))[-2:]
    return float(top[1] - top[0])


def router_gap_hooks(model, gaps):
    """Records, per MoE layer and token, the router logit gap between the k-th and (k+1)-th
    expert: a tiny gap would let rounding differences pick other experts."""
    k = getattr(model.config, "num_experts_per_tok", None)
    handles = []
    for mod_name, mod in model.named_modules():
        if k and mod_name.endswith("mlp.gate"):
            def hook(m, inp, _out):
                r = (inp[0].reshape(-1, inp[0].shape[-1]) @ m.weight.T).detach().numpy()
                top = -np.sort(-r, axis=1)
                gaps.append(float((top[:, k - 1] - top[:, k]).min()))
            handles.append(mod.register_forward_hook(hook))
    return handles


def run_case(model, ids, want_greedy, want_hidden):
    import torch
    out = {}
    x = torch.tensor([ids])
    gaps = []
    handles = router_gap_hooks(model, gaps)
    with torch.no_grad():
        res = model(x, output_hidden_states=want_hidden)
    logits = res.logits[0].float().numpy()
    out["logits"] = [f32list(r) for r in logits]
    out["max_abs_logit"] = float(np.abs(logits).max())
    out["spread"] = float((logits.max(axis=1) - logits.min(axis=1)).mean())
    out["prompt_margin"] = margin(logits[-1])
    for h in handles:
        h.remove()
    out["router_min_gap"] = min(gaps) if gaps else None
    if want_hidden:
        out["hidden_states"] = [[f32list(h[0, p]) for p in range(4)] for h in res.hidden_states]
    if want_greedy:
        model.generation_config.eos_token_id = None
        model.generation_config.pad_token_id = N_VOCAB - 5
        with torch.no_grad():
            g = model.generate(x, attention_mask=torch.ones_like(x), do_sample=False,
                               max_new_tokens=N_GREEDY, min_new_tokens=N_GREEDY,
                               eos_token_id=None, output_logits=True,
                               return_dict_in_generate=True)
        new = g.sequences[0, len(ids):].tolist()
        assert len(new) == N_GREEDY
        step_margins = [margin(s[0].float().numpy()) for s in g.logits]
        # cross-check: a full forward over prompt + generated tokens gives the same argmaxes
        with torch.no_grad():
            full = model(g.sequences).logits[0].float().numpy()
        assert np.array_equal(full[len(ids) - 1:-1].argmax(axis=1), np.array(new))
        out["greedy"] = {"ids": new, "min_margin": min(step_margins)}
    else:
        out["greedy"] = None
    return out


def zstd_bytes(data):
    import zstandard
    return zstandard.ZstdCompressor(level=19).compress(data)


def versions(llama_cpp):
    import tokenizers
    import torch
    import transformers
    import gguf
    return {"torch": torch.__version__.split("+")[0], "transformers": transformers.__version__,
            "tokenizers": tokenizers.__version__, "numpy": np.__version__,
            "gguf-py": getattr(gguf, "__version__", None) or gguf_py_version(llama_cpp),
            "llama.cpp": llama_cpp_commit(llama_cpp)}


def gguf_py_version(llama_cpp):
    for line in (Path(llama_cpp) / "gguf-py" / "pyproject.toml").read_text().splitlines():
        if line.startswith("version"):
            return line.split("=")[1].strip().strip('"')
    return None


def llama_cpp_commit(llama_cpp):
    res = subprocess.run(["git", "-C", str(llama_cpp), "rev-parse", "--short=7", "HEAD"],
                         capture_output=True, text=True)
    return res.stdout.strip() if res.returncode == 0 else os.environ.get("LLAMA_CPP_COMMIT",
                                                                         "unknown")


def generate(args):
    import torch
    torch.set_num_threads(1)
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    qwen_tok = REPO / "data" / "qwen3-tokenizer"
    report = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        # 1-2: HF models, GGUFs
        for name, (arch, kwargs, seed) in MODELS.items():
            save_hf(build_model(arch, kwargs, seed), tmp / name, qwen_tok)
        f32_of = {}
        gguf_data = {}
        for gname, (mname, outtype, qtype) in GGUFS.items():
            if outtype == "f32" and mname in f32_of:
                src = f32_of[mname]
            else:
                src = tmp / f"{mname}-{outtype}.gguf"
                convert(args.llama_cpp, tmp / mname, src, outtype)
                if outtype == "f32":
                    f32_of[mname] = src
            if qtype:
                dst = tmp / f"{gname}.gguf"
                quantize(args.llama_bin, src, dst, qtype)
                src = dst
            data = src.read_bytes()
            gguf_data[gname] = data
            (out_dir / f"{gname}.gguf.zst").write_bytes(zstd_bytes(data))
            print(f"{gname}: {len(data)} bytes GGUF", flush=True)
        # 3-4: oracle
        cases = []
        for i, (cname, gname, weights, overrides, options, n_prompt) in enumerate(CASES):
            mname = GGUFS[gname][0]
            arch, kwargs, _ = MODELS[mname]
            meta, tensors = read_gguf(gguf_data[gname])
            model = model_from_gguf(arch, {**kwargs, **overrides}, tensors)
            ids = prompt_ids(n_prompt, 100 + i)
            res = run_case(model, ids, weights == "f32", cname == "qwen3_tied_f32")
            case = {"name": cname, "gguf": f"{gname}.gguf.zst", "arch": arch, "weights": weights,
                    "options": {"n_ctx": N_CTX, **options}, "prompt_ids": ids,
                    "logits": res["logits"], "greedy": res["greedy"],
                    "tensor_types": {n: t for n, (t, _) in tensors.items()}}
            if "hidden_states" in res:
                case["hidden_states"] = res["hidden_states"]
            cases.append(case)
            keys = {k: (v if not isinstance(v, list) or len(v) < 8 else f"[{len(v)}]")
                    for k, v in meta.items() if not k.startswith("tokenizer.")}
            report[cname] = {"gguf_bytes": len(gguf_data[gname]),
                             "max_abs_logit": res["max_abs_logit"],
                             "mean_spread": res["spread"], "prompt_margin": res["prompt_margin"],
                             "router_min_gap": res["router_min_gap"],
                             "min_margin": res["greedy"]["min_margin"] if res["greedy"] else None,
                             "types": sorted(set(case["tensor_types"].values())),
                             "metadata": keys, "tensors": sorted(tensors)}
            print(cname, json.dumps({k: v for k, v in report[cname].items()
                                     if k not in ("metadata", "tensors")}), flush=True)
    generator = shlex.join(["python3", "tools/model_make_fixtures.py"] + sys.argv[1:])
    doc = {"generator": generator, "versions": versions(args.llama_cpp), "cases": cases}
    js = json.dumps(doc, separators=(",", ":")).encode()
    (out_dir / "model_oracle.json.zst").write_bytes(zstd_bytes(js))
    print(f"model_oracle.json.zst: {len(js)} bytes of JSON")
    if args.report:
        Path(args.report).write_text(json.dumps(report, indent=1, default=str))


# ---------------------------------------------------------------------------------------------
# --check: an independent plain-numpy forward pass over the committed GGUFs

def np_rms(x, w, eps):
    x = x.astype(np.float64)
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w


def np_rope_tables(meta, arch, head_dim, n_pos, options):
    """cos/sin [n_pos][head_dim/2] and attention factor: none / linear / YaRN (HF formulas)."""
    base = float(meta[f"{arch}.rope.freq_base"])
    inv = 1.0 / base ** (np.arange(0, head_dim, 2, dtype=np.float64) / head_dim)
    kind = options.get("rope_scaling", meta.get(f"{arch}.rope.scaling.type", "none"))
    factor = float(options.get("rope_factor", meta.get(f"{arch}.rope.scaling.factor", 1.0)))
    attn = 1.0
    if kind == "linear":
        inv = inv / factor
    elif kind == "yarn":
        orig = float(meta[f"{arch}.rope.scaling.original_context_length"])
        beta_fast, beta_slow = 32.0, 1.0

        def corr_dim(rot):
            return head_dim * np.log(orig / (rot * 2 * np.pi)) / (2 * np.log(base))
        low = max(np.floor(corr_dim(beta_fast)), 0)
        high = min(np.ceil(corr_dim(beta_slow)), head_dim - 1)
        if low == high:
            high += 0.001
        ramp = np.clip((np.arange(head_dim // 2) - low) / (high - low), 0, 1)
        extrap = 1 - ramp
        inv = (inv / factor) * (1 - extrap) + inv * extrap
        attn = 0.1 * np.log(factor) + 1.0
    ang = np.arange(n_pos)[:, None] * inv[None, :]
    return np.cos(ang) * attn, np.sin(ang) * attn


def np_rope(x, cos, sin):     # x [pos][head][head_dim], NeoX halves
    h = x.shape[-1] // 2
    a, b = x[..., :h], x[..., h:]
    c, s = cos[:, None, :], sin[:, None, :]
    return np.concatenate([a * c - b * s, b * c + a * s], axis=-1)


def np_forward(meta, tensors, ids, options, act=None):
    """Logits [n][vocab] in float64. act(gguf_name, x): what a matmul with that weight reads
    instead of its input x (default: x itself); tools/model_qact_fixtures.py rounds it."""
    arch = meta["general.architecture"]
    W = {k: v[1].astype(np.float64) for k, v in tensors.items()}
    n_layer = int(meta[f"{arch}.block_count"])
    n_head = int(meta[f"{arch}.attention.head_count"])
    n_kv = int(meta[f"{arch}.attention.head_count_kv"])
    n_embd = int(meta[f"{arch}.embedding_length"])
    head_dim = int(meta.get(f"{arch}.attention.key_length", n_embd // n_head))
    eps = float(meta[f"{arch}.attention.layer_norm_rms_epsilon"])
    n = len(ids)
    cos, sin = np_rope_tables(meta, arch, head_dim, n, options)
    x = W["token_embd.weight"][ids]
    mask = np.triu(np.full((n, n), -np.inf), 1)

    def mm(a, name, w=None):      # a @ W[name].T on the activations the matmul reads
        a = a if act is None else act(name, a)
        return a @ (W[name] if w is None else w).T

    for i in range(n_layer):
        p = f"blk.{i}."
        h = np_rms(x, W[p + "attn_norm.weight"], eps)
        q, k, v = (mm(h, p + f"attn_{c}.weight") for c in "qkv")
        if arch == "qwen2":
            q, k, v = q + W[p + "attn_q.bias"], k + W[p + "attn_k.bias"], v + W[p + "attn_v.bias"]
        q = q.reshape(n, n_head, head_dim)
        k = k.reshape(n, n_kv, head_dim)
        v = v.reshape(n, n_kv, head_dim)
        if arch != "qwen2":
            q = np_rms(q, W[p + "attn_q_norm.weight"], eps)
            k = np_rms(k, W[p + "attn_k_norm.weight"], eps)
        q, k = np_rope(q, cos, sin), np_rope(k, cos, sin)
        att = np.empty((n, n_head, head_dim))
        for hh in range(n_head):
            kv = hh // (n_head // n_kv)
            s = q[:, hh] @ k[:, kv].T / np.sqrt(head_dim) + mask
            s = np.exp(s - s.max(axis=1, keepdims=True))
            att[:, hh] = (s / s.sum(axis=1, keepdims=True)) @ v[:, kv]
        x = x + mm(att.reshape(n, -1), p + "attn_output.weight")
        h = np_rms(x, W[p + "ffn_norm.weight"], eps)
        if arch == "qwen3moe":
            k_used = int(options.get("n_expert_used", meta[f"{arch}.expert_used_count"]))
            # no GGUF key for qwen3moe: renormalise (llama.cpp's behaviour) unless told not to
            norm_topk = options.get("norm_topk_prob",
                                    bool(meta.get(f"{arch}.expert_weights_norm", True)))
            r = mm(h, p + "ffn_gate_inp.weight")
            r = np.exp(r - r.max(axis=1, keepdims=True))
            r /= r.sum(axis=1, keepdims=True)
            y = np.zeros_like(x)
            for t in range(n):
                top = np.argsort(-r[t], kind="stable")[:k_used]
                w = r[t, top]
                if norm_topk:
                    w = w / w.sum()
                for e, we in zip(top, w):
                    g = mm(h[t], p + "ffn_gate_exps.weight", W[p + "ffn_gate_exps.weight"][e])
                    u = mm(h[t], p + "ffn_up_exps.weight", W[p + "ffn_up_exps.weight"][e])
                    y[t] += we * mm(g / (1 + np.exp(-g)) * u, p + "ffn_down_exps.weight",
                                    W[p + "ffn_down_exps.weight"][e])
            x = x + y
        else:
            g = mm(h, p + "ffn_gate.weight")
            u = mm(h, p + "ffn_up.weight")
            x = x + mm(g / (1 + np.exp(-g)) * u, p + "ffn_down.weight")
    x = np_rms(x, W["output_norm.weight"], eps)
    return mm(x, "output.weight" if "output.weight" in W else "token_embd.weight")


def check(args):
    import zstandard
    dz = zstandard.ZstdDecompressor()
    out_dir = Path(args.out)
    doc = json.loads(dz.stream_reader(open(out_dir / "model_oracle.json.zst", "rb")).read())
    ok = True
    for case in doc["cases"]:
        raw = dz.stream_reader(open(out_dir / case["gguf"], "rb")).read()
        meta, tensors = read_gguf(raw)
        types = {n: t for n, (t, _) in tensors.items()}
        if types != case["tensor_types"]:
            print(f"{case['name']}: tensor types differ")
            ok = False
        options = case["options"]
        ref = np.array(case["logits"], dtype=np.float64)
        got = np_forward(meta, tensors, case["prompt_ids"], options)
        err = np.abs(got - ref).max()
        scale = np.abs(ref).max()
        good = err <= 1e-3 * max(1.0, scale)
        ok &= bool(good)
        argmax = np.array_equal(got.argmax(axis=1), ref.argmax(axis=1))
        print(f"{case['name']:22s} max|numpy-HF| {err:.2e} (max|logit| {scale:.1f}) "
              f"argmax equal {argmax} {'OK' if good else 'FAIL'}")
    print("check", "passed" if ok else "FAILED")
    return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--llama-cpp", required=True, type=Path,
                    help="llama.cpp source dir (convert_hf_to_gguf.py, gguf-py/)")
    ap.add_argument("--llama-bin", type=Path, help="llama.cpp build bin/ dir (llama-quantize)")
    ap.add_argument("--out", default="tests/model/data", help="fixture directory")
    ap.add_argument("--check", action="store_true",
                    help="verify the committed fixtures with a numpy forward pass")
    ap.add_argument("--report", help="also write a JSON summary here (not a fixture)")
    args = ap.parse_args()
    # llama.cpp's own gguf-py (the converter's version) reads the GGUFs back
    sys.path.insert(0, str(args.llama_cpp / "gguf-py"))
    if args.check:
        return check(args)
    if args.llama_bin is None:
        ap.error("--llama-bin is required to generate")
    generate(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
