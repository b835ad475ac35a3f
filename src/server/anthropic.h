// Anthropic's Messages API (POST /v1/messages, /v1/messages/count_tokens) as a translation layer
// over the OpenAI chat path: a Messages request becomes an OpenAI chat-completions body for
// parse_chat_request, and what the generation produced becomes an Anthropic message, SSE events
// or an error body. Pure JSON and strings (nlohmann-json and the standard library only), no
// exceptions: bad input comes back as a message naming the field, e.g. "messages.2.content.0.type".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace longctx::server {

using Json = nlohmann::ordered_json;

// ---- Requests -----------------------------------------------------------------------------

// A POST /v1/messages body -> an OpenAI chat-completions body (model, messages, tools,
// tool_choice, parallel_tool_calls, max_tokens, stop, temperature, top_p, top_k, stream,
// stream_options, chat_template_kwargs.enable_thinking). nullopt with *error set when the body
// is malformed (400 invalid_request_error). Choices where the protocol leaves room:
//  - thinking {"type":"enabled"|"adaptive"} -> enable_thinking true; {"type":"disabled"} or
//    absent -> false (Qwen3's template then inserts an empty think block). budget_tokens is
//    checked to be an integer and otherwise ignored: the runtime has no thinking budget.
//  - text blocks of one message (and of system) are joined with "\n\n" into one string.
//  - thinking blocks in assistant history -> reasoning_content (joined with "\n\n"; the Qwen3
//    template keeps it only for turns after the last user query); redacted_thinking is dropped
//    (its payload is encrypted for Anthropic's models and means nothing here).
//  - a user message's tool_result blocks become {"role":"tool"} messages placed before a user
//    message with the rest of its text, whatever their order in the block list; is_error: true
//    prefixes the result with "Error: " (OpenAI's tool message has no error flag).
//  - image and document blocks are rejected (text-only model); so are server tools (a tools
//    entry with a type other than "custom", e.g. "bash_20250124"), unknown block types and
//    roles other than user/assistant. An empty messages array is rejected, as Anthropic does.
//  - cache_control, citations, signatures, metadata, service_tier and unknown fields are ignored.
//  - a trailing assistant message is rendered as a finished turn (no prefill continuation).
std::optional<Json> anthropic_to_chat(const Json& body, std::string* error);

// The same conversion for POST /v1/messages/count_tokens, where max_tokens is not required
// (and stream is not copied).
std::optional<Json> anthropic_count_tokens_request(const Json& body, std::string* error);

// ---- Responses ----------------------------------------------------------------------------

struct AnthropicToolCall {
  std::string id;  // "" -> "toolu_<n>_<index>" derived from the message id
  std::string name;
  std::string arguments;  // JSON text of the arguments object ("" or not an object -> {})
};

struct AnthropicUsage {
  int64_t prompt_tokens = 0;  // all prompt tokens (GenerateResult::n_prompt)
  int64_t cached_tokens = 0;  // of which read from the prefix cache (GenerateResult::n_reused)
  int64_t output_tokens = 0;  // generated tokens (GenerateResult::ids.size())
};

// What one generation produced, already split (ReplyStream deltas, or parse_model_output).
struct AnthropicReply {
  std::string id;     // "msg_..." (anthropic_message_id)
  std::string model;  // as the client named it
  std::string reasoning;
  std::string text;
  std::vector<AnthropicToolCall> tool_calls;
  // "stop", "length", "tool_calls" or "stop_sequence" (then stop_sequence is the matched
  // string; "" when unknown gives "stop_sequence": null).
  std::string finish = "stop";
  std::string stop_sequence;
  AnthropicUsage usage;
};

// "msg_" and a zero-padded counter: unique per server run, as the OpenAI ids are.
std::string anthropic_message_id(uint64_t n);

// finish -> Anthropic's stop_reason: "length" -> "max_tokens" (even with complete tool calls,
// since the reply was cut), else any tool call -> "tool_use", "stop_sequence" -> "stop_sequence",
// anything else -> "end_turn".
std::string anthropic_stop_reason(const std::string& finish, bool has_tool_calls);

// The non-streamed message: content is [thinking (signature ""), text, tool_use...], blocks
// with empty text left out, but an empty text block when nothing else is there (clients read
// content[0].text). usage.input_tokens counts the prompt tokens NOT read from the cache, as
// Anthropic's does (input_tokens + cache_read_input_tokens = the whole prompt).
Json anthropic_message_body(const AnthropicReply& r);

// SSE encoder for one streamed message. Every call returns the frames to write (possibly "");
// each frame is "event: NAME\ndata: JSON\n\n" with JSON's "type" equal to NAME. Order:
// message_start, ping, then per block content_block_start / _delta... / _stop (a thinking
// block gets a signature_delta before its stop), then message_delta and message_stop.
class AnthropicStream {
 public:
  // prompt_tokens: the whole prompt, shown as message_start's usage.input_tokens (how much of
  // it the cache covers is known only at the end, in message_delta's usage).
  AnthropicStream(std::string id, std::string model, int64_t prompt_tokens);

  std::string start();                           // message_start + ping (once, first)
  std::string thinking(std::string_view piece);  // thinking_delta (opens a thinking block)
  std::string text(std::string_view piece);      // text_delta (closes thinking, opens text)
  // A whole tool_use block: start with input {}, one input_json_delta with the arguments, stop.
  std::string tool_call(const AnthropicToolCall& call);
  // Closes the open block (or emits an empty text block when there was none), then
  // message_delta (stop_reason, stop_sequence; usage with the final token counts) and
  // message_stop. Nothing is emitted after it.
  std::string finish(const std::string& finish, const std::string& stop_sequence,
                     const AnthropicUsage& usage);
  static std::string ping();  // also usable as a keep-alive while a long prompt is read

  bool finished() const { return finished_; }

 private:
  enum class Block { kNone, kThinking, kText };
  std::string open(Block b);
  std::string close();

  std::string id_, model_;
  int64_t prompt_tokens_;
  Block block_ = Block::kNone;
  int next_index_ = 0;  // index of the next block to open
  int n_tool_calls_ = 0;
  bool started_ = false, finished_ = false;
};

// ---- Errors and count_tokens --------------------------------------------------------------

// HTTP status -> Anthropic error type: 400 invalid_request_error, 401 authentication_error,
// 403 permission_error, 404 not_found_error, 413 request_too_large, 429 rate_limit_error,
// 503 and 529 overloaded_error (503 is what the server answers when every sequence is busy),
// 504 timeout_error, other 4xx invalid_request_error, other 5xx (500 included) api_error.
std::string anthropic_error_type(int status);
// {"type":"error","error":{"type","message"}}
Json anthropic_error_body(int status, const std::string& message);
// The same as an SSE frame, for an error after the stream began: "event: error\ndata: ...".
std::string anthropic_sse_error(int status, const std::string& message);

// {"input_tokens": n}
Json anthropic_count_tokens_body(int64_t input_tokens);

}  // namespace longctx::server
