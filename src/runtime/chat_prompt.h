// Renders a conversation with the model's own chat template (from the GGUF), falling back to
// ChatML with a warning when the template cannot be rendered; shared by run --chat, chat and the
// server.
#pragma once

#include <string>

#include "chat/chat_template.h"
#include "core/status.h"
#include "runtime/engine.h"

namespace longctx {

struct ChatPromptOptions {
  bool enable_thinking = true;        // Qwen3: false inserts an empty think block
  bool add_generation_prompt = true;  // end with "<|im_start|>assistant\n"
};

struct ChatPrompt {
  std::string text;
  std::string warning;  // non-empty when the ChatML fallback was used
};

// messages: a JSON array of {"role", "content"} objects, as in an OpenAI request.
Result<ChatPrompt> render_chat_prompt(const Engine& engine, const chat::Json& messages,
                                      const ChatPromptOptions& options);

// The same from a whole OpenAI chat-completions body: messages, tools, add_generation_prompt
// and chat_template_kwargs (e.g. enable_thinking) as the request gives them; an error names the
// malformed field.
Result<ChatPrompt> render_chat_request(const Engine& engine, const chat::Json& request);

}  // namespace longctx
