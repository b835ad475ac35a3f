// The generation loop: greedy generation is deterministic, stop strings cut the text exactly
// before their first occurrence and are never streamed (even partially), end-of-generation and
// token limits finish with the right reason, a second call reuses the cached prompt prefix, and
// stop_holdback holds back exactly the possible stop-string prefixes.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <vector>

#include "core/file_io.h"
#include "runtime/engine.h"
#include "runtime/engine_test_util.h"
#include "runtime/generate.h"
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

GenerateOptions greedy(int64_t n) {
  GenerateOptions o;
  o.max_tokens = n;
  o.sampling.temperature = 0;
  o.ignore_eog = true;
  return o;
}

struct GenRun {
  GenerateResult res;
  std::vector<std::string> pieces;
};

GenRun gen(Session& s, const std::vector<int32_t>& prompt, const GenerateOptions& o) {
  GenRun r;
  auto res = generate(s, prompt, o, [&](std::string_view p) {
    r.pieces.emplace_back(p);
    return true;
  });
  EXPECT_TRUE(res.is_ok()) << res.status().message();
  if (res.is_ok()) r.res = std::move(res.value());
  return r;
}

std::vector<int32_t> prompt_ids(const Engine& e) {
  return e.tokenizer()->encode("the quick brown fox jumps over the lazy dog");
}

TEST(Generate, GreedyIsDeterministicAndStreamsExactlyTheText) {
  Fixture f = make();
  const auto ids = prompt_ids(*f.engine);
  GenRun a = gen(*f.session, ids, greedy(24));
  EXPECT_EQ(a.res.ids.size(), 24u);
  EXPECT_EQ(a.res.finish, FinishReason::kLength);
  std::string streamed;
  for (const auto& p : a.pieces) streamed += p;
  EXPECT_EQ(streamed, a.res.text);
  // What is streamed is the StreamDecoder's view of the ids: bytes of a character split across
  // tokens wait for the rest, ill-formed ones become U+FFFD (this random model emits some).
  StreamDecoder dec(*f.engine->tokenizer());
  std::string want;
  for (int32_t id : a.res.ids) want += dec.push(id);
  want += dec.flush();
  EXPECT_EQ(a.res.text, want);
  // The session holds prompt + every generated token.
  EXPECT_EQ(f.session->n_past(), static_cast<int64_t>(ids.size() + 24));
  Fixture g = make();
  GenRun b = gen(*g.session, ids, greedy(24));
  EXPECT_EQ(a.res.ids, b.res.ids);
}

TEST(Generate, SecondCallReusesTheCachedPrefix) {
  Fixture f = make();
  const auto ids = prompt_ids(*f.engine);
  GenRun a = gen(*f.session, ids, greedy(6));
  EXPECT_EQ(a.res.n_reused, 0);
  // Continue the conversation: old prompt + generated + new text.
  std::vector<int32_t> next = f.session->tokens();
  const auto more = f.engine->tokenizer()->encode(" and then");
  next.insert(next.end(), more.begin(), more.end());
  GenRun b = gen(*f.session, next, greedy(6));
  EXPECT_EQ(b.res.n_reused, static_cast<int64_t>(ids.size() + 6));
  // Same result as a fresh session given the whole sequence.
  Fixture g = make();
  GenRun c = gen(*g.session, next, greedy(6));
  EXPECT_EQ(c.res.n_reused, 0);
  EXPECT_EQ(b.res.ids, c.res.ids);
  // A prompt that diverges early keeps only the common prefix.
  std::vector<int32_t> other = ids;
  other[3] = other[3] == 1 ? 2 : 1;
  GenRun d = gen(*f.session, other, greedy(2));
  EXPECT_EQ(d.res.n_reused, 3);
}

