// Constrained decoding in the generation loop, against its definition: a TokenConstraint that
// allows a fixed set of ids makes generate() emit only those ids (greedy: the most likely allowed
// id of the raw logits, checked on a separate session), and is told every sampled id and the
// tokens left; one that allows nothing fails the generation with an error rather than emitting a
// masked token; log-probabilities come from the unmasked logits (log-softmax of the raw logits at
// the sampled id, top-k of the raw logits). token_probs itself against a hand-written
// log-softmax and std::partial_sort over random vectors with ties and -inf entries.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/file_io.h"
#include "runtime/engine.h"
#include "runtime/engine_test_util.h"
#include "runtime/generate.h"
#include "runtime/generation.h"
#include "runtime/session.h"

namespace longctx {
namespace {

std::string model_path() { return testing_util::oracle_tiny_model(); }

struct Fixture {
  std::unique_ptr<Engine> engine;
  std::unique_ptr<Session> session;
};

Fixture make(int64_t n_ctx = 128) {
  EngineOptions eo;
  eo.model_path = model_path();
  auto e = Engine::load(eo);
  LONGCTX_CHECK(e.is_ok());
  auto s = (*e)->new_session({.n_ctx = n_ctx, .n_batch = 8});
  LONGCTX_CHECK(s.is_ok());
  return {std::move(e.value()), std::move(s.value())};
}

std::vector<int32_t> prompt_ids(const Engine& e) {
  return e.tokenizer()->encode("the quick brown fox jumps over the lazy dog");
}

GenerateOptions greedy(int64_t n) {
  GenerateOptions o;
  o.max_tokens = n;
  o.sampling.temperature = 0;
  o.ignore_eog = true;
  return o;
}

// Allows only `allowed`; records what the generation told it.
class AllowOnly : public TokenConstraint {
 public:
  AllowOnly(std::set<int32_t> allowed, int64_t n_vocab)
      : allowed_(std::move(allowed)), n_vocab_(n_vocab) {}
  void mask(float* logits, int64_t tokens_left) override {
    left.push_back(tokens_left);
    for (int64_t v = 0; v < n_vocab_; ++v) {
      if (!allowed_.count(static_cast<int32_t>(v))) logits[v] = -INFINITY;
    }
  }
  void accept(int32_t id) override { accepted.push_back(id); }
  std::vector<int64_t> left;
  std::vector<int32_t> accepted;

 private:
  std::set<int32_t> allowed_;
  int64_t n_vocab_;
};

// Forbids exactly the most likely token of whatever logits it is given.
class ForbidArgmax : public TokenConstraint {
 public:
  explicit ForbidArgmax(int64_t n_vocab) : n_vocab_(n_vocab) {}
  void mask(float* logits, int64_t) override {
    forbidden.push_back(static_cast<int32_t>(std::max_element(logits, logits + n_vocab_) - logits));
    logits[forbidden.back()] = -INFINITY;
  }
  void accept(int32_t) override {}
  std::vector<int32_t> forbidden;

