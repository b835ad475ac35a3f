// Shared sampling options of the CLI commands (see sampling_args.h).
#include "cli/sampling_args.h"

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

}  // namespace longctx::cli
