// OpenAI request parsing, error bodies (see openai.h); the answers' parts are in
// openai_response.cpp.
#include "server/openai.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <limits>
#include <random>
#include <type_traits>

#include "runtime/chat_prompt.h"
#include "runtime/sampler.h"
#include "server/constraint.h"

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

// The `rope_scaling` extension: "none" | "auto" | "linear:F" | "yarn:F", or {"type", "factor",
// "original_context"}; the frequency base stays the server's.
std::optional<ApiError> read_rope(const Json& v, const Engine& engine, const RequestDefaults& d,
                                  SeqConfig* out) {
  std::string type;
  double factor = 1.0;
  int64_t orig = 0;
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    const size_t colon = s.find(':');
    type = s.substr(0, colon);
    if (colon != std::string::npos) {
      char* end = nullptr;
      factor = std::strtod(s.c_str() + colon + 1, &end);
      if (end == s.c_str() + colon + 1 || *end != '\0') {
        return bad("'rope_scaling': bad factor in '" + s + "'");
      }
    }
  } else if (v.is_object()) {
    const auto t = v.find("type");
    if (t == v.end() || !t->is_string()) return bad("'rope_scaling.type' must be a string");
    type = t->get<std::string>();
    for (auto e : {read_number(v, "factor", 1.0, 1024.0, &factor),
                   read_number(v, "original_context", 1.0, 16777216.0, &orig)}) {
      if (e) {
        e->message = "'rope_scaling': " + e->message;
        return e;
      }
    }
  } else {
    return bad("'rope_scaling' must be a string (none, auto, linear:F, yarn:F) or an object");
  }
  if (!(factor >= 1.0 && factor <= 1024.0))
    return bad("'rope_scaling' factor must be in [1, 1024]");
  RopeChoice r;
  r.params = engine.rope_params();
  r.orig_ctx = orig > 0 ? orig : yarn_original_context(engine.hparams());
  r.params.scaling = ref::RopeScaling{};
  if (type == "none") {
  } else if (type == "auto") {
    r.adaptive = true;
  } else if (type == "linear" || type == "yarn") {
    r.params.scaling.type =
        type == "linear" ? ref::RopeScalingType::kLinear : ref::RopeScalingType::kYarn;
    r.params.scaling.factor = factor;
    r.params.scaling.original_context = r.orig_ctx;
  } else {
    return bad("'rope_scaling' type must be none, auto, linear or yarn, got '" + type + "'");
  }
  (void)d;
  out->rope = r;
  return std::nullopt;
}

// logit_bias: OpenAI's {"token id": bias} (bias in [-100, 100]), and llama-server's forms:
// [[id, bias]], [["text", bias]], {"text": bias}, with false for "never" (-infinity). A text
// biases each of its tokens.
std::optional<ApiError> read_logit_bias(const Json& v, const Engine& engine,
                                        std::vector<std::pair<int32_t, float>>* out) {
  const int64_t n_vocab = engine.hparams().n_vocab;
  auto add = [&](const Json& key, const Json& bias) -> std::optional<ApiError> {
    float b = 0;
    if (bias.is_boolean() && !bias.get<bool>()) {
      b = -INFINITY;
    } else if (bias.is_number() && bias.get<double>() >= -100.0 && bias.get<double>() <= 100.0) {
      b = bias.get<float>();
    } else {
      return bad("'logit_bias' values must be numbers in [-100, 100] (or false)");
    }
    std::vector<int32_t> ids;
    if (key.is_number_integer()) {
      ids.push_back(static_cast<int32_t>(key.get<int64_t>()));
    } else if (key.is_string()) {
      const std::string& k = key.get_ref<const std::string&>();
      char* end = nullptr;
      const long long id = std::strtoll(k.c_str(), &end, 10);
      if (!k.empty() && *end == '\0') {
        ids.push_back(static_cast<int32_t>(id));
      } else if (const Tokenizer* tok = engine.tokenizer()) {
        ids = tok->encode(k, /*parse_special=*/false);
      }
    } else {
      return bad("'logit_bias' keys must be token ids or text");
    }
    for (int32_t id : ids) {
      if (id < 0 || id >= n_vocab) {
        return bad("'logit_bias' token id " + std::to_string(id) + " is outside [0, " +
                   std::to_string(n_vocab) + ")");
      }
      out->emplace_back(id, b);
    }
    return std::nullopt;
  };
  if (v.is_object()) {
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (auto e = add(Json(it.key()), it.value())) return e;
    }
  } else if (v.is_array()) {
    for (const Json& pair : v) {
      if (!pair.is_array() || pair.size() != 2) {
        return bad("'logit_bias' as an array takes [token or text, bias] pairs");
      }
      if (auto e = add(pair[0], pair[1])) return e;
    }
  } else {
    return bad("'logit_bias' must be an object or an array of pairs");
  }
  if (out->size() > 1024) return bad("'logit_bias' biases at most 1024 tokens");
  return std::nullopt;
}

