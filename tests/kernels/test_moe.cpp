// MoE routing and expert mix against transformers' Qwen3MoeSparseMoeBlock (norm_topk_prob on and
// off, top_k 2, 3 and all 8), plus tie order, renormalisation and shape checks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "kernels/ref/activations.h"
#include "kernels/ref/moe.h"
#include "oracle.h"

namespace longctx::ref {
namespace {

using testing::floats;
using testing::kU;
using testing::oracle;

std::vector<float> abs_of(std::vector<float> v) {
  for (float& f : v) f = std::fabs(f);
  return v;
}

struct MoeCase {
  int64_t n_embd, n_ff, n_expert, n_tokens;
  MoeParams params;
  std::vector<float> router, gate, up, down, x, y, logits, weights;
  std::vector<std::vector<int64_t>> experts;

  explicit MoeCase(const nlohmann::json& c)
      : n_embd(c["n_embd"]),
        n_ff(c["n_ff"]),
        n_expert(c["n_expert"]),
        n_tokens(c["n_tokens"]),
        params{c["top_k"], c["norm_topk_prob"]},
        router(floats(c["router"])),
        gate(floats(c["gate"])),
        up(floats(c["up"])),
        down(floats(c["down"])),
        x(floats(c["x"])),
        y(floats(c["y"])),
        logits(floats(c["logits"])),
        weights(floats(c["weights"])),
        experts(c["experts"].get<std::vector<std::vector<int64_t>>>()) {}