 private:
  int64_t n_vocab_;
};

int32_t argmax_over(const float* l, const std::set<int32_t>& ids) {
  int32_t best = -1;
  for (int32_t v : ids) {
    if (best < 0 || l[v] > l[best]) best = v;  // std::set is ascending: ties keep the lower id
  }
  return best;
}

TEST(GenerationConstraint, OnlyAllowedTokensAreGenerated) {
  Fixture f = make();
  const int64_t n_vocab = f.engine->hparams().n_vocab;
  const auto prompt = prompt_ids(*f.engine);
  // The unconstrained greedy reply, so the allowed set can leave its tokens out.
  auto free_run = generate(*f.session, prompt, greedy(12), nullptr);
  ASSERT_TRUE(free_run.is_ok()) << free_run.status().message();
  std::set<int32_t> allowed;
  for (int32_t v = 40; v < 300 && allowed.size() < 6; v += 37) {
    if (std::find(free_run->ids.begin(), free_run->ids.end(), v) == free_run->ids.end()) {
      allowed.insert(v);
    }
  }
  ASSERT_EQ(allowed.size(), 6u);
  auto c = std::make_shared<AllowOnly>(allowed, n_vocab);
  GenerateOptions o = greedy(12);
  o.constraint = c;
  f.session->reset();
  auto r = generate(*f.session, prompt, o, nullptr);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  ASSERT_EQ(r->ids.size(), 12u);
  for (int32_t id : r->ids) EXPECT_TRUE(allowed.count(id)) << "id " << id << " not allowed";
  EXPECT_EQ(c->accepted, r->ids);  // told every sampled token, in order
  std::vector<int64_t> left;
  for (int64_t k = 12; k >= 1; --k) left.push_back(k);
  EXPECT_EQ(c->left, left);
  // Greedy under the mask is the most likely allowed token of the raw logits at every step.
  auto g = f.engine->new_session({.n_ctx = 128, .n_batch = 8});
  ASSERT_TRUE(g.is_ok());
  ASSERT_TRUE((*g)->eval(prompt).is_ok());
  for (size_t i = 0; i < r->ids.size(); ++i) {
    EXPECT_EQ(r->ids[i], argmax_over((*g)->logits(), allowed)) << "step " << i;
    const int32_t one[1] = {r->ids[i]};
    ASSERT_TRUE((*g)->eval(one).is_ok());
  }
  // Sampling at temperature 1 stays inside the set too.
  for (uint64_t seed : {1u, 2u, 3u}) {
    GenerateOptions t = greedy(16);
    t.sampling.temperature = 1.0f;
    t.sampling.top_k = 0;
    t.sampling.top_p = 1.0f;
    t.sampling.seed = seed;
    t.constraint = std::make_shared<AllowOnly>(allowed, n_vocab);
    f.session->reset();
    auto s = generate(*f.session, prompt, t, nullptr);
    ASSERT_TRUE(s.is_ok()) << s.status().message();
    ASSERT_EQ(s->ids.size(), 16u);
    for (int32_t id : s->ids) EXPECT_TRUE(allowed.count(id)) << "seed " << seed << " id " << id;
  }
}

TEST(GenerationConstraint, AConstraintThatAllowsNothingFailsCleanly) {
  for (float temperature : {0.0f, 1.0f}) {
    Fixture f = make();
    const int64_t n_vocab = f.engine->hparams().n_vocab;
    const auto prompt = prompt_ids(*f.engine);
    GenerateOptions o = greedy(8);
    o.sampling.temperature = temperature;
    o.constraint = std::make_shared<AllowOnly>(std::set<int32_t>{}, n_vocab);
    std::string streamed;
    auto r = generate(*f.session, prompt, o, [&](std::string_view t) {
      streamed += t;
      return true;
    });
    ASSERT_FALSE(r.is_ok()) << "temperature " << temperature << ": generated " << r->ids.size()
                            << " masked tokens";
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument) << r.status().message();
    EXPECT_NE(r.status().message().find("constraint"), std::string::npos) << r.status().message();
    EXPECT_TRUE(streamed.empty());
    // The session is still usable.
    f.session->reset();
    auto again = generate(*f.session, prompt, greedy(3), nullptr);
    ASSERT_TRUE(again.is_ok()) << again.status().message();
    EXPECT_EQ(again->ids.size(), 3u);
  }
}

// A constraint that runs dry mid-reply ends it with the error at that point.
class AllowFirstThenNothing : public TokenConstraint {
 public:
  AllowFirstThenNothing(int64_t n_vocab, int k) : n_vocab_(n_vocab), k_(k) {}
  void mask(float* logits, int64_t) override {
    if (accepted_ < k_) return;
    for (int64_t v = 0; v < n_vocab_; ++v) logits[v] = -INFINITY;
  }
  void accept(int32_t) override { ++accepted_; }

 private:
  int64_t n_vocab_;
  int k_;
  int accepted_ = 0;
};

TEST(GenerationConstraint, AConstraintThatRunsDryEndsWithAnError) {
  Fixture f = make();
  const auto prompt = prompt_ids(*f.engine);
  GenerateOptions o = greedy(10);
  o.constraint = std::make_shared<AllowFirstThenNothing>(f.engine->hparams().n_vocab, 3);
  auto r = generate(*f.session, prompt, o, nullptr);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument) << r.status().message();
  // The tokens sampled before are in the cache: prompt + 3 (each one evaluated after sampling).
  EXPECT_EQ(f.session->n_past(), static_cast<int64_t>(prompt.size()) + 3);
}

