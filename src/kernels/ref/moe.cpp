// MoE reference: routing on fp32 probabilities computed in double, then each chosen expert's
// SwiGLU FFN through the reference matmul, mixed in double.
#include "kernels/ref/moe.h"

#include <string>

#include "kernels/ref/activations.h"

namespace longctx::ref {
namespace {

Status check_shapes(const MoeWeights& w) {
  const int64_t n_embd = w.router.n_in;
  const int64_t n_expert = w.router.n_out;
  const int64_t n_ff = w.gate.n_out;
  const bool ok = w.gate.n_in == n_embd && w.up.n_in == n_embd && w.up.n_out == n_ff &&
                  w.down.n_in == n_ff && w.down.n_out == n_embd && w.gate.n_expert == n_expert &&
                  w.up.n_expert == n_expert && w.down.n_expert == n_expert;
  if (!ok) {
    return invalid_argument(
        "moe: inconsistent shapes: router " + std::to_string(n_embd) + "->" +
        std::to_string(n_expert) + ", gate " + std::to_string(w.gate.n_in) + "->" +
        std::to_string(w.gate.n_out) + " x" + std::to_string(w.gate.n_expert) + ", up " +
        std::to_string(w.up.n_in) + "->" + std::to_string(w.up.n_out) + " x" +
        std::to_string(w.up.n_expert) + ", down " + std::to_string(w.down.n_in) + "->" +
        std::to_string(w.down.n_out) + " x" + std::to_string(w.down.n_expert));
  }
  return Status::ok();
}

}  // namespace

Result<std::vector<ExpertChoice>> moe_route(const float* router_logits, int64_t n_expert,
                                            const MoeParams& params) {
  if (n_expert < 1 || params.top_k < 1 || params.top_k > n_expert) {
    return invalid_argument("moe: need 1 <= top_k <= n_expert, got top_k=" +
                            std::to_string(params.top_k) + " n_expert=" + std::to_string(n_expert));
  }
  std::vector<float> prob(static_cast<size_t>(n_expert));
  LONGCTX_RETURN_IF_ERROR(softmax(router_logits, n_expert, SoftmaxParams{}, prob.data()));
  Result<std::vector<int64_t>> chosen = top_k(prob.data(), n_expert, params.top_k);
  if (!chosen) return chosen.status().with_context("moe router");
  double sum = 0.0;
  for (int64_t e : *chosen) sum += prob[e];
  std::vector<ExpertChoice> out;
  out.reserve(chosen->size());
  for (int64_t e : *chosen) {
    const double w = params.norm_topk_prob ? prob[e] / sum : prob[e];
    out.push_back({e, static_cast<float>(w)});
  }
  return out;
}

Status moe_ffn(const MoeWeights& weights, const MoeParams& params, const float* x, float* y) {
  LONGCTX_RETURN_IF_ERROR(check_shapes(weights));
  const int64_t n_embd = weights.router.n_in;
  const int64_t n_ff = weights.gate.n_out;
  std::vector<float> logits(static_cast<size_t>(weights.router.n_out));
  LONGCTX_RETURN_IF_ERROR(matmul(weights.router, x, nullptr, logits.data()));
  Result<std::vector<ExpertChoice>> route = moe_route(logits.data(), weights.router.n_out, params);
  if (!route) return route.status();
  std::vector<float> gate(static_cast<size_t>(n_ff));
  std::vector<float> up(static_cast<size_t>(n_ff));
  std::vector<float> down(static_cast<size_t>(n_embd));
  std::vector<double> acc(static_cast<size_t>(n_embd), 0.0);
  for (const ExpertChoice& c : *route) {
    LONGCTX_RETURN_IF_ERROR(matmul(expert_matrix(weights.gate, c.expert), x, nullptr, gate.data()));
    LONGCTX_RETURN_IF_ERROR(matmul(expert_matrix(weights.up, c.expert), x, nullptr, up.data()));
    swiglu(gate.data(), up.data(), n_ff, gate.data());
    LONGCTX_RETURN_IF_ERROR(
        matmul(expert_matrix(weights.down, c.expert), gate.data(), nullptr, down.data()));
    for (int64_t i = 0; i < n_embd; ++i) acc[i] += static_cast<double>(c.weight) * down[i];
  }
  for (int64_t i = 0; i < n_embd; ++i) y[i] = static_cast<float>(acc[i]);
  return Status::ok();
}

}  // namespace longctx::ref
