// The generation loop shared by run, chat and (later) the server.
#include "runtime/generate.h"

#include "runtime/generation.h"

#include <algorithm>
#include <cmath>

namespace longctx {

void token_probs(const float* logits, int32_t n_vocab, int32_t id, int32_t k, TokenProbs* out) {
  // log p_i = l_i - (max + log sum_j exp(l_j - max)); non-finite logits count as -inf.
  float mx = -INFINITY;
  for (int32_t i = 0; i < n_vocab; ++i) {
    if (std::isfinite(logits[i])) mx = std::max(mx, logits[i]);
  }
  double sum = 0.0;
  for (int32_t i = 0; i < n_vocab; ++i) {
    if (std::isfinite(logits[i])) sum += std::exp(static_cast<double>(logits[i] - mx));
  }
  const double lse = static_cast<double>(mx) + std::log(sum);
  auto lp = [&](int32_t i) {
    return std::isfinite(logits[i]) ? static_cast<float>(logits[i] - lse) : -INFINITY;
  };
  out->id = id;
  out->logprob = lp(id);
  out->top.clear();
  if (k <= 0) return;
  // The k best by a bounded insertion (k is small: OpenAI allows at most 20).
  k = std::min(k, n_vocab);
  auto better = [&](int32_t a, int32_t b) {
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
  };
  std::vector<std::pair<int32_t, float>>& top = out->top;
  for (int32_t i = 0; i < n_vocab; ++i) {
    if (!std::isfinite(logits[i])) continue;
    if (static_cast<int32_t>(top.size()) == k && !better(i, top.back().first)) continue;
    if (static_cast<int32_t>(top.size()) < k) top.emplace_back(i, 0.0f);
    size_t j = top.size() - 1;
    while (j > 0 && better(i, top[j - 1].first)) {
      top[j] = top[j - 1];
      --j;
    }
    top[j] = {i, 0.0f};
  }
  for (auto& [t, l] : top) l = lp(t);
}

const char* finish_reason_name(FinishReason r) {
  switch (r) {
    case FinishReason::kEndOfGeneration:
      return "eog";
    case FinishReason::kStopString:
      return "stop";
    case FinishReason::kLength:
      return "length";
    case FinishReason::kContextFull:
      return "length (context full)";
    case FinishReason::kCancelled:
      return "cancelled";
  }
  return "?";
}

Result<ShiftRange> default_drop(const Session& session, int64_t n_keep) {
  const int64_t n = session.n_past();
  const int64_t keep = std::max<int64_t>(0, n_keep);
  if (keep >= n - 1) {
    return invalid_argument("the context is full and nothing can be dropped: the " +
                            std::to_string(keep) + " kept tokens (system prompt and --keep) fill " +
                            std::to_string(n) + " of " + std::to_string(session.n_ctx()) +
                            " positions");
  }
  ShiftRange r;
  r.begin = keep;
  r.end = keep + std::max<int64_t>(1, (n - keep) / 2);
  return r;
}

size_t stop_holdback(std::string_view text, const std::vector<std::string>& stop) {
  size_t hold = 0;
  for (const std::string& s : stop) {
    for (size_t len = std::min(s.size() - 1, text.size()); len > hold; --len) {
      if (text.substr(text.size() - len) == std::string_view(s).substr(0, len)) {
        hold = len;
        break;
      }
    }
  }
  return hold;
}

Result<GenerateResult> generate(Session& session, std::span<const int32_t> prompt,
                                const GenerateOptions& options,
                                const std::function<bool(std::string_view)>& on_text) {
  auto g = Generation::start(session, prompt, options);
  if (!g) return g.status();
  // 1. The prompt after the reused prefix, in the session's chunks (cancellable, with progress).
  if (!g->prompt_left().empty()) {
    EvalOptions eo;
    eo.cancel = options.cancel;
    eo.progress = options.prefill_progress;
    const std::span<const int32_t> left = g->prompt_left();
    auto ok = session.eval(left, eo);
    if (!ok) return ok.status();
    if (!*ok) {
      g->prompt_cancelled();
      return g->result();
    }
    g->prompt_advanced(static_cast<int64_t>(left.size()));
  }
  // 2. Sample, stream, evaluate the sampled token; repeat.
  for (;;) {
    auto next = g->step(on_text);
    if (!next) return next.status();
    if (*next == Generation::Next::kDone) break;
    const int32_t one[1] = {g->token()};
    auto st = session.eval(one);
    if (!st) return st.status();
  }
  return g->result();
}

}  // namespace longctx
