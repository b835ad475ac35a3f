#!/usr/bin/env python3
# Writes the oracle fixtures for the scalar reference kernels (src/kernels/ref/).
#
#   Command:  python3 tools/kernels_make_fixtures.py tests/kernels/data/kernels_oracle.json.zst
#   Needs:    pip install torch transformers numpy zstandard   (tested: torch 2.15, transformers 5.24)
#
# Every expected value comes from PyTorch / Hugging Face transformers, never from longctx code:
#   rms_norm          transformers Qwen3RMSNorm (whole vector and per head, as q_norm / k_norm)
#   rope              transformers Qwen3RotaryEmbedding + apply_rotary_pos_emb, rope_type
#                     default / linear / yarn (inv_freq and attention factor from
#                     ROPE_INIT_FUNCTIONS), positions far past original_max_position_embeddings
#   yarn_params       ROPE_INIT_FUNCTIONS["yarn"] at Qwen3-like shapes, truncate True and False
#   softmax / silu    torch.softmax / torch.nn.functional.silu
#   attention         transformers' Qwen3 eager_attention_forward (GQA repeat_kv, additive causal
#                     mask); K/V rounded to f16 / bf16 by torch for the 16-bit storage cases
#   moe               transformers Qwen3MoeSparseMoeBlock on random weights (norm_topk_prob on/off,
#                     several top_k)
# Float32 values are written with Python's shortest repr, so the C++ side parses them exactly.
import json
import sys

import numpy as np
import torch
import zstandard
from transformers import Qwen3Config, Qwen3MoeConfig
from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS
from transformers.models.qwen3 import modeling_qwen3 as q3
from transformers.models.qwen3_moe import modeling_qwen3_moe as q3moe

torch.manual_seed(1234)
rng = np.random.default_rng(1234)


def flat(t):
    """A tensor or array as a flat list of float32 values (exact float32 -> double -> repr)."""
    a = t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)
    return [float(v) for v in a.astype(np.float32).reshape(-1)]


def randn(*shape, scale=1.0):
    return torch.from_numpy((rng.standard_normal(shape) * scale).astype(np.float32))


def rms_norm_cases():
    cases = []
    for n, eps, scale in [(1, 1e-6, 1.0), (7, 1e-6, 3.0), (128, 1e-6, 0.01), (200, 1e-5, 50.0)]:
        norm = q3.Qwen3RMSNorm(n, eps=eps)
        with torch.no_grad():
            norm.weight.copy_(randn(n))
            x = randn(n, scale=scale)
            cases.append({"n": n, "eps": eps, "x": flat(x), "weight": flat(norm.weight),
                          "y": flat(norm(x))})
    return cases


def rms_norm_heads_cases():
    n_head, head_dim, eps = 3, 16, 1e-6
    norm = q3.Qwen3RMSNorm(head_dim, eps=eps)
    with torch.no_grad():
        norm.weight.copy_(randn(head_dim))
        x = randn(n_head, head_dim, scale=2.0)
        return [{"n_head": n_head, "head_dim": head_dim, "eps": eps, "x": flat(x),
                 "weight": flat(norm.weight), "y": flat(norm(x))}]


def rope_config(head_dim, theta, rope_params, max_pos=256):
    params = {"rope_theta": theta, **rope_params}
    return Qwen3Config(hidden_size=head_dim * 2, num_attention_heads=2, num_key_value_heads=1,
                       head_dim=head_dim, max_position_embeddings=max_pos, rope_parameters=params)


def rope_cases():
    head_dim, n_head = 64, 2
    positions = [0, 1, 2, 31, 63, 64, 65, 100, 255, 300, 511]
    variants = [
        ("none", 10000.0, {"rope_type": "default"}),
        ("linear", 10000.0, {"rope_type": "linear", "factor": 4.0}),
        ("yarn", 10000.0, {"rope_type": "yarn", "factor": 4.0,
                           "original_max_position_embeddings": 64}),
        ("yarn", 1000000.0, {"rope_type": "yarn", "factor": 4.0,
                             "original_max_position_embeddings": 64}),
    ]
    cases = []
    for name, theta, params in variants:
        cfg = rope_config(head_dim, theta, params)
        rot = q3.Qwen3RotaryEmbedding(cfg)
        pos = torch.tensor([positions])
        q = randn(1, n_head, len(positions), head_dim)
        k = randn(1, 1, len(positions), head_dim)
        cos, sin = rot(q, pos)
        q_rot, k_rot = q3.apply_rotary_pos_emb(q, k, cos, sin)
        cases.append({
            "type": name, "head_dim": head_dim, "theta": theta,
            "factor": params.get("factor", 1.0),
            "original_context": params.get("original_max_position_embeddings", 0),
            "inv_freq": flat(rot.inv_freq), "attention_factor": float(rot.attention_scaling),
            "positions": positions, "n_head": n_head,
            # [position][head][head_dim], the layout rope_apply takes
            "x": flat(q[0].transpose(0, 1)), "y": flat(q_rot[0].transpose(0, 1)),
        })
    return cases


def yarn_param_cases():
    cases = []
    for head_dim, theta, factor, orig, truncate in [(128, 1000000.0, 4.0, 32768, True),
                                                    (128, 1000000.0, 4.0, 32768, False),
                                                    (64, 10000.0, 8.0, 2048, True),
                                                    (32, 10000.0, 2.5, 64, False)]:
        params = {"rope_type": "yarn", "factor": factor,
                  "original_max_position_embeddings": orig, "truncate": truncate}
        cfg = rope_config(head_dim, theta, params, max_pos=int(orig * factor))
        inv_freq, attn = ROPE_INIT_FUNCTIONS["yarn"](cfg, "cpu")
        cases.append({"head_dim": head_dim, "theta": theta, "factor": factor,
                      "original_context": orig, "truncate": truncate,
                      "inv_freq": flat(inv_freq), "attention_factor": float(attn)})
    return cases


