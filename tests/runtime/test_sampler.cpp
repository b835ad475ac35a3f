// Tests of the token sampler: parameter checks, greedy, each penalty against hand formulas, the
// filters' candidate sets (exact, and by sampling), seeding, and the transformers oracle
// (tests/runtime/data/sampler_oracle.json, made by tools/sampler_make_fixtures.py).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "core/file_io.h"
#include "runtime/sampler.h"

namespace longctx {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// Every filter off, T = 1: distribution() is then softmax of the penalised logits.
SamplingParams plain() {
  SamplingParams p;
  p.temperature = 1.0f;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  return p;
}

Sampler make(const SamplingParams& p, int32_t n_vocab) {
  auto s = Sampler::create(p, n_vocab);
  EXPECT_TRUE(s.is_ok()) << s.status().message();
  return std::move(s).value();
}

std::vector<double> softmax(const std::vector<double>& l) {
  double m = -INFINITY, sum = 0.0;
  for (double x : l) m = std::max(m, x);
  std::vector<double> p(l.size());
  for (size_t i = 0; i < l.size(); ++i) sum += p[i] = std::exp(l[i] - m);
  for (double& x : p) x /= sum;
  return p;
}

// distribution() as a dense vector indexed by id (0 for dropped tokens).
std::vector<double> dense(Sampler& s, const std::vector<float>& logits,
                          const std::vector<int32_t>& history) {
  std::vector<double> out(logits.size(), 0.0);
  for (auto [id, p] : s.distribution(logits.data(), history)) out[id] = p;
  return out;
}

// Softmax of float logits after penalties is compared to a double softmax of the hand-penalised
// values: both start from the same float inputs, so they agree to float rounding (~1e-7).
constexpr double kProbTol = 1e-6;

TEST(SamplingParams, Qwen3Defaults) {
  const SamplingParams t = SamplingParams::qwen3_defaults(true);
  EXPECT_FLOAT_EQ(t.temperature, 0.6f);
  EXPECT_FLOAT_EQ(t.top_p, 0.95f);
  EXPECT_EQ(t.top_k, 20);
  EXPECT_FLOAT_EQ(t.min_p, 0.0f);
  const SamplingParams n = SamplingParams::qwen3_defaults(false);
  EXPECT_FLOAT_EQ(n.temperature, 0.7f);
  EXPECT_FLOAT_EQ(n.top_p, 0.8f);
  EXPECT_EQ(n.top_k, 20);
  EXPECT_FLOAT_EQ(n.min_p, 0.0f);
  EXPECT_TRUE(t.validate().is_ok());
  EXPECT_TRUE(n.validate().is_ok());
}

TEST(SamplingParams, ValidateNamesTheField) {
  struct Bad {
    const char* field;
    void (*set)(SamplingParams&);
  };
  const Bad bad[] = {
      {"temperature", [](SamplingParams& p) { p.temperature = -0.1f; }},
      {"temperature", [](SamplingParams& p) { p.temperature = kNaN; }},
      {"temperature", [](SamplingParams& p) { p.temperature = kInf; }},
      {"top_k", [](SamplingParams& p) { p.top_k = -1; }},
      {"top_p", [](SamplingParams& p) { p.top_p = 0.0f; }},
      {"top_p", [](SamplingParams& p) { p.top_p = 1.01f; }},
      {"top_p", [](SamplingParams& p) { p.top_p = kNaN; }},
      {"min_p", [](SamplingParams& p) { p.min_p = -0.01f; }},
      {"min_p", [](SamplingParams& p) { p.min_p = 1.5f; }},
      {"repetition_penalty", [](SamplingParams& p) { p.repetition_penalty = 0.0f; }},
      {"repetition_penalty", [](SamplingParams& p) { p.repetition_penalty = kNaN; }},
      {"presence_penalty", [](SamplingParams& p) { p.presence_penalty = kInf; }},
      {"frequency_penalty", [](SamplingParams& p) { p.frequency_penalty = kNaN; }},
      {"penalty_last_n", [](SamplingParams& p) { p.penalty_last_n = -2; }},
  };
  for (const Bad& b : bad) {
    SamplingParams p;
    b.set(p);
    Status st = p.validate();
    EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument) << b.field;
    EXPECT_NE(st.message().find(b.field), std::string::npos) << st.message();
    auto s = Sampler::create(p, 10);
    ASSERT_FALSE(s.is_ok());
    EXPECT_NE(s.status().message().find(b.field), std::string::npos);
  }
  // The edges of each range are valid.
  SamplingParams edge;
  edge.temperature = 0.0f;
  edge.top_k = 0;
  edge.top_p = 1.0f;
  edge.min_p = 1.0f;
  edge.penalty_last_n = -1;
  edge.presence_penalty = -2.0f;
  EXPECT_TRUE(edge.validate().is_ok());
  auto none = Sampler::create(edge, 0);
  ASSERT_FALSE(none.is_ok());
  EXPECT_NE(none.status().message().find("n_vocab"), std::string::npos);
}