// Fields both endpoints share: sampling, limits, stop, stream, n, extensions.
std::optional<ApiError> read_common(const Engine& engine, const Json& body,
                                    const RequestDefaults& d, bool thinking, GenRequest* out) {
  if (!body.is_object()) return bad("the request body must be a JSON object");
  if (const auto it = body.find("model"); it != body.end() && !it->is_null()) {
    if (!it->is_string()) return bad("'model' must be a string");
    out->model = it->get<std::string>();
  }
  if (out->model.empty()) out->model = d.alias;
  SamplingParams sp = d.sampling ? d.sampling(thinking) : SamplingParams::qwen3_defaults(thinking);
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
  // A request without a seed gets the server's --seed, else a fresh one (OpenAI: sampling
  // differs between calls unless a seed is given). llama-server's -1 means "random" too.
  int64_t seed = -2;
  if (auto e = read_number(body, "seed", -1.0, 1.8e19, &seed)) return e;
  if (seed >= 0) {
    sp.seed = static_cast<uint64_t>(seed);
  } else if (seed == -2 && d.seed) {
    sp.seed = *d.seed;
  } else {
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    sp.seed = rng();
  }
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
  if (auto e = read_bool(body, "return_progress", &out->return_progress)) return e;
  int64_t n = 1;
  if (auto e = read_number(body, "n", 1.0, 128.0, &n)) return e;
  if (n > d.n_slots) {
    return bad("'n' is " + std::to_string(n) + " but the server decodes at most " +
               std::to_string(d.n_slots) + " sequences at once (its --parallel)");
  }
  out->n = static_cast<int>(n);
  bool ignore_eos = false;
  if (auto e = read_bool(body, "ignore_eos", &ignore_eos)) return e;
  out->options.ignore_eog = ignore_eos;

  // Extensions: experts per token (MoE) and RoPE scaling for this request.
  if (const auto it = body.find("experts"); it != body.end() && !it->is_null()) {
    const int64_t ne = engine.hparams().n_expert;
    if (ne <= 0) return bad("'experts' applies to Mixture-of-Experts models; this one is dense");
    int64_t k = 0;
    if (auto e = read_number(body, "experts", 1.0, static_cast<double>(ne), &k)) return e;
    out->config.experts = k;
  }
  if (const auto it = body.find("rope_scaling"); it != body.end() && !it->is_null()) {
    if (auto e = read_rope(*it, engine, d, &out->config)) return e;
  }
  if (const auto it = body.find("logit_bias"); it != body.end() && !it->is_null()) {
    if (auto e = read_logit_bias(*it, engine, &out->options.logit_bias)) return e;
  }
  if (auto e = read_bool(body, "cache_prompt", &out->cache_prompt)) return e;
  out->verbose = d.verbose;
  if (auto e = read_bool(body, "verbose", &out->verbose)) return e;
  out->options.on_full = d.on_full;
  return std::nullopt;
}

std::optional<ApiError> check_fits(const GenRequest& r, const RequestDefaults& d) {
  const int64_t n = static_cast<int64_t>(r.prompt.size());
  if (n < d.n_ctx) return std::nullopt;
  ApiError e;
  e.type = "exceed_context_size_error";
  e.code = "context_length_exceeded";
  // The first words as llama-server writes them (clients match on them).
  e.message = "request (" + std::to_string(n) + " tokens) exceeds the available context size (" +
              std::to_string(d.n_ctx) +
              " tokens), try increasing it: the context of a sequence must hold the prompt and "
              "at least one reply token (shorten the prompt, or start the server with a larger "
              "--ctx)";
  e.extra = {{"n_prompt_tokens", n}, {"n_ctx", d.n_ctx}};
  return e;
}