def softmax_cases():
    cases = []
    for n, scale, n_visible, spread in [(1, 1.0, 1, 1.0), (10, 1.0, 10, 3.0),
                                        (37, 0.125, 20, 40.0), (300, 2.0, 300, 5.0)]:
        x = randn(n, scale=spread)
        masked = x * scale
        masked[n_visible:] = -float("inf")
        cases.append({"scale": scale, "n_visible": n_visible, "x": flat(x),
                      "y": flat(torch.softmax(masked, dim=-1))})
    return cases


def silu_case():
    x = torch.cat([torch.linspace(-30, 30, 121), randn(64, scale=4.0),
                   torch.tensor([0.0, -0.0, 1e-30, -1e-30, 88.0, -88.0, -100.0])])
    gate, up = randn(50, scale=3.0), randn(50)
    return {"x": flat(x), "y": flat(torch.nn.functional.silu(x)),
            "gate": flat(gate), "up": flat(up), "swiglu": flat(torch.nn.functional.silu(gate) * up)}


class _AttnModule(torch.nn.Module):
    def __init__(self, groups):
        super().__init__()
        self.num_key_value_groups = groups


def attention_cases():
    cases = []
    for kv_type, n_head, n_head_kv, head_dim, n_q, q_pos0 in [("f32", 4, 2, 16, 5, 11),
                                                           ("f16", 6, 2, 32, 3, 0),
                                                           ("bf16", 2, 2, 8, 4, 36),
                                                           ("f32", 8, 1, 16, 1, 40)]:
        n_kv = q_pos0 + n_q
        q = randn(1, n_head, n_q, head_dim, scale=1.5)
        k = randn(1, n_head_kv, n_kv, head_dim, scale=1.5)
        v = randn(1, n_head_kv, n_kv, head_dim)
        if kv_type == "f16":
            k, v = k.half().float(), v.half().float()
        elif kv_type == "bf16":
            k, v = k.bfloat16().float(), v.bfloat16().float()
        # additive causal mask: query t (position q_pos0 + t) sees keys j <= q_pos0 + t
        qpos = torch.arange(n_q)[:, None] + q_pos0
        mask = torch.where(torch.arange(n_kv)[None, :] <= qpos, 0.0, -float("inf"))
        out, _ = q3.eager_attention_forward(_AttnModule(n_head // n_head_kv), q, k, v,
                                            mask[None, None], scaling=head_dim ** -0.5)
        cases.append({
            "kv_type": kv_type, "n_head": n_head, "n_head_kv": n_head_kv, "head_dim": head_dim,
            "n_q": n_q, "q_pos0": q_pos0, "n_kv": n_kv,
            "q": flat(q[0].transpose(0, 1)),  # [n_q][n_head][head_dim]
            "k": flat(k[0].transpose(0, 1)),  # [n_kv][n_head_kv][head_dim]
            "v": flat(v[0].transpose(0, 1)),
            "out": flat(out[0]),              # eager returns [n_q][n_head][head_dim]
        })
    return cases


def moe_cases():
    cases = []
    n_embd, n_ff, n_expert, n_tokens = 32, 16, 8, 6
    for top_k, norm in [(2, True), (2, False), (3, True), (8, False)]:
        cfg = Qwen3MoeConfig(hidden_size=n_embd, moe_intermediate_size=n_ff, num_experts=n_expert,
                             num_experts_per_tok=top_k, norm_topk_prob=norm, hidden_act="silu")
        block = q3moe.Qwen3MoeSparseMoeBlock(cfg)
        with torch.no_grad():
            block.gate.weight.copy_(randn(n_expert, n_embd, scale=0.5))
            block.experts.gate_up_proj.copy_(randn(n_expert, 2 * n_ff, n_embd, scale=0.3))
            block.experts.down_proj.copy_(randn(n_expert, n_embd, n_ff, scale=0.3))
            x = randn(1, n_tokens, n_embd)
            y = block(x)
            logits, weights, experts = block.gate(x.reshape(-1, n_embd))
        gate_up = block.experts.gate_up_proj
        cases.append({
            "n_embd": n_embd, "n_ff": n_ff, "n_expert": n_expert, "n_tokens": n_tokens,
            "top_k": top_k, "norm_topk_prob": norm,
            # GGUF layout == torch Linear weight layout: [n_out][n_in] per expert
            "router": flat(block.gate.weight),
            "gate": flat(gate_up[:, :n_ff, :]), "up": flat(gate_up[:, n_ff:, :]),
            "down": flat(block.experts.down_proj),
            "x": flat(x), "y": flat(y), "logits": flat(logits),
            "experts": experts.tolist(), "weights": flat(weights),
        })
    return cases


def main():
    out = {
        "generator": "tools/kernels_make_fixtures.py",
        "torch": torch.__version__,
        "rms_norm": rms_norm_cases(),
        "rms_norm_heads": rms_norm_heads_cases(),
        "rope": rope_cases(),
        "yarn_params": yarn_param_cases(),
        "softmax": softmax_cases(),
        "silu": silu_case(),
        "attention": attention_cases(),
        "moe": moe_cases(),
    }
    import transformers
    out["transformers"] = transformers.__version__
    data = json.dumps(out, separators=(",", ":")).encode()
    with open(sys.argv[1], "wb") as f:
        f.write(zstandard.ZstdCompressor(level=19).compress(data))
    print(f"wrote {sys.argv[1]}: {len(data)} bytes of JSON")


if __name__ == "__main__":
    main()