TEST(Sampler, GreedyIsArgmaxWithLowestIdOnTies) {
  SamplingParams p;
  p.temperature = 0.0f;
  Sampler s = make(p, 6);
  const std::vector<float> a = {0.5f, 3.0f, -1.0f, 3.0f, 2.9f, 1.0f};
  EXPECT_EQ(s.sample(a.data(), {}), 1);  // ids 1 and 3 tie at 3.0
  const std::vector<float> nan_first = {kNaN, -5.0f, kNaN, -4.0f, -4.5f, kNaN};
  EXPECT_EQ(s.sample(nan_first.data(), {}), 3);
  // Nothing above -inf: argmax over -inf ties picks id 0; all NaN also gives id 0.
  const std::vector<float> all_inf(6, -kInf), all_nan(6, kNaN);
  EXPECT_EQ(s.sample(all_inf.data(), {}), 0);
  EXPECT_EQ(s.sample(all_nan.data(), {}), 0);
  const std::vector<float> nan_and_inf = {kNaN, -kInf, kNaN, -kInf, -kInf, kNaN};
  EXPECT_EQ(s.sample(nan_and_inf.data(), {}), 1);
  // The same rules hold when sampling would have a softmax over nothing finite.
  Sampler warm = make(plain(), 6);
  EXPECT_EQ(warm.sample(all_inf.data(), {}), 0);
  EXPECT_EQ(warm.sample(nan_and_inf.data(), {}), 1);
  // +inf has no softmax: it wins as in greedy.
  const std::vector<float> plus_inf = {1.0f, kInf, 2.0f, kInf, 0.0f, 0.0f};
  EXPECT_EQ(warm.sample(plus_inf.data(), {}), 1);
}

TEST(Sampler, NaNIsNeverSampled) {
  Sampler s = make(plain(), 4);
  const std::vector<float> l = {kNaN, 0.0f, kNaN, 0.0f};
  std::set<int32_t> seen;
  for (int i = 0; i < 200; ++i) seen.insert(s.sample(l.data(), {}));
  EXPECT_EQ(seen, (std::set<int32_t>{1, 3}));
  auto d = s.distribution(l.data(), {});
  ASSERT_EQ(d.size(), 2u);
  EXPECT_NEAR(d[0].second, 0.5, kProbTol);
}

TEST(Sampler, RepetitionPenaltyDividesPositiveAndMultipliesNegative) {
  SamplingParams p = plain();
  p.repetition_penalty = 2.0f;
  Sampler s = make(p, 6);
  const std::vector<float> l = {2.0f, -2.0f, 0.5f, -0.5f, 0.0f, 3.0f};
  // Seen: 0 (twice), 1, 4 (logit 0 stays 0); 99 and -1 are outside the vocabulary.
  const std::vector<int32_t> history = {0, 1, 99, 0, 4, -1};
  const std::vector<double> expected = softmax({1.0, -4.0, 0.5, -0.5, 0.0, 3.0});
  const std::vector<double> got = dense(s, l, history);
  for (int i = 0; i < 6; ++i) EXPECT_NEAR(got[i], expected[i], kProbTol) << "id " << i;
  // A penalty below 1 rewards seen tokens: r = 0.5 doubles a positive logit, halves a negative.
  p.repetition_penalty = 0.5f;
  Sampler r = make(p, 6);
  const std::vector<double> boosted = softmax({4.0, -1.0, 0.5, -0.5, 0.0, 3.0});
  const std::vector<double> got_r = dense(r, l, history);
  for (int i = 0; i < 6; ++i) EXPECT_NEAR(got_r[i], boosted[i], kProbTol) << "id " << i;
}

