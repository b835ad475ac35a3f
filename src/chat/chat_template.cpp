// ChatTemplate parse/render, tokenizer_config reading, OpenAI request validation and the ChatML
// fallback (see chat_template.h).
#include "chat/chat_template.h"

#include "chat/jinja_builtins.h"
#include "chat/value.h"

namespace longctx::chat {

namespace {

// No nlohmann exception may leave the public API: a type error that slipped past the checks
// becomes an error Status naming the operation.
template <typename F>
auto without_json_exceptions(const char* what, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const nlohmann::json::exception& e) {
    return invalid_argument(std::string(what) + ": " + e.what());
  }
}

}  // namespace

Result<ChatTemplate> ChatTemplate::parse(std::string_view source, const ParserLimits& limits) {
  auto body = parse_template(source, limits);
  if (!body.is_ok()) return body.status();
  ChatTemplate t;
  t.body_ = std::make_shared<const Body>(std::move(*body));
  return t;
}

Result<std::string> ChatTemplate::render(const Json& context, const RenderLimits& limits) const {
  if (!context.is_object()) return invalid_argument("template context must be a JSON object");
  return without_json_exceptions("template context", [&]() -> Result<std::string> {
    auto values = Value::from_json(context);
    if (!values.is_ok()) return values.status().with_context("template context");
    return render_template(*body_, *values, limits);
  });
}

namespace {

std::string token_text(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string())
    return v["content"].get<std::string>();
  return "";
}

std::string field(const std::string& path, const std::string& key) { return path + "." + key; }

Status check_message(Json& m, const std::string& path, const RequestOptions& options) {
  if (!m.is_object()) return invalid_argument(path + " must be an object");
  if (!m.contains("role") || !m["role"].is_string())
    return invalid_argument(field(path, "role") + " must be a string");
  const std::string role = m["role"].get<std::string>();
  Json& content = m["content"];  // creates null when missing
  if (content.is_array()) {
    // OpenAI content parts: only text parts can go into a text prompt; join them.
    std::string text;
    for (size_t k = 0; k < content.size(); ++k) {
      const Json& part = content[k];
      std::string ppath = field(path, "content") + "[" + std::to_string(k) + "]";
      if (!part.is_object() || !part.contains("type") || !part["type"].is_string()) {
        return invalid_argument(ppath + " must be an object with a string 'type'");
      }
      if (part["type"] != "text") {
        return invalid_argument(ppath + ".type '" + part["type"].get<std::string>() +
                                "' is not supported (text only)");
      }
      if (!part.contains("text") || !part["text"].is_string())
        return invalid_argument(ppath + ".text must be a string");
      text += part["text"].get<std::string>();
    }
    content = text;
  } else if (content.is_null()) {
    if (role != "assistant")
      return invalid_argument(field(path, "content") + " is required for role '" + role + "'");
    content = "";  // an assistant turn that only calls tools
  } else if (!content.is_string()) {
    return invalid_argument(field(path, "content") +
                            " must be a string, an array of text parts, or null");
  }
  if (m.contains("reasoning_content") && !m["reasoning_content"].is_string() &&
      !m["reasoning_content"].is_null()) {
    return invalid_argument(field(path, "reasoning_content") + " must be a string or null");
  }
  if (!m.contains("tool_calls")) return Status::ok();
  Json& calls = m["tool_calls"];
  if (calls.is_null()) return Status::ok();
  if (!calls.is_array()) return invalid_argument(field(path, "tool_calls") + " must be an array");
  for (size_t k = 0; k < calls.size(); ++k) {
    std::string cpath = field(path, "tool_calls") + "[" + std::to_string(k) + "]";
    Json& call = calls[k];
    if (!call.is_object()) return invalid_argument(cpath + " must be an object");
    Json* fn = call.contains("function") ? &call["function"] : &call;
    std::string fpath = call.contains("function") ? cpath + ".function" : cpath;
    if (!fn->is_object()) return invalid_argument(fpath + " must be an object");
    if (!fn->contains("name") || !(*fn)["name"].is_string())
      return invalid_argument(fpath + ".name must be a string");
    if (!fn->contains("arguments")) {
      (*fn)["arguments"] = Json::object();
      continue;
    }
    Json& args = (*fn)["arguments"];
    if (args.is_string()) {
      if (!options.decode_tool_arguments) continue;
      Json parsed = Json::parse(args.get<std::string>(), nullptr, false);
      // Checked here, before the context's next insert (ordered_json copies its items when it
      // grows, recursively): request > messages > [k] > tool_calls > [j] (> function) > here.
      const int level = fn == &call ? 6 : 7;
      LONGCTX_RETURN_IF_ERROR(check_json_depth(parsed, kMaxValueDepth - level + 1,
                                               "request: " + fpath + ".arguments (decoded)"));
      if (parsed.is_object()) args = std::move(parsed);
    } else if (!args.is_object()) {
      return invalid_argument(fpath + ".arguments must be a JSON string or an object");
    }
  }
  return Status::ok();
}

