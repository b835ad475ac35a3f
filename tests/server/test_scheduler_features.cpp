// The scheduler's newer features without HTTP, on the tiny model with the real tokenizer:
// n > 1 choices (followers copy the leader's evaluated prompt and sample on their own),
// log-probabilities on the text events (checked against a log-softmax of logits computed here on
// a separate session), per-request expert counts (another count never reuses the cache), slot
// pinning, with_idle_slot, spilling idle sequences to disk and reading them back, and
// cancellation of a request's leader and followers.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <memory>
#include <thread>
#include <vector>

#include "server/scheduler.h"
#include "server/scheduler_test_util.h"
#include "server/server_fixture.h"

namespace longctx::server {
namespace {

namespace fs = std::filesystem;
using namespace sched_test;  // NOLINT: the helpers of these tests

TEST(SchedulerChoices, FollowersCopyTheLeadersPromptAndMatchASingleJob) {
  auto e = testing_util::load_test_engine(testing::tok_model());
  ASSERT_NE(e, nullptr);
  const std::vector<int32_t> p = prompt_of(20, 1000);
  auto s = make(*e, 3);
  ASSERT_NE(s, nullptr);
  auto jobs = request(p, 3, 8);
  ASSERT_TRUE(s->submit_all(jobs));
  const std::vector<Channel::Event> ev = wait_all(jobs);
  // Each choice's events carry its own index; the streamed text is its result's text.
  std::vector<std::string> text(3);
  std::vector<int> done(3, 0);
  for (const auto& x : ev) {
    ASSERT_GE(x.index, 0);
    ASSERT_LT(x.index, 3);
    if (x.kind == Channel::Event::kText) text[static_cast<size_t>(x.index)] += x.text;
    if (x.kind == Channel::Event::kDone) ++done[static_cast<size_t>(x.index)];
  }
  EXPECT_EQ(done, (std::vector<int>{1, 1, 1}));
  for (int i = 0; i < 3; ++i) {
    const GenerateResult& r = ok_result(*jobs[static_cast<size_t>(i)]);
    EXPECT_EQ(r.ids.size(), 8u) << "choice " << i;
    EXPECT_EQ(r.finish, FinishReason::kLength);
    EXPECT_EQ(r.n_prompt, 20);
    EXPECT_EQ(text[static_cast<size_t>(i)], r.text) << "choice " << i;
  }
  const GenerateResult& r0 = ok_result(*jobs[0]);
  EXPECT_EQ(r0.n_reused, 0);  // a fresh scheduler: the leader evaluates the prompt
  for (int i = 1; i < 3; ++i) {
    const GenerateResult& ri = ok_result(*jobs[static_cast<size_t>(i)]);
    EXPECT_EQ(ri.ids, r0.ids) << "choice " << i;
    EXPECT_EQ(ri.n_reused, ri.n_prompt) << "follower " << i << " did not copy the prompt";
  }
  // Three sequences, three different ones.
  EXPECT_NE(jobs[0]->slot(), jobs[1]->slot());
  EXPECT_NE(jobs[0]->slot(), jobs[2]->slot());
  EXPECT_NE(jobs[1]->slot(), jobs[2]->slot());
  // The prompt counts once in the totals.
  const SchedulerStats st = s->stats();
  EXPECT_EQ(st.prompt_tokens, 20);
  EXPECT_EQ(st.generated_tokens, 24);
  EXPECT_EQ(st.requests, 3);
  // The same as one job for the same prompt on a fresh scheduler.
  EXPECT_EQ(r0.ids, reference_ids(*e, p, 8));
}

// More choices than sequences: the followers wait for a free sequence (the leader's, once it is
// done) and still give the greedy reply.
TEST(SchedulerChoices, MoreChoicesThanSequences) {
  auto e = testing_util::load_test_engine(testing::tok_model());
  ASSERT_NE(e, nullptr);
  const std::vector<int32_t> p = prompt_of(12, 3000);
  const std::vector<int32_t> want = reference_ids(*e, p, 6);
  auto s = make(*e, 1);
  ASSERT_NE(s, nullptr);
  auto jobs = request(p, 3, 6);
  ASSERT_TRUE(s->submit_all(jobs));
  wait_all(jobs);
  for (const auto& j : jobs) {
    EXPECT_EQ(ok_result(*j).ids, want) << "choice " << j->index;
    EXPECT_EQ(j->slot(), 0);
  }
  EXPECT_TRUE(eventually([&] { return s->stats().busy == 0; }));
}

// At temperature 1 the choices sample on their own: with the same seed they are identical (they
// start from the same logits), with different seeds some differ.
TEST(SchedulerChoices, FollowersSampleIndependently) {
  auto e = testing_util::load_test_engine(testing::tok_model());
  ASSERT_NE(e, nullptr);
  auto s = make(*e, 3);
  ASSERT_NE(s, nullptr);
  auto sampled = [&](const std::vector<int32_t>& p, std::vector<uint64_t> seeds) {
    auto jobs = request(p, 3, 8);
    for (size_t i = 0; i < 3; ++i) {
      SamplingParams& sp = jobs[i]->options.sampling;
      sp.temperature = 1.0f;
      sp.top_k = 0;
      sp.top_p = 1.0f;
      sp.seed = seeds[i];
    }
    EXPECT_TRUE(s->submit_all(jobs));
    wait_all(jobs);
    std::vector<std::vector<int32_t>> ids;
    for (const auto& j : jobs) ids.push_back(ok_result(*j).ids);
    return ids;
  };
  {
    const auto ids = sampled(prompt_of(16, 500), {77, 77, 77});
    EXPECT_EQ(ids[1], ids[0]);
    EXPECT_EQ(ids[2], ids[0]);
  }
  bool differ = false;
  for (int t = 0; t < 4 && !differ; ++t) {
    const auto ids = sampled(prompt_of(16, 600 + 50 * t),
                             {uint64_t(10 + 3 * t), uint64_t(11 + 3 * t), uint64_t(12 + 3 * t)});
    differ = ids[0] != ids[1] || ids[0] != ids[2] || ids[1] != ids[2];
  }
  EXPECT_TRUE(differ) << "choices with different seeds always sampled the same tokens";
}

// Cancelling every job of a request while its leader prefills and a follower is still queued
// frees every sequence.
TEST(SchedulerChoices, CancellingARequestFreesEverySequence) {
  auto e = testing_util::load_test_engine(testing::tok_model());
  ASSERT_NE(e, nullptr);
  auto s = make(*e, 2, 1024);
  ASSERT_NE(s, nullptr);
  {
    // Cancelled at once (some may still be queued).
    auto jobs = request(prompt_of(300, 100), 3, 100000);
    ASSERT_TRUE(s->submit_all(jobs));
    for (auto& j : jobs) j->cancel = true;
    wait_all(jobs);
    for (const auto& j : jobs) {
      ASSERT_TRUE(j->result().is_ok()) << j->result().status().message();
      EXPECT_EQ(j->result()->finish, FinishReason::kCancelled) << "choice " << j->index;
    }
    EXPECT_TRUE(eventually([&] {
      const SchedulerStats st = s->stats();
      return st.busy == 0 && st.queued == 0;
    }));
  }
  {
    // Cancelled while the leader and one follower run and the third choice waits in the queue.
    auto jobs = request(prompt_of(40, 200), 3, 100000);
    ASSERT_TRUE(s->submit_all(jobs));
    std::vector<Channel::Event> ev;
    bool text = false;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!text && std::chrono::steady_clock::now() < deadline) {
      jobs[0]->channel->wait(&ev, 50);
      for (const auto& x : ev) text = text || x.kind == Channel::Event::kText;
    }
    ASSERT_TRUE(text);
    EXPECT_EQ(s->stats().busy, 2);
    EXPECT_EQ(s->stats().queued, 1);
    for (auto& j : jobs) j->cancel = true;
    wait_all(jobs);
    for (const auto& j : jobs) EXPECT_EQ(ok_result(*j).finish, FinishReason::kCancelled);
    EXPECT_TRUE(eventually([&] {
      const SchedulerStats st = s->stats();
      return st.busy == 0 && st.queued == 0;
    }));
  }
  // The sequences take new work.
  auto j = job(prompt_of(8, 900), 3);
  ASSERT_TRUE(s->submit(j));
  wait_one(j);
  EXPECT_EQ(ok_result(*j).ids.size(), 3u);
}

// A leader cancelled before its prompt is in: its followers evaluate the prompt themselves and
// still give the full greedy reply.
TEST(SchedulerChoices, FollowersOfACancelledLeaderStillAnswer) {
  auto e = testing_util::load_test_engine(testing::tok_model());
  ASSERT_NE(e, nullptr);
  const std::vector<int32_t> p = prompt_of(90, 4000);
  const std::vector<int32_t> want = reference_ids(*e, p, 5);
  auto s = make(*e, 3);
  ASSERT_NE(s, nullptr);
  auto jobs = request(p, 3, 5);
  jobs[0]->cancel = true;  // before submitting: it never evaluates anything
  ASSERT_TRUE(s->submit_all(jobs));
  wait_all(jobs);
  EXPECT_EQ(ok_result(*jobs[0]).finish, FinishReason::kCancelled);
  for (int i = 1; i < 3; ++i) {
    EXPECT_EQ(ok_result(*jobs[static_cast<size_t>(i)]).ids, want) << "choice " << i;
    EXPECT_EQ(ok_result(*jobs[static_cast<size_t>(i)]).finish, FinishReason::kLength);
  }
}

// Log-probabilities on the text events: one per sampled token, the sampled id first among the
// top k at temperature 0, sorted, and equal to a log-softmax of the logits computed here on a
// separate session of the same engine.
TEST(SchedulerLogprobs, TextEventsCarryTheSampledTokensLogSoftmax) {
  auto e = testing_util::load_test_engine(testing::tok_model());
  ASSERT_NE(e, nullptr);
  const std::vector<int32_t> p = prompt_of(10, 2500);
  std::vector<TokenProbs> probs;
  std::vector<int32_t> ids;
  {
    auto s = make(*e, 2);
    ASSERT_NE(s, nullptr);
    auto j = job(p, 6);
    j->options.n_probs = 3;
    ASSERT_TRUE(s->submit(j));
    for (const auto& x : wait_one(j)) {
      if (x.kind == Channel::Event::kText && x.has_probs) probs.push_back(x.probs);
    }
    ids = ok_result(*j).ids;
  }
  ASSERT_EQ(ids.size(), 6u);
  ASSERT_EQ(probs.size(), ids.size());  // one entry per sampled token, in order
  for (size_t i = 0; i < probs.size(); ++i) {
    const TokenProbs& t = probs[i];
    EXPECT_EQ(t.id, ids[i]) << i;
    EXPECT_LE(t.logprob, 0.0f) << i;
    ASSERT_EQ(t.top.size(), 3u) << i;
    for (size_t k = 1; k < t.top.size(); ++k) EXPECT_GE(t.top[k - 1].second, t.top[k].second);
    EXPECT_EQ(t.top[0].first, t.id) << "greedy: the sampled token is the most likely";
    EXPECT_EQ(t.top[0].second, t.logprob);
  }
  // Independently: logits of prompt + generated tokens on a fresh session, log-softmax in double.
  auto sess = e->new_session({.n_ctx = 128, .n_batch = 32});
  ASSERT_TRUE(sess.is_ok());
  Session& ss = **sess;
  ASSERT_TRUE(ss.eval(p).is_ok());
  const int64_t n_vocab = e->hparams().n_vocab;
  for (size_t i = 0; i < ids.size(); ++i) {
    const float* l = ss.logits();
    double mx = -INFINITY;
    for (int64_t v = 0; v < n_vocab; ++v) mx = std::max(mx, double(l[v]));
    double sum = 0;
    for (int64_t v = 0; v < n_vocab; ++v) sum += std::exp(double(l[v]) - mx);
    const double lse = mx + std::log(sum);
    std::vector<int32_t> order(static_cast<size_t>(n_vocab));
    for (int32_t v = 0; v < n_vocab; ++v) order[static_cast<size_t>(v)] = v;
    std::partial_sort(order.begin(), order.begin() + 3, order.end(),
                      [&](int32_t a, int32_t b) { return l[a] > l[b] || (l[a] == l[b] && a < b); });
    EXPECT_EQ(order[0], ids[i]) << "token " << i << " is not the argmax";
    EXPECT_NEAR(probs[i].logprob, double(l[ids[i]]) - lse, 1e-3) << "token " << i;
    for (size_t k = 0; k < 3; ++k) {
      EXPECT_EQ(probs[i].top[k].first, order[k]) << "token " << i << " rank " << k;
      EXPECT_NEAR(probs[i].top[k].second, double(l[order[k]]) - lse, 1e-3)
          << "token " << i << " rank " << k;
    }
    const int32_t one[1] = {ids[i]};
    ASSERT_TRUE(ss.eval(one).is_ok());
  }
}

// Every choice of an n > 1 request reports its own tokens' log-probabilities; at temperature 0
// they are the leader's.
TEST(SchedulerLogprobs, EveryChoiceCarriesItsOwnLogprobs) {
  auto e = testing_util::load_test_engine(testing::tok_model());
  ASSERT_NE(e, nullptr);
  auto s = make(*e, 2);
  ASSERT_NE(s, nullptr);
  auto jobs = request(prompt_of(14, 2600), 2, 5);
  for (auto& j : jobs) j->options.n_probs = 2;
  ASSERT_TRUE(s->submit_all(jobs));
  std::vector<std::vector<TokenProbs>> probs(2);
  for (const auto& x : wait_all(jobs)) {
    if (x.kind == Channel::Event::kText && x.has_probs) {
      probs[static_cast<size_t>(x.index)].push_back(x.probs);
    }
  }
  for (size_t i = 0; i < 2; ++i) {
    const std::vector<int32_t>& ids = ok_result(*jobs[i]).ids;
    ASSERT_EQ(probs[i].size(), ids.size()) << "choice " << i;
    for (size_t t = 0; t < ids.size(); ++t) EXPECT_EQ(probs[i][t].id, ids[t]);
  }
  for (size_t t = 0; t < probs[0].size() && t < probs[1].size(); ++t) {
    EXPECT_NEAR(probs[1][t].logprob, probs[0][t].logprob, 1e-4) << "token " << t;
    ASSERT_EQ(probs[1][t].top.size(), 2u);
    EXPECT_EQ(probs[1][t].top[0].first, probs[0][t].top[0].first);
  }
}

TEST(SchedulerLogprobs, NProbsZeroGivesTheTokenOnlyAndMinusOneNothing) {
  auto e = testing_util::load_test_engine(testing::tok_model());
  ASSERT_NE(e, nullptr);
  auto s = make(*e, 1);
  ASSERT_NE(s, nullptr);
  auto a = job(prompt_of(6, 700), 4);
  a->options.n_probs = 0;
  ASSERT_TRUE(s->submit(a));
  int with_probs = 0;
  for (const auto& x : wait_one(a)) {
    if (x.kind != Channel::Event::kText || !x.has_probs) continue;
    ++with_probs;
    EXPECT_TRUE(x.probs.top.empty());
    EXPECT_LE(x.probs.logprob, 0.0f);
  }
  EXPECT_EQ(with_probs, 4);
  auto b = job(prompt_of(6, 800), 4);  // n_probs -1 (the default)
  ASSERT_TRUE(s->submit(b));
  for (const auto& x : wait_one(b)) EXPECT_FALSE(x.has_probs);
}

// The MoE test shape with the real tokenizer.
const std::string& moe_model() {
  static const std::string p = testing_util::write_tiny_model(
      {.shape = "qwen3moe-tiny", .seed = 43, .n_vocab = 151936, .with_tokenizer = true},
      "sched_moe_tok.gguf");
  return p;
}

// Greedy reply of a plain session with `experts` experts per token (0: the model's default).
std::vector<int32_t> session_reply(Engine& e, const std::vector<int32_t>& p, int64_t max,
                                   int64_t experts) {
  auto s = e.new_session({.n_ctx = 128, .n_batch = 32, .n_expert_used = experts});
  EXPECT_TRUE(s.is_ok()) << s.status().message();
  if (!s) return {};
  GenerateOptions o;
  o.max_tokens = max;
  o.sampling.temperature = 0;
  o.ignore_eog = true;
  auto r = generate(**s, p, o, nullptr);
  EXPECT_TRUE(r.is_ok()) << r.status().message();
  return r.is_ok() ? r->ids : std::vector<int32_t>{};
}

TEST(SchedulerConfig, AnotherExpertCountDoesNotReuseTheCache) {
  auto e = testing_util::load_test_engine(moe_model());
  ASSERT_NE(e, nullptr);
  const int64_t k_default = e->hparams().n_expert_used;
  ASSERT_GE(e->hparams().n_expert, 2u);
  ASSERT_NE(k_default, 1);
  const std::vector<int32_t> p = prompt_of(12, 1500);
  auto s = make(*e, 1);
  ASSERT_NE(s, nullptr);
  auto run = [&](int64_t experts) {
    auto j = job(p, 4);
    j->config.experts = experts;
    EXPECT_TRUE(s->submit(j));
    wait_one(j);
    return ok_result(*j);
  };
  const GenerateResult a = run(1);
  EXPECT_EQ(a.n_reused, 0);
  EXPECT_EQ(a.ids.size(), 4u);
  EXPECT_EQ(a.ids, session_reply(*e, p, 4, 1)) << "the job did not run with one expert";
  int64_t seen = -1;
  ASSERT_TRUE(s->with_idle_slot(0, [&](Session& x) {
                 seen = x.expert_count();
                 return Status::ok();
               }).is_ok());
  EXPECT_EQ(seen, 1);
  const GenerateResult same = run(1);
  EXPECT_EQ(same.n_reused, same.n_prompt);  // same count: the cache is reused
  EXPECT_EQ(same.ids, a.ids);
  const GenerateResult b = run(k_default);
  EXPECT_EQ(b.n_reused, 0) << "a cache computed with 1 expert reused under " << k_default;
  EXPECT_EQ(b.ids, session_reply(*e, p, 4, 0));
  const GenerateResult d = run(0);  // 0: the server's default, the same as k_default
  EXPECT_EQ(d.n_reused, d.n_prompt);
  EXPECT_EQ(d.ids, b.ids);
  const GenerateResult again = run(1);
  EXPECT_EQ(again.n_reused, 0);
  EXPECT_EQ(again.ids, a.ids);
  // An expert count the model does not have fails that request only.
  auto bad = job(p, 2);
  bad->config.experts = e->hparams().n_expert + 1;
  ASSERT_TRUE(s->submit(bad));
  wait_one(bad);
  EXPECT_FALSE(bad->result().is_ok());
  const GenerateResult after = run(1);
  EXPECT_EQ(after.ids, a.ids);
}

// Two requests with different expert counts at once: the steps alternate between the counts and
// each reply is the one a plain session with that count gives.
TEST(SchedulerConfig, ConcurrentRequestsWithDifferentExpertCounts) {
  auto e = testing_util::load_test_engine(moe_model());
  ASSERT_NE(e, nullptr);
  const std::vector<int32_t> p = prompt_of(40, 2100), q = prompt_of(25, 3100);
  const std::vector<int32_t> want_p1 = session_reply(*e, p, 6, 1);
  const std::vector<int32_t> want_q0 = session_reply(*e, q, 6, 0);
  auto s = make(*e, 2);
  ASSERT_NE(s, nullptr);
  auto a = job(p, 6), b = job(q, 6);
  a->config.experts = 1;
  ASSERT_TRUE(s->submit(a));
  ASSERT_TRUE(s->submit(b));
  wait_one(a);
  wait_one(b);
  EXPECT_NE(a->slot(), b->slot());
  EXPECT_EQ(ok_result(*a).ids, want_p1);
  EXPECT_EQ(ok_result(*b).ids, want_q0);
}

TEST(SchedulerSlots, APinnedJobRunsOnItsSlotAndWaitsForIt) {
  auto e = testing_util::load_test_engine(testing::tok_model());
  ASSERT_NE(e, nullptr);
  auto s = make(*e, 3, 4096);
  ASSERT_NE(s, nullptr);
  for (int pin : {1, 2, 0, 1}) {
    auto j = job(prompt_of(5, 100 + pin), 2);
    j->slot_pin = pin;
    ASSERT_TRUE(s->submit(j));
    wait_one(j);
    EXPECT_EQ(j->slot(), pin);
    EXPECT_EQ(ok_result(*j).ids.size(), 2u);
  }
  // A pin past the sequences is refused.
  auto out = job({1, 2}, 1);
  out->slot_pin = 3;
  EXPECT_FALSE(s->submit(out));
  // A job pinned to a busy sequence waits for it, though others are free.
  auto longj = job(prompt_of(5, 50), -1);
  longj->slot_pin = 1;
  ASSERT_TRUE(s->submit(longj));
  ASSERT_TRUE(eventually([&]() -> bool { return s->stats().slot_busy[1]; }));
  auto pinned = job(prompt_of(5, 60), 2);
  pinned->slot_pin = 1;
  ASSERT_TRUE(s->submit(pinned));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_FALSE(pinned->finished());
  EXPECT_EQ(s->stats().queued, 1);
  longj->cancel = true;
  wait_one(longj);
  wait_one(pinned);
  EXPECT_EQ(pinned->slot(), 1);
  EXPECT_EQ(ok_result(*pinned).ids.size(), 2u);
}

TEST(SchedulerSlots, WithIdleSlot) {
  auto e = testing_util::load_test_engine(testing::tok_model());
  ASSERT_NE(e, nullptr);
  auto s = make(*e, 2, 4096);
  ASSERT_NE(s, nullptr);
  const std::vector<int32_t> p = prompt_of(10, 1234);
  auto a = job(p, 3);
  a->slot_pin = 0;
  ASSERT_TRUE(s->submit(a));
  wait_one(a);
  ASSERT_TRUE(eventually([&]() -> bool { return !s->stats().slot_busy[0]; }));
  EXPECT_GT(s->stats().slot_cells[0], 0);
  // Idle: fn runs on that sequence (erase).
  int64_t before = -1;
  Status st = s->with_idle_slot(0, [&](Session& x) {
    before = x.n_past();
    x.reset();
    return Status::ok();
  });
  EXPECT_TRUE(st.is_ok()) << st.message();
  EXPECT_GE(before, 10);
  EXPECT_EQ(s->stats().slot_cells[0], 0);
  int64_t after = -1;
  ASSERT_TRUE(s->with_idle_slot(0, [&](Session& x) {
                 after = x.n_past();
                 return Status::ok();
               }).is_ok());
  EXPECT_EQ(after, 0);
  // fn's own status comes back.
  st = s->with_idle_slot(1, [](Session&) { return not_found("nothing there"); });
  EXPECT_EQ(st.code(), ErrorCode::kNotFound);
  // The erased sequence reuses nothing.
  auto b = job(p, 3);
  b->slot_pin = 0;
  ASSERT_TRUE(s->submit(b));
  wait_one(b);
  EXPECT_EQ(ok_result(*b).n_reused, 0);
  EXPECT_EQ(ok_result(*b).ids, ok_result(*a).ids);
  // Busy: kUnsupported, fn not run.
  auto longj = job(prompt_of(5, 50), -1);
  longj->slot_pin = 1;
  ASSERT_TRUE(s->submit(longj));
  ASSERT_TRUE(eventually([&]() -> bool { return s->stats().slot_busy[1]; }));
  bool ran = false;
  st = s->with_idle_slot(1, [&](Session&) {
    ran = true;
    return Status::ok();
  });
  EXPECT_EQ(st.code(), ErrorCode::kUnsupported) << st.message();
  EXPECT_FALSE(ran);
  longj->cancel = true;
  wait_one(longj);
  // No such slot: kInvalidArgument, fn not run.
  for (int bad : {2, -1, 100}) {
    st = s->with_idle_slot(bad, [&](Session&) {
      ran = true;
      return Status::ok();
    });
    EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument) << bad;
  }
  EXPECT_FALSE(ran);
}

