// OpenAI answers' parts (see openai.h): finish reasons, usage and timings, log-probabilities in
// the chat and legacy shapes, tool calls.
#include <cmath>
#include <string>
#include <vector>

#include "server/openai.h"

namespace longctx::server {
namespace {

// llama-server's clients expect a build tag of the form "b<number>-<hash>".
constexpr const char* kFingerprint = "b1-longctx";

// The fields every answer and stream chunk starts with, in OpenAI's order.
Json envelope(const GenRequest& req, const std::string& id, int64_t created, const char* object) {
  return {{"id", id},
          {"object", object},
          {"created", created},
          {"model", req.model},
          {"system_fingerprint", kFingerprint}};
}

}  // namespace

std::string finish_reason(FinishReason r, bool has_tool_calls) {
  if (has_tool_calls) return "tool_calls";
  switch (r) {
    case FinishReason::kLength:
    case FinishReason::kContextFull:
      return "length";
    default:
      return "stop";
  }
}

Json usage_body(const std::vector<ChoiceOut>& choices) {
  // The choices of one prompt share it (count it once); several prompts each count.
  int64_t prompt = 0, cached = 0, completion = 0;
  for (const ChoiceOut& c : choices) {
    completion += static_cast<int64_t>(c.result.ids.size());
    if (c.own_prompt) {
      prompt += c.result.n_prompt;
      cached += c.result.n_reused;
    }
  }
  return {{"prompt_tokens", prompt},
          {"completion_tokens", completion},
          {"total_tokens", prompt + completion},
          {"prompt_tokens_details", {{"cached_tokens", cached}}}};
}

Json timings_body(const std::vector<ChoiceOut>& choices) {
  const GenerateResult& r0 = choices.front().result;
  int64_t predicted = 0;
  double gen_s = 0;
  for (const ChoiceOut& c : choices) {
    predicted += static_cast<int64_t>(c.result.ids.size());
    gen_s = std::max(gen_s, c.result.gen_seconds);
  }
  const int64_t prompt_n = r0.n_prompt - r0.n_reused;
  auto per_s = [](double n, double s) { return s > 0 ? n / s : 0.0; };
  return {{"cache_n", r0.n_reused},
          {"prompt_n", prompt_n},
          {"prompt_ms", r0.prompt_seconds * 1e3},
          {"prompt_per_second", per_s(static_cast<double>(prompt_n), r0.prompt_seconds)},
          {"predicted_n", predicted},
          {"predicted_ms", gen_s * 1e3},
          {"predicted_per_second", per_s(static_cast<double>(predicted), gen_s)}};
}

Json logprob_entry(const Tokenizer& tok, const std::string& text, const TokenProbs& p) {
  // OpenAI's floor for very unlikely tokens (JSON has no -infinity).
  auto clamp = [](float l) { return std::max(l, -9999.0f); };
  auto bytes = [](const std::string& s) {
    Json b = Json::array();
    for (unsigned char c : s) b.push_back(static_cast<int>(c));
    return b;
  };
  Json top = Json::array();
  for (const auto& [id, lp] : p.top) {
    const std::string piece = tok.token_piece(id);
    top.push_back({{"id", id}, {"token", piece}, {"logprob", clamp(lp)}, {"bytes", bytes(piece)}});
  }
  return {{"id", p.id},
          {"token", text},
          {"logprob", clamp(p.logprob)},
          {"bytes", bytes(text)},
          {"top_logprobs", top}};
}

Json post_sampling_entries(const Json& entries) {
  auto prob = [](const Json& e) { return std::exp(e["logprob"].get<double>()); };
  Json out = Json::array();
  for (Json e : entries) {
    Json top = Json::array();
    for (const Json& a : e["top_logprobs"]) {
      top.push_back(
          {{"id", a["id"]}, {"token", a["token"]}, {"prob", prob(a)}, {"bytes", a["bytes"]}});
    }
    e["prob"] = prob(e);
    e.erase("logprob");
    e.erase("top_logprobs");
    e["top_probs"] = std::move(top);
    out.push_back(std::move(e));
  }
  return out;
}

Json legacy_logprobs(const Json& entries) {
  Json tokens = Json::array(), lps = Json::array(), tops = Json::array(), offs = Json::array();
  size_t off = 0;
  for (const Json& e : entries) {
    const std::string& t = e["token"].get_ref<const std::string&>();
    tokens.push_back(t);
    lps.push_back(e["logprob"]);
    Json top = Json::object();
    for (const Json& a : e["top_logprobs"]) top[a["token"].get<std::string>()] = a["logprob"];
    tops.push_back(top);
    offs.push_back(off);
    off += t.size();
  }
  return {
      {"tokens", tokens}, {"token_logprobs", lps}, {"top_logprobs", tops}, {"text_offset", offs}};
}

Json tool_calls_json(const std::vector<chat::ToolCall>& calls, const std::string& id) {
  Json out = Json::array();
  for (size_t i = 0; i < calls.size(); ++i) {
    out.push_back({{"id", id + "-call-" + std::to_string(i)},
                   {"type", "function"},
                   {"function", {{"name", calls[i].name}, {"arguments", calls[i].arguments}}}});
  }
  return out;
}

Json chat_completion_body(const GenRequest& req, const std::vector<ChoiceOut>& choices,
                          const std::string& id, int64_t created) {
  Json arr = Json::array();
  for (size_t i = 0; i < choices.size(); ++i) {
    const ChoiceOut& c = choices[i];
    const bool calls = !c.tool_calls.empty();
    Json msg = {{"role", "assistant"}, {"content", c.content}};
    if (calls && c.content.empty()) msg["content"] = nullptr;
    if (!c.reasoning.empty()) msg["reasoning_content"] = c.reasoning;
    if (calls) msg["tool_calls"] = tool_calls_json(c.tool_calls, id + "-" + std::to_string(i));
    Json lp = req.options.n_probs >= 0 ? Json{{"content", c.logprobs}} : Json();
    arr.push_back({{"index", i},
                   {"message", msg},
                   {"logprobs", lp},
                   {"finish_reason", finish_reason(c.result.finish, calls)}});
  }
  Json out = envelope(req, id, created, "chat.completion");
  out["choices"] = std::move(arr);
  out["usage"] = usage_body(choices);
  out["timings"] = timings_body(choices);
  return out;
}

Json completion_body(const GenRequest& req, const std::vector<ChoiceOut>& choices,
                     const std::string& id, int64_t created) {
  Json arr = Json::array();
  for (size_t i = 0; i < choices.size(); ++i) {
    const ChoiceOut& c = choices[i];
    arr.push_back({{"index", i},
                   {"text", c.content},
                   {"logprobs", req.options.n_probs >= 0 ? legacy_logprobs(c.logprobs) : Json()},
                   {"finish_reason", finish_reason(c.result.finish, false)}});
  }
  Json out = envelope(req, id, created, "text_completion");
  out["choices"] = std::move(arr);
  out["usage"] = usage_body(choices);
  out["timings"] = timings_body(choices);
  return out;
}

Json chat_chunk(const GenRequest& req, const std::string& id, int64_t created, int index,
                const Json& delta, const std::string& finish) {
  Json out = envelope(req, id, created, "chat.completion.chunk");
  out["choices"] = Json::array({{{"index", index},
                                 {"delta", delta},
                                 {"logprobs", nullptr},
                                 {"finish_reason", finish.empty() ? Json() : Json(finish)}}});
  return out;
}

Json completion_chunk(const GenRequest& req, const std::string& id, int64_t created, int index,
                      const std::string& text, const std::string& finish) {
  Json out = envelope(req, id, created, "text_completion");
  out["choices"] = Json::array({{{"index", index},
                                 {"text", text},
                                 {"logprobs", nullptr},
                                 {"finish_reason", finish.empty() ? Json() : Json(finish)}}});
  return out;
}

}  // namespace longctx::server
