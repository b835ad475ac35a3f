// Chat formats known by name, for `serve --chat-template NAME` (llama-server's built-in list,
// the commonly used ones): each as Jinja text for chat/chat_template.h.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace longctx::chat {

// The Jinja text of the format called `name` (chatml, llama2, llama2-sys, llama3, mistral-v7,
// mistral-v7-tekken, phi3, phi4, falcon3, zephyr, gemma, vicuna, vicuna-orca, deepseek,
// deepseek3, command-r), or nullopt.
std::optional<std::string> builtin_chat_template(std::string_view name);

// The names, comma-separated (for error messages and --help).
std::string builtin_chat_template_names();

}  // namespace longctx::chat
