// OpenAI's Responses API (POST /v1/responses), the interface newer OpenAI SDK agents and coding
// tools use, as a translation layer over the chat path (as anthropic.h does for Messages): a
// Responses body becomes a chat-completions body for parse_chat_request, and what the generation
// produced becomes a response object or its SSE events. Pure JSON and strings, no exceptions:
// bad input comes back as a message naming the field ("input.2.content.0.type").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace longctx::server {

using Json = nlohmann::ordered_json;

// A POST /v1/responses body -> an OpenAI chat-completions body. nullopt with *error set when the
// body is malformed or asks for what this server does not do (400 invalid_request_error).
//  - input: a string (one user message) or a list of items: messages (role user / system /
//    developer / assistant; content a string or input_text / output_text / refusal parts),
//    function_call (joined to the assistant turn before it as tool_calls), function_call_output
//    (a tool message), reasoning (the next assistant turn's reasoning_content). Images, files,
//    audio and item references are refused (a text-only model; nothing is stored).
//  - instructions -> a system message first. max_output_tokens -> max_tokens.
//  - tools: function tools ({type, name, description, parameters}); built-in tool types
//    (web_search, file_search, ...) are refused by name. tool_choice "auto" / "none" /
//    "required" / {"type":"function","name"}.
//  - text.format json_object / json_schema -> response_format (constrained decoding).
//  - reasoning.effort "none" / "minimal" -> thinking off, other efforts -> on; absent: the
//    server's default.
//  - previous_response_id and background: true are refused (responses are not stored).
//  - temperature, top_p, stream, parallel_tool_calls and llama-server's extensions (top_k, min_p,
//    seed, repeat_penalty, ..., return_progress, chat_template_kwargs) are passed on; store,
//    metadata, user, include, truncation, service_tier, prompt_cache_key are accepted and ignored.
std::optional<Json> responses_to_chat(const Json& body, std::string* error);

struct ResponsesToolCall {
  std::string call_id;  // "call_..."
  std::string name;
  std::string arguments;
};

struct ResponsesReply {
  std::string id;     // "resp_..."
  std::string model;  // as the client named it
  int64_t created_at = 0;
  std::string reasoning;
  std::string text;
  std::vector<ResponsesToolCall> tool_calls;
  bool truncated = false;  // max_output_tokens (or the context) ended the reply
  int64_t input_tokens = 0, cached_tokens = 0, output_tokens = 0, reasoning_tokens = 0;
};

// "resp_" and a zero-padded counter, unique per server run.
std::string responses_id(uint64_t n);

// The response object (status "completed", or "incomplete" with incomplete_details.reason
// "max_output_tokens" when truncated); `request` is the client's body, whose settings
// (instructions, tools, tool_choice, temperature, ...) the object echoes.
Json responses_body(const ResponsesReply& reply, const Json& request);

// The SSE events of one streamed response, each "event: TYPE\ndata: {...}\n\n" with a
// sequence_number. Items open as output arrives: a reasoning item, a message with one
// output_text part, a function_call per tool call; each is closed (its *.done events) before
// the next opens. The stream ends with response.completed (llama-server's choice also when the
// reply was cut: the response's status then says "incomplete").
class ResponsesStream {
 public:
  ResponsesStream(std::string id, std::string model, int64_t created_at, Json request);

  std::string start();  // response.created + response.in_progress (once, first)
  // response.in_progress carrying llama-server's prompt_progress object.
  std::string progress(const Json& prompt_progress);
  std::string reasoning(std::string_view piece);
  // `timings` (llama-server's timings_per_token) rides on the delta event when not null.
  std::string text(std::string_view piece, const Json& timings = Json());
  std::string tool_call(const ResponsesToolCall& call);
  // Closes the open item, then response.completed with the whole response (and `timings` at
  // the event's top level, as llama-server adds them). Nothing is emitted after it.
  std::string finish(const ResponsesReply& reply, const Json& timings);
  // An error event (OpenAI's stream "error" type) after which the stream ends.
  std::string error(int status, const std::string& message);

 private:
  enum class Item { kNone, kReasoning, kMessage };
  std::string event(Json data);  // adds type's sequence_number; the SSE frame
  std::string close();
  Json skeleton(const char* status) const;

  std::string id_, model_;
  int64_t created_at_;
  Json request_;
  Item open_ = Item::kNone;
  std::string item_id_, item_text_;
  int output_index_ = -1;  // of the open (or last) item
  int64_t seq_ = 0;
  int n_items_ = 0;
  bool started_ = false, finished_ = false;
};

}  // namespace longctx::server
