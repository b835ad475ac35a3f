// OpenAI request parsing and response bodies (see openai.h).
#include "server/openai.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "runtime/chat_prompt.h"
#include "runtime/sampler.h"

namespace longctx::server {
namespace {

ApiError bad(std::string message) {
  ApiError e;
  e.message = std::move(message);
  return e;
}

// body[key] as a number in [lo, hi] into *out when present and not null.
template <class T>
std::optional<ApiError> read_number(const Json& body, const char* key, double lo, double hi,
                                    T* out) {
  const auto it = body.find(key);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_number()) return bad(std::string("'") + key + "' must be a number");
  const double v = it->get<double>();
  if (!(v >= lo && v <= hi)) {
    return bad(std::string("'") + key + "' must be in [" + Json(lo).dump() + ", " +
               Json(hi).dump() + "], got " + it->dump());
  }
  if constexpr (std::is_integral_v<T>) {
    if (!it->is_number_integer() && v != std::floor(v)) {
      return bad(std::string("'") + key + "' must be an integer, got " + it->dump());
    }
  }
  *out = static_cast<T>(v);
  return std::nullopt;
}

std::optional<ApiError> read_bool(const Json& body, const char* key, bool* out) {
  const auto it = body.find(key);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_boolean()) return bad(std::string("'") + key + "' must be a boolean");
  *out = it->get<bool>();
  return std::nullopt;
}

// Fields both endpoints share: sampling, limits, stop, stream, n.
std::optional<ApiError> read_common(const Json& body, const RequestDefaults& d, bool thinking,
                                    GenRequest* out) {
  if (!body.is_object()) return bad("the request body must be a JSON object");
  if (const auto it = body.find("model"); it != body.end() && !it->is_null()) {
    if (!it->is_string()) return bad("'model' must be a string");
    out->model = it->get<std::string>();
  }
  if (out->model.empty()) out->model = d.alias;
  SamplingParams sp = SamplingParams::qwen3_defaults(thinking);
  constexpr double kBig = 1e9;
  if (auto e = read_number(body, "temperature", 0.0, 2.0, &sp.temperature)) return e;
  if (auto e = read_number(body, "top_p", 0.0, 1.0, &sp.top_p)) return e;
  if (sp.top_p <= 0.0f) return bad("'top_p' must be in (0, 1]");
  if (auto e = read_number(body, "top_k", -1.0, kBig, &sp.top_k)) return e;
  if (sp.top_k < 0) sp.top_k = 0;  // llama-server: <= 0 keeps every token
  if (auto e = read_number(body, "min_p", 0.0, 1.0, &sp.min_p)) return e;
  if (auto e = read_number(body, "presence_penalty", -2.0, 2.0, &sp.presence_penalty)) return e;
  if (auto e = read_number(body, "frequency_penalty", -2.0, 2.0, &sp.frequency_penalty)) return e;
  if (auto e = read_number(body, "repeat_penalty", 1e-6, 100.0, &sp.repetition_penalty)) return e;
  if (auto e = read_number(body, "repetition_penalty", 1e-6, 100.0, &sp.repetition_penalty)) {
    return e;
  }
  if (auto e = read_number(body, "repeat_last_n", -1.0, kBig, &sp.penalty_last_n)) return e;
  if (auto e = read_number(body, "seed", 0.0, 1.8e19, &sp.seed)) return e;
  if (Status st = sp.validate(); !st.is_ok()) return bad(st.message());
  out->options.sampling = sp;

  int64_t max_tokens = d.max_tokens;
  for (const char* key : {"max_tokens", "max_completion_tokens", "n_predict"}) {
    int64_t v = -2;
    if (auto e = read_number(body, key, -1.0, kBig, &v)) return e;
    if (v != -2) max_tokens = v;
  }
  if (max_tokens == 0) return bad("'max_tokens' must be at least 1");
  out->options.max_tokens = max_tokens;

  if (const auto it = body.find("stop"); it != body.end() && !it->is_null()) {
    std::vector<std::string> stop;
    if (it->is_string()) {
      stop.push_back(it->get<std::string>());
    } else if (it->is_array()) {
      for (const Json& s : *it) {
        if (!s.is_string()) return bad("'stop' must be a string or an array of strings");
        stop.push_back(s.get<std::string>());
      }
    } else {
      return bad("'stop' must be a string or an array of strings");
    }
    if (stop.size() > 16) return bad("'stop' takes at most 16 strings");
    for (const std::string& s : stop) {
      if (s.empty()) return bad("'stop' strings must not be empty");
    }
    out->options.stop = std::move(stop);
  }
  if (auto e = read_bool(body, "stream", &out->stream)) return e;
  if (const auto it = body.find("stream_options"); it != body.end() && !it->is_null()) {
    if (!it->is_object()) return bad("'stream_options' must be an object");
    if (auto e = read_bool(*it, "include_usage", &out->include_usage)) return e;
  }
  int64_t n = 1;
  if (auto e = read_number(body, "n", 1.0, 128.0, &n)) return e;
  if (n != 1) {
    ApiError e = bad("'n' > 1 is not supported yet: send one request per choice");
    e.status = 400;
    return e;
  }
  out->options.on_full = OnFull::kStop;
  return std::nullopt;
}