// Log-softmax in double of raw logits at `id`.
double log_softmax(const std::vector<float>& l, int32_t id) {
  double mx = -INFINITY;
  for (float x : l) mx = std::max(mx, double(x));
  double sum = 0;
  for (float x : l) sum += std::exp(double(x) - mx);
  return double(l[static_cast<size_t>(id)]) - mx - std::log(sum);
}

// Drives a Generation by hand so the raw logits before every step are visible.
template <class C>
void expect_probs_from_raw_logits(std::shared_ptr<C> c, int32_t k, bool expect_top_differs) {
  Fixture f = make();
  const int64_t n_vocab = f.engine->hparams().n_vocab;
  const auto prompt = prompt_ids(*f.engine);
  GenerateOptions o = greedy(8);
  o.n_probs = k;
  o.constraint = c;
  auto g = Generation::start(*f.session, prompt, o);
  ASSERT_TRUE(g.is_ok()) << g.status().message();
  ASSERT_TRUE(f.session->eval(g->prompt_left()).is_ok());
  g->prompt_advanced(static_cast<int64_t>(g->prompt_left().size()));
  int steps = 0, top_differs = 0;
  for (;;) {
    const std::vector<float> raw(f.session->logits(), f.session->logits() + n_vocab);
    auto next = g->step(nullptr);
    ASSERT_TRUE(next.is_ok()) << next.status().message();
    if (*next == Generation::Next::kDone) break;
    const TokenProbs* p = g->sampled_probs();
    ASSERT_NE(p, nullptr);
    ASSERT_EQ(p->id, g->token());
    EXPECT_NEAR(p->logprob, log_softmax(raw, p->id), 1e-5) << "step " << steps;
    // The top k of the raw logits (masked tokens included), most likely first.
    std::vector<int32_t> order(static_cast<size_t>(n_vocab));
    for (int32_t v = 0; v < n_vocab; ++v) order[static_cast<size_t>(v)] = v;
    std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int32_t a, int32_t b) {
      return raw[a] > raw[b] || (raw[a] == raw[b] && a < b);
    });
    ASSERT_EQ(p->top.size(), static_cast<size_t>(k));
    for (int32_t i = 0; i < k; ++i) {
      EXPECT_EQ(p->top[i].first, order[i]) << "step " << steps << " rank " << i;
      EXPECT_NEAR(p->top[i].second, log_softmax(raw, order[i]), 1e-5);
    }
    top_differs += p->top[0].first != p->id;
    ++steps;
    const int32_t one[1] = {g->token()};
    ASSERT_TRUE(f.session->eval(one).is_ok());
  }
  EXPECT_EQ(steps, 8);
  if (expect_top_differs) {
    EXPECT_EQ(top_differs, steps);
  }
}

TEST(GenerationConstraint, LogprobsComeFromTheUnmaskedLogits) {
  int64_t n_vocab = 0;
  {
    Fixture f = make();
    n_vocab = f.engine->hparams().n_vocab;
  }
  // The sampled token is never the raw argmax: the reported top-1 is the forbidden token.
  expect_probs_from_raw_logits(std::make_shared<ForbidArgmax>(n_vocab), 4, true);
  std::set<int32_t> allowed;
  for (int32_t v = 50; v < 290; v += 11) allowed.insert(v);
  expect_probs_from_raw_logits(std::make_shared<AllowOnly>(allowed, n_vocab), 5, false);
}