  // F32 views of the given buffers (the real ones, or their absolute values for error bounds).
  MoeWeights view(const std::vector<float>& r, const std::vector<float>& g,
                  const std::vector<float>& u, const std::vector<float>& d) const {
    return {WeightMatrix{TensorType::F32, r.data(), n_embd, n_expert},
            ExpertStack{TensorType::F32, g.data(), n_embd, n_ff, n_expert},
            ExpertStack{TensorType::F32, u.data(), n_embd, n_ff, n_expert},
            ExpertStack{TensorType::F32, d.data(), n_ff, n_embd, n_expert}};
  }
};

// Relative error bound of torch's routing weights for token t. Each fp32 router logit errs by
// dl_e <= (n_embd + 1) u sum_i |r_ei x_i|; a logit error dl moves the softmax probabilities by a
// relative 2 max dl; softmax itself adds (2A + n_expert + 6) u (A = max |logit|, see
// test_norm_act.cpp); renormalising by the chosen sum at most doubles the total.
double routing_rel_tol(const MoeCase& c, int64_t t) {
  double max_dl = 0.0, a = 0.0;
  for (int64_t e = 0; e < c.n_expert; ++e) {
    double mag = 0.0;
    for (int64_t i = 0; i < c.n_embd; ++i) {
      mag += std::fabs(double(c.router[e * c.n_embd + i]) * c.x[t * c.n_embd + i]);
    }
    max_dl = std::max(max_dl, (c.n_embd + 1) * kU * mag);
    a = std::max(a, std::fabs(double(c.logits[t * c.n_expert + e])));
  }
  return 2.0 * (2.0 * max_dl + (2.0 * a + c.n_expert + 6) * kU);
}

TEST(Moe, RoutingMatchesTopKRouter) {
  ASSERT_TRUE(oracle().contains("moe"));
  for (const auto& j : oracle()["moe"]) {
    const MoeCase c(j);
    const MoeWeights w = c.view(c.router, c.gate, c.up, c.down);
    for (int64_t t = 0; t < c.n_tokens; ++t) {
      std::vector<float> logits(static_cast<size_t>(c.n_expert));
      ASSERT_TRUE(matmul(w.router, c.x.data() + t * c.n_embd, nullptr, logits.data()).is_ok());
      for (int64_t e = 0; e < c.n_expert; ++e) {
        // torch's fp32 dot of n_embd terms errs by <= n_embd u sum_i |r_i x_i|.
        double mag = 0.0;
        for (int64_t i = 0; i < c.n_embd; ++i) {
          mag += std::fabs(double(c.router[e * c.n_embd + i]) * c.x[t * c.n_embd + i]);
        }
        EXPECT_NEAR(logits[e], c.logits[t * c.n_expert + e], (c.n_embd + 1) * kU * mag);
      }
      Result<std::vector<ExpertChoice>> r = moe_route(logits.data(), c.n_expert, c.params);
      ASSERT_TRUE(r.is_ok()) << r.status().message();
      ASSERT_EQ(static_cast<int64_t>(r->size()), c.params.top_k);
      for (int64_t k = 0; k < c.params.top_k; ++k) {
        EXPECT_EQ((*r)[k].expert, c.experts[t][k]) << "token " << t << " rank " << k;
        EXPECT_NEAR((*r)[k].weight, c.weights[t * c.params.top_k + k],
                    routing_rel_tol(c, t) * c.weights[t * c.params.top_k + k]);
      }
    }
  }
}

TEST(Moe, ExpertMixMatchesSparseMoeBlock) {
  for (const auto& j : oracle()["moe"]) {
    const MoeCase c(j);
    const MoeWeights w = c.view(c.router, c.gate, c.up, c.down);
    const std::vector<float> ag = abs_of(c.gate), au = abs_of(c.up), ad = abs_of(c.down);
    const MoeWeights wa = c.view(c.router, ag, au, ad);
    for (int64_t t = 0; t < c.n_tokens; ++t) {
      const float* x = c.x.data() + t * c.n_embd;
      std::vector<float> y(static_cast<size_t>(c.n_embd));
      ASSERT_TRUE(moe_ffn(w, c.params, x, y.data()).is_ok());
      // Error bound of torch's fp32 path, from magnitudes: with G = |Wg||x|, U = |Wu||x| the
      // activation silu(g)*u is at most A = 1.1 G U and carries <= 2 (n_embd + 4) u A from the
      // gate/up dots; the down dot adds n_ff u (|D| A); routing weights carry routing_rel_tol.
      // tol_i = sum_e w_e (|D_e| A_e)_i ((2 n_embd + n_ff + 8) u + routing_rel_tol).
      const std::vector<float> ax = abs_of(std::vector<float>(x, x + c.n_embd));
      std::vector<double> tol(static_cast<size_t>(c.n_embd), 0.0);
      for (int64_t k = 0; k < c.params.top_k; ++k) {
        const int64_t e = c.experts[t][k];
        std::vector<float> g(c.n_ff), u(c.n_ff), a(c.n_ff), da(c.n_embd);
        ASSERT_TRUE(matmul(expert_matrix(wa.gate, e), ax.data(), nullptr, g.data()).is_ok());
        ASSERT_TRUE(matmul(expert_matrix(wa.up, e), ax.data(), nullptr, u.data()).is_ok());
        for (int64_t f = 0; f < c.n_ff; ++f) a[f] = 1.1f * g[f] * u[f];
        ASSERT_TRUE(matmul(expert_matrix(wa.down, e), a.data(), nullptr, da.data()).is_ok());
        const double we = c.weights[t * c.params.top_k + k];
        for (int64_t i = 0; i < c.n_embd; ++i) {
          tol[i] += we * da[i] * ((2 * c.n_embd + c.n_ff + 8) * kU + routing_rel_tol(c, t));
        }
      }
      for (int64_t i = 0; i < c.n_embd; ++i) {
        EXPECT_NEAR(y[i], c.y[t * c.n_embd + i], tol[i])
            << "top_k=" << c.params.top_k << " norm=" << c.params.norm_topk_prob << " token " << t
            << " i=" << i;
      }
    }
  }
}

TEST(Moe, TiesGoToLowerExpertAndWeightsRenormalise) {
  const std::vector<float> logits = {1.0f, 3.0f, 2.0f, 3.0f, 2.0f};
  Result<std::vector<ExpertChoice>> r = moe_route(logits.data(), 5, MoeParams{3, true});
  ASSERT_TRUE(r.is_ok());
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].expert, 1);
  EXPECT_EQ((*r)[1].expert, 3);
  EXPECT_EQ((*r)[2].expert, 2);
  // Renormalised: e^3 / (2 e^3 + e^2) for the two leaders, e^2 / (...) for the third.
  const double den = 2 * std::exp(3.0) + std::exp(2.0);
  EXPECT_NEAR((*r)[0].weight, std::exp(3.0) / den, 1e-7);
  EXPECT_NEAR((*r)[2].weight, std::exp(2.0) / den, 1e-7);
  Result<std::vector<ExpertChoice>> raw = moe_route(logits.data(), 5, MoeParams{3, false});
  ASSERT_TRUE(raw.is_ok());
  double all = 0.0;
  for (float l : logits) all += std::exp(double(l));
  EXPECT_NEAR((*raw)[0].weight, std::exp(3.0) / all, 1e-7);  // softmax over ALL experts
}

TEST(Moe, RejectsBadTopKAndShapes) {
  const std::vector<float> logits(4, 0.0f);
  Result<std::vector<ExpertChoice>> r = moe_route(logits.data(), 4, MoeParams{5, true});
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("top_k=5 n_expert=4"), std::string::npos);
  EXPECT_FALSE(moe_route(logits.data(), 4, MoeParams{0, true}).is_ok());

  const MoeCase c(oracle()["moe"].at(0));
  MoeWeights w = c.view(c.router, c.gate, c.up, c.down);
  w.down.n_in = c.n_ff + 1;
  std::vector<float> y(static_cast<size_t>(c.n_embd));
  Status st = moe_ffn(w, c.params, c.x.data(), y.data());
  EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(st.message().find("inconsistent shapes"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace longctx::ref
