// Shared sampling options of the CLI commands (see sampling_args.h).
#include "cli/sampling_args.h"

#include <string>

#include <CLI/CLI.hpp>

namespace longctx::cli {

void add_sampling_options(CLI::App& app, SamplingArgs* a) {
  app.add_option("--temp", a->temp, "Temperature (0 = greedy; default by mode: 0.6 / 0.7)");
  app.add_option("--top-k", a->top_k, "Top-k (default 20; 0 = off)");
  app.add_option("--top-p", a->top_p, "Top-p (default by mode: 0.95 / 0.8)");
  app.add_option("--min-p", a->min_p, "Min-p (default 0)");
  app.add_option("--repeat-penalty", a->repeat_penalty, "Repetition penalty (default 1 = off)");
  app.add_option("--presence-penalty", a->presence_penalty, "Presence penalty (default 0)");
  app.add_option("--frequency-penalty", a->frequency_penalty, "Frequency penalty (default 0)");
  app.add_option("--repeat-last-n", a->repeat_last_n,
                 "Tokens the penalties look back (default 64)");
  app.add_option("-s,--seed", a->seed, "Sampling seed")->capture_default_str();
}

SamplingParams sampling_params(const SamplingArgs& a, bool thinking) {
  SamplingParams p = SamplingParams::qwen3_defaults(thinking);
  if (a.temp) p.temperature = *a.temp;
  if (a.top_k) p.top_k = *a.top_k;
  if (a.top_p) p.top_p = *a.top_p;
  if (a.min_p) p.min_p = *a.min_p;
  if (a.repeat_penalty) p.repetition_penalty = *a.repeat_penalty;
  if (a.presence_penalty) p.presence_penalty = *a.presence_penalty;
  if (a.frequency_penalty) p.frequency_penalty = *a.frequency_penalty;
  if (a.repeat_last_n) p.penalty_last_n = *a.repeat_last_n;
  p.seed = a.seed;
  return p;
}

void add_context_options(CLI::App& app, ContextArgs* a) {
  app.add_option("--on-full", a->on_full,
                 "When the context fills up during a reply: stop (the reply ends, finish reason "
                 "length), error (non-zero exit with the token counts), shift (drop the oldest "
                 "half after the system prompt and --keep, whole turns in chat, and go on without "
                 "a prefill)")
      ->capture_default_str();
  app.add_option("--keep", a->keep, "Tokens after the system prompt that a shift never drops")
      ->capture_default_str();
}

Result<OnFull> parse_on_full(const ContextArgs& a) {
  if (a.keep < 0) return invalid_argument("--keep must be >= 0, got " + std::to_string(a.keep));
  if (a.on_full == "stop") return OnFull::kStop;
  if (a.on_full == "error") return OnFull::kError;
  if (a.on_full == "shift") return OnFull::kShift;
  return invalid_argument("--on-full must be stop, error or shift, got '" + a.on_full + "'");
}

}  // namespace longctx::cli