// token_probs against its definition on random logits: log-softmax at the id, the k largest
// logits (ties: lower id first) with their log-softmax, non-finite logits as -inf.
TEST(TokenProbs, MatchesLogSoftmaxAndPartialSort) {
  std::mt19937 rng(99);
  for (int trial = 0; trial < 40; ++trial) {
    const int32_t n = 1 + static_cast<int32_t>(rng() % 300);
    std::normal_distribution<float> dist(0.0f, 3.0f);
    std::vector<float> l(static_cast<size_t>(n));
    for (float& x : l) x = std::round(dist(rng) * 4.0f) / 4.0f;  // coarse: many ties
    if (trial % 3 == 1 && n > 2) {
      for (int i = 0; i < n / 3; ++i) l[rng() % n] = -INFINITY;
      l[0] = 1.0f;  // at least one finite
    }
    const int32_t k = static_cast<int32_t>(rng() % 8);
    // The reference: finite logits only.
    double mx = -INFINITY;
    for (float x : l) {
      if (std::isfinite(x)) mx = std::max(mx, double(x));
    }
    double sum = 0;
    for (float x : l) {
      if (std::isfinite(x)) sum += std::exp(double(x) - mx);
    }
    const double lse = mx + std::log(sum);
    std::vector<int32_t> order;
    for (int32_t v = 0; v < n; ++v) {
      if (std::isfinite(l[v])) order.push_back(v);
    }
    const size_t kk = std::min<size_t>(static_cast<size_t>(k), order.size());
    std::partial_sort(order.begin(), order.begin() + static_cast<ptrdiff_t>(kk), order.end(),
                      [&](int32_t a, int32_t b) { return l[a] > l[b] || (l[a] == l[b] && a < b); });
    for (int32_t id : {int32_t(0), n - 1, static_cast<int32_t>(rng() % n)}) {
      TokenProbs p;
      p.top.assign(3, {7, 7.0f});  // stale content must go
      token_probs(l.data(), n, id, k, &p);
      EXPECT_EQ(p.id, id);
      if (std::isfinite(l[id])) {
        EXPECT_NEAR(p.logprob, double(l[id]) - lse, 1e-5) << "trial " << trial;
      } else {
        EXPECT_EQ(p.logprob, -INFINITY);
      }
      ASSERT_EQ(p.top.size(), kk) << "trial " << trial << " k " << k;
      for (size_t i = 0; i < kk; ++i) {
        EXPECT_EQ(p.top[i].first, order[i]) << "trial " << trial << " rank " << i;
        EXPECT_NEAR(p.top[i].second, double(l[order[i]]) - lse, 1e-5);
      }
    }
  }
  // Probabilities sum to one.
  std::vector<float> l = {0.5f, -1.0f, 2.0f, 2.0f, -INFINITY};
  double total = 0;
  for (int32_t id = 0; id < 5; ++id) {
    TokenProbs p;
    token_probs(l.data(), 5, id, 0, &p);
    total += std::exp(double(p.logprob));
    EXPECT_TRUE(p.top.empty());
  }
  EXPECT_NEAR(total, 1.0, 1e-6);
  TokenProbs p;
  token_probs(l.data(), 5, 1, 10, &p);  // k beyond the finite tokens: the 4 finite ones
  ASSERT_EQ(p.top.size(), 4u);
  EXPECT_EQ(p.top[0].first, 2);  // tie: the lower id first
  EXPECT_EQ(p.top[1].first, 3);
  EXPECT_EQ(p.top[2].first, 0);
  EXPECT_EQ(p.top[3].first, 1);
}

// logit_bias against its definition: greedy sampling picks argmax(logits + bias). Banning the
// greedy token (-infinity) makes the second best come; a bias of +100 on a chosen token makes
// it come whatever the logits say (they are far from 100 apart here).
TEST(GenerationLogitBias, BanAndForceFollowTheBiasedArgmax) {
  Fixture f = make();
  const std::vector<int32_t> prompt = prompt_ids(*f.engine);
  ASSERT_TRUE(f.session->eval(prompt).is_ok());
  const int64_t nv = f.engine->hparams().n_vocab;
  std::vector<float> raw(f.session->logits(), f.session->logits() + nv);
  const int32_t best = static_cast<int32_t>(std::max_element(raw.begin(), raw.end()) - raw.begin());
  raw[static_cast<size_t>(best)] = -INFINITY;
  const int32_t second =
      static_cast<int32_t>(std::max_element(raw.begin(), raw.end()) - raw.begin());
  auto first_token = [&](std::vector<std::pair<int32_t, float>> bias) {
    Fixture g = make();
    GenerateOptions o;
    o.max_tokens = 1;
    o.sampling.temperature = 0.0f;
    o.ignore_eog = true;
    o.logit_bias = std::move(bias);
    auto r = generate(*g.session, prompt, o, nullptr);
    EXPECT_TRUE(r.is_ok()) << r.status().message();
    return r.is_ok() && !r->ids.empty() ? r->ids[0] : -1;
  };
  EXPECT_EQ(first_token({}), best);
  EXPECT_EQ(first_token({{best, -INFINITY}}), second);
  const int32_t pick = (best + 7) % static_cast<int32_t>(nv);
  EXPECT_EQ(first_token({{pick, 100.0f}}), pick);
}

}  // namespace
}  // namespace longctx