// One sequence: A, then an unrelated B (A goes to disk), then A again (read back).
void spill_round_trip(int prompt_len, int64_t max_files, int64_t* restored_out, int64_t* reused_out,
                      bool* same_out) {
  auto e = testing_util::load_test_engine(testing::tok_model());
  ASSERT_NE(e, nullptr);
  TempDir dir("spill" + std::to_string(prompt_len) + "-" + std::to_string(max_files));
  SchedulerOptions o;
  o.spill_dir = dir.path.string();
  o.spill_min_tokens = 16;
  o.spill_max_files = max_files;
  auto s = make(*e, 1, 512, o);
  ASSERT_NE(s, nullptr);
  const std::vector<int32_t> A = prompt_of(prompt_len, 1000), B = prompt_of(30, 9000);
  ASSERT_NE(A[0], B[0]);
  auto a = job(A, 8);
  ASSERT_TRUE(s->submit(a));
  wait_one(a);
  EXPECT_EQ(s->stats().spilled, 0);
  EXPECT_TRUE(dir.spill_files().empty());
  auto b = job(B, 8);
  ASSERT_TRUE(s->submit(b));
  wait_one(b);
  EXPECT_EQ(ok_result(*b).n_reused, 0);
  EXPECT_EQ(s->stats().spilled, 1);
  EXPECT_EQ(dir.spill_files().size(), 1u);
  auto a2 = job(A, 8);
  ASSERT_TRUE(s->submit(a2));
  wait_one(a2);
  *restored_out = s->stats().restored;
  *reused_out = ok_result(*a2).n_reused;
  *same_out = ok_result(*a2).ids == ok_result(*a).ids;
  EXPECT_EQ(ok_result(*a2).ids, ok_result(*a).ids);
  EXPECT_LE(static_cast<int64_t>(dir.spill_files().size()), std::max<int64_t>(max_files, 0));
}

