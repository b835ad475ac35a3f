// Token sampling from logits: repetition / presence / frequency penalties, temperature, top-k,
// top-p, min-p, seeded draw; greedy when T is 0. Buffers are sized once for the vocabulary, so
// sampling a token allocates nothing. Order (HF transformers / vLLM): penalties on the raw logits
// (repetition, then presence + frequency), greedy if T == 0, else logits / T, top-k, softmax,
// top-p, min-p, renormalise, draw. docs/SAMPLING.md has the details (ties, NaN, all -inf).
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <utility>
#include <vector>

#include "core/status.h"

namespace longctx {

struct SamplingParams {
  float temperature = 0.7f;         // 0 = greedy (argmax of the penalised logits)
  int32_t top_k = 20;               // keep the k most likely; 0 = all
  float top_p = 0.8f;               // keep the smallest set with cumulative p >= top_p; 1 = all
  float min_p = 0.0f;               // drop tokens with p < min_p * p_max; 0 = off
  float repetition_penalty = 1.0f;  // CTRL-style: seen logit l -> l / r if l > 0 else l * r
  float presence_penalty = 0.0f;    // OpenAI-style: seen logit -= presence
  float frequency_penalty = 0.0f;   // OpenAI-style: logit -= frequency * count
  int32_t penalty_last_n = 64;      // how many recent tokens the penalties look at; -1 = all
  uint64_t seed = 0;

  // Qwen3's recommended settings: thinking T 0.6, top-p 0.95, top-k 20, min-p 0;
  // non-thinking T 0.7, top-p 0.8, top-k 20, min-p 0.
  static SamplingParams qwen3_defaults(bool thinking);
  // Ranges: temperature >= 0, top_k >= 0, 0 < top_p <= 1, 0 <= min_p <= 1,
  // repetition_penalty > 0, penalty_last_n >= -1; an error names the field.
  Status validate() const;
};

class Sampler {
 public:
  // n_vocab >= 1; params must validate (checked: an invalid set is kInvalidArgument).
  static Result<Sampler> create(const SamplingParams& params, int32_t n_vocab);

  // Picks the next token from logits[n_vocab] given the tokens so far (prompt and generated;
  // only the last penalty_last_n are used by the penalties). The logits are not modified.
  int32_t sample(const float* logits, std::span<const int32_t> history);

  // The candidates that survive every filter for these logits and history, as (id, probability)
  // with probabilities summing to 1, most likely first; {(argmax, 1)} on the greedy path. It
  // allocates its result: for tests and tools, not for the decode loop. Does not touch the RNG.
  std::vector<std::pair<int32_t, float>> distribution(const float* logits,
                                                      std::span<const int32_t> history);

  const SamplingParams& params() const { return params_; }
  void reseed(uint64_t seed);

 private:
  Sampler(const SamplingParams& params, int32_t n_vocab);

  // Candidates left by the filters: ids_[0, n) most likely first, with unnormalised probs_[0, n)
  // summing to `sum`; n == 0 means the greedy path chose `greedy_id`.
  struct Candidates {
    int32_t n = 0;
    double sum = 0.0;
    int32_t greedy_id = 0;
  };
  Candidates filter(const float* logits, std::span<const int32_t> history);
  void apply_penalties(const float* logits, std::span<const int32_t> history);
  int32_t argmax(const float* logits) const;

  SamplingParams params_;
  int32_t n_vocab_;
  std::mt19937_64 rng_;
  std::vector<float> work_;       // [n_vocab] penalised logits
  std::vector<int32_t> ids_;      // [n_vocab] candidate order
  std::vector<uint32_t> counts_;  // [n_vocab] occurrences in the penalty window
  std::vector<float> probs_;      // [n_vocab] candidate probabilities
};

}  // namespace longctx
