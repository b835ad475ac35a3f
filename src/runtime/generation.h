// One reply's generation as a state machine, so a caller can advance many of them together:
// start() checks the request and reuses the cached prefix, the caller evaluates the prompt's
// remaining tokens (Session::eval, or chunks of a batched step), then each step() samples the
// next token from the session's logits, streams its text (never splitting a UTF-8 character nor
// showing any part of a stop string) and says whether a token is to be evaluated next or the
// reply is over. generate() (generate.h) drives one Generation with Session::eval; the server's
// scheduler drives several with BatchRunner (runtime/batch.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "runtime/generate.h"
#include "runtime/sampler.h"
#include "runtime/session.h"
#include "tokenizer/tokenizer.h"

namespace longctx {

class Generation {
 public:
  // Checks the request (a tokenizer, a non-empty prompt that fits the context, non-empty stop
  // strings, valid sampling) and reuses the cached prefix: the session keeps the longest common
  // prefix of its tokens and the prompt (the whole prompt when the logits after it are known;
  // else all but at least the last token), truncated there. `options` must outlive the
  // Generation (its cancel flag and callbacks are used by step()).
  static Result<Generation> start(Session& session, std::span<const int32_t> prompt,
                                  const GenerateOptions& options);

  // Prompt tokens still to evaluate into the session, in order. After evaluating the first n
  // of them (all at once, or in chunks), call prompt_advanced(n).
  std::span<const int32_t> prompt_left() const;
  void prompt_advanced(int64_t n);
  // The prompt's evaluation was cancelled (Session::eval returned false): the reply ends.
  void prompt_cancelled();

  enum class Next {
    kEvaluate,  // evaluate token() into the session, then call step() again
    kDone,      // the reply is over: result() is final
  };
  // With the prompt evaluated: samples from session.logits(), streams text to on_text (false
  // from it cancels) and handles the end of generation, stop strings, the token limit and a full
  // context (stop, error or shift, as the options say). An error ends the reply.
  Result<Next> step(const std::function<bool(std::string_view)>& on_text);
  int32_t token() const { return token_; }
  // The token the last step() sampled and its log-probabilities (options.n_probs >= 0), or
  // nullptr when that step sampled none (the reply ended, or the end-of-turn token was only
  // being evaluated). Text step() streamed belongs to this token; text streamed by a step that
  // sampled none (held-back text released at the end) belongs to the one before.
  const TokenProbs* sampled_probs() const { return sampled_now_ ? &probs_ : nullptr; }

  const GenerateResult& result() const { return res_; }
  Session& session() { return *session_; }

 private:
  Generation(Session& session, const GenerateOptions& options, Sampler sampler,
             const Tokenizer& tok);
  Next finish(FinishReason why, const std::function<bool(std::string_view)>& on_text);
  // probs_ from the sampler's own distribution for these logits (post_sampling_probs).
  void sampled_distribution(const float* logits, std::span<const int32_t> history, int32_t id,
                            int32_t k);

  Session* session_;
  const GenerateOptions* options_;
  Sampler sampler_;
  const Tokenizer* tok_;
  StreamDecoder decoder_;
  std::vector<int32_t> prompt_;  // the tokens left to evaluate
  size_t prompt_at_ = 0;
  std::string pending_;  // decoded text not yet streamed (a possible stop-string prefix)
  GenerateResult res_;
  int64_t sampled_ = 0;
  int32_t token_ = -1;
  TokenProbs probs_;
  std::vector<float> masked_;  // [n_vocab] logits under options.constraint (sized at start)
  bool sampled_now_ = false;
  bool started_ = false;  // the first step() kept the prompt's logits and started the clock
  bool closing_ = false;  // an end-of-turn token was handed out for the cache; then done
  bool done_ = false;
  std::chrono::steady_clock::time_point t0_, t_gen_;
};

}  // namespace longctx
