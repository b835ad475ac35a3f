// Length-adaptive YaRN on a model whose native context is 64 tokens (a tiny model's metadata
// rewritten): no scaling up to 64, then factor ceil(n / 64). A fresh prefill picks the factor
// for all its tokens and equals a static-YaRN session of that factor bit for bit; a step in
// mid-sequence turns the cached keys (its effect on logits stays small and is measured by eval);
// a session file resumes at the factor it was saved at.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "gguf/gguf_writer.h"
#include "runtime/engine.h"
#include "runtime/engine_test_util.h"
#include "runtime/session.h"
#include "runtime/session_file.h"

namespace longctx {
namespace {

using testing_util::rewrite_gguf;
using testing_util::unique_temp_path;
using testing_util::write_tiny_model;

const std::string& short_model() {
  static const std::string p = [] {
    const std::string base = write_tiny_model({.seed = 21}, "ar_base.gguf");
    const std::string dst = testing_util::remove_at_exit(unique_temp_path("ar_short.gguf"));
    rewrite_gguf(base, dst, {.edit_kv = [](GgufKV& kv) {
                   if (kv.key == "qwen3.context_length") kv.value = gguf_u32(64);
                 }});
    return dst;
  }();
  return p;
}

std::unique_ptr<Engine> load(bool static_yarn, double factor = 1.0) {
  EngineOptions o;
  o.model_path = short_model();
  o.n_threads = 2;
  if (static_yarn) {
    o.rope.type = RopeScalingType::kYarn;
    o.rope.factor = factor;
    o.rope.orig_ctx = 64;
  }
  auto e = Engine::load(o);
  EXPECT_TRUE(e.is_ok()) << e.status().message();
  return e.is_ok() ? std::move(e.value()) : nullptr;
}

std::vector<int32_t> ids(int n, int32_t nv) {
  std::vector<int32_t> v;
  for (int i = 0; i < n; ++i) v.push_back(static_cast<int32_t>((i * 97 + 5) % nv));
  return v;
}

std::unique_ptr<Session> session(Engine& e) {
  auto s = e.new_session({.n_ctx = 256, .n_batch = 32});
  EXPECT_TRUE(s.is_ok()) << s.status().message();
  return s.is_ok() ? std::move(s.value()) : nullptr;
}

TEST(AdaptiveRope, AFreshPrefillEqualsStaticYarnAtItsFactor) {
  auto adaptive = load(false);
  auto yarn3 = load(true, 3.0);
  ASSERT_TRUE(adaptive && yarn3);
  const int32_t nv = static_cast<int32_t>(adaptive->hparams().n_vocab);
  auto a = session(*adaptive);
  ASSERT_TRUE(a->adaptive_rope());
  auto b = session(*yarn3);
  ASSERT_FALSE(b->adaptive_rope());
  const std::vector<int32_t> p = ids(150, nv);  // ceil(150 / 64) = 3
  ASSERT_TRUE(a->eval(p).is_ok());
  ASSERT_TRUE(b->eval(p).is_ok());
  EXPECT_EQ(a->rope_params().scaling.factor, 3.0);
  EXPECT_EQ(a->rope_steps(), 1);
  EXPECT_EQ(0, std::memcmp(a->logits(), b->logits(), static_cast<size_t>(nv) * sizeof(float)));
  // Within the original context there is no scaling at all.
  a->reset();
  EXPECT_EQ(a->rope_params().scaling.type, ref::RopeScalingType::kNone);
  ASSERT_TRUE(a->eval(ids(60, nv)).is_ok());
  EXPECT_EQ(a->rope_params().scaling.type, ref::RopeScalingType::kNone);
}

TEST(AdaptiveRope, AStaticSettingGivenToASessionIsTheOneItRotatesWith) {
  // eval's --kl-base rope=yarn:F sets a session's RoPE after creation: its logits must be those
  // of an engine loaded with that static scaling (the table rebuilt, not only the parameters).
  auto plain = load(false);
  auto yarn3 = load(true, 3.0);
  ASSERT_TRUE(plain && yarn3);
  const int32_t nv = static_cast<int32_t>(plain->hparams().n_vocab);
  auto a = session(*plain);
  ref::RopeParams p = yarn3->rope_params();
  ASSERT_TRUE(a->init_rope(p, /*adaptive=*/false, 0).is_ok());
  auto b = session(*yarn3);
  const std::vector<int32_t> t = ids(40, nv);  // within the original context: YaRN still differs
  ASSERT_TRUE(a->eval(t).is_ok());
  ASSERT_TRUE(b->eval(t).is_ok());
  EXPECT_EQ(0, std::memcmp(a->logits(), b->logits(), static_cast<size_t>(nv) * sizeof(float)));
  auto c = session(*plain);  // and it is not the unscaled result
  ASSERT_TRUE(c->init_rope(plain->rope_params(), false, 0).is_ok());
  ASSERT_TRUE(c->eval(t).is_ok());
  EXPECT_NE(0, std::memcmp(a->logits(), c->logits(), static_cast<size_t>(nv) * sizeof(float)));
}

TEST(AdaptiveRope, StepsInMidSequenceTurnTheCacheAndResumeFromAFile) {
  auto e = load(false);
  ASSERT_TRUE(e);
  const int32_t nv = static_cast<int32_t>(e->hparams().n_vocab);
  auto s = session(*e);
  const std::vector<int32_t> p = ids(140, nv);
  // Token by token past 64 and 128: two steps, each re-rotating what is cached.
  ASSERT_TRUE(s->eval(std::vector<int32_t>(p.begin(), p.begin() + 60)).is_ok());
  for (size_t i = 60; i < p.size(); ++i) ASSERT_TRUE(s->eval(std::vector<int32_t>{p[i]}).is_ok());
  EXPECT_EQ(s->rope_steps(), 2);
  EXPECT_EQ(s->rope_params().scaling.factor, 3.0);
  // The stepped session stays close to a fresh prefill at factor 3 (random weights; the bound
  // is loose, eval measures the real figure).
  auto fresh = session(*e);
  ASSERT_TRUE(fresh->eval(p).is_ok());
  double max_diff = 0, range = 0;
  for (int32_t i = 0; i < nv; ++i) {
    max_diff = std::max(max_diff, double(std::fabs(s->logits()[i] - fresh->logits()[i])));
    range = std::max(range, double(std::fabs(fresh->logits()[i])));
  }
  EXPECT_GT(max_diff, 0.0);  // an approximation, not the same computation
  EXPECT_LT(max_diff, range);
  // Saved at factor 3, resumed at factor 3: the next token is bit-identical.
  const std::string path = unique_temp_path("ar_session.lcs");
  std::remove(path.c_str());
  {
    auto f = SessionFile::open(path, *s, nullptr);
    ASSERT_TRUE(f.is_ok());
    ASSERT_TRUE((*f)->save(*s, "").is_ok());
  }
  auto r = session(*e);
  auto g = SessionFile::open(path, *r, nullptr);
  ASSERT_TRUE(g.is_ok()) << g.status().message();
  EXPECT_EQ(r->rope_params().scaling.factor, 3.0);
  ASSERT_TRUE(s->eval(std::vector<int32_t>{7}).is_ok());
  ASSERT_TRUE(r->eval(std::vector<int32_t>{7}).is_ok());
  EXPECT_EQ(0, std::memcmp(s->logits(), r->logits(), static_cast<size_t>(nv) * sizeof(float)));
  std::remove(path.c_str());
}

}  // namespace
}  // namespace longctx
