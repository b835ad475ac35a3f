// A reply as the server hands it out, assembled as the model's text streams in: Qwen3's
// reasoning (<think>...</think>), the visible content, and <tool_call>{json}</tool_call> blocks
// parsed into tool calls the moment each closes. Streamed and non-streamed answers are both
// built from these deltas, so the two agree byte for byte, and so do the per-token log-
// probability strings (each token is credited with the content text its push produced).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "chat/output_parser.h"
#include "chat/think_stream.h"

namespace longctx::server {

struct ReplyDelta {
  enum Kind { kContent, kReasoning, kToolCall } kind = kContent;
  std::string text;     // kContent, kReasoning
  chat::ToolCall call;  // kToolCall (parsed: name and arguments)
};

struct ReplyStreamOptions {
  bool chat = true;              // false: raw completion text, passed through as content
  bool starts_in_think = false;  // the prompt opened the think block
  bool parse_tools = false;      // the request offered tools: parse <tool_call> blocks
};

class ReplyStream {
 public:
  explicit ReplyStream(ReplyStreamOptions options);
  // Feeds the next piece of generated text; appends what is now certain to *out.
  void push(std::string_view text, std::vector<ReplyDelta>* out);
  // End of the reply: releases held text. An unterminated tool call that still parses is a
  // call; anything else held comes out as content (nothing the model wrote is lost).
  void finish(std::vector<ReplyDelta>* out);

 private:
  void content(std::string_view text, std::vector<ReplyDelta>* out);
  void emit_content(std::string_view text, std::vector<ReplyDelta>* out);

  ReplyStreamOptions opt_;
  chat::ThinkStreamSplitter think_;
  bool in_call_ = false;
  std::string held_;  // outside a call: a possible "<tool_call>" prefix; inside: the call's body
  std::string ws_;    // whitespace not yet shown: dropped when a tool call or the end follows
  std::string ws_before_call_;  // ws_ when a call opened: shown if the call does not parse
  bool any_content_ = false;
};

}  // namespace longctx::server
