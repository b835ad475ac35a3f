// Benchmark measurement on tiny synth models: test names and lists as llama-bench forms them,
// per-token costs against byte and FLOP counts worked out from the shape by hand, the synthetic
// depth fill (positions, token ids, a decode step after it), and timed runs' bookkeeping.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "runtime/bench.h"
#include "runtime/engine.h"
#include "runtime/engine_test_util.h"
#include "runtime/session.h"

namespace longctx {
namespace {

using testing_util::write_tiny_model;

const std::string& dense_path() {
  static const std::string p = write_tiny_model({}, "bench_dense.gguf");
  return p;
}
const std::string& moe_path() {
  static const std::string p = write_tiny_model({.shape = "qwen3moe-tiny"}, "bench_moe.gguf");
  return p;
}

std::unique_ptr<Engine> load(const std::string& path) {
  EngineOptions o;
  o.model_path = path;
  o.backend = "cpu";
  o.n_threads = 2;
  auto e = Engine::load(o);
  EXPECT_TRUE(e.is_ok()) << e.status().message();
  return e.is_ok() ? std::move(e.value()) : nullptr;
}

std::unique_ptr<Session> session(Engine& e, int64_t n_ctx, int64_t n_batch = 16) {
  SessionOptions so;
  so.n_ctx = n_ctx;
  so.n_batch = n_batch;
  auto s = e.new_session(so);
  EXPECT_TRUE(s.is_ok()) << s.status().message();
  return s.is_ok() ? std::move(s.value()) : nullptr;
}

TEST(Bench, TestNamesFollowLlamaBench) {
  EXPECT_EQ((BenchTest{.n_prompt = 512}).name(), "pp512");
  EXPECT_EQ((BenchTest{.n_gen = 128}).name(), "tg128");
  EXPECT_EQ((BenchTest{.n_prompt = 512, .n_depth = 4096}).name(), "pp512 @ d4096");
  EXPECT_EQ((BenchTest{.n_prompt = 16, .n_gen = 4}).name(), "pp16+tg4");
  EXPECT_EQ((BenchTest{.n_prompt = 512, .n_gen = 0, .n_depth = 4096}).positions(), 4608);
  EXPECT_EQ((BenchTest{.n_gen = 32, .n_depth = 512, .n_seq = 4}).name(), "tg32 x4 @ d512");
  EXPECT_EQ((BenchTest{.n_gen = 32, .n_depth = 512, .n_seq = 4}).positions(), 544);
}

TEST(Bench, EachDecodeTestOncePerSequenceCount) {
  auto t = make_bench_tests({64}, {16}, {0, 100}, {1, 4});
  ASSERT_TRUE(t.is_ok()) << t.status().message();
  std::vector<std::string> names;
  for (const BenchTest& b : *t) names.push_back(b.name());
  EXPECT_EQ(names, (std::vector<std::string>{"pp64", "pp64 @ d100", "tg16", "tg16 @ d100",
                                             "tg16 x4", "tg16 x4 @ d100"}));
  auto zero = make_bench_tests({0}, {16}, {0}, {0});
  ASSERT_FALSE(zero.is_ok());
  EXPECT_NE(zero.status().message().find("--parallel (sequences) must be in 1..256, got 0"),
            std::string::npos);
  EXPECT_FALSE(make_bench_tests({0}, {16}, {0}, {257}).is_ok());
}

TEST(Bench, TestListIsPromptsThenGenerationsAtEveryDepthSkippingZeros) {
  auto t = make_bench_tests({512, 0}, {128}, {0, 4096});
  ASSERT_TRUE(t.is_ok()) << t.status().message();
  std::vector<std::string> names;
  for (const BenchTest& b : *t) names.push_back(b.name());
  EXPECT_EQ(names, (std::vector<std::string>{"pp512", "pp512 @ d4096", "tg128", "tg128 @ d4096"}));

  auto none = make_bench_tests({0}, {0}, {0});
  ASSERT_FALSE(none.is_ok());
  EXPECT_NE(none.status().message().find("nothing to measure"), std::string::npos);
  auto neg = make_bench_tests({8}, {8}, {0, -5});
  ASSERT_FALSE(neg.is_ok());
  EXPECT_NE(neg.status().message().find("-d (depth) must be in 0..16777216, got -5"),
            std::string::npos);
  EXPECT_FALSE(make_bench_tests({-1}, {8}, {0}).is_ok());
  EXPECT_FALSE(make_bench_tests({8}, {int64_t{1} << 62}, {0}).is_ok());  // no overflow later
}

TEST(Bench, MeanAndSampleStddev) {
  double m, s;
  mean_stddev({1, 2, 3, 4}, &m, &s);
  EXPECT_DOUBLE_EQ(m, 2.5);
  EXPECT_NEAR(s, std::sqrt(5.0 / 3.0), 1e-12);  // sum of squares 5, n - 1 = 3
  mean_stddev({7}, &m, &s);
  EXPECT_DOUBLE_EQ(m, 7);
  EXPECT_DOUBLE_EQ(s, 0);
}

// Parameter counts of qwen3-tiny worked out from the catalog shape (2 layers, hidden 64, ffn 192,
// 4 heads / 2 kv heads x 128, tied embeddings), with the test vocabulary of 512.
TEST(Bench, DenseTokenCostsMatchTheShape) {
  auto e = load(dense_path());
  ASSERT_TRUE(e);
  const uint64_t E = 64, F = 192, H = 4, KV = 2, D = 128, V = 512, L = 2;
  const uint64_t matrices = L * (E * H * D + 2 * E * KV * D + H * D * E + 3 * E * F);
  const uint64_t norms = L * (2 * E + 2 * D) + E;
  const TokenCosts c = token_costs(e->model(), 0, TensorType::F16, TensorType::F16);
  // f32 weights, tied: the head reads the whole embedding table.
  EXPECT_EQ(c.weight_bytes, 4 * (matrices + norms + V * E));
  EXPECT_EQ(c.weight_bytes, e->model().weight_bytes());
  EXPECT_EQ(c.matmul_flops, 2 * matrices);
  EXPECT_EQ(c.head_flops, 2 * E * V);
  EXPECT_EQ(c.kv_bytes_per_position, L * KV * D * 2 * 2);  // K and V, f16
  EXPECT_EQ(c.attn_flops_per_position, 2 * L * H * (D + D));
  const TokenCosts f32 = token_costs(e->model(), 0, TensorType::F32, TensorType::BF16);
  EXPECT_EQ(f32.kv_bytes_per_position, L * KV * D * (4 + 2));
}

// qwen3moe-tiny: 8 experts of width 32, untied: one embedding row, the full head, k experts.
TEST(Bench, MoeTokenCostsCountOnlyTheChosenExperts) {
  auto e = load(moe_path());
  ASSERT_TRUE(e);
  const uint64_t E = 64, FE = 32, H = 4, KV = 2, D = 128, V = 512, L = 2, NE = 8;
  const uint64_t attn = L * (E * H * D + 2 * E * KV * D + H * D * E);
  const uint64_t router = L * E * NE;
  const uint64_t expert = 3 * E * FE;  // gate, up, down of one expert in one layer
  const uint64_t norms = L * (2 * E + 2 * D) + E;
  for (uint64_t k : {1, 2, 8}) {
    const TokenCosts c =
        token_costs(e->model(), static_cast<int64_t>(k), TensorType::F16, TensorType::F16);
    EXPECT_EQ(c.weight_bytes, 4 * (attn + router + L * k * expert + norms + E + V * E)) << k;
    EXPECT_EQ(c.matmul_flops, 2 * (attn + router + L * k * expert)) << k;
  }
  // 0 = the model's own expert count (2).
  EXPECT_EQ(token_costs(e->model(), 0, TensorType::F16, TensorType::F16).weight_bytes,
            token_costs(e->model(), 2, TensorType::F16, TensorType::F16).weight_bytes);
}

TEST(Bench, SyntheticFillSetsTheDepthAndDecodeFollows) {
  auto e = load(dense_path());
  ASSERT_TRUE(e);
  auto s = session(*e, 256);
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->fill_synthetic(100).is_ok());  // 100: not a multiple of the fill chunk
  EXPECT_EQ(s->n_past(), 100);
  EXPECT_EQ(s->kv().n_past(), 100);
  for (int32_t id : s->tokens()) ASSERT_EQ(id, 0);
  const int32_t next = 7;
  auto r = s->eval(std::span<const int32_t>(&next, 1));
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(s->n_past(), 101);
  EXPECT_EQ(s->kv().n_past(), 101);
  for (int64_t i = 0; i < e->hparams().n_vocab; ++i) ASSERT_TRUE(std::isfinite(s->logits()[i]));
  // Appends after what is there; past the context is an error that stores nothing.
  ASSERT_TRUE(s->fill_synthetic(50).is_ok());
  EXPECT_EQ(s->n_past(), 151);
  Status over = s->fill_synthetic(106);
  ASSERT_FALSE(over.is_ok());
  EXPECT_NE(over.message().find("151 of 256"), std::string::npos) << over.message();
  EXPECT_EQ(s->n_past(), 151);
  EXPECT_FALSE(s->fill_synthetic(-1).is_ok());
  ASSERT_TRUE(s->fill_synthetic(105).is_ok());  // exactly full
  EXPECT_EQ(s->n_past(), 256);
}

TEST(Bench, TimedRunsRecordEveryRepetitionAndTheCosts) {
  auto e = load(dense_path());
  ASSERT_TRUE(e);
  auto s = session(*e, 64);
  ASSERT_TRUE(s);
  const TokenCosts c = token_costs(e->model(), 0, TensorType::F16, TensorType::F16);
  for (DepthFill fill : {DepthFill::kSynthetic, DepthFill::kPrefill}) {
    BenchOptions o;
    o.repetitions = 3;
    o.depth_fill = fill;
    int calls = 0;
    auto tg = run_bench_test(*s, {.n_gen = 4, .n_depth = 20}, o, [&](int, int) { ++calls; });
    ASSERT_TRUE(tg.is_ok()) << tg.status().message();
    EXPECT_EQ(calls, 3);
    ASSERT_EQ(tg->samples_ns.size(), 3u);
    ASSERT_EQ(tg->samples_ts.size(), 3u);
    double sum = 0;
    for (size_t i = 0; i < 3; ++i) {
      EXPECT_GT(tg->samples_ns[i], 0u);
      // tokens/s of a sample is its token count over its time.
      EXPECT_NEAR(tg->samples_ts[i], 4e9 / static_cast<double>(tg->samples_ns[i]),
                  1e-9 * tg->samples_ts[i]);
      sum += tg->samples_ts[i];
    }
    EXPECT_NEAR(tg->avg_ts, sum / 3, 1e-9 * tg->avg_ts);
    // Decode steps attend over 21..24 positions: 22.5 on average.
    EXPECT_DOUBLE_EQ(tg->bytes_per_token, c.weight_bytes + c.kv_bytes_per_position * 22.5);
    EXPECT_NEAR(tg->gbps, tg->bytes_per_token * tg->avg_ts / 1e9, 1e-9 * tg->gbps);
    EXPECT_EQ(tg->flops_per_token, 0);
    EXPECT_EQ(s->n_past(), 0);  // the session is left empty

    auto pp = run_bench_test(*s, {.n_prompt = 24, .n_depth = 8}, o);
    ASSERT_TRUE(pp.is_ok()) << pp.status().message();
    // 24 tokens, head once, token i attends over 8 + i + 1 positions (sum 24*8 + 300).
    const double flops =
        (24.0 * c.matmul_flops + c.head_flops + c.attn_flops_per_position * (24.0 * 8 + 300)) / 24;
    EXPECT_DOUBLE_EQ(pp->flops_per_token, flops);
    EXPECT_GT(pp->gflops, 0);
    EXPECT_EQ(pp->gbps, 0);
  }
}

TEST(Bench, BatchedDecodeStepsEverySequenceTogether) {
  auto e = load(dense_path());
  ASSERT_TRUE(e);
  std::vector<std::unique_ptr<Session>> owned;
  std::vector<Session*> seqs;
  for (int i = 0; i < 3; ++i) {
    owned.push_back(session(*e, 48));
    ASSERT_TRUE(owned.back());
    seqs.push_back(owned.back().get());
  }
  auto runner = BatchRunner::create(*e, 3, 3);
  ASSERT_TRUE(runner.is_ok()) << runner.status().message();
  BenchOptions o;
  o.repetitions = 2;
  int calls = 0;
  const BenchTest t{.n_gen = 5, .n_depth = 20, .n_seq = 3};
  auto r = run_bench_batch(seqs, *runner, t, o, [&](int, int) { ++calls; });
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(calls, 2);
  ASSERT_EQ(r->samples_ns.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    // 3 sequences x 5 tokens over the sample's time.
    EXPECT_NEAR(r->samples_ts[i], 15e9 / static_cast<double>(r->samples_ns[i]),
                1e-9 * r->samples_ts[i]);
  }
  EXPECT_EQ(r->gbps, 0);
  for (Session* s : seqs) EXPECT_EQ(s->n_past(), 0);  // left empty

  // Wrong session count, a single sequence, too long for the context, too many for the runner.
  EXPECT_FALSE(run_bench_batch(std::span<Session* const>(seqs.data(), 2), *runner, t, o).is_ok());
  EXPECT_FALSE(run_bench_batch(std::span<Session* const>(seqs.data(), 1), *runner,
                               {.n_gen = 5, .n_seq = 1}, o)
                   .is_ok());
  auto deep = run_bench_batch(seqs, *runner, {.n_gen = 5, .n_depth = 44, .n_seq = 3}, o);
  ASSERT_FALSE(deep.is_ok());
  EXPECT_NE(deep.status().message().find("needs 49 positions per sequence"), std::string::npos);
  auto small = BatchRunner::create(*e, 2, 2);
  ASSERT_TRUE(small.is_ok());
  EXPECT_FALSE(run_bench_batch(seqs, *small, t, o).is_ok());
  // run_bench_test takes one sequence only.
  EXPECT_FALSE(run_bench_test(*seqs[0], t, o).is_ok());
}

TEST(Bench, RefusesTestsBeyondTheContext) {
  auto e = load(dense_path());
  ASSERT_TRUE(e);
  auto s = session(*e, 32);
  ASSERT_TRUE(s);
  auto r = run_bench_test(*s, {.n_prompt = 16, .n_depth = 20}, {});
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("needs 36 positions"), std::string::npos);
  EXPECT_NE(r.status().message().find("--ctx"), std::string::npos);
  EXPECT_FALSE(run_bench_test(*s, {.n_gen = 4}, {.repetitions = 0}).is_ok());
  EXPECT_FALSE(run_bench_test(*s, {}, {}).is_ok());
}

}  // namespace
}  // namespace longctx
