// Chat templates: a model's own Jinja2 chat template (from GGUF `tokenizer.chat_template` or
// tokenizer_config.json), rendered by our interpreter as Hugging Face's apply_chat_template
// renders it; plus OpenAI chat-completions request -> template context, and a ChatML fallback.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "chat/jinja_ast.h"
#include "chat/jinja_eval.h"
#include "core/status.h"

namespace longctx::chat {

// Template contexts keep JSON key order, as Python dicts do (tojson prints keys in order).
using Json = nlohmann::ordered_json;

class ChatTemplate {
 public:
  // Parses a template; a syntax error names the line.
  static Result<ChatTemplate> parse(std::string_view source, const ParserLimits& limits = {});
  // Renders with the context's top-level keys as variables (messages, tools,
  // add_generation_prompt, enable_thinking, bos_token, eos_token, ...).
  Result<std::string> render(const Json& context, const RenderLimits& limits = {}) const;

 private:
  std::shared_ptr<const Body> body_;
};

// What a tokenizer_config.json (or GGUF metadata) provides for rendering.
struct TemplateSource {
  std::string chat_template;
  std::string bos_token;  // empty when the model has none (Qwen)
  std::string eos_token;
  std::string pad_token;
  std::string unk_token;
};
// Reads `chat_template` (a string, or a list of {name, template}: "default" is used) and the
// special tokens (strings or {"content": ...} objects) from a tokenizer_config.json object.
Result<TemplateSource> template_source_from_config(const Json& tokenizer_config);

struct RequestOptions {
  // OpenAI sends tool-call arguments as a JSON string; templates (and Hugging Face's docs)
  // expect an object, so a string that parses as a JSON object is replaced by the object.
  bool decode_tool_arguments = true;
};

// Turns an OpenAI chat-completions request body into a template context: messages (text
// content parts joined; null assistant content -> ""), tools (null when absent, as HF passes),
// add_generation_prompt (default true), special tokens, then chat_template_kwargs merged on
// top. A malformed request is an error naming the field, e.g. "messages[2].role".
Result<Json> context_from_request(const Json& request, const TemplateSource& source,
                                  const RequestOptions& options = {});

// The plain ChatML rendering used when a template cannot be rendered.
std::string render_chatml(const Json& context);

struct RenderedPrompt {
  std::string text;
  bool used_fallback = false;
  std::string warning;  // why the fallback was used
};
// Renders with the template, falling back to ChatML (with a warning) when the template does
// not parse or fails to render. An error raised by the template itself (raise_exception: the
// template rejects this conversation) is returned as an error, not papered over.
Result<RenderedPrompt> render_prompt(std::string_view template_source, const Json& context);

}  // namespace longctx::chat
