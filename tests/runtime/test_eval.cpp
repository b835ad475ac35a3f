// eval's measurements on a tiny model: perplexity over llama.cpp's windows (the second half of
// each chunk) and by position bin; a baseline equal to the test configuration gives KL 0 and
// full top-1 agreement; a quantized cache gives a positive KL that a baseline file written by
// one run and read by another reproduces (to its fp16 rounding); passkey runs end to end.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "runtime/engine.h"
#include "runtime/engine_test_util.h"
#include "runtime/eval.h"
#include "runtime/session.h"

namespace longctx {
namespace {

using testing_util::unique_temp_path;
using testing_util::write_tiny_model;

std::unique_ptr<Engine> load(const std::string& path, const char* backend = "cpu") {
  return testing_util::load_test_engine(path, backend);
}

std::unique_ptr<Session> session(Engine& e, TensorType t, int64_t ctx) {
  auto s = e.new_session({.n_ctx = ctx, .n_batch = 32, .type_k = t, .type_v = t});
  EXPECT_TRUE(s.is_ok()) << s.status().message();
  return s.is_ok() ? std::move(s.value()) : nullptr;
}

std::vector<int32_t> text_ids(int n, int32_t nv) {
  std::vector<int32_t> v;
  for (int i = 0; i < n; ++i) v.push_back(static_cast<int32_t>((i * 37 + (i / 7) * 11) % nv));
  return v;
}

TEST(Eval, PerplexityWindowsBinsAndKlAgainstABaseline) {
  auto e = load(write_tiny_model({.seed = 3}, "eval_tiny.gguf"));
  ASSERT_TRUE(e);
  const int32_t nv = static_cast<int32_t>(e->hparams().n_vocab);
  const std::vector<int32_t> ids = text_ids(3 * 64 + 10, nv);
  PerplexityOptions o;
  o.n_ctx = 64;
  o.n_bins = 4;
  o.lockstep = 16;
  auto t = session(*e, TensorType::F16, 64);
  auto r = perplexity(*t, {}, ids, o);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r->n_chunks, 3);              // the 10 tokens past 3 chunks are not used
  EXPECT_EQ(r->n_scored, 3 * (63 - 32));  // positions [32, 63) of each chunk
  EXPECT_GT(r->ppl, 1.0);
  ASSERT_EQ(r->bins.size(), 4u);
  int64_t binned = 0;
  for (const PositionBin& b : r->bins) binned += b.n;
  EXPECT_EQ(binned, 3 * 63);
  // The same configuration as its own baseline: nothing differs.
  auto base = session(*e, TensorType::F16, 64);
  auto same = perplexity(*t, {.session = base.get()}, ids, o);
  ASSERT_TRUE(same.is_ok()) << same.status().message();
  EXPECT_EQ(same->kl_max, 0.0);
  EXPECT_EQ(same->top1, 1.0);
  EXPECT_NEAR(same->ppl, r->ppl, 1e-9 * r->ppl);  // lockstep chunks give the same logits
  EXPECT_NEAR(same->base_ppl, same->ppl, 1e-9 * r->ppl);
  // q4_0 against f32, streamed in lockstep and written to a baseline file, then read back.
  auto q4 = session(*e, TensorType::Q4_0, 64);
  auto f32 = session(*e, TensorType::F32, 64);
  const std::string file = unique_temp_path("eval_base.bin");
  auto w = BaselineFile::create(file, nv);
  ASSERT_TRUE(w.is_ok());
  auto live = perplexity(*q4, {.session = f32.get(), .save = &*w}, ids, o);
  ASSERT_TRUE(live.is_ok()) << live.status().message();
  ASSERT_TRUE(w->finish().is_ok());
  EXPECT_GT(live->kl_mean, 0.0);
  EXPECT_GE(live->kl_p99, live->kl_mean * 0.5);
  EXPECT_GE(live->kl_max, live->kl_p99);
  auto rd = BaselineFile::open(file, nv);
  ASSERT_TRUE(rd.is_ok());
  EXPECT_EQ(rd->rows(), 3 * 63);
  auto replay = perplexity(*q4, {.read = &*rd}, ids, o);
  ASSERT_TRUE(replay.is_ok()) << replay.status().message();
  EXPECT_NEAR(replay->kl_mean, live->kl_mean, 0.05 * live->kl_mean + 1e-4);
  EXPECT_NEAR(replay->ppl, live->ppl, 1e-9 * live->ppl);
  // A file of another vocabulary, and too few rows, are refused.
  EXPECT_FALSE(BaselineFile::open(file, nv + 1).is_ok());
  auto rd2 = BaselineFile::open(file, nv);
  PerplexityOptions more = o;
  more.max_chunks = -1;
  const std::vector<int32_t> longer = text_ids(5 * 64, nv);
  EXPECT_FALSE(perplexity(*q4, {.read = &*rd2}, longer, more).is_ok());
  std::remove(file.c_str());
  // Too short a text, too small a context.
  EXPECT_FALSE(perplexity(*t, {}, text_ids(20, nv), o).is_ok());
  o.n_ctx = 128;
  EXPECT_FALSE(perplexity(*t, {}, ids, o).is_ok());
}

TEST(Eval, PasskeyRunsEndToEnd) {
  auto e = load(
      write_tiny_model({.seed = 4, .n_vocab = 151936, .with_tokenizer = true}, "eval_pk.gguf"));
  ASSERT_TRUE(e);
  auto s = session(*e, TensorType::F16, 700);
  PasskeyOptions po;
  po.depths = {200, 600};
  po.trials = 2;
  auto r = passkey(*s, po);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  ASSERT_EQ(r->size(), 2u);
  for (const PasskeyDepth& d : *r) {
    EXPECT_EQ(d.trials, 2);
    EXPECT_GE(d.found, 0);
    EXPECT_EQ(d.answers.size(), 2u);  // random weights: only the mechanics are testable
  }
  po.depths = {5000};
  EXPECT_FALSE(passkey(*s, po).is_ok());  // beyond the context: refused, not truncated
  po.depths = {10};
  EXPECT_FALSE(passkey(*s, po).is_ok());  // below the prompt itself
}

}  // namespace
}  // namespace longctx
