// The generation loop shared by run, chat and (later) the server.
#include "runtime/generate.h"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace longctx {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

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

  GenerateResult res;
  // At most one id per free context position (+1: the last sampled is not cached).
  const int64_t room = session.n_ctx() + 1;
  res.ids.reserve(
      static_cast<size_t>(options.max_tokens >= 0 ? std::min(options.max_tokens, room) : room));
  res.n_prompt = static_cast<int64_t>(prompt.size());
  const auto t0 = std::chrono::steady_clock::now();

  // 1. Reuse the cached prefix. The whole prompt is reused when the cache holds it and the
  //    logits after it: the last evaluated ones, or the snapshot kept at the end of an earlier
  //    prompt (a reply may follow it in the cache). Otherwise at least the last prompt token is
  //    evaluated for its logits.
  const std::vector<int32_t>& cached = session.tokens();
  const int64_t n_prompt = static_cast<int64_t>(prompt.size());
  size_t common = 0;
  while (common < cached.size() && common < prompt.size() && cached[common] == prompt[common]) {
    ++common;
  }
  const bool whole = static_cast<int64_t>(common) == n_prompt &&
                     (session.n_past() == n_prompt || session.rewind_to_snapshot(n_prompt));
  if (whole) {
    res.n_reused = n_prompt;
  } else {
    common = std::min(common, prompt.size() - 1);
    session.truncate(static_cast<int64_t>(common));
    res.n_reused = static_cast<int64_t>(common);
    EvalOptions eo;
    eo.cancel = options.cancel;
    eo.progress = options.prefill_progress;
    auto ok = session.eval(prompt.subspan(common), eo);
    if (!ok) return ok.status();
    if (!*ok) {
      res.prompt_seconds = seconds_since(t0);
      res.finish = FinishReason::kCancelled;
      return res;
    }
  }
  session.snapshot_logits();
  res.prompt_seconds = seconds_since(t0);

  // 2. Sample, stream, evaluate the sampled token; repeat.
  StreamDecoder decoder(*tok);
  std::string pending;  // decoded text not yet streamed (a possible stop-string prefix)
  const auto t_gen = std::chrono::steady_clock::now();
  auto emit = [&](std::string_view s) -> bool {
    res.text.append(s);
    return s.empty() || !on_text || on_text(s);
  };
  res.finish = FinishReason::kLength;
  for (int64_t i = 0; options.max_tokens < 0 || i < options.max_tokens; ++i) {
    if (options.cancel && options.cancel->load(std::memory_order_relaxed)) {
      res.finish = FinishReason::kCancelled;
      break;
    }
    const int32_t id = sampler->sample(session.logits(), session.tokens());
    if (!std::isfinite(session.logits()[id])) {
      return invalid_format("the model produced non-finite logits at position " +
                            std::to_string(session.n_past()) +
                            " (corrupt weights, or an overflow: try --kv-type f32)");
    }
    if (i == 0) res.ttft_seconds = seconds_since(t0);
    res.ids.push_back(id);
    const bool eog = !options.ignore_eog && tok->is_end_of_generation(id);
    if (eog) {
      res.finish = FinishReason::kEndOfGeneration;
      // Keep the end-of-turn token in the cache so the next chat turn's prefix matches.
      if (session.n_past() < session.n_ctx()) {
        const int32_t one[1] = {id};
        auto st = session.eval(one);
        if (!st) return st.status();
      }
      break;
    }
    pending += decoder.push(id);
    // A stop string ends the text right before it.
    size_t cut = std::string::npos;
    for (const std::string& s : options.stop) cut = std::min(cut, pending.find(s));
    if (cut != std::string::npos) {
      emit(std::string_view(pending).substr(0, cut));
      res.finish = FinishReason::kStopString;
      pending.clear();
      break;
    }
    const size_t hold = stop_holdback(pending, options.stop);
    if (!emit(std::string_view(pending).substr(0, pending.size() - hold))) {
      res.finish = FinishReason::kCancelled;
      pending.clear();
      break;
    }
    pending.erase(0, pending.size() - hold);
    if (session.n_past() >= session.n_ctx()) {
      if (options.on_full == OnFull::kStop) {
        res.finish = FinishReason::kContextFull;
        break;
      }
      if (options.on_full == OnFull::kError) {
        return invalid_argument("the context is full: " + std::to_string(session.n_past()) +
                                " of " + std::to_string(session.n_ctx()) + " positions (prompt " +
                                std::to_string(res.n_prompt) + ", generated " +
                                std::to_string(res.ids.size()) +
                                " tokens); --on-full shift drops the oldest tokens instead");
      }
      // kShift: drop what the policy chooses; the keys after it turn to their new positions.
      auto range = options.choose_drop ? options.choose_drop(session)
                                       : default_drop(session, options.n_keep);
      if (!range) return range.status();
      if (range->begin < 0 || range->end <= range->begin || range->end > session.n_past()) {
        return invalid_argument("the context-shift policy chose an empty or invalid range [" +
                                std::to_string(range->begin) + ", " + std::to_string(range->end) +
                                ")");
      }
      const auto t_shift = std::chrono::steady_clock::now();
      LONGCTX_RETURN_IF_ERROR(session.remove(range->begin, range->end));
      res.shift_seconds += seconds_since(t_shift);
      ++res.n_shifts;
      res.n_dropped += range->end - range->begin;
      res.n_dropped_turns += range->turns;
      if (options.on_shift) options.on_shift(*range);
    }
    const int32_t one[1] = {id};
    auto st = session.eval(one);
    if (!st) return st.status();
  }
  // Flush what was held back (no stop string completed it).
  pending += decoder.flush();
  if (res.finish != FinishReason::kStopString && res.finish != FinishReason::kCancelled) {
    emit(pending);
  }
  res.gen_seconds = seconds_since(t_gen);
  return res;
}

}  // namespace longctx
