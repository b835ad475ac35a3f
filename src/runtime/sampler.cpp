// Token sampler: penalties, temperature, top-k / top-p / min-p filters and a seeded draw over
// buffers sized once for the vocabulary. The filter order follows Hugging Face transformers'
// generate() (and vLLM for the penalties), whose settings Qwen publishes.
#include "runtime/sampler.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>

namespace longctx {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

std::string fmt(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%g", v);
  return buf;
}

Status field_error(const char* field, const char* rule, double value) {
  return invalid_argument(std::string("sampling parameter ") + field + " must be " + rule +
                          ", got " + fmt(value));
}

}  // namespace

SamplingParams SamplingParams::qwen3_defaults(bool thinking) {
  SamplingParams p;
  p.temperature = thinking ? 0.6f : 0.7f;
  p.top_p = thinking ? 0.95f : 0.8f;
  p.top_k = 20;
  p.min_p = 0.0f;
  return p;
}

Status SamplingParams::validate() const {
  // Written as !(x op y) so NaN fails every range check.
  if (!(temperature >= 0.0f) || !std::isfinite(temperature))
    return field_error("temperature", ">= 0 and finite", temperature);
  if (top_k < 0) return field_error("top_k", ">= 0", top_k);
  if (!(top_p > 0.0f && top_p <= 1.0f)) return field_error("top_p", "in (0, 1]", top_p);
  if (!(min_p >= 0.0f && min_p <= 1.0f)) return field_error("min_p", "in [0, 1]", min_p);
  if (!(repetition_penalty > 0.0f) || !std::isfinite(repetition_penalty))
    return field_error("repetition_penalty", "> 0 and finite", repetition_penalty);
  if (!std::isfinite(presence_penalty))
    return field_error("presence_penalty", "finite", presence_penalty);
  if (!std::isfinite(frequency_penalty))
    return field_error("frequency_penalty", "finite", frequency_penalty);
  if (penalty_last_n < -1) return field_error("penalty_last_n", ">= -1", penalty_last_n);
  return Status::ok();
}

Result<Sampler> Sampler::create(const SamplingParams& params, int32_t n_vocab) {
  if (n_vocab < 1) {
    return invalid_argument("sampler: n_vocab must be >= 1, got " + std::to_string(n_vocab));
  }
  Status st = params.validate();
  if (!st.is_ok()) return st;
  return Sampler(params, n_vocab);
}

Sampler::Sampler(const SamplingParams& params, int32_t n_vocab)
    : params_(params),
      n_vocab_(n_vocab),
      rng_(params.seed),
      work_(static_cast<size_t>(n_vocab)),
      ids_(static_cast<size_t>(n_vocab)),
      counts_(static_cast<size_t>(n_vocab), 0),
      probs_(static_cast<size_t>(n_vocab)) {}

void Sampler::reseed(uint64_t seed) { rng_.seed(seed); }

// work_ = logits with NaN turned into -inf, then the penalties on every distinct token of the
// window (the last penalty_last_n entries of history; ids outside the vocabulary are skipped):
//   repetition (CTRL / HF): l -> l / r if l > 0 else l * r, once per distinct token;
//   presence + frequency (OpenAI / vLLM): l -= presence + frequency * count.
// counts_ is all zero between calls: each token's count is cleared when its penalty is applied.
void Sampler::apply_penalties(const float* logits, std::span<const int32_t> history) {
  for (int32_t i = 0; i < n_vocab_; ++i) work_[i] = std::isnan(logits[i]) ? kNegInf : logits[i];
  if (params_.penalty_last_n == 0) return;
  size_t n_window = history.size();
  if (params_.penalty_last_n > 0) {
    n_window = std::min(n_window, static_cast<size_t>(params_.penalty_last_n));
  }
  const std::span<const int32_t> window = history.last(n_window);
  for (int32_t t : window) {
    if (t >= 0 && t < n_vocab_) ++counts_[t];
  }
  const float r = params_.repetition_penalty;
  for (int32_t t : window) {
    if (t < 0 || t >= n_vocab_ || counts_[t] == 0) continue;  // skipped or already applied
    float l = work_[t];
    l = l > 0.0f ? l / r : l * r;
    l -= params_.presence_penalty;
    l -= params_.frequency_penalty * static_cast<float>(counts_[t]);
    work_[t] = l;
    counts_[t] = 0;
  }
}

