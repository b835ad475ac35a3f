// The OpenAI-compatible request and response bodies of `longctx serve` (JSON only; the HTTP side
// is http_server.cpp): chat completions and completions parsed into a generation request with
// OpenAI's field semantics, and the response, stream chunk and error bodies built back. Error
// bodies carry both OpenAI's fields (message, type, code) and llama-server's (a numeric code
// where OpenAI has none), so clients written for either understand them.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "chat/chat_template.h"
#include "chat/output_parser.h"
#include "runtime/engine.h"
#include "runtime/generate.h"
#include "server/scheduler.h"

namespace longctx {
class GbnfGrammar;  // runtime/gbnf.h
class Grammar;      // runtime/grammar.h
class TokenVocab;   // runtime/grammar.h
}  // namespace longctx

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

// How the reply is constrained (response_format, a GBNF grammar, or a tool_choice that forces a
// call).
struct ReplyConstraint {
  std::shared_ptr<const Grammar> grammar;   // null: free text
  std::shared_ptr<const GbnfGrammar> gbnf;  // llama-server's `grammar` (never with `grammar`)
  bool after_think = false;                 // applies once the think block has closed
};

// A generation request, from either endpoint.
struct GenRequest {
  bool chat = true;
  std::vector<int32_t> prompt;                // the (first) prompt
  std::vector<std::vector<int32_t>> prompts;  // completions: every prompt (one choice each)
  GenerateOptions options;  // sampling, max_tokens, stop, n_probs (cancel is the scheduler's)
  SeqConfig config;         // experts, rope_scaling (extensions)
  int n = 1;                // choices
  bool stream = false;
  bool include_usage = false;    // stream_options.include_usage
  bool return_progress = false;  // llama-server: prefill progress as data chunks
  bool starts_in_think = false;  // the rendered prompt itself opened the think block
  bool parse_tools = false;      // tools were offered: <tool_call> blocks become tool_calls
  bool cache_prompt = true;      // llama-server's cache_prompt: false evaluates the whole prompt
  ReplyConstraint constraint;
  std::string model;        // as the client named it (echoed back)
  std::string prompt_text;  // the rendered prompt (chat) or the prompt text (completions)
  bool verbose = false;     // llama-server's __verbose object in the answer
};

// What the server assumes where a request is silent.
struct RequestDefaults {
  std::string alias;        // the model id clients see
  int64_t n_ctx = 0;        // of each sequence
  int64_t n_slots = 1;      // sequences (the most choices one request may ask for)
  int64_t max_tokens = -1;  // -1: until the context is full
  // Sampling where the request sets nothing, by thinking mode (the server's --temp, --top-k,
  // ... over Qwen3's recommended settings); unset: Qwen3's.
  std::function<SamplingParams(bool thinking)> sampling;
  std::optional<uint64_t> seed;  // the server's --seed; unset: a random seed per request
  OnFull on_full = OnFull::kStop;
  std::optional<bool> enable_thinking;  // the server's --reasoning on|off; unset: the template's
  bool verbose = false;                 // --verbose: every answer carries __verbose
  const Engine* engine = nullptr;
  std::shared_ptr<const TokenVocab> vocab;  // for constrained decoding
};

// Parses a POST /v1/chat/completions body (rendered with the model's chat template) or a POST
// /v1/completions body (prompt text, or token ids) into *out. A prompt that does not fit the
// context is the exceed_context_size_error both OpenAI and llama-server clients recognise.
std::optional<ApiError> parse_chat_request(const Engine& engine, const Json& body,
                                           const RequestDefaults& d, GenRequest* out);
std::optional<ApiError> parse_completion_request(const Engine& engine, const Json& body,
                                                 const RequestDefaults& d, GenRequest* out);
// The prompt text a chat body renders to (messages checked, the server's thinking default, a
// final assistant message continued as a prefill); /apply-template answers it.
std::optional<ApiError> render_prompt_text(const Engine& engine, const Json& body,
                                           const RequestDefaults& d, std::string* text);

// One choice as handed out: assembled from the reply stream (reply_stream.h).
struct ChoiceOut {
  std::string content, reasoning;
  std::vector<chat::ToolCall> tool_calls;
  Json logprobs = Json::array();  // chat: logprobs.content entries
  GenerateResult result;
  bool own_prompt = true;  // false for the choices that copied another's prompt (n > 1)
};

// "stop", "length" or "tool_calls" (OpenAI's finish_reason).
std::string finish_reason(FinishReason r, bool has_tool_calls);
// usage: prompt, cached prompt, completion (all choices) and total tokens.
Json usage_body(const std::vector<ChoiceOut>& choices);
// llama-server's timings object (prompt_n, prompt_ms, predicted_n, ..., cache_n).
Json timings_body(const std::vector<ChoiceOut>& choices);

// One logprobs entry in OpenAI's chat shape: {token, logprob, bytes, top_logprobs}.
Json logprob_entry(const Tokenizer& tok, const std::string& text, const TokenProbs& p);
// The completions endpoint's legacy shape from chat-shaped entries: {tokens, token_logprobs,
// top_logprobs, text_offset}.
Json legacy_logprobs(const Json& entries);
// llama-server's post_sampling_probs shape of entries: "prob" and "top_probs" (probabilities)
// in place of "logprob" and "top_logprobs".
Json post_sampling_entries(const Json& entries);
// OpenAI's tool_calls array.
Json tool_calls_json(const std::vector<chat::ToolCall>& calls, const std::string& id);

// The non-streamed answers.
Json chat_completion_body(const GenRequest& req, const std::vector<ChoiceOut>& choices,
                          const std::string& id, int64_t created);
Json completion_body(const GenRequest& req, const std::vector<ChoiceOut>& choices,
                     const std::string& id, int64_t created);
// One streamed chunk of choice `index`: a chat delta (e.g. {"content": "..."}) or completion
// text, with the finish reason on the last one (empty: null).
Json chat_chunk(const GenRequest& req, const std::string& id, int64_t created, int index,
                const Json& delta, const std::string& finish);
Json completion_chunk(const GenRequest& req, const std::string& id, int64_t created, int index,
                      const std::string& text, const std::string& finish);

// JSON text that never throws: invalid UTF-8 from the model is replaced by U+FFFD.
std::string dump(const Json& j);

}  // namespace longctx::server