TEST(Sampler, PresenceAndFrequencyPenalties) {
  SamplingParams p = plain();
  p.presence_penalty = 0.5f;
  p.frequency_penalty = 0.25f;
  p.repetition_penalty = 1.5f;
  Sampler s = make(p, 5);
  const std::vector<float> l = {1.0f, 2.0f, 0.0f, -1.0f, 0.5f};
  const std::vector<int32_t> history = {3, 1, 3, 3};
  // id 1: 2 / 1.5 - 0.5 - 0.25 * 1; id 3: -1 * 1.5 - 0.5 - 0.25 * 3; others unchanged.
  const std::vector<double> expected = softmax({1.0, 2.0 / 1.5 - 0.75, 0.0, -1.5 - 1.25, 0.5});
  const std::vector<double> got = dense(s, l, history);
  for (int i = 0; i < 5; ++i) EXPECT_NEAR(got[i], expected[i], kProbTol) << "id " << i;
}

TEST(Sampler, PenaltyWindowIsTheLastNEntries) {
  SamplingParams p = plain();
  p.presence_penalty = 1.0f;
  const std::vector<float> l(4, 0.0f);
  const std::vector<int32_t> history = {0, 1, 1, 7, 2};  // 7 is outside the vocabulary
  // last 3 = {1, 7, 2}: ids 1 and 2 penalised by exactly 1, 0 untouched.
  p.penalty_last_n = 3;
  Sampler s3 = make(p, 4);
  std::vector<double> e = softmax({0.0, -1.0, -1.0, 0.0});
  std::vector<double> got = dense(s3, l, history);
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(got[i], e[i], kProbTol) << "last 3, id " << i;
  p.penalty_last_n = -1;
  Sampler all = make(p, 4);
  e = softmax({-1.0, -1.0, -1.0, 0.0});
  got = dense(all, l, history);
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(got[i], e[i], kProbTol) << "all, id " << i;
  p.penalty_last_n = 0;
  Sampler none = make(p, 4);
  got = dense(none, l, history);
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(got[i], 0.25, kProbTol) << "none, id " << i;
  // Counts never leak between calls: the same call twice gives the same distribution.
  EXPECT_EQ(dense(all, l, history), dense(all, l, history));
}

TEST(Sampler, GreedyUsesPenalisedLogits) {
  SamplingParams p;
  p.temperature = 0.0f;
  p.repetition_penalty = 2.0f;
  Sampler s = make(p, 3);
  const std::vector<float> l = {3.0f, 2.0f, 1.0f};
  EXPECT_EQ(s.sample(l.data(), {}), 0);
  EXPECT_EQ(s.sample(l.data(), std::vector<int32_t>{0}), 1);  // 3 / 2 < 2
}

TEST(Sampler, TopKOneIsGreedyAtAnyTemperature) {
  std::vector<float> l(1000);
  for (int i = 0; i < 1000; ++i) l[i] = std::sin(0.37f * static_cast<float>(i));
  int32_t best = 0;
  for (int i = 1; i < 1000; ++i) {
    if (l[i] > l[best]) best = i;
  }
  for (float t : {0.05f, 1.0f, 7.0f, 1000.0f}) {
    SamplingParams p = plain();
    p.temperature = t;
    p.top_k = 1;
    for (uint64_t seed = 0; seed < 50; ++seed) {
      p.seed = seed;
      Sampler s = make(p, 1000);
      EXPECT_EQ(s.sample(l.data(), {}), best) << "T " << t << " seed " << seed;
    }
  }
}

TEST(Sampler, TinyTemperatureTendsToGreedy) {
  // l / T would overflow float (20 / 1e-38 = 2e39); the sampler must still pick the argmax, and
  // the runner-up's probability exp(-5 / 1e-38) underflows to exactly 0.
  SamplingParams p = plain();
  p.temperature = 1e-38f;
  Sampler s = make(p, 3);
  const std::vector<float> l = {10.0f, 20.0f, 15.0f};
  for (uint64_t seed = 0; seed < 100; ++seed) {
    s.reseed(seed);
    EXPECT_EQ(s.sample(l.data(), {}), 1);
  }
  auto d = s.distribution(l.data(), {});
  ASSERT_FALSE(d.empty());
  EXPECT_EQ(d[0].first, 1);
  EXPECT_EQ(d[0].second, 1.0f);
}