TEST(Generate, StopStringCutsBeforeItsFirstOccurrenceAndIsNeverStreamed) {
  Fixture f = make();
  const auto ids = prompt_ids(*f.engine);
  const std::string full = gen(*f.session, ids, greedy(40)).res.text;
  ASSERT_GE(full.size(), 12u);
  // Stop strings taken from the reference text (the model's own greedy output), so they occur.
  for (size_t at : {size_t{3}, full.size() / 2, full.size() - 4}) {
    const std::string stop = full.substr(at, 3);
    const size_t first = full.find(stop);
    f.session->reset();
    GenerateOptions o = greedy(40);
    o.stop = {stop, "\x01never"};
    GenRun r = gen(*f.session, ids, o);
    EXPECT_EQ(r.res.finish, FinishReason::kStopString) << stop;
    EXPECT_EQ(r.res.text, full.substr(0, first)) << stop;
    std::string streamed;
    for (const auto& p : r.pieces) streamed += p;
    EXPECT_EQ(streamed, r.res.text);
  }
}

TEST(Generate, EndOfGenerationStopsAndStaysInTheCache) {
  Fixture f = make();
  const Tokenizer& tok = *f.engine->tokenizer();
  const auto ids = prompt_ids(*f.engine);
  // Whether this random model ever emits an end token is not controllable, so the rule is
  // checked on whatever its greedy path does: no end token before the last one, and an end
  // token finishes the reply and is kept in the cache (so the next turn's prefix matches).
  GenerateOptions o = greedy(64);
  o.ignore_eog = false;
  GenRun r = gen(*f.session, ids, o);
  for (size_t i = 0; i + 1 < r.res.ids.size(); ++i)
    EXPECT_FALSE(tok.is_end_of_generation(r.res.ids[i]));
  if (r.res.finish == FinishReason::kEndOfGeneration) {
    EXPECT_TRUE(tok.is_end_of_generation(r.res.ids.back()));
    EXPECT_EQ(f.session->tokens().back(), r.res.ids.back());
  } else {
    EXPECT_EQ(r.res.finish, FinishReason::kLength);
    EXPECT_EQ(r.res.ids.size(), 64u);
  }
}

TEST(Generate, FullContextAndCancellationFinishCleanly) {
  Fixture f = make(/*n_ctx=*/48);
  const auto ids = prompt_ids(*f.engine);
  ASSERT_LT(ids.size(), 48u);
  GenRun r = gen(*f.session, ids, greedy(-1));
  EXPECT_EQ(r.res.finish, FinishReason::kContextFull);
  EXPECT_EQ(f.session->n_past(), 48);
  EXPECT_EQ(r.res.ids.size(), 48 - ids.size() + 1);  // the last one sampled but not cached
  // A prompt longer than the context is an error, not a crash.
  std::vector<int32_t> longp(50, ids[0]);
  f.session->reset();
  EXPECT_FALSE(generate(*f.session, longp, greedy(4), nullptr).is_ok());

  std::atomic<bool> cancel{true};
  GenerateOptions o = greedy(8);
  o.cancel = &cancel;
  f.session->reset();
  auto c = generate(*f.session, ids, o, nullptr);
  ASSERT_TRUE(c.is_ok());
  EXPECT_EQ(c->finish, FinishReason::kCancelled);
  // The callback returning false also cancels.
  f.session->reset();
  int calls = 0;
  auto d = generate(*f.session, ids, greedy(8), [&](std::string_view) { return ++calls < 2; });
  ASSERT_TRUE(d.is_ok());
  EXPECT_EQ(d->finish, FinishReason::kCancelled);
}

