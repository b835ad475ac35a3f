// Generation: one reply as a state machine (see generation.h).
#include "runtime/generation.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace longctx {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

Generation::Generation(Session& session, const GenerateOptions& options, Sampler sampler,
                       const Tokenizer& tok)
    : session_(&session),
      options_(&options),
      sampler_(std::move(sampler)),
      tok_(&tok),
      decoder_(tok),
      t0_(std::chrono::steady_clock::now()) {}

Result<Generation> Generation::start(Session& session, std::span<const int32_t> prompt,
                                     const GenerateOptions& options) {
  const Tokenizer* tok = session.engine().tokenizer();
  if (!tok) return invalid_argument("generation needs a tokenizer (none in the model file)");
  if (prompt.empty()) return invalid_argument("the prompt is empty");
  for (const std::string& s : options.stop) {
    if (s.empty()) return invalid_argument("stop strings must not be empty");
  }
  if (static_cast<int64_t>(prompt.size()) > session.n_ctx()) {
    return invalid_argument("the prompt has " + std::to_string(prompt.size()) +
                            " tokens but the context only " + std::to_string(session.n_ctx()) +
                            " (raise --ctx)");
  }
  auto sampler = Sampler::create(options.sampling, session.engine().hparams().n_vocab);
  if (!sampler) return sampler.status();
  Generation g(session, options, std::move(sampler.value()), *tok);
  // At most one id per free context position (+1: the last sampled is not cached).
  const int64_t room = session.n_ctx() + 1;
  g.res_.ids.reserve(
      static_cast<size_t>(options.max_tokens >= 0 ? std::min(options.max_tokens, room) : room));
  g.res_.n_prompt = static_cast<int64_t>(prompt.size());
  if (options.n_probs > 0) g.probs_.top.reserve(static_cast<size_t>(options.n_probs));
  if (options.constraint || !options.logit_bias.empty()) {
    g.masked_.resize(static_cast<size_t>(session.engine().hparams().n_vocab));
  }

  // Reuse the cached prefix. The whole prompt is reused when the cache holds it and the logits
  // after it: the last evaluated ones, or the snapshot kept at the end of an earlier prompt (a
  // reply may follow it in the cache). Otherwise at least the last prompt token is evaluated
  // for its logits.
  const std::vector<int32_t>& cached = session.tokens();
  const int64_t n_prompt = static_cast<int64_t>(prompt.size());
  size_t common = 0;
  while (common < cached.size() && common < prompt.size() && cached[common] == prompt[common]) {
    ++common;
  }
  const bool whole = static_cast<int64_t>(common) == n_prompt &&
                     (session.n_past() == n_prompt || session.rewind_to_snapshot(n_prompt));
  if (whole) {
    g.res_.n_reused = n_prompt;
  } else {
    common = std::min(common, prompt.size() - 1);
    session.truncate(static_cast<int64_t>(common));
    g.res_.n_reused = static_cast<int64_t>(common);
    g.prompt_.assign(prompt.begin() + static_cast<ptrdiff_t>(common), prompt.end());
  }
  return g;
}

std::span<const int32_t> Generation::prompt_left() const {
  return std::span<const int32_t>(prompt_).subspan(prompt_at_);
}

void Generation::prompt_advanced(int64_t n) {
  LONGCTX_CHECK(n >= 0 && prompt_at_ + static_cast<size_t>(n) <= prompt_.size());
  prompt_at_ += static_cast<size_t>(n);
}

void Generation::prompt_cancelled() {
  res_.prompt_seconds = seconds_since(t0_);
  res_.finish = FinishReason::kCancelled;
  done_ = true;
}

Generation::Next Generation::finish(FinishReason why,
                                    const std::function<bool(std::string_view)>& on_text) {
  res_.finish = why;
  // Flush what was held back (no stop string completed it).
  pending_ += decoder_.flush();
  if (why != FinishReason::kStopString && why != FinishReason::kCancelled && !pending_.empty()) {
    res_.text.append(pending_);
    if (on_text) on_text(pending_);
  }
  pending_.clear();
  res_.gen_seconds = seconds_since(t_gen_);
  done_ = true;
  return Next::kDone;
}

void Generation::sampled_distribution(const float* logits, std::span<const int32_t> history,
                                      int32_t id, int32_t k) {
  // The survivors of every filter, most likely first, probabilities summing to 1. The sampled
  // token is always among them; log(p) keeps the entry's field a log-probability, and the
  // server reports exp of it.
  const std::vector<std::pair<int32_t, float>> d = sampler_.distribution(logits, history);
  probs_.id = id;
  probs_.logprob = -std::numeric_limits<float>::infinity();
  probs_.top.clear();
  for (size_t i = 0; i < d.size(); ++i) {
    if (d[i].second <= 0.0f) break;
    const float lp = std::log(d[i].second);
    if (d[i].first == id) probs_.logprob = lp;
    if (static_cast<int32_t>(i) < k) probs_.top.emplace_back(d[i].first, lp);
  }
}