TEST(Sampler, TopKTiesKeepTheLowerIds) {
  // Four tokens tie at 2.0; top-k 3 keeps the lowest ids among them (transformers would keep
  // every tied token; the oracle generator avoids ties at the cut, see the script).
  SamplingParams p = plain();
  p.top_k = 3;
  Sampler s = make(p, 6);
  const std::vector<float> l = {1.0f, 2.0f, 0.0f, 2.0f, 2.0f, 2.0f};
  auto d = s.distribution(l.data(), {});
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[0].first, 1);
  EXPECT_EQ(d[1].first, 3);
  EXPECT_EQ(d[2].first, 4);
  for (auto [id, q] : d) EXPECT_NEAR(q, 1.0 / 3.0, kProbTol) << "id " << id;
}

// Logits log(p) for a hand-built distribution, so the filters act on known probabilities.
std::vector<float> log_probs(const std::vector<double>& p) {
  std::vector<float> l;
  for (double x : p) l.push_back(static_cast<float>(std::log(x)));
  return l;
}

// Draws n tokens (reseeding every 100 draws, so many seeds take part) and checks that only
// `kept` appear, each with frequency matching kept[id] within 5 binomial standard deviations:
// sigma = sqrt(n p (1 - p)); a correct sampler fails one such check with probability < 1e-6.
void expect_draws_match(Sampler& s, const std::vector<float>& l,
                        const std::map<int32_t, double>& kept, int n) {
  std::map<int32_t, int> counts;
  for (int i = 0; i < n; ++i) {
    if (i % 100 == 0) s.reseed(1000003u * static_cast<uint64_t>(i) + 17u);
    ++counts[s.sample(l.data(), {})];
  }
  for (auto [id, c] : counts) EXPECT_TRUE(kept.count(id)) << "drew filtered-out id " << id;
  for (auto [id, p] : kept) {
    const double sigma = std::sqrt(n * p * (1.0 - p));
    EXPECT_NEAR(counts[id], n * p, 5.0 * sigma) << "id " << id;
  }
}

TEST(Sampler, TopPKeepsTheSmallestPrefixReachingP) {
  const std::vector<double> probs = {0.1, 0.4, 0.05, 0.3, 0.15};
  const std::vector<float> l = log_probs(probs);
  SamplingParams p = plain();
  p.top_p = 0.8f;  // sorted 0.4, 0.3, 0.15 reach 0.85 >= 0.8; 0.4 + 0.3 = 0.7 does not
  Sampler s = make(p, 5);
  const std::map<int32_t, double> kept = {{1, 0.4 / 0.85}, {3, 0.3 / 0.85}, {4, 0.15 / 0.85}};
  auto d = s.distribution(l.data(), {});
  ASSERT_EQ(d.size(), 3u);
  for (auto [id, q] : d) EXPECT_NEAR(q, kept.at(id), kProbTol) << "id " << id;
  EXPECT_EQ(d[0].first, 1);  // most likely first
  expect_draws_match(s, l, kept, 20000);
  // A tiny top_p still keeps the most likely token.
  p.top_p = 1e-6f;
  Sampler tiny = make(p, 5);
  expect_draws_match(tiny, l, {{1, 1.0}}, 500);
}

TEST(Sampler, MinPDropsTokensBelowAFractionOfTheMax) {
  const std::vector<double> probs = {0.06, 0.5, 0.04, 0.25, 0.15};
  const std::vector<float> l = log_probs(probs);
  SamplingParams p = plain();
  p.min_p = 0.1f;  // threshold 0.05: 0.06 stays, 0.04 goes
  Sampler s = make(p, 5);
  const double z = 0.96;
  const std::map<int32_t, double> kept = {
      {0, 0.06 / z}, {1, 0.5 / z}, {3, 0.25 / z}, {4, 0.15 / z}};
  auto d = s.distribution(l.data(), {});
  ASSERT_EQ(d.size(), 4u);
  for (auto [id, q] : d) EXPECT_NEAR(q, kept.at(id), kProbTol) << "id " << id;
  expect_draws_match(s, l, kept, 20000);
}

TEST(Sampler, FiltersComposeInOrder) {
  // top-k 4 drops 0.04, top-p 0.9 over the renormalised {0.5,0.25,0.15,0.06}/0.96 keeps three
  // (0.521 + 0.260 = 0.781 < 0.9 <= 0.938), min-p 0.4 then drops 0.15/0.5 = 0.3 < 0.4.
  const std::vector<float> l = log_probs({0.06, 0.5, 0.04, 0.25, 0.15});
  SamplingParams p = plain();
  p.top_k = 4;
  p.top_p = 0.9f;
  p.min_p = 0.4f;
  Sampler s = make(p, 5);
  const std::map<int32_t, double> kept = {{1, 0.5 / 0.75}, {3, 0.25 / 0.75}};
  auto d = s.distribution(l.data(), {});
  ASSERT_EQ(d.size(), 2u);
  for (auto [id, q] : d) EXPECT_NEAR(q, kept.at(id), kProbTol) << "id " << id;
  expect_draws_match(s, l, kept, 10000);
}

