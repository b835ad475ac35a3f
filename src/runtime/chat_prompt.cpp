// Chat prompt rendering from the engine's template and special tokens.
#include "runtime/chat_prompt.h"

#include "chat/chat_template.h"

namespace longctx {

Result<ChatPrompt> render_chat_prompt(const Engine& engine, const chat::Json& messages,
                                      const ChatPromptOptions& options) {
  chat::Json request = chat::Json::object();
  request["messages"] = messages;
  request["add_generation_prompt"] = options.add_generation_prompt;
  request["chat_template_kwargs"] = chat::Json::object();
  request["chat_template_kwargs"]["enable_thinking"] = options.enable_thinking;
  return render_chat_request(engine, request);
}

Result<ChatPrompt> render_chat_request(const Engine& engine, const chat::Json& request) {
  chat::TemplateSource source;
  source.chat_template = engine.chat_template();
  if (const Tokenizer* tok = engine.tokenizer()) {
    if (auto id = tok->eos_id()) source.eos_token = tok->token_piece(*id);
    if (auto id = tok->pad_id()) source.pad_token = tok->token_piece(*id);
    // As llama-server: the GGUF's BOS text (templates written for Llama start with it).
    if (auto id = tok->bos_id()) source.bos_token = tok->token_piece(*id);
  }
  auto ctx = chat::context_from_request(request, source);
  if (!ctx) return ctx.status();
  ChatPrompt out;
  if (source.chat_template.empty()) {
    out.text = chat::render_chatml(*ctx);
    out.warning = "the model has no chat template; using plain ChatML";
    return out;
  }
  auto r = chat::render_prompt(source.chat_template, *ctx);
  if (!r) return r.status();
  out.text = std::move(r->text);
  if (r->used_fallback) out.warning = r->warning;
  return out;
}

}  // namespace longctx
