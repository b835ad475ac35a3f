#!/usr/bin/env python3
# Oracle for src/model/hf_config.cpp: loads every config.json fixture with Hugging Face
# transformers (its own Qwen3/Qwen3-MoE/Qwen2 config classes, defaults and rope standardisation)
# and writes the hyperparameters it implies to expected.json, which test_hf_config compares with.
#
#   python3 tools/gen_hf_config_expected.py tests/model/data/hf_configs
#
# Written with transformers 5.24.0 and torch 2.15.0. head_dim is taken from the instantiated
# attention module (what the model really uses), not from the config dict.
import json
import pathlib
import sys

import torch
from transformers import Qwen2Config, Qwen3Config, Qwen3MoeConfig
from transformers.models.qwen2.modeling_qwen2 import Qwen2Attention
from transformers.models.qwen3.modeling_qwen3 import Qwen3Attention
from transformers.models.qwen3_moe.modeling_qwen3_moe import Qwen3MoeAttention

CLASSES = {  # model_type -> (config class, attention class, GGUF arch)
    "qwen3": (Qwen3Config, Qwen3Attention, "qwen3"),
    "qwen3_moe": (Qwen3MoeConfig, Qwen3MoeAttention, "qwen3moe"),
    "qwen2": (Qwen2Config, Qwen2Attention, "qwen2"),
}
BY_CLASS = {"Qwen3ForCausalLM": "qwen3", "Qwen3MoeForCausalLM": "qwen3_moe",
            "Qwen2ForCausalLM": "qwen2"}


def expected(path: pathlib.Path) -> dict:
    raw = json.loads(path.read_text())
    model_type = raw.get("model_type") or BY_CLASS[raw["architectures"][0]]
    config_cls, attn_cls, arch = CLASSES[model_type]
    cfg = config_cls.from_json_file(str(path))
    # The attention module on the meta device: no memory, but the real head_dim computation.
    with torch.device("meta"):
        attn = attn_cls(cfg, layer_idx=0)
    rope = cfg.rope_parameters
    rope_type = rope.get("rope_type", "default")
    moe = model_type == "qwen3_moe"
    if moe:
        assert cfg.decoder_sparse_step == 1 and not cfg.mlp_only_layers
    return {
        "arch": arch,
        "n_layer": cfg.num_hidden_layers,
        "n_embd": cfg.hidden_size,
        "n_ff": 0 if moe else cfg.intermediate_size,  # every layer of the MoE model is sparse
        "n_head": cfg.num_attention_heads,
        "n_head_kv": cfg.num_key_value_heads,
        "head_dim": attn.head_dim,
        "n_vocab": cfg.vocab_size,
        "n_ctx_train": cfg.max_position_embeddings,
        "rope_freq_base": float(rope["rope_theta"]),
        "rms_eps": float(cfg.rms_norm_eps),
        "tied_embeddings": bool(cfg.tie_word_embeddings),
        "rope_scaling": "none" if rope_type == "default" else rope_type,
        "rope_factor": float(rope.get("factor", 1.0)),
        "rope_orig_ctx": int(rope.get("original_max_position_embeddings", 0))
        if rope_type == "yarn" else 0,
        "n_expert": cfg.num_experts if moe else 0,
        "n_expert_used": cfg.num_experts_per_tok if moe else 0,
        "n_ff_expert": cfg.moe_intermediate_size if moe else 0,
        "norm_topk_prob": bool(cfg.norm_topk_prob) if moe else True,
    }


def main() -> None:
    folder = pathlib.Path(sys.argv[1])
    out = {p.name: expected(p) for p in sorted(folder.glob("*.json")) if p.name != "expected.json"}
    (folder / "expected.json").write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    print(f"wrote {len(out)} entries to {folder / 'expected.json'}")


if __name__ == "__main__":
    main()