TEST(SchedulerSpill, AnIdleSequenceGoesToDiskAndComesBack) {
  int64_t restored = -1, reused = -1;
  bool same = false;
  spill_round_trip(120, 16, &restored, &reused, &same);
  EXPECT_EQ(restored, 1);
  EXPECT_GE(reused, 120 - 1);
  EXPECT_TRUE(same);
}

// The brief's size: a ~40-token conversation is spilled (spill_min_tokens 16) and so should be
// read back when it continues.
TEST(SchedulerSpill, AShortSpilledStateComesBack) {
  int64_t restored = -1, reused = -1;
  bool same = false;
  spill_round_trip(40, 16, &restored, &reused, &same);
  EXPECT_EQ(restored, 1) << "a state spilled to disk (>= spill_min_tokens) was never read back";
  EXPECT_GE(reused, 40 - 1);
  EXPECT_TRUE(same);
}

// With room for one file only, spilling B's state must not lose A's file, which is being read
// back for the same request.
TEST(SchedulerSpill, ReadBackWithOneFileAllowed) {
  int64_t restored = -1, reused = -1;
  bool same = false;
  spill_round_trip(120, 1, &restored, &reused, &same);
  EXPECT_EQ(restored, 1);
  EXPECT_GE(reused, 120 - 1);
  EXPECT_TRUE(same);
}

