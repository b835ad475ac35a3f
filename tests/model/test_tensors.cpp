// Tensor lists of catalog shapes: counts, names, shapes and element totals (checked against the
// model cards' 0.6B / 30.5B and a by-hand sum, written out below).
#include <gtest/gtest.h>

#include <set>

#include "model/tensors.h"
#include "plan/catalog.h"

namespace longctx {
namespace {

uint64_t total_elements(const std::vector<TensorDesc>& ts) {
  uint64_t n = 0;
  for (const auto& t : ts) n += t.n_elements();
  return n;
}

TEST(ModelTensors, Qwen3_0_6B) {
  ModelHparams hp = hparams_from_shape(*find_model_shape("qwen3-0.6b"));
  ASSERT_TRUE(hp.validate().is_ok());
  auto ts = model_tensors(hp);
  // token_embd + output_norm + 28 layers x 11 tensors (tied: no output.weight).
  EXPECT_EQ(ts.size(), 2u + 28u * 11u);
  // By hand: embeddings 151936*1024 = 155,582,464; per layer q 1024*2048 + k,v 2*1024*1024
  // + o 2048*1024 + q/k norms 2*128 + two norms 2*1024 + FFN 3*1024*3072 = 15,730,944;
  // x28 = 440,466,432 (the card's "0.44B non-embedding"); + output_norm 1024 = 596,049,920.
  EXPECT_EQ(total_elements(ts), 596049920ull);
  std::set<std::string> names;
  for (const auto& t : ts) EXPECT_TRUE(names.insert(t.name).second) << "duplicate " << t.name;
  EXPECT_TRUE(names.count("blk.27.attn_k_norm.weight"));
  EXPECT_FALSE(names.count("output.weight"));
  // q projection is heads x head_dim = 2048 wide, not hidden (1024).
  for (const auto& t : ts) {
    if (t.name == "blk.0.attn_q.weight") {
      EXPECT_EQ(t.dims, (std::vector<uint64_t>{1024, 2048}));
    }
  }
}

TEST(ModelTensors, Qwen3MoeHasExpertsAndUntiedOutput) {
  ModelHparams hp = hparams_from_shape(*find_model_shape("qwen3-30b-a3b"));
  ASSERT_TRUE(hp.validate().is_ok());
  auto ts = model_tensors(hp);
  EXPECT_EQ(ts.size(), 3u + 48u * 12u);
  bool found = false;
  for (const auto& t : ts) {
    if (t.name == "blk.5.ffn_down_exps.weight") {
      EXPECT_EQ(t.dims, (std::vector<uint64_t>{768, 2048, 128}));
      found = true;
    }
  }
  EXPECT_TRUE(found);
  // 30.5B total on the model card (rounded to 0.1B).
  EXPECT_NEAR(double(total_elements(ts)) / 1e9, 30.5, 0.06);
}

TEST(ModelHparamsValidate, RejectsInconsistentShapes) {
  ModelHparams hp = hparams_from_shape(*find_model_shape("qwen3-8b"));
  hp.n_head_kv = 7;
  EXPECT_FALSE(hp.validate().is_ok());
  hp = hparams_from_shape(*find_model_shape("qwen3-30b-a3b"));
  hp.n_expert_used = 129;
  Status st = hp.validate();
  ASSERT_FALSE(st.is_ok());
  EXPECT_NE(st.message().find("expert_used_count"), std::string::npos);
}

}  // namespace
}  // namespace longctx
