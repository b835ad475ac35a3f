// Parts of the generation routes' answers that depend on the finished choice only: llama-server's
// /completion body, the Anthropic and Responses replies built from a choice, and the running
// timings of timings_per_token. Kept out of routes_generate.cpp, which wires requests to runs.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "server/anthropic.h"
#include "server/openai.h"
#include "server/responses.h"

namespace longctx::server {

// llama-server's /completion answer for one choice (index i, run on sequence `slot`).
Json native_completion_body(const GenRequest& r, const ChoiceOut& c, const Tokenizer& tok,
                            const std::string& alias, bool return_tokens, int slot, size_t i);

// The Anthropic message of a finished choice.
AnthropicReply anthropic_reply(const GenRequest& r, const ChoiceOut& c, const std::string& id);

// The Responses reply of a finished choice; tool calls get ids "call_<id digits>_<k>", the same
// the stream hands out.
ResponsesReply responses_reply(const GenRequest& r, const ChoiceOut& c, const std::string& id,
                               int64_t created, const Tokenizer& tok);
// The id of a Responses reply's k-th tool call.
std::string responses_call_id(const std::string& id, int k);

// llama-server's timings_per_token: running figures as text is streamed.
struct LiveTimings {
  int64_t prompt_n = 0, pieces = 0;
  double prompt_ms = 0;
  std::chrono::steady_clock::time_point first;
  // The figures after one more piece of text. predicted_n counts the pieces streamed so far
  // (one per sampled token unless text was held back for a stop string or a tag).
  Json next();
};

}  // namespace longctx::server