// messages: objects with a known role and text content (a string, null, or text parts).
std::optional<ApiError> check_messages(Json* msgs) {
  for (size_t i = 0; i < msgs->size(); ++i) {
    Json& m = (*msgs)[i];
    const std::string at = "'messages[" + std::to_string(i) + "]'";
    if (!m.is_object()) return bad(at + " must be an object");
    const auto role = m.find("role");
    if (role == m.end() || !role->is_string()) return bad(at + ".role must be a string");
    std::string r = role->get<std::string>();
    if (r == "developer") m["role"] = r = "system";
    if (r != "system" && r != "user" && r != "assistant" && r != "tool") {
      return bad(at + ".role must be system, developer, user, assistant or tool, got '" + r + "'");
    }
    const auto c = m.find("content");
    if (c == m.end() || c->is_null()) {
      if (r != "assistant") return bad(at + ".content is required for role '" + r + "'");
      continue;
    }
    if (c->is_string()) continue;
    if (!c->is_array()) return bad(at + ".content must be a string or an array of parts");
    for (size_t k = 0; k < c->size(); ++k) {
      const Json& part = (*c)[k];
      const std::string pat = at + ".content[" + std::to_string(k) + "]";
      if (!part.is_object()) return bad(pat + " must be an object");
      const auto type = part.find("type");
      if (type == part.end() || !type->is_string()) return bad(pat + ".type must be a string");
      if (*type != "text") {
        return bad(pat + ": content of type '" + type->get<std::string>() +
                   "' is not supported (this server runs a text-only model)");
      }
      const auto text = part.find("text");
      if (text == part.end() || !text->is_string()) return bad(pat + ".text must be a string");
    }
  }
  return std::nullopt;
}

// The requested output format: response_format, or llama-server's top-level json_schema (the
// schema itself), as one response_format value; null when free text.
// Reads `grammar` (GBNF) into out->gbnf; exclusive with a JSON constraint already set.
std::optional<ApiError> read_gbnf(const Json& body, bool after_think, const RequestDefaults& d,
                                  ReplyConstraint* out) {
  if (!has_gbnf_grammar(body)) return std::nullopt;
  if (out->grammar) {
    return bad(
        "'grammar' cannot be combined with 'response_format', 'json_schema' or a "
        "forced tool call");
  }
  if (!d.vocab) return bad("constrained decoding needs the model's tokenizer vocabulary");
  auto g = gbnf_grammar(body, after_think);
  if (!g) return bad(g.status().message());
  out->gbnf = std::move(g.value());
  return std::nullopt;
}

Json response_format_of(const Json& body) {
  if (const auto rf = body.find("response_format"); rf != body.end() && !rf->is_null()) return *rf;
  if (const auto js = body.find("json_schema"); js != body.end() && !js->is_null()) {
    return {{"type", "json_schema"}, {"json_schema", {{"schema", *js}}}};
  }
  return Json();
}

