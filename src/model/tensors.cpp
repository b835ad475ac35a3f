// The Qwen3 / Qwen3-MoE / Qwen2 tensor list with GGUF names and ggml-order shapes.
#include "model/tensors.h"

namespace longctx {

uint64_t TensorDesc::n_elements() const {
  uint64_t n = 1;
  for (uint64_t d : dims) n *= d;
  return n;
}

bool TensorDesc::is_norm_or_bias() const { return dims.size() == 1; }

std::vector<TensorDesc> model_tensors(const ModelHparams& hp) {
  using R = TensorRole;
  const uint64_t h = hp.n_embd;
  const uint64_t q_dim = uint64_t(hp.n_head) * hp.head_dim;  // width of q (≠ h for 0.6B)
  const uint64_t k_dim = uint64_t(hp.n_head_kv) * hp.head_dim;
  const uint64_t v_dim = uint64_t(hp.n_head_kv) * hp.head_dim_v;
  const uint64_t o_dim = uint64_t(hp.n_head) * hp.head_dim_v;

  std::vector<TensorDesc> t;
  t.push_back({"token_embd.weight", {h, hp.n_vocab}, R::kTokenEmbd});
  for (uint32_t il = 0; il < hp.n_layer; ++il) {
    const std::string p = "blk." + std::to_string(il) + ".";
    const int l = static_cast<int>(il);
    t.push_back({p + "attn_norm.weight", {h}, R::kAttnNorm, l});
    t.push_back({p + "attn_q.weight", {h, q_dim}, R::kAttnQ, l});
    t.push_back({p + "attn_k.weight", {h, k_dim}, R::kAttnK, l});
    t.push_back({p + "attn_v.weight", {h, v_dim}, R::kAttnV, l});
    if (hp.has_qkv_bias()) {
      t.push_back({p + "attn_q.bias", {q_dim}, R::kAttnQBias, l});
      t.push_back({p + "attn_k.bias", {k_dim}, R::kAttnKBias, l});
      t.push_back({p + "attn_v.bias", {v_dim}, R::kAttnVBias, l});
    }
    t.push_back({p + "attn_output.weight", {o_dim, h}, R::kAttnOut, l});
    if (hp.has_qk_norm()) {
      t.push_back({p + "attn_q_norm.weight", {hp.head_dim}, R::kAttnQNorm, l});
      t.push_back({p + "attn_k_norm.weight", {hp.head_dim}, R::kAttnKNorm, l});
    }
    t.push_back({p + "ffn_norm.weight", {h}, R::kFfnNorm, l});
    if (hp.is_moe()) {
      const uint64_t f = hp.n_ff_expert, e = hp.n_expert;
      t.push_back({p + "ffn_gate_inp.weight", {h, e}, R::kFfnRouter, l});
      t.push_back({p + "ffn_gate_exps.weight", {h, f, e}, R::kFfnGateExps, l});
      t.push_back({p + "ffn_up_exps.weight", {h, f, e}, R::kFfnUpExps, l});
      t.push_back({p + "ffn_down_exps.weight", {f, h, e}, R::kFfnDownExps, l});
    } else {
      t.push_back({p + "ffn_gate.weight", {h, hp.n_ff}, R::kFfnGate, l});
      t.push_back({p + "ffn_up.weight", {h, hp.n_ff}, R::kFfnUp, l});
      t.push_back({p + "ffn_down.weight", {hp.n_ff, h}, R::kFfnDown, l});
    }
  }
  t.push_back({"output_norm.weight", {h}, R::kOutputNorm});
  if (!hp.tied_embeddings) t.push_back({"output.weight", {h, hp.n_vocab}, R::kOutput});
  return t;
}

}  // namespace longctx