// A spill file removed behind the scheduler's back is not read back: nothing is counted as
// restored, no file is created in its place, and the reply is still right.
TEST(SchedulerSpill, AMissingSpillFileIsNotRestored) {
  auto e = testing_util::load_test_engine(testing::tok_model());
  ASSERT_NE(e, nullptr);
  TempDir dir("spill-missing");
  SchedulerOptions o;
  o.spill_dir = dir.path.string();
  o.spill_min_tokens = 16;
  auto s = make(*e, 1, 512, o);
  ASSERT_NE(s, nullptr);
  const std::vector<int32_t> A = prompt_of(120, 1000), B = prompt_of(10, 9000);
  auto a = job(A, 4);
  ASSERT_TRUE(s->submit(a));
  wait_one(a);
  auto b = job(B, 4);
  ASSERT_TRUE(s->submit(b));
  wait_one(b);
  ASSERT_EQ(dir.spill_files().size(), 1u);
  fs::remove(dir.path / dir.spill_files()[0]);
  auto a2 = job(A, 4);
  ASSERT_TRUE(s->submit(a2));
  wait_one(a2);
  EXPECT_EQ(ok_result(*a2).ids, ok_result(*a).ids);
  EXPECT_EQ(ok_result(*a2).n_reused, 0);
  EXPECT_EQ(s->stats().restored, 0);
  EXPECT_TRUE(dir.spill_files().empty()) << "a file appeared: " << dir.spill_files()[0];
}

}  // namespace
}  // namespace longctx::server
