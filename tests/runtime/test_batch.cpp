// BatchRunner (runtime/batch.h): several sessions advanced in one forward pass must end in the
// state each would reach alone. On the reference backend every row is computed independently,
// so batched and separate logits agree bit for bit (dense and MoE, f16 and q8_0 caches, prefill
// chunks mixed with decode rows); on the cpu backend the batched matrix kernels sum in another
// order, so they agree within float rounding. Also: the caches hold the same K/V, argument
// errors change nothing, and a session that stepped in a batch goes on with eval.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "runtime/batch.h"
#include "runtime/engine.h"
#include "runtime/engine_test_util.h"
#include "runtime/session.h"

namespace longctx {
namespace {

using testing_util::load_test_engine;
using testing_util::write_tiny_model;

const std::string& model(bool moe) {
  static const std::string dense = write_tiny_model({.seed = 31}, "batch_dense.gguf");
  static const std::string sparse =
      write_tiny_model({.shape = "qwen3moe-tiny", .seed = 32}, "batch_moe.gguf");
  return moe ? sparse : dense;
}

std::vector<int32_t> ids(int n, int seed, int32_t nv) {
  std::vector<int32_t> v;
  for (int i = 0; i < n; ++i) v.push_back(static_cast<int32_t>((i * 131 + seed * 17 + 3) % nv));
  return v;
}

std::unique_ptr<Session> session(Engine& e, TensorType kv) {
  auto s = e.new_session({.n_ctx = 128, .n_batch = 16, .type_k = kv, .type_v = kv});
  EXPECT_TRUE(s.is_ok()) << s.status().message();
  return s.is_ok() ? std::move(s.value()) : nullptr;
}

float max_abs(const float* a, int64_t n) {
  float m = 0.0f;
  for (int64_t i = 0; i < n; ++i) m = std::max(m, std::fabs(a[i]));
  return m;
}

struct Case {
  const char* backend;
  bool moe;
  TensorType kv;
};

class Batch : public ::testing::TestWithParam<Case> {};

// Three sessions with prompts of 5, 9 and 2 tokens, prefilled in one step (16 rows), then four
// decode steps of one token each, one of them with a 3-token chunk mixed in; against the same
// tokens evaluated session by session.
TEST_P(Batch, StepsEqualSeparateEvaluation) {
  const Case c = GetParam();
  auto engine = load_test_engine(model(c.moe), c.backend);
  ASSERT_NE(engine, nullptr);
  const int32_t nv = static_cast<int32_t>(engine->hparams().n_vocab);
  auto runner = BatchRunner::create(*engine, 16, 4);
  ASSERT_TRUE(runner.is_ok()) << runner.status().message();
  std::vector<std::unique_ptr<Session>> batched, alone;
  for (int i = 0; i < 3; ++i) {
    batched.push_back(session(*engine, c.kv));
    alone.push_back(session(*engine, c.kv));
  }
  const std::vector<std::vector<int32_t>> prompts = {ids(5, 1, nv), ids(9, 2, nv), ids(2, 3, nv)};
  std::vector<BatchItem> items;
  for (int i = 0; i < 3; ++i) items.push_back({batched[i].get(), prompts[i]});
  ASSERT_TRUE(runner->step(items).is_ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(alone[i]->eval(prompts[i]).is_ok());

  const int64_t n = nv;
  auto compare = [&](const char* when) {
    for (int i = 0; i < 3; ++i) {
      ASSERT_EQ(batched[i]->tokens(), alone[i]->tokens()) << when << " session " << i;
      const float* a = batched[i]->logits();
      const float* b = alone[i]->logits();
      if (std::string(c.backend) == "ref") {
        EXPECT_EQ(std::memcmp(a, b, static_cast<size_t>(n) * sizeof(float)), 0)
            << when << " session " << i << ": the reference computes rows independently";
      } else {
        // Summation order only: float rounding of dot products of length <= 192, carried
        // through two layers (|logit| ~ 1-10): 1e-4 of the largest logit bounds it with room,
        // while a wrong row or position moves logits by O(1).
        const float tol = 1e-4f * max_abs(b, n);
        for (int64_t t = 0; t < n; ++t) {
          ASSERT_NEAR(a[t], b[t], tol) << when << " session " << i << " token " << t;
        }
      }
    }
  };
  compare("after the prefill step");
  // Decode: each session's greedy next token, all in one step; step 2 adds a prompt chunk to
  // session 1 while 0 and 2 decode.
  for (int stepi = 0; stepi < 4; ++stepi) {
    std::vector<std::vector<int32_t>> toks(3);
    items.clear();
    for (int i = 0; i < 3; ++i) {
      const float* l = alone[i]->logits();
      toks[i] = {static_cast<int32_t>(std::max_element(l, l + n) - l)};
      if (stepi == 2 && i == 1) toks[i] = ids(3, 7, nv);
      items.push_back({batched[i].get(), toks[i]});
    }
    ASSERT_TRUE(runner->step(items).is_ok());
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(alone[i]->eval(toks[i]).is_ok());
    compare(("after decode step " + std::to_string(stepi)).c_str());
  }
  // The caches hold the same bytes (ref) / the same positions.
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(batched[i]->kv().n_past(), alone[i]->kv().n_past());
    if (std::string(c.backend) == "ref") {
      const KvCache& ka = batched[i]->kv();
      const KvCache& kb = alone[i]->kv();
      for (int64_t il = 0; il < ka.shape().n_layer; ++il) {
        const size_t bytes = static_cast<size_t>(ka.n_past()) * ka.k_token_bytes();
        EXPECT_EQ(std::memcmp(ka.k_data(il), kb.k_data(il), bytes), 0) << "layer " << il;
      }
    }
  }
  // A batched session goes on alone.
  const std::vector<int32_t> more = ids(4, 9, nv);
  ASSERT_TRUE(batched[0]->eval(more).is_ok());
  ASSERT_TRUE(alone[0]->eval(more).is_ok());
  compare("after eval on its own");
}

INSTANTIATE_TEST_SUITE_P(Backends, Batch,
                         ::testing::Values(Case{"ref", false, TensorType::F16},
                                           Case{"ref", true, TensorType::Q8_0},
                                           Case{"cpu", false, TensorType::F16},
                                           Case{"cpu", false, TensorType::Q4_0},
                                           Case{"cpu", true, TensorType::F16}),
                         [](const auto& info) {
                           return std::string(info.param.backend) +
                                  (info.param.moe ? "_moe_" : "_dense_") + type_name(info.param.kv);
                         });

TEST(BatchErrors, ArgumentErrorsChangeNothing) {
  auto engine = load_test_engine(model(false), "ref");
  ASSERT_NE(engine, nullptr);
  const int32_t nv = static_cast<int32_t>(engine->hparams().n_vocab);
  EXPECT_FALSE(BatchRunner::create(*engine, 0, 1).is_ok());
  EXPECT_FALSE(BatchRunner::create(*engine, 8, 9).is_ok());
  auto runner = BatchRunner::create(*engine, 8, 2);
  ASSERT_TRUE(runner.is_ok());
  auto a = session(*engine, TensorType::F16), b = session(*engine, TensorType::F16);
  const std::vector<int32_t> p = ids(3, 1, nv), big = ids(6, 2, nv), bad = {nv};
  auto msg = [&](std::vector<BatchItem> items) {
    const Status s = runner->step(items);
    EXPECT_FALSE(s.is_ok());
    return s.message();
  };
  EXPECT_NE(msg({}).find("takes 1..2"), std::string::npos);
  EXPECT_NE(msg({{a.get(), p}, {a.get(), p}}).find("twice"), std::string::npos);
  EXPECT_NE(msg({{a.get(), p}, {b.get(), big}}).find("exceed"), std::string::npos);
  EXPECT_NE(msg({{a.get(), p}, {b.get(), bad}}).find("vocabulary"), std::string::npos);
  EXPECT_NE(msg({{a.get(), p}, {b.get(), {}}}).find("1..16"), std::string::npos);
  EXPECT_EQ(a->n_past(), 0);
  EXPECT_EQ(b->n_past(), 0);
  EXPECT_EQ(a->kv().n_past(), 0);
  // A session of another engine.
  auto other = load_test_engine(model(false), "ref");
  auto c = session(*other, TensorType::F16);
  EXPECT_NE(msg({{c.get(), p}}).find("engine"), std::string::npos);
}

}  // namespace
}  // namespace longctx