// tools: [{"type": "function", "function": {"name", "description", "parameters"}}].
std::optional<ApiError> check_tools(const Json& tools) {
  if (!tools.is_array()) return bad("'tools' must be an array");
  for (size_t i = 0; i < tools.size(); ++i) {
    const Json& t = tools[i];
    const std::string at = "'tools[" + std::to_string(i) + "]'";
    if (!t.is_object()) return bad(at + " must be an object");
    if (t.contains("type") && t["type"] != "function") return bad(at + ": type must be 'function'");
    const auto f = t.find("function");
    if (f == t.end() || !f->is_object()) return bad(at + ".function must be an object");
    const auto name = f->find("name");
    if (name == f->end() || !name->is_string() || name->get<std::string>().empty()) {
      return bad(at + ".function.name must be a non-empty string");
    }
    if (const auto p = f->find("parameters"); p != f->end() && !p->is_object()) {
      return bad(at + ".function.parameters must be an object (a JSON Schema)");
    }
  }
  return std::nullopt;
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

std::optional<ApiError> render_prompt_text(const Engine& engine, const Json& body,
                                           const RequestDefaults& d, std::string* text) {
  const auto msgs = body.find("messages");
  if (msgs == body.end() || !msgs->is_array() || msgs->empty()) {
    return bad("'messages' must be a non-empty array");
  }
  // The template sees the request as sent (messages, tools, chat_template_kwargs), with
  // OpenAI's "developer" role as the system role it stands for and the server's thinking
  // default where the request sets none.
  Json request = Json::object();
  for (const char* key : {"chat_template_kwargs", "tools"}) {
    if (const auto it = body.find(key); it != body.end() && !it->is_null()) request[key] = *it;
  }
  if (request.contains("chat_template_kwargs") && !request["chat_template_kwargs"].is_object()) {
    return bad("'chat_template_kwargs' must be an object");
  }
  if (request.contains("tools")) {
    if (auto e = check_tools(request["tools"])) return e;
  }
  // Always defined, as llama-server defines it: templates that test `not enable_thinking`
  // (QwQ's, DeepSeek-R1's as llama.cpp ships them) would otherwise close the think block.
  if (!(request.contains("chat_template_kwargs") && request["chat_template_kwargs"].is_object() &&
        request["chat_template_kwargs"].contains("enable_thinking"))) {
    request["chat_template_kwargs"]["enable_thinking"] = d.enable_thinking.value_or(true);
  }
  // Today's date, as llama-server gives every template (Llama 3.x prints "Today Date:
  // {date_string}", FireFunction "Today is {datetime}"); local time, unless the request sets them.
  {
    const std::time_t now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    char buf[64];
    Json& kw = request["chat_template_kwargs"];
    if (!kw.contains("date_string") && std::strftime(buf, sizeof buf, "%d %b %Y", &local) > 0) {
      kw["date_string"] = buf;
    }
    if (!kw.contains("datetime") && std::strftime(buf, sizeof buf, "%b %d %Y", &local) > 0) {
      kw["datetime"] = buf;
    }
    // FireFunction v2's template reads the tools as `functions`, JSON text (empty without
    // tools), which llama-server passes it; other templates never name it.
    if (!kw.contains("functions")) {
      kw["functions"] = request.contains("tools") && !request["tools"].empty()
                            ? request["tools"].dump(2)
                            : std::string();
    }
  }
  Json messages = *msgs;
  if (auto e = check_messages(&messages)) return e;
  // A final assistant message is a prefill the reply continues (as llama-server, vLLM's
  // continue_final_message and Anthropic do): the conversation before it is rendered with the
  // generation prompt, then its text follows. Two of them at the end make no sense.
  bool add_gen = true, cont = false;
  if (auto e = read_bool(body, "add_generation_prompt", &add_gen)) return e;
  if (auto e = read_bool(body, "continue_final_message", &cont)) return e;
  const bool explicit_add = body.contains("add_generation_prompt") && add_gen;
  if (cont && explicit_add) {
    return bad("Cannot set both add_generation_prompt and continue_final_message to true.");
  }
  size_t trailing = 0;
  for (size_t i = messages.size(); i > 0 && messages[i - 1]["role"] == "assistant"; --i) {
    ++trailing;
  }
  if (trailing >= 2) return bad("Cannot have 2 or more assistant messages at the end of the list.");
  std::string prefill;
  const bool prefilled = trailing == 1 && !messages.back().contains("tool_calls") &&
                         (cont || !body.contains("add_generation_prompt") || add_gen);
  if (prefilled) {
    const Json& c = messages.back()["content"];
    if (c.is_string()) {
      prefill = c.get<std::string>();
    } else if (c.is_array()) {
      for (const Json& part : c) {
        if (!prefill.empty()) prefill += "\n\n";
        prefill += part["text"].get<std::string>();
      }
    }
    messages.erase(messages.size() - 1);
    add_gen = true;
  }
  request["messages"] = std::move(messages);
  request["add_generation_prompt"] = add_gen;
  auto prompt = render_chat_request(engine, request);
  if (!prompt) return bad(prompt.status().message());
  if (!prompt->warning.empty()) {
    // The template could not render this request and plain ChatML stood in: said once on the
    // server's log (per process), so an operator sees why prompts differ from the template.
    static std::atomic<bool> warned{false};
    if (!warned.exchange(true)) {
      std::fprintf(stderr, "longctx serve: warning: %s (said once)\n", prompt->warning.c_str());
    }
  }
  *text = std::move(prompt->text);
  if (prefilled) *text += prefill;
  return std::nullopt;
}

std::optional<ApiError> parse_chat_request(const Engine& engine, const Json& body,
                                           const RequestDefaults& d, GenRequest* out) {
  if (!body.is_object()) return bad("the request body must be a JSON object");
  const auto msgs = body.find("messages");
  if (msgs == body.end() || !msgs->is_array() || msgs->empty()) {
    return bad("'messages' must be a non-empty array");
  }
  // A constrained reply (response_format, a forced tool call) skips thinking unless the request
  // asks for it: the document is what such a client wants, and reasoning first would spend the
  // max_tokens it budgeted for it.
  const bool constrained = !response_format_of(body).is_null() || has_gbnf_grammar(body) ||
                           (body.contains("tool_choice") &&
                            (body["tool_choice"] == "required" || body["tool_choice"].is_object()));
  bool thinking = d.enable_thinking.value_or(!constrained);
  bool thinking_asked = false;
  if (const auto kw = body.find("chat_template_kwargs"); kw != body.end() && !kw->is_null()) {
    if (!kw->is_object()) return bad("'chat_template_kwargs' must be an object");
    if (auto e = read_bool(*kw, "enable_thinking", &thinking)) return e;
    thinking_asked = kw->contains("enable_thinking");
  }
  Json with_thinking;  // the body with the thinking choice made explicit for the template
  if (!thinking_asked) {
    with_thinking = body;
    with_thinking["chat_template_kwargs"]["enable_thinking"] = thinking;
  }
  const Json& req_body = thinking_asked ? body : with_thinking;
  out->chat = true;
  if (auto e = read_common(engine, body, d, thinking, out)) return e;
  // Log-probabilities: logprobs (bool) and top_logprobs (0..20).
  bool logprobs = false;
  if (auto e = read_bool(body, "logprobs", &logprobs)) return e;
  int64_t top = 0;
  if (auto e = read_number(body, "top_logprobs", 0.0, 20.0, &top)) return e;
  if (top > 0 && !logprobs) return bad("'top_logprobs' needs 'logprobs': true");
  out->options.n_probs = logprobs ? static_cast<int32_t>(top) : -1;

  const Tokenizer* tok = engine.tokenizer();
  if (!tok) return bad("the model file has no tokenizer");
  // Tools and tool_choice: "none" hides the tools from the model; "auto" (the default) lets it
  // call them; "required" or a named function forces a call by constrained decoding.
  Json tools;
  if (const auto it = body.find("tools"); it != body.end() && !it->is_null()) {
    if (auto e = check_tools(*it)) return e;
    if (!it->empty()) tools = *it;
  }
  std::string choice = "auto", forced_name;
  if (const auto it = body.find("tool_choice"); it != body.end() && !it->is_null()) {
    if (it->is_string()) {
      choice = it->get<std::string>();
      if (choice != "auto" && choice != "none" && choice != "required") {
        return bad("'tool_choice' must be none, auto, required or a function object");
      }
    } else if (it->is_object() && it->contains("function") && (*it)["function"].is_object() &&
               (*it)["function"].contains("name") && (*it)["function"]["name"].is_string()) {
      choice = "function";
      forced_name = (*it)["function"]["name"].get<std::string>();
    } else {
      return bad(
          "'tool_choice' must be none, auto, required or "
          "{\"type\": \"function\", \"function\": {\"name\": ...}}");
    }
    if (choice != "none" && choice != "auto" && tools.is_null()) {
      return bad("'tool_choice' forces a tool call but 'tools' is empty");
    }
  }
  Json request = req_body;
  if (tools.is_null() || choice == "none") request.erase("tools");
  out->parse_tools = !tools.is_null() && choice != "none";
  std::string text;
  if (auto e = render_prompt_text(engine, request, d, &text)) return e;
  out->prompt = tok->encode(text, /*parse_special=*/true);
  out->prompt_text = text;
  out->starts_in_think = text.size() >= 8 && text.compare(text.size() - 8, 8, "<think>\n") == 0;
  if (out->prompt.empty()) return bad("the rendered prompt is empty");

  // Constrained output: a forced tool call, or response_format. With thinking on, the model
  // first writes its reasoning (free); the constraint starts when the think block closes.
  out->constraint.after_think = thinking && !out->starts_in_think;
  Result<std::shared_ptr<const Grammar>> g = std::shared_ptr<const Grammar>();
  if (choice == "required" || choice == "function") {
    g = tool_call_grammar(tools, forced_name, out->constraint.after_think);
  } else if (const Json rf = response_format_of(body); !rf.is_null()) {
    g = response_format_grammar(rf, out->constraint.after_think);
  }
  if (!g) return bad(g.status().message());
  out->constraint.grammar = *g;
  if (out->constraint.grammar && !d.vocab) {
    return bad("constrained decoding needs the model's tokenizer vocabulary");
  }
  if (auto e = read_gbnf(body, out->constraint.after_think, d, &out->constraint)) return e;
  return check_fits(*out, d);
}

std::optional<ApiError> parse_completion_request(const Engine& engine, const Json& body,
                                                 const RequestDefaults& d, GenRequest* out) {
  out->chat = false;
  if (auto e = read_common(engine, body, d, /*thinking=*/false, out)) return e;
  // Legacy logprobs: an integer, the number of alternatives (0: the sampled token's own);
  // llama-server's n_probs the same.
  int64_t lp = -1;
  if (const auto it = body.find("logprobs"); it != body.end() && it->is_boolean()) {
    lp = it->get<bool>() ? 0 : -1;
  } else if (auto e = read_number(body, "logprobs", 0.0, 20.0, &lp)) {
    return e;
  }
  if (auto e = read_number(body, "n_probs", 0.0, 20.0, &lp)) return e;
  out->options.n_probs = static_cast<int32_t>(lp);
  if (auto e = read_bool(body, "post_sampling_probs", &out->options.post_sampling_probs)) return e;
  const Tokenizer* tok = engine.tokenizer();
  if (!tok) return bad("the model file has no tokenizer");
  const auto p = body.find("prompt");
  if (p == body.end() || p->is_null()) return bad("'prompt' is required");
  // One prompt: text, token ids, llama-server's mix of ids and text ([12, "text", 34]) or
  // {"prompt_string": text}. Several: an array of those (or of texts), answered one choice (or,
  // on /completion, one result) per prompt.
  const int64_t n_vocab = engine.hparams().n_vocab;
  auto one = [&](const Json& v, std::vector<int32_t>* ids) -> std::optional<ApiError> {
    if (v.is_string()) {
      *ids = tok->encode(v.get<std::string>(), /*parse_special=*/true);
    } else if (v.is_object()) {
      if (v.contains("multimodal_data")) {
        return bad("'prompt' holds multimodal data, but this server runs a text-only model");
      }
      const auto ps = v.find("prompt_string");
      if (ps == v.end() || !ps->is_string()) return bad("'prompt.prompt_string' must be a string");
      *ids = tok->encode(ps->get<std::string>(), true);
    } else if (v.is_array()) {
      for (const Json& x : v) {
        if (x.is_string()) {
          const std::vector<int32_t> t = tok->encode(x.get<std::string>(), true);
          ids->insert(ids->end(), t.begin(), t.end());
        } else if (x.is_number_integer() && x.get<int64_t>() >= 0 && x.get<int64_t>() < n_vocab) {
          ids->push_back(static_cast<int32_t>(x.get<int64_t>()));
        } else {
          return bad("'prompt' token ids must be integers in [0, " + std::to_string(n_vocab) + ")");
        }
      }
    } else {
      return bad("'prompt' must be a string, an array of token ids, or an array of prompts");
    }
    if (ids->empty()) return bad("'prompt' is empty");
    return std::nullopt;
  };
  std::vector<const Json*> items;
  if (p->is_array()) {
    bool any_id = false, any_nested = false;
    for (const Json& x : *p) {
      any_id = any_id || x.is_number();
      any_nested = any_nested || x.is_array() || x.is_object();
    }
    if (p->empty()) return bad("'prompt' is empty");
    if (any_id && !any_nested) {
      items.push_back(&*p);  // one sequence of ids (and texts)
    } else {
      for (const Json& x : *p) items.push_back(&x);
    }
  } else {
    items.push_back(&*p);
  }
  if (items.size() > 64) return bad("'prompt' holds more than 64 prompts");
  if (items.size() > 1 && out->n > 1) return bad("'n' > 1 takes a single prompt");
  for (const Json* item : items) {
    std::vector<int32_t> ids;
    if (auto e = one(*item, &ids)) return e;
    out->prompts.push_back(std::move(ids));
  }
  out->prompt = out->prompts.front();
  for (const std::vector<int32_t>& ids : out->prompts) {
    GenRequest one_req;
    one_req.prompt = ids;
    if (auto e = check_fits(one_req, d)) return e;
  }
  if (out->prompt.empty()) return bad("'prompt' is empty");
  out->prompt_text = p->is_string() ? p->get<std::string>() : std::string();
  if (const Json rf = response_format_of(body); !rf.is_null()) {
    auto g = response_format_grammar(rf, /*after_think=*/false);
    if (!g) return bad(g.status().message());
    out->constraint.grammar = *g;
    if (out->constraint.grammar && !d.vocab) {
      return bad("constrained decoding needs the model's tokenizer vocabulary");
    }
  }
  if (auto e = read_gbnf(body, /*after_think=*/false, d, &out->constraint)) return e;
  return check_fits(*out, d);
}

}  // namespace longctx::server