std::optional<ApiError> check_fits(const GenRequest& r, const RequestDefaults& d) {
  const int64_t n = static_cast<int64_t>(r.prompt.size());
  if (n < d.n_ctx) return std::nullopt;
  ApiError e;
  e.type = "exceed_context_size_error";
  e.code = "context_length_exceeded";
  e.message = "the request has " + std::to_string(n) +
              " prompt tokens, but the context of a "
              "sequence holds " +
              std::to_string(d.n_ctx) +
              " (and a reply needs at least one "
              "more): shorten the prompt, or start the server with a larger --ctx";
  e.extra = {{"n_prompt_tokens", n}, {"n_ctx", d.n_ctx}};
  return e;
}

}  // namespace

Json error_body(const ApiError& e) {
  Json err = {{"code", e.code.empty() ? Json(e.status) : Json(e.code)},
              {"message", e.message},
              {"type", e.type}};
  for (auto it = e.extra.begin(); it != e.extra.end(); ++it) err[it.key()] = it.value();
  return Json{{"error", err}};
}

std::string dump(const Json& j) {
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::optional<ApiError> parse_chat_request(const Engine& engine, const Json& body,
                                           const RequestDefaults& d, GenRequest* out) {
  if (!body.is_object()) return bad("the request body must be a JSON object");
  const auto msgs = body.find("messages");
  if (msgs == body.end() || !msgs->is_array() || msgs->empty()) {
    return bad("'messages' must be a non-empty array");
  }
  bool thinking = true;
  if (const auto kw = body.find("chat_template_kwargs"); kw != body.end() && !kw->is_null()) {
    if (!kw->is_object()) return bad("'chat_template_kwargs' must be an object");
    if (auto e = read_bool(*kw, "enable_thinking", &thinking)) return e;
  }
  out->chat = true;
  if (auto e = read_common(body, d, thinking, out)) return e;
  const Tokenizer* tok = engine.tokenizer();
  if (!tok) return bad("the model file has no tokenizer");
  // The template sees the request as sent (messages, tools, chat_template_kwargs).
  Json request = Json::object();
  for (const char* key : {"messages", "tools", "chat_template_kwargs", "add_generation_prompt"}) {
    if (const auto it = body.find(key); it != body.end()) request[key] = *it;
  }
  auto prompt = render_chat_request(engine, request);
  if (!prompt) return bad(prompt.status().message());
  out->prompt = tok->encode(prompt->text, /*parse_special=*/true);
  const std::string& t = prompt->text;
  out->starts_in_think = t.size() >= 8 && t.compare(t.size() - 8, 8, "<think>\n") == 0;
  if (out->prompt.empty()) return bad("the rendered prompt is empty");
  return check_fits(*out, d);
}

std::optional<ApiError> parse_completion_request(const Engine& engine, const Json& body,
                                                 const RequestDefaults& d, GenRequest* out) {
  out->chat = false;
  if (auto e = read_common(body, d, /*thinking=*/false, out)) return e;
  const Tokenizer* tok = engine.tokenizer();
  if (!tok) return bad("the model file has no tokenizer");
  const auto p = body.find("prompt");
  if (p == body.end() || p->is_null()) return bad("'prompt' is required");
  const int64_t n_vocab = engine.hparams().n_vocab;
  auto ids_from = [&](const Json& arr) -> std::optional<ApiError> {
    for (const Json& v : arr) {
      if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() >= n_vocab) {
        return bad("'prompt' token ids must be integers in [0, " + std::to_string(n_vocab) + ")");
      }
      out->prompt.push_back(static_cast<int32_t>(v.get<int64_t>()));
    }
    return std::nullopt;
  };
  if (p->is_string()) {
    out->prompt = tok->encode(p->get<std::string>(), /*parse_special=*/true);
  } else if (p->is_array() && p->size() == 1 && (*p)[0].is_string()) {
    out->prompt = tok->encode((*p)[0].get<std::string>(), true);
  } else if (p->is_array() && !p->empty() && (*p)[0].is_number()) {
    if (auto e = ids_from(*p)) return e;
  } else if (p->is_array() && p->size() > 1) {
    return bad("several prompts in one request are not supported yet: send one per request");
  } else {
    return bad("'prompt' must be a string or an array of token ids");
  }
  if (out->prompt.empty()) return bad("'prompt' is empty");
  return check_fits(*out, d);
}

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

