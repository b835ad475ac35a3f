// Checks the catalog shapes against figures published independently of them: the parameter
// counts on each Qwen3 model card (total, non-embedding, activated) and the KV-cache size per
// token stated in DESIGN.md.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "plan/catalog.h"

namespace longctx {
namespace {

struct Counts {
  double total = 0;
  double non_embedding = 0;  // everything but token_embd (and the output head when untied)
  double active = 0;         // per token: only the experts actually used
};

// Parameter count from the shape: attention (q, k, v, o), q/k norms, FFN or experts + router,
// two RMSNorms per layer, the final norm, embeddings and (when untied) the output head.
Counts count_params(const ModelShape& m) {
  const double h = m.n_embd, hd = m.head_dim;
  const double attn = h * m.n_head * hd + 2 * h * m.n_head_kv * hd + m.n_head * hd * h + 2 * hd;
  const double norms = 2 * h;
  double ffn_total, ffn_active;
  if (m.is_moe()) {
    const double expert = 3 * h * m.n_ff_expert;
    ffn_total = m.n_expert * expert + h * m.n_expert;  // experts + router
    ffn_active = m.n_expert_used * expert + h * m.n_expert;
  } else {
    ffn_total = ffn_active = 3 * h * m.n_ff;
  }
  const double embd = double(m.n_vocab) * h;
  const double head = m.tied_embeddings ? 0 : embd;
  Counts c;
  c.non_embedding = m.n_layer * (attn + norms + ffn_total) + h;
  c.total = c.non_embedding + embd + head;
  c.active = m.n_layer * (attn + norms + ffn_active) + h + embd + head;
  return c;
}

// Model-card figures in billions, rounded to one decimal there (so compare within 0.05B + 1%).
struct Published {
  const char* name;
  double total, non_embedding, active;
};

TEST(Catalog, ParameterCountsMatchModelCards) {
  const Published cards[] = {
      {"qwen3-0.6b", 0.6, 0.44, 0.6},     {"qwen3-1.7b", 1.7, 1.4, 1.7},
      {"qwen3-4b", 4.0, 3.6, 4.0},        {"qwen3-8b", 8.2, 6.95, 8.2},
      {"qwen3-14b", 14.8, 13.2, 14.8},    {"qwen3-32b", 32.8, 31.2, 32.8},
      {"qwen3-30b-a3b", 30.5, 29.9, 3.3}, {"qwen3-235b-a22b", 235, 234, 22},
  };
  for (const Published& p : cards) {
    const ModelShape* m = find_model_shape(p.name);
    ASSERT_NE(m, nullptr) << p.name;
    Counts c = count_params(*m);
    auto near = [](double got, double want_b) {
      return std::fabs(got / 1e9 - want_b) <= 0.05 + 0.01 * want_b;
    };
    EXPECT_TRUE(near(c.total, p.total)) << p.name << " total " << c.total / 1e9;
    EXPECT_TRUE(near(c.non_embedding, p.non_embedding))
        << p.name << " non-embedding " << c.non_embedding / 1e9;
    EXPECT_TRUE(near(c.active, p.active)) << p.name << " active " << c.active / 1e9;
  }
}

TEST(Catalog, KvBytesPerTokenOfQwen3_30B_A3B) {
  // DESIGN.md: 2 x layers x kv_heads x head_dim x 2 bytes = 96 KiB per token at f16.
  const ModelShape* m = find_model_shape("Qwen3-30B-A3B");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(2ull * m->n_layer * m->n_head_kv * m->head_dim * 2, 96ull * 1024);
}

TEST(Catalog, EveryQwen3ModelHasHeadDim128AndTheQwenVocabulary) {
  for (const ModelShape& m : model_catalog()) {
    EXPECT_EQ(m.head_dim, 128u) << m.name;
    EXPECT_EQ(m.n_vocab, 151936u) << m.name;
    EXPECT_EQ(m.n_head % m.n_head_kv, 0u) << m.name;
  }
}

TEST(Catalog, LookupIsCaseInsensitiveAndSuggestsNearestNames) {
  EXPECT_NE(find_model_shape("QWEN3-8B"), nullptr);
  EXPECT_NE(find_model_shape("Qwen3-Coder-30B-A3B-Instruct"), nullptr);
  EXPECT_NE(find_model_shape("qwen3-tiny"), nullptr);  // a test shape, findable by name
  EXPECT_EQ(find_model_shape("qwen3-9b"), nullptr);
  auto near = nearest_model_names("qwen3-30b-a3");
  ASSERT_FALSE(near.empty());
  EXPECT_EQ(near[0], "qwen3-30b-a3b");
  auto ties = nearest_model_names("qwen3-9b");  // 4b and 8b are equally near
  EXPECT_NE(std::find(ties.begin(), ties.end(), "qwen3-8b"), ties.end());
  for (const ModelShape& m : model_catalog()) EXPECT_NE(std::string(m.name), "qwen3-tiny");
}

}  // namespace
}  // namespace longctx
