// Parameter and KV accounting against the published figures of the Qwen3 model cards (total and
// activated parameters) and the KV formula 2 x layers x kv_heads x head_dim x bytes.
#include <gtest/gtest.h>

#include <string>

#include "model/model_summary.h"
#include "plan/catalog.h"

namespace longctx {
namespace {

ModelSummary of(const std::string& name) {
  const ModelShape* s = find_model_shape(name);
  EXPECT_NE(s, nullptr) << name;
  return summarize_hparams(hparams_from_shape(*s));
}

TEST(ModelSummary, MoeActiveParametersMatchTheModelCards) {
  // Qwen3-30B-A3B: "30.5B in total and 3.3B activated"; Qwen3-235B-A22B: 235B / 22B. The
  // cards count the embedding table as activated; active_params leaves it out (a token reads
  // one row of it, so it costs no bandwidth), hence the + embd_params.
  const ModelSummary a = of("qwen3-30b-a3b");
  EXPECT_NEAR(a.n_params / 1e9, 30.5, 0.1);
  EXPECT_NEAR((a.active_params(8) + a.embd_params) / 1e9, 3.3, 0.1);
  const ModelSummary b = of("qwen3-235b-a22b");
  EXPECT_NEAR(b.n_params / 1e9, 235.1, 0.5);
  EXPECT_NEAR((b.active_params(8) + b.embd_params) / 1e9, 22.1, 0.2);
  // One more expert adds one expert's gate/up/down per layer.
  const ModelHparams& hp = a.hp;
  EXPECT_EQ(a.active_params(9) - a.active_params(8),
            3ull * hp.n_embd * hp.n_ff_expert * hp.n_layer);
  // Dense, untied (8B: 8.2B total, 6.95B without embeddings per its card): every weight but
  // the embedding table.
  const ModelSummary d = of("qwen3-8b");
  EXPECT_NEAR(d.n_params / 1e9, 8.19, 0.01);
  EXPECT_NEAR(d.active_params(0) / 1e9, 8.19 - 151936.0 * 4096 / 1e9, 0.01);
}

TEST(ModelSummary, KvBytesPerTokenFollowTheFormula) {
  const ModelSummary a = of("qwen3-30b-a3b");  // 48 layers x 4 kv heads x 128
  EXPECT_EQ(a.kv_bytes_per_token(TensorType::F16, TensorType::F16), 96u * 1024);
  EXPECT_EQ(a.kv_bytes_per_token(TensorType::F16, TensorType::F16) * 131072, 12ull << 30);
  EXPECT_EQ(a.kv_bytes_per_token(TensorType::F32, TensorType::F32), 192u * 1024);
  // Q8_0: 34 bytes per 32 elements; K and V separately.
  EXPECT_EQ(a.kv_bytes_per_token(TensorType::Q8_0, TensorType::F16),
            48ull * 4 * (128 / 32 * 34 + 128 * 2));
}

}  // namespace
}  // namespace longctx