Result<Generation::Next> Generation::step(const std::function<bool(std::string_view)>& on_text) {
  sampled_now_ = false;
  if (done_) return Next::kDone;
  LONGCTX_CHECK(prompt_left().empty());
  Session& session = *session_;
  const GenerateOptions& o = *options_;
  if (!started_) {  // the prompt is in: the logits after it are kept for reuse
    started_ = true;
    session.snapshot_logits();
    res_.prompt_seconds = seconds_since(t0_);
    t_gen_ = std::chrono::steady_clock::now();
  }
  // The end-of-turn token was evaluated into the cache (so the next chat turn's prefix
  // matches): the reply is over.
  if (closing_) return finish(FinishReason::kEndOfGeneration, on_text);
  if (o.max_tokens >= 0 && sampled_ >= o.max_tokens) return finish(FinishReason::kLength, on_text);
  if (o.cancel && o.cancel->load(std::memory_order_relaxed)) {
    return finish(FinishReason::kCancelled, on_text);
  }
  const float* logits = session.logits();
  if (!masked_.empty()) {
    std::copy(logits, logits + masked_.size(), masked_.begin());
    for (const auto& [tok, bias] : o.logit_bias) {
      if (tok >= 0 && static_cast<size_t>(tok) < masked_.size()) masked_[tok] += bias;
    }
    if (o.constraint) {
      o.constraint->mask(masked_.data(), o.max_tokens >= 0 ? o.max_tokens - sampled_ : -1);
    }
    logits = masked_.data();
  }
  const int32_t id = sampler_.sample(logits, session.tokens());
  if (!std::isfinite(logits[id])) {
    done_ = true;
    if (!masked_.empty() && std::isfinite(session.logits()[id])) {
      return invalid_argument("the output constraint and logit_bias allow no token at position " +
                              std::to_string(session.n_past()));
    }
    return invalid_format("the model produced non-finite logits at position " +
                          std::to_string(session.n_past()) +
                          " (corrupt weights, or an overflow: try --kv-type f32)");
  }
  if (o.constraint) o.constraint->accept(id);
  if (sampled_ == 0) res_.ttft_seconds = seconds_since(t0_);
  ++sampled_;
  if (o.n_probs >= 0 && o.post_sampling_probs) {
    sampled_distribution(logits, session.tokens(), id, o.n_probs);
  } else if (o.n_probs >= 0) {
    token_probs(session.logits(), static_cast<int32_t>(session.engine().hparams().n_vocab), id,
                o.n_probs, &probs_);
  } else {
    probs_.id = id;
  }
  sampled_now_ = true;
  res_.ids.push_back(id);
  if (!o.ignore_eog && tok_->is_end_of_generation(id)) {
    if (session.n_past() >= session.n_ctx()) return finish(FinishReason::kEndOfGeneration, on_text);
    closing_ = true;
    token_ = id;
    return Next::kEvaluate;
  }
  pending_ += decoder_.push(id);
  auto emit = [&](std::string_view s) -> bool {
    res_.text.append(s);
    return s.empty() || !on_text || on_text(s);
  };
  // A stop string ends the text right before it.
  size_t cut = std::string::npos;
  for (const std::string& s : o.stop) {
    const size_t at = pending_.find(s);
    if (at < cut) {
      cut = at;
      res_.stop_word = s;
    }
  }
  if (cut != std::string::npos) {
    emit(std::string_view(pending_).substr(0, cut));
    pending_.clear();
    return finish(FinishReason::kStopString, on_text);
  }
  const size_t hold = stop_holdback(pending_, o.stop);
  if (!emit(std::string_view(pending_).substr(0, pending_.size() - hold))) {
    pending_.clear();
    return finish(FinishReason::kCancelled, on_text);
  }
  pending_.erase(0, pending_.size() - hold);
  if (session.n_past() >= session.n_ctx()) {
    if (o.on_full == OnFull::kStop) return finish(FinishReason::kContextFull, on_text);
    if (o.on_full == OnFull::kError) {
      done_ = true;
      return invalid_argument("the context is full: " + std::to_string(session.n_past()) + " of " +
                              std::to_string(session.n_ctx()) + " positions (prompt " +
                              std::to_string(res_.n_prompt) + ", generated " +
                              std::to_string(res_.ids.size()) +
                              " tokens); --on-full shift drops the oldest tokens instead");
    }
    // kShift: drop what the policy chooses; the keys after it turn to their new positions.
    auto range = o.choose_drop ? o.choose_drop(session) : default_drop(session, o.n_keep);
    if (!range) {
      done_ = true;
      return range.status();
    }
    if (range->begin < 0 || range->end <= range->begin || range->end > session.n_past()) {
      done_ = true;
      return invalid_argument("the context-shift policy chose an empty or invalid range [" +
                              std::to_string(range->begin) + ", " + std::to_string(range->end) +
                              ")");
    }
    const auto t_shift = std::chrono::steady_clock::now();
    if (Status st = session.remove(range->begin, range->end); !st.is_ok()) {
      done_ = true;
      return st;
    }
    res_.shift_seconds += seconds_since(t_shift);
    ++res_.n_shifts;
    res_.n_dropped += range->end - range->begin;
    res_.n_dropped_turns += range->turns;
    if (o.on_shift) o.on_shift(*range);
  }
  token_ = id;
  return Next::kEvaluate;
}

}  // namespace longctx
