// One request in flight on the scheduler: its jobs (one per choice) and the choices assembled
// from their events through reply streams. The protocol writers (OpenAI chat, completions,
// llama-server's /completion, Anthropic messages) read the same updates, so every endpoint
// splits reasoning, content and tool calls the same way, and log-probability entries always
// join to exactly the content they were credited with.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include "server/openai.h"
#include "server/reply_stream.h"
#include "server/scheduler.h"

namespace longctx::server {

class RequestRun {
 public:
  // What one event changed, for a streaming writer.
  struct Update {
    enum Kind { kDeltas, kProgress, kDone } kind = kDeltas;
    int index = 0;
    std::vector<ReplyDelta> deltas;  // kDeltas, kDone (text released at the end)
    Json logprobs = Json::array();   // entries of the content in `deltas` (chat shape)
    int64_t done = 0, total = 0;     // kProgress: prompt tokens evaluated of those to evaluate
    double ms = 0;                   // kProgress: since the request was submitted
  };

  RequestRun(const GenRequest& req, const Tokenizer& tok, std::vector<std::shared_ptr<Job>> jobs);

  // Waits up to timeout_ms for events and turns them into *out; false when none came.
  bool next(int timeout_ms, std::vector<Update>* out);
  bool all_done() const;
  void cancel();
  // The first error that ended a choice, if any.
  const Status* error() const;
  std::vector<ChoiceOut>& choices() { return choices_; }
  const std::vector<std::shared_ptr<Job>>& jobs() const { return jobs_; }

 private:
  struct State {
    ReplyStream stream;
    std::optional<TokenProbs> last;  // the last sampled token's probabilities
    bool done = false;
  };
  void apply(int index, const std::vector<ReplyDelta>& deltas, const TokenProbs* probs, Update* u);

  const GenRequest& req_;
  const Tokenizer& tok_;
  std::shared_ptr<Channel> channel_;
  std::vector<std::shared_ptr<Job>> jobs_;
  std::vector<ChoiceOut> choices_;
  std::vector<State> states_;
  std::vector<Channel::Event> events_;
  std::optional<Status> error_;
  std::chrono::steady_clock::time_point t0_ = std::chrono::steady_clock::now();
};

}  // namespace longctx::server