// Largest penalised logit, ties to the lowest id, over the tokens whose raw logit is not NaN
// (work_ holds them as -inf, which could otherwise tie with a real -inf); id 0 if all are NaN.
int32_t Sampler::argmax(const float* logits) const {
  int32_t best = -1;
  for (int32_t i = 0; i < n_vocab_; ++i) {
    if (std::isnan(logits[i])) continue;
    if (best < 0 || work_[i] > work_[best]) best = i;
  }
  return best < 0 ? 0 : best;
}

Sampler::Candidates Sampler::filter(const float* logits, std::span<const int32_t> history) {
  apply_penalties(logits, history);
  Candidates c;
  if (params_.temperature == 0.0f) {
    c.greedy_id = argmax(logits);
    return c;
  }
  for (int32_t i = 0; i < n_vocab_; ++i) ids_[i] = i;
  // Top-k: the k largest, sorted descending (ties to the lower id), in O(n log k). Dividing by
  // T > 0 keeps the order, so the penalised logits are sorted and T enters in the softmax below.
  int32_t n = n_vocab_;
  if (params_.top_k > 0 && params_.top_k < n) n = params_.top_k;
  const float* w = work_.data();
  auto before = [w](int32_t a, int32_t b) { return w[a] > w[b] || (w[a] == w[b] && a < b); };
  if (n == n_vocab_) {
    std::sort(ids_.begin(), ids_.end(), before);
  } else {
    std::partial_sort(ids_.begin(), ids_.begin() + n, ids_.end(), before);
  }
  // A +inf, or nothing above -inf, has no softmax: fall back to the greedy pick.
  const float l_max = w[ids_[0]];
  if (!std::isfinite(l_max)) {
    c.greedy_id = argmax(logits);
    return c;
  }
  while (w[ids_[n - 1]] == kNegInf) --n;  // stops at ids_[0], which is finite
  // Softmax numerators exp((l - l_max) / T) <= 1, the first exactly 1; computed in double so a
  // tiny T underflows to 0 instead of overflowing l / T to +inf.
  const double t = params_.temperature;
  double sum = 0.0;
  for (int32_t i = 0; i < n; ++i) {
    probs_[i] = static_cast<float>(std::exp((static_cast<double>(w[ids_[i]]) - l_max) / t));
    sum += probs_[i];
  }
  // Top-p: the smallest prefix whose probability reaches top_p (at least one token).
  if (params_.top_p < 1.0f) {
    const double target = static_cast<double>(params_.top_p) * sum;
    double cum = 0.0;
    for (int32_t i = 0; i < n; ++i) {
      cum += probs_[i];
      if (cum >= target) {
        n = i + 1;
        break;
      }
    }
  }
  // Min-p: drop p < min_p * p_max. The ratio p / p_max does not depend on normalisation, and
  // p_max is probs_[0] == 1, so the threshold is min_p itself.
  if (params_.min_p > 0.0f) {
    int32_t keep = 1;
    while (keep < n && probs_[keep] >= params_.min_p) ++keep;
    n = keep;
  }
  sum = 0.0;
  for (int32_t i = 0; i < n; ++i) sum += probs_[i];
  c.n = n;
  c.sum = sum;
  return c;
}

int32_t Sampler::sample(const float* logits, std::span<const int32_t> history) {
  const Candidates c = filter(logits, history);
  if (c.n == 0) return c.greedy_id;
  // u uniform in [0, sum) from the top 53 bits of one draw: the same stream on every platform
  // (std::uniform_real_distribution is implementation-defined).
  const double u = static_cast<double>(rng_() >> 11) * 0x1.0p-53 * c.sum;
  double cum = 0.0;
  for (int32_t i = 0; i < c.n; ++i) {
    cum += probs_[i];
    if (u < cum) return ids_[i];
  }
  return ids_[c.n - 1];  // u fell past the rounded total
}

std::vector<std::pair<int32_t, float>> Sampler::distribution(const float* logits,
                                                             std::span<const int32_t> history) {
  const Candidates c = filter(logits, history);
  std::vector<std::pair<int32_t, float>> out;
  if (c.n == 0) {
    out.emplace_back(c.greedy_id, 1.0f);
    return out;
  }
  out.reserve(static_cast<size_t>(c.n));
  for (int32_t i = 0; i < c.n; ++i) {
    out.emplace_back(ids_[i], static_cast<float>(probs_[i] / c.sum));
  }
  return out;
}

}  // namespace longctx