Result<TemplateSource> template_source_from_config_checked(const Json& config) {
  if (!config.is_object()) return invalid_format("tokenizer_config.json: not a JSON object");
  TemplateSource s;
  if (!config.contains("chat_template"))
    return not_found("tokenizer_config.json: no 'chat_template'");
  const Json& t = config["chat_template"];
  if (t.is_string()) {
    s.chat_template = t.get<std::string>();
  } else if (t.is_array()) {
    for (const auto& e : t) {
      if (e.is_object() && e.contains("name") && e["name"] == "default" && e.contains("template") &&
          e["template"].is_string()) {
        s.chat_template = e["template"].get<std::string>();
      }
    }
    if (s.chat_template.empty())
      return not_found("tokenizer_config.json: 'chat_template' list has no 'default' entry");
  } else {
    return invalid_format("tokenizer_config.json: 'chat_template' must be a string or a list");
  }
  if (config.contains("bos_token")) s.bos_token = token_text(config["bos_token"]);
  if (config.contains("eos_token")) s.eos_token = token_text(config["eos_token"]);
  if (config.contains("pad_token")) s.pad_token = token_text(config["pad_token"]);
  if (config.contains("unk_token")) s.unk_token = token_text(config["unk_token"]);
  return s;
}

Result<Json> context_from_request_checked(const Json& request, const TemplateSource& source,
                                          const RequestOptions& options) {
  if (!request.is_object()) return invalid_argument("request body must be a JSON object");
  // Before anything copies or converts it (both recurse): a request nested 20k deep must not
  // overflow the stack.
  LONGCTX_RETURN_IF_ERROR(check_json_depth(request, kMaxValueDepth, "request"));
  if (!request.contains("messages")) return invalid_argument("request: 'messages' is required");
  const Json& messages = request["messages"];
  if (!messages.is_array() || messages.empty())
    return invalid_argument("request: 'messages' must be a non-empty array");
  Json ctx = Json::object();
  ctx["messages"] = messages;
  for (size_t k = 0; k < ctx["messages"].size(); ++k) {
    LONGCTX_RETURN_IF_ERROR(
        check_message(ctx["messages"][k], "messages[" + std::to_string(k) + "]", options));
  }
  ctx["tools"] = nullptr;
  if (request.contains("tools") && !request["tools"].is_null()) {
    const Json& tools = request["tools"];
    if (!tools.is_array()) return invalid_argument("request: 'tools' must be an array");
    for (size_t k = 0; k < tools.size(); ++k) {
      if (!tools[k].is_object())
        return invalid_argument("tools[" + std::to_string(k) + "] must be an object");
    }
    if (!tools.empty()) ctx["tools"] = tools;
  }
  ctx["documents"] = nullptr;
  ctx["add_generation_prompt"] = true;
  if (request.contains("add_generation_prompt")) {
    if (!request["add_generation_prompt"].is_boolean())
      return invalid_argument("request: 'add_generation_prompt' must be a boolean");
    ctx["add_generation_prompt"] = request["add_generation_prompt"];
  }
  // Special tokens, as transformers passes its special_tokens_map (absent ones are left out).
  if (!source.bos_token.empty()) ctx["bos_token"] = source.bos_token;
  if (!source.eos_token.empty()) ctx["eos_token"] = source.eos_token;
  if (!source.pad_token.empty()) ctx["pad_token"] = source.pad_token;
  if (!source.unk_token.empty()) ctx["unk_token"] = source.unk_token;
  if (request.contains("chat_template_kwargs")) {
    const Json& kw = request["chat_template_kwargs"];
    if (!kw.is_object())
      return invalid_argument("request: 'chat_template_kwargs' must be an object");
    for (const auto& [k, v] : kw.items()) {
      // These were validated above; a kwarg must not replace them with something unchecked.
      if (k == "messages" || k == "tools" || k == "documents") {
        return invalid_argument("request: 'chat_template_kwargs." + k +
                                "' is not allowed: set the request's own '" + k + "' instead");
      }
      if (k == "add_generation_prompt" && !v.is_boolean())
        return invalid_argument("request: 'chat_template_kwargs." + k + "' must be a boolean");
      ctx[k] = v;
    }
  }
  return ctx;
}

}  // namespace

Result<TemplateSource> template_source_from_config(const Json& config) {
  return without_json_exceptions("tokenizer_config.json",
                                 [&] { return template_source_from_config_checked(config); });
}

Result<Json> context_from_request(const Json& request, const TemplateSource& source,
                                  const RequestOptions& options) {
  return without_json_exceptions(
      "request", [&] { return context_from_request_checked(request, source, options); });
}

std::string render_chatml(const Json& context) {
  std::string out;
  if (context.contains("messages") && context["messages"].is_array()) {
    for (const auto& m : context["messages"]) {
      if (!m.is_object()) continue;
      std::string role =
          m.contains("role") && m["role"].is_string() ? m["role"].get<std::string>() : "user";
      std::string content =
          m.contains("content") && m["content"].is_string() ? m["content"].get<std::string>() : "";
      out += "<|im_start|>" + role + "\n" + content + "<|im_end|>\n";
    }
  }
  // Read without value(), which throws on a non-boolean.
  auto gen = context.find("add_generation_prompt");
  if (gen != context.end() && gen->is_boolean() && gen->get<bool>())
    out += "<|im_start|>assistant\n";
  return out;
}

Result<RenderedPrompt> render_prompt(std::string_view template_source, const Json& context) {
  RenderedPrompt r;
  auto t = ChatTemplate::parse(template_source);
  if (t.is_ok()) {
    auto text = t->render(context);
    if (text.is_ok()) {
      r.text = std::move(*text);
      return r;
    }
    if (text.status().message().rfind(kRaiseExceptionPrefix, 0) == 0) return text.status();
    r.warning =
        "chat template failed to render (" + text.status().message() + "); using plain ChatML";
  } else {
    r.warning = "chat template not supported (" + t.status().message() + "); using plain ChatML";
  }
  r.used_fallback = true;
  r.text = render_chatml(context);
  return r;
}

}  // namespace longctx::chat