// --on-full error fails with the counts; shift drops the oldest half after n_keep (the kept
// prefix stays), keeps generating to the token limit without a prefill, and a policy hook
// chooses the range when given.
TEST(Generate, FullContextErrorAndShiftPolicies) {
  Fixture f = make(/*n_ctx=*/48);
  const auto ids = prompt_ids(*f.engine);
  GenerateOptions err = greedy(-1);
  err.on_full = OnFull::kError;
  auto e = generate(*f.session, ids, err, nullptr);
  ASSERT_FALSE(e.is_ok());
  EXPECT_NE(e.status().message().find("48 of 48 positions"), std::string::npos)
      << e.status().message();

  f.session->reset();
  GenerateOptions sh = greedy(100);
  sh.on_full = OnFull::kShift;
  sh.n_keep = 4;
  std::vector<ShiftRange> seen;
  sh.on_shift = [&](const ShiftRange& r) { seen.push_back(r); };
  GenRun r = gen(*f.session, ids, sh);
  EXPECT_EQ(r.res.finish, FinishReason::kLength);
  EXPECT_EQ(r.res.ids.size(), 100u);
  ASSERT_GE(r.res.n_shifts, 2);
  ASSERT_EQ(seen.size(), static_cast<size_t>(r.res.n_shifts));
  EXPECT_EQ(seen[0].begin, 4);
  EXPECT_EQ(seen[0].end, 4 + (48 - 4) / 2);
  // The kept prefix is the prompt's first 4 tokens; the cache ends with the last replies.
  for (int i = 0; i < 4; ++i) EXPECT_EQ(f.session->tokens()[i], ids[i]);
  EXPECT_LE(f.session->n_past(), 48);
  int64_t dropped = 0;
  for (const ShiftRange& s : seen) dropped += s.end - s.begin;
  EXPECT_EQ(dropped, r.res.n_dropped);
  EXPECT_EQ(static_cast<int64_t>(ids.size()) + 100 - dropped, f.session->n_past());

  // A hook decides: drop 3 tokens after position 10 each time.
  f.session->reset();
  GenerateOptions hook = greedy(20);
  hook.on_full = OnFull::kShift;
  int calls = 0;
  hook.choose_drop = [&](const Session&) -> Result<ShiftRange> {
    ++calls;
    return ShiftRange{10, 13, 0};
  };
  GenRun h = gen(*f.session, ids, hook);
  EXPECT_EQ(h.res.ids.size(), 20u);
  EXPECT_GT(calls, 0);
  EXPECT_EQ(h.res.n_dropped, 3 * calls);
  // A hook choosing nothing is an error, not a loop.
  f.session->reset();
  hook.choose_drop = [](const Session&) -> Result<ShiftRange> { return ShiftRange{5, 5, 0}; };
  EXPECT_FALSE(generate(*f.session, ids, hook, nullptr).is_ok());
  // n_keep covering everything: nothing to drop, an error naming the kept tokens.
  f.session->reset();
  sh.n_keep = 1000;
  sh.on_shift = nullptr;
  auto k = generate(*f.session, ids, sh, nullptr);
  ASSERT_FALSE(k.is_ok());
  EXPECT_NE(k.status().message().find("kept tokens"), std::string::npos) << k.status().message();
}

TEST(StopHoldback, HoldsBackTheLongestSuffixThatStartsAStopString) {
  EXPECT_EQ(stop_holdback("hello wor", {"world"}), 3u);
  EXPECT_EQ(stop_holdback("hello w", {"world", "xyz"}), 1u);
  EXPECT_EQ(stop_holdback("hello", {"world"}), 0u);
  EXPECT_EQ(stop_holdback("abcab", {"abcabd"}), 5u);
  EXPECT_EQ(stop_holdback("xab", {"abd", "b"}), 2u);  // "b" is complete: not held, "ab" is
  EXPECT_EQ(stop_holdback("", {"a"}), 0u);
  EXPECT_EQ(stop_holdback("anything", {}), 0u);
}

TEST(Generate, BadOptionsAreErrors) {
  Fixture f = make();
  const auto ids = prompt_ids(*f.engine);
  GenerateOptions o = greedy(4);
  o.stop = {""};
  EXPECT_FALSE(generate(*f.session, ids, o, nullptr).is_ok());
  EXPECT_FALSE(generate(*f.session, {}, greedy(4), nullptr).is_ok());
  o = greedy(4);
  o.sampling.top_p = 0;
  EXPECT_FALSE(generate(*f.session, ids, o, nullptr).is_ok());
}

}  // namespace
}  // namespace longctx