TEST(Sampler, SeedsAreDeterministic) {
  std::vector<float> l(200);
  for (int i = 0; i < 200; ++i) l[i] = 0.01f * static_cast<float>(i % 17);
  auto run = [&](uint64_t seed) {
    SamplingParams p = plain();
    p.seed = seed;
    Sampler s = make(p, 200);
    std::vector<int32_t> out;
    for (int i = 0; i < 64; ++i) out.push_back(s.sample(l.data(), {}));
    return out;
  };
  EXPECT_EQ(run(42), run(42));
  EXPECT_NE(run(42), run(43));
  EXPECT_NE(run(0), run(1));
  SamplingParams p = plain();
  p.seed = 42;
  Sampler s = make(p, 200);
  for (int i = 0; i < 10; ++i) s.sample(l.data(), {});
  s.reseed(42);
  std::vector<int32_t> again;
  for (int i = 0; i < 64; ++i) again.push_back(s.sample(l.data(), {}));
  EXPECT_EQ(again, run(42));
}

TEST(Sampler, QwenSizedVocabularyTopK) {
  // 151,936 logits, default Qwen settings: the pick is always among the 20 largest.
  const int32_t n = 151936;
  std::vector<float> l(n);
  for (int32_t i = 0; i < n; ++i) l[i] = std::sin(0.001f * static_cast<float>(i) * i);
  std::vector<float> sorted = l;
  std::nth_element(sorted.begin(), sorted.begin() + 19, sorted.end(), std::greater<>());
  const float twentieth = sorted[19];
  Sampler s = make(SamplingParams::qwen3_defaults(false), n);
  for (int i = 0; i < 100; ++i) EXPECT_GE(l[s.sample(l.data(), {})], twentieth);
  EXPECT_LE(s.distribution(l.data(), {}).size(), 20u);
}

TEST(Sampler, MatchesTransformersOracle) {
  auto text = read_file(std::string(LONGCTX_TEST_DATA_DIR) + "/sampler_oracle.json");
  ASSERT_TRUE(text.is_ok()) << text.status().message();
  const nlohmann::json doc = nlohmann::json::parse(*text);
  ASSERT_GE(doc["cases"].size(), 20u);
  int index = 0;
  for (const auto& c : doc["cases"]) {
    SCOPED_TRACE("case " + std::to_string(index++));
    const int32_t n_vocab = c["n_vocab"];
    std::vector<float> logits;
    for (const auto& x : c["logits"]) logits.push_back(x.is_null() ? -kInf : x.get<float>());
    ASSERT_EQ(logits.size(), static_cast<size_t>(n_vocab));
    const std::vector<int32_t> history = c["history"].get<std::vector<int32_t>>();
    const auto& j = c["params"];
    SamplingParams p;
    p.temperature = j["temperature"];
    p.top_k = j["top_k"];
    p.top_p = j["top_p"];
    p.min_p = j["min_p"];
    p.repetition_penalty = j["repetition_penalty"];
    p.presence_penalty = j["presence_penalty"];
    p.frequency_penalty = j["frequency_penalty"];
    p.penalty_last_n = j["penalty_last_n"];
    Sampler s = make(p, n_vocab);
    std::map<int32_t, double> expected;
    for (const auto& e : c["expected"]) expected[e[0].get<int32_t>()] = e[1].get<double>();
    std::map<int32_t, double> got;
    for (auto [id, q] : s.distribution(logits.data(), history)) got[id] = q;
    ASSERT_EQ(got.size(), expected.size());
    for (auto [id, q] : expected) {
      ASSERT_TRUE(got.count(id)) << "missing id " << id;
      // Both sides compute float32 logits identically; softmax rounding differs (float32 sums
      // in torch, double here) by ~1e-7, far inside 1e-5.
      EXPECT_NEAR(got[id], q, 1e-5) << "id " << id;
    }
    for (int i = 0; i < 20; ++i) EXPECT_TRUE(expected.count(s.sample(logits.data(), history)));
  }
}

}  // namespace
}  // namespace longctx
