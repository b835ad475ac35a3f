// Parses what a Qwen-style model generated back into an assistant message: the reasoning in
// <think>...</think>, the visible content, and <tool_call>{json}</tool_call> blocks as
// structured tool calls (a malformed call is reported on its own; the others are kept).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace longctx::chat {

struct ToolCall {
  std::string name;
  std::string arguments;                  // JSON text of the arguments object (compact)
  nlohmann::ordered_json arguments_json;  // the same, parsed
  std::string raw;                        // the text between <tool_call> and </tool_call>
  std::string error;                      // non-empty when this call could not be parsed
};

struct ParsedOutput {
  std::string reasoning;  // inside <think>...</think>, without the surrounding newlines
  std::string content;    // the rest, with tool-call blocks removed and outer whitespace trimmed
  std::vector<ToolCall> tool_calls;
  bool reasoning_unterminated = false;  // generation stopped inside the think block
};

struct OutputParseOptions {
  // The prompt itself opened the think block (it ended in "<think>\n"), so the output starts
  // inside the reasoning.
  bool starts_in_think = false;
};

ParsedOutput parse_model_output(std::string_view text, const OutputParseOptions& options = {});

// One tool call from the text between <tool_call> and </tool_call>: {"name", "arguments"} (the
// arguments an object, or a string holding one); ToolCall::error says what is wrong otherwise.
ToolCall parse_tool_call(std::string_view body);

}  // namespace longctx::chat
