// The generation loop shared by run, chat and (later) the server.
#include "runtime/generate.h"

#include "runtime/generation.h"

#include <algorithm>

namespace longctx {
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
