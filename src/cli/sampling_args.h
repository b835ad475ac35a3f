// Sampling options shared by `run` and `chat`: their registration on a CLI11 command and the
// SamplingParams they give, over Qwen3's recommended defaults for the thinking mode in use.
#pragma once

#include <cstdint>
#include <optional>

#include <string>

#include "core/status.h"
#include "runtime/generate.h"
#include "runtime/sampler.h"

namespace CLI {
class App;
}

namespace longctx::cli {

// Each option left unset follows the mode's default, so switching thinking mode (chat's /think)
// changes exactly the settings the user did not pin on the command line.
struct SamplingArgs {
  std::optional<float> temp, top_p, min_p, repeat_penalty, presence_penalty, frequency_penalty;
  std::optional<int32_t> top_k, repeat_last_n;
  uint64_t seed = 0;
};

// Registers --temp, --top-k, --top-p, --min-p, the penalties and -s/--seed on `app`.
void add_sampling_options(CLI::App& app, SamplingArgs* args);

// SamplingParams::qwen3_defaults(thinking) with every given option applied on top.
SamplingParams sampling_params(const SamplingArgs& args, bool thinking);

// What run and chat do when the context fills up: --on-full stop|error|shift, --keep N (tokens
// after the system prompt a shift never drops).
struct ContextArgs {
  std::string on_full = "stop";
  int64_t keep = 0;
};
void add_context_options(CLI::App& app, ContextArgs* args);
Result<OnFull> parse_on_full(const ContextArgs& args);

}  // namespace longctx::cli
