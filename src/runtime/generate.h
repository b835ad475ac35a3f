// Text generation on a session: reuse the cached prefix of the prompt, prefill the rest, then
// sample token by token, streaming text that never splits a UTF-8 character nor shows any part
// of a stop string, until an end-of-generation token, a stop string, the token limit, a full
// context or cancellation.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "runtime/sampler.h"
#include "runtime/session.h"

namespace longctx {

// What happens when the context fills up during a reply (--on-full).
enum class OnFull {
  kStop,   // the reply ends (FinishReason::kContextFull, reported as finish reason "length")
  kError,  // generate() fails with the token counts
  kShift,  // old tokens are dropped and the cached keys turned to their new positions in place
};
// Tokens [begin, end) a shift drops, and how many whole turns they are (0: not counted).
struct ShiftRange {
  int64_t begin = 0, end = 0;
  int64_t turns = 0;
};

// Which tokens may come next (constrained decoding, e.g. a JSON schema): a generation masks a
// copy of the logits with it before sampling and tells it every sampled token. One object per
// generation (it holds the state of the output so far).
class TokenConstraint {
 public:
  virtual ~TokenConstraint() = default;
  // Sets logits[id] to -infinity for every token that may not come next. tokens_left: how many
  // tokens may still be sampled (-1: no limit), so a constraint can steer toward an end in time.
  virtual void mask(float* logits, int64_t tokens_left) = 0;
  virtual void accept(int32_t id) = 0;
};

struct GenerateOptions {
  int64_t max_tokens = -1;  // new tokens at most; -1 = until the context is full
  SamplingParams sampling;
  std::vector<std::string> stop;  // stop strings: generation ends before the first match
  bool ignore_eog = false;        // do not stop at <|im_end|> / <|endoftext|> / eos
  const std::atomic<bool>* cancel = nullptr;  // checked between prefill chunks and tokens
  // Prompt progress: (tokens evaluated, total to evaluate).
  std::function<void(int64_t done, int64_t total)> prefill_progress;
  OnFull on_full = OnFull::kStop;
  // kShift: tokens at the start that are never dropped (system prompt + --keep).
  int64_t n_keep = 0;
  // kShift: what to drop when the context is full. Default: the oldest half of the tokens after
  // n_keep. Chat drops whole turns here; the memory loop will plug in its own policy.
  std::function<Result<ShiftRange>(const Session&)> choose_drop;
  // Told of each shift after it happened.
  std::function<void(const ShiftRange&)> on_shift;
  // Log-probabilities of sampled tokens (OpenAI's logprobs): -1 none; 0 the sampled token's
  // own; k > 0 also the k most likely tokens. From the model's distribution (log-softmax of the
  // raw logits, before penalties, temperature and filters), as OpenAI reports them.
  int32_t n_probs = -1;
  // llama-server's post_sampling_probs: the figures come instead from the distribution actually
  // sampled (after penalties, bias, constraint, temperature and filters), only tokens left with a
  // probability above zero (the sampled token's own included). Costs a copy of the candidates
  // per token: a diagnostic, off by default.
  bool post_sampling_probs = false;
  // Constrained decoding (null: any token). Logprobs still come from the unmasked logits.
  std::shared_ptr<TokenConstraint> constraint;
  // Added to the logits of these tokens before sampling (OpenAI's logit_bias; -infinity bans a
  // token). Logprobs come from the logits without it.
  std::vector<std::pair<int32_t, float>> logit_bias;
};

// One sampled token's log-probability and the most likely alternatives (most likely first).
struct TokenProbs {
  int32_t id = -1;
  float logprob = 0.0f;
  std::vector<std::pair<int32_t, float>> top;
};
// Fills *out for token `id` from logits[n_vocab]: log-softmax, and the k best (ties: lower id).
void token_probs(const float* logits, int32_t n_vocab, int32_t id, int32_t k, TokenProbs* out);

enum class FinishReason { kEndOfGeneration, kStopString, kLength, kContextFull, kCancelled };
// "eog", "stop", "length", "length (context full)", "cancelled"
const char* finish_reason_name(FinishReason r);

struct GenerateResult {
  std::string text;          // what was streamed (stop string excluded)
  std::vector<int32_t> ids;  // generated ids (the end-of-generation token included if hit)
  FinishReason finish = FinishReason::kLength;
  std::string stop_word;      // kStopString: the stop string that matched
  int64_t n_prompt = 0;       // prompt tokens
  int64_t n_reused = 0;       // of which taken from the cache
  double prompt_seconds = 0;  // prefill of the non-reused prompt tokens
  double gen_seconds = 0;     // from the first sampled token to the end
  double ttft_seconds = 0;    // start to first token
  int n_shifts = 0;           // context shifts during the reply
  double shift_seconds = 0;   // spent in them (moving and re-rotating the cached keys)
  int64_t n_dropped = 0;      // tokens they dropped
  int64_t n_dropped_turns = 0;
};

// The default shift: the oldest half of [n_keep, n_past), at least one token; an error when
// n_keep leaves nothing to drop.
Result<ShiftRange> default_drop(const Session& session, int64_t n_keep);

// Streams text pieces to on_text (return false to stop: FinishReason::kCancelled). The session
// keeps prompt + generated tokens, so a chat continues with a reused prefix. Needs a tokenizer.
Result<GenerateResult> generate(Session& session, std::span<const int32_t> prompt,
                                const GenerateOptions& options,
                                const std::function<bool(std::string_view)>& on_text);

// Length of the longest suffix of `text` that is a proper prefix of some stop string: text that
// must be held back because the next token may complete a stop string.
size_t stop_holdback(std::string_view text, const std::vector<std::string>& stop);

}  // namespace longctx
