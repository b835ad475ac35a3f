// Parts of the generation routes' answers (see answer_parts.h).
#include "server/answer_parts.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace longctx::server {
namespace {

// llama-server's stop_type for /completion.
const char* stop_type(FinishReason r) {
  switch (r) {
    case FinishReason::kEndOfGeneration:
      return "eos";
    case FinishReason::kStopString:
      return "word";
    case FinishReason::kLength:
    case FinishReason::kContextFull:
      return "limit";
    default:
      return "none";
  }
}

// generation_settings.logit_bias as llama-server lists it: {bias, token}, null for "never",
// with every end-of-generation token when ignore_eos.
Json logit_bias_json(const GenRequest& r, const Tokenizer& tok) {
  Json out = Json::array();
  for (const auto& [id, b] : r.options.logit_bias) {
    out.push_back({{"bias", std::isfinite(b) ? Json(b) : Json()}, {"token", id}});
  }
  if (r.options.ignore_eog) {
    for (int32_t id = 0; id < tok.n_vocab(); ++id) {
      if (tok.is_end_of_generation(id)) out.push_back({{"bias", nullptr}, {"token", id}});
    }
  }
  return out;
}

}  // namespace

Json native_completion_body(const GenRequest& r, const ChoiceOut& c, const Tokenizer& tok,
                            const std::string& alias, bool return_tokens, int slot, size_t i) {
  const SamplingParams& sp = r.options.sampling;
  Json out = {{"index", i},
              {"content", c.content},
              {"tokens", return_tokens ? Json(c.result.ids) : Json::array()},
              {"id_slot", slot},
              {"stop", true},
              {"model", alias},
              {"tokens_predicted", static_cast<int64_t>(c.result.ids.size())},
              {"tokens_evaluated", c.result.n_prompt},
              {"generation_settings",
               {{"n_predict", r.options.max_tokens},
                {"seed", sp.seed},
                {"temperature", sp.temperature},
                {"top_k", sp.top_k},
                {"top_p", sp.top_p},
                {"min_p", sp.min_p},
                {"repeat_penalty", sp.repetition_penalty},
                {"repeat_last_n", sp.penalty_last_n},
                {"presence_penalty", sp.presence_penalty},
                {"frequency_penalty", sp.frequency_penalty},
                {"ignore_eos", r.options.ignore_eog},
                {"logit_bias", logit_bias_json(r, tok)},
                {"stop", r.options.stop},
                {"n_probs", std::max(0, r.options.n_probs)}}},
              {"prompt", ""},
              {"has_new_line", c.content.find('\n') != std::string::npos},
              {"truncated", false},
              {"stop_type", stop_type(c.result.finish)},
              {"stopping_word", c.result.stop_word},
              {"tokens_cached", c.result.n_prompt + static_cast<int64_t>(c.result.ids.size())},
              {"timings", timings_body({c})}};
  if (r.options.n_probs >= 0) {
    out["completion_probabilities"] =
        r.options.post_sampling_probs ? post_sampling_entries(c.logprobs) : c.logprobs;
  }
  return out;
}

AnthropicReply anthropic_reply(const GenRequest& r, const ChoiceOut& c, const std::string& id) {
  AnthropicReply a;
  a.id = id;
  a.model = r.model;
  a.reasoning = c.reasoning;
  a.text = c.content;
  for (const chat::ToolCall& t : c.tool_calls) a.tool_calls.push_back({"", t.name, t.arguments});
  a.finish = c.result.finish == FinishReason::kStopString
                 ? "stop_sequence"
                 : finish_reason(c.result.finish, !c.tool_calls.empty());
  a.stop_sequence = c.result.stop_word;
  a.usage = {c.result.n_prompt, c.result.n_reused, static_cast<int64_t>(c.result.ids.size())};
  return a;
}

std::string responses_call_id(const std::string& id, int k) {
  return "call_" + id.substr(5) + "_" + std::to_string(k);  // id is "resp_<digits>"
}

ResponsesReply responses_reply(const GenRequest& r, const ChoiceOut& c, const std::string& id,
                               int64_t created, const Tokenizer& tok) {
  ResponsesReply a;
  a.id = id;
  a.model = r.model;
  a.created_at = created;
  a.reasoning = c.reasoning;
  a.text = c.content;
  int k = 0;
  for (const chat::ToolCall& t : c.tool_calls) {
    a.tool_calls.push_back({responses_call_id(id, k++), t.name, t.arguments});
  }
  a.truncated =
      c.result.finish == FinishReason::kLength || c.result.finish == FinishReason::kContextFull;
  a.input_tokens = c.result.n_prompt;
  a.cached_tokens = c.result.n_reused;
  a.output_tokens = static_cast<int64_t>(c.result.ids.size());
  // The think block's tokens, counted by encoding its text again (the reply's own ids are not
  // split by block; a re-encoding can differ by a token at the block's edges).
  a.reasoning_tokens = std::min<int64_t>(
      a.output_tokens, static_cast<int64_t>(tok.encode(c.reasoning, false).size()));
  return a;
}

Json LiveTimings::next() {
  const auto now = std::chrono::steady_clock::now();
  if (pieces++ == 0) first = now;
  const double gen_ms = std::chrono::duration<double, std::milli>(now - first).count();
  auto per_s = [](double n, double ms) { return ms > 0 ? n * 1e3 / ms : 0.0; };
  return {{"prompt_n", prompt_n},
          {"prompt_ms", prompt_ms},
          {"prompt_per_second", per_s(static_cast<double>(prompt_n), prompt_ms)},
          {"predicted_n", pieces},
          {"predicted_ms", gen_ms},
          {"predicted_per_second", per_s(static_cast<double>(pieces - 1), gen_ms)}};
}

}  // namespace longctx::server
