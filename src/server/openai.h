// The OpenAI-compatible request and response bodies of `longctx serve` (JSON only; the HTTP side
// is http_server.cpp): chat completions and completions parsed into a generation request with
// OpenAI's field semantics, and the response, stream chunk and error bodies built back. Error
// bodies carry both OpenAI's fields (message, type, code) and llama-server's (a numeric code
// where OpenAI has none), so clients written for either understand them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "chat/chat_template.h"
#include "chat/output_parser.h"
#include "runtime/engine.h"
#include "runtime/generate.h"

namespace longctx::server {

using Json = chat::Json;

// An error answer: HTTP status and the body's fields.
struct ApiError {
  int status = 400;
  std::string type = "invalid_request_error";
  std::string message;
  Json extra = Json::object();  // more fields inside "error" (n_prompt_tokens, n_ctx, ...)
  std::string code;             // OpenAI's string code; "" = the numeric HTTP status
};
Json error_body(const ApiError& e);

// A generation request, from either endpoint.
struct GenRequest {
  bool chat = true;
  std::vector<int32_t> prompt;
  GenerateOptions options;  // sampling, max_tokens, stop (cancel is set by the scheduler)
  bool stream = false;
  bool include_usage = false;    // stream_options.include_usage
  bool starts_in_think = false;  // the rendered prompt itself opened the think block
  std::string model;             // as the client named it (echoed back)
};

// What the server assumes where a request is silent.
struct RequestDefaults {
  std::string alias;        // the model id clients see
  int64_t n_ctx = 0;        // of each sequence
  int64_t max_tokens = -1;  // -1: until the context is full
};

// Parses a POST /v1/chat/completions body (rendered with the model's chat template) or a POST
// /v1/completions body (prompt text, or token ids) into *out. A prompt that does not fit the
// context is the exceed_context_size_error both OpenAI and llama-server clients recognise.
std::optional<ApiError> parse_chat_request(const Engine& engine, const Json& body,
                                           const RequestDefaults& d, GenRequest* out);
std::optional<ApiError> parse_completion_request(const Engine& engine, const Json& body,
                                                 const RequestDefaults& d, GenRequest* out);

// "stop", "length" or "tool_calls" (OpenAI's finish_reason).
std::string finish_reason(FinishReason r, bool has_tool_calls);
// usage: prompt, cached prompt, completion and total tokens.
Json usage_body(const GenerateResult& r);

// The non-streamed answers.
Json chat_completion_body(const GenRequest& req, const GenerateResult& r, const std::string& id,
                          int64_t created);
Json completion_body(const GenRequest& req, const GenerateResult& r, const std::string& id,
                     int64_t created);
// One streamed chunk: a chat delta (e.g. {"content": "..."}) or completion text, with the
// finish reason on the last one (empty: null).
Json chat_chunk(const GenRequest& req, const std::string& id, int64_t created, const Json& delta,
                const std::string& finish);
Json completion_chunk(const GenRequest& req, const std::string& id, int64_t created,
                      const std::string& text, const std::string& finish);

// JSON text that never throws: invalid UTF-8 from the model is replaced by U+FFFD.
std::string dump(const Json& j);

}  // namespace longctx::server