Json usage_body(const GenerateResult& r) {
  const int64_t completion = static_cast<int64_t>(r.ids.size());
  return {{"prompt_tokens", r.n_prompt},
          {"completion_tokens", completion},
          {"total_tokens", r.n_prompt + completion},
          {"prompt_tokens_details", {{"cached_tokens", r.n_reused}}}};
}

Json chat_completion_body(const GenRequest& req, const GenerateResult& r, const std::string& id,
                          int64_t created) {
  chat::OutputParseOptions po;
  po.starts_in_think = req.starts_in_think;
  const chat::ParsedOutput parsed = chat::parse_model_output(r.text, po);
  Json msg = {{"role", "assistant"}, {"content", parsed.content}};
  if (!parsed.reasoning.empty()) msg["reasoning_content"] = parsed.reasoning;
  bool calls = false;
  Json tool_calls = Json::array();
  for (size_t i = 0; i < parsed.tool_calls.size(); ++i) {
    const chat::ToolCall& c = parsed.tool_calls[i];
    if (!c.error.empty()) continue;
    tool_calls.push_back({{"id", id + "-call-" + std::to_string(i)},
                          {"type", "function"},
                          {"function", {{"name", c.name}, {"arguments", c.arguments}}}});
    calls = true;
  }
  if (calls) {
    msg["tool_calls"] = tool_calls;
    if (parsed.content.empty()) msg["content"] = nullptr;
  }
  return {{"id", id},
          {"object", "chat.completion"},
          {"created", created},
          {"model", req.model},
          {"choices", Json::array({{{"index", 0},
                                    {"message", msg},
                                    {"logprobs", nullptr},
                                    {"finish_reason", finish_reason(r.finish, calls)}}})},
          {"usage", usage_body(r)}};
}

Json completion_body(const GenRequest& req, const GenerateResult& r, const std::string& id,
                     int64_t created) {
  return {{"id", id},
          {"object", "text_completion"},
          {"created", created},
          {"model", req.model},
          {"choices", Json::array({{{"index", 0},
                                    {"text", r.text},
                                    {"logprobs", nullptr},
                                    {"finish_reason", finish_reason(r.finish, false)}}})},
          {"usage", usage_body(r)}};
}

Json chat_chunk(const GenRequest& req, const std::string& id, int64_t created, const Json& delta,
                const std::string& finish) {
  return {{"id", id},
          {"object", "chat.completion.chunk"},
          {"created", created},
          {"model", req.model},
          {"choices", Json::array({{{"index", 0},
                                    {"delta", delta},
                                    {"logprobs", nullptr},
                                    {"finish_reason", finish.empty() ? Json() : Json(finish)}}})}};
}

Json completion_chunk(const GenRequest& req, const std::string& id, int64_t created,
                      const std::string& text, const std::string& finish) {
  return {{"id", id},
          {"object", "text_completion"},
          {"created", created},
          {"model", req.model},
          {"choices", Json::array({{{"index", 0},
                                    {"text", text},
                                    {"logprobs", nullptr},
                                    {"finish_reason", finish.empty() ? Json() : Json(finish)}}})}};
}

}  // namespace longctx::server
