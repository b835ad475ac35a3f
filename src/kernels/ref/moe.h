// Scalar reference Mixture-of-Experts FFN of Qwen3-MoE: router softmax over all experts, top-k,
// optional renormalisation of the k weights, weighted sum of the chosen experts' SwiGLU FFNs.
#pragma once

#include <cstdint>
#include <vector>

#include "core/status.h"
#include "kernels/ref/matmul.h"

namespace longctx::ref {

struct MoeParams {
  int64_t top_k = 8;           // experts used per token (the model's value, overridable)
  bool norm_topk_prob = true;  // renormalise the k chosen probabilities to sum to 1
};

struct ExpertChoice {
  int64_t expert = 0;
  float weight = 0.0f;  // the expert's output multiplier
};

// p = softmax(router_logits[n_expert]) over ALL experts; the top_k largest p (ties: lower
// expert index first), largest first; weight = p, or p / sum(chosen p) when norm_topk_prob.
Result<std::vector<ExpertChoice>> moe_route(const float* router_logits, int64_t n_expert,
                                            const MoeParams& params);

// One MoE layer's weights (GGUF names in blk.N.*):
struct MoeWeights {
  WeightMatrix router;  // ffn_gate_inp: [n_embd] -> [n_expert]
  ExpertStack gate;     // ffn_gate_exps: n_expert x ([n_embd] -> [n_ff])
  ExpertStack up;       // ffn_up_exps:   n_expert x ([n_embd] -> [n_ff])
  ExpertStack down;     // ffn_down_exps: n_expert x ([n_ff] -> [n_embd])
};

// y = sum over chosen (e, w) of w * down_e(silu(gate_e x) * up_e x).
//   x[n_embd], y[n_embd]; y must not alias x. Shapes are checked against each other.
Status moe_ffn(const MoeWeights& weights, const MoeParams& params, const float* x, float* y);

}  // namespace longctx::ref
