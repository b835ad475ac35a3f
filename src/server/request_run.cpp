// RequestRun: a request's events turned into choices (see request_run.h).
#include "server/request_run.h"

namespace longctx::server {
namespace {}  // namespace

RequestRun::RequestRun(const GenRequest& req, const Tokenizer& tok,
                       std::vector<std::shared_ptr<Job>> jobs)
    : req_(req), tok_(tok), jobs_(std::move(jobs)) {
  channel_ = jobs_.front()->channel;
  ReplyStreamOptions o;
  o.chat = req.chat;
  o.starts_in_think = req.starts_in_think;
  o.parse_tools = req.parse_tools;
  choices_.resize(jobs_.size());
  states_.reserve(jobs_.size());
  for (size_t i = 0; i < jobs_.size(); ++i) states_.push_back(State{ReplyStream(o), {}, false});
}

bool RequestRun::all_done() const {
  for (const State& s : states_) {
    if (!s.done) return false;
  }
  return true;
}

void RequestRun::cancel() {
  for (auto& j : jobs_) j->cancel = true;
}

const Status* RequestRun::error() const { return error_ ? &*error_ : nullptr; }

// Folds deltas into choice `index` and credits their content to a log-probability entry: the
// token sampled with this text (probs), or the last one sampled.
void RequestRun::apply(int index, const std::vector<ReplyDelta>& deltas, const TokenProbs* probs,
                       Update* u) {
  ChoiceOut& c = choices_[static_cast<size_t>(index)];
  State& st = states_[static_cast<size_t>(index)];
  std::string content;
  for (const ReplyDelta& d : deltas) {
    switch (d.kind) {
      case ReplyDelta::kContent:
        c.content += d.text;
        content += d.text;
        break;
      case ReplyDelta::kReasoning:
        c.reasoning += d.text;
        break;
      case ReplyDelta::kToolCall:
        c.tool_calls.push_back(d.call);
        break;
    }
    u->deltas.push_back(d);
  }
  if (req_.options.n_probs < 0 || content.empty()) {
    if (probs) st.last = *probs;
    return;
  }
  // Each piece of content goes out with its entry at once (a streamed chunk carries the entry
  // of the token it shows); text released without a new token (held back for a possible stop
  // string or tag) is credited to the last sampled token, so the entries always join to the
  // content.
  if (probs) st.last = *probs;
  Json e = logprob_entry(tok_, content, st.last ? *st.last : TokenProbs{});
  c.logprobs.push_back(e);
  u->logprobs.push_back(std::move(e));
}

bool RequestRun::next(int timeout_ms, std::vector<Update>* out) {
  events_.clear();
  if (!channel_->wait(&events_, timeout_ms)) return false;
  std::vector<ReplyDelta> deltas;
  for (Channel::Event& ev : events_) {
    const int i = ev.index;
    if (i < 0 || i >= static_cast<int>(states_.size())) continue;
    State& st = states_[static_cast<size_t>(i)];
    Update u;
    u.index = i;
    deltas.clear();
    if (ev.kind == Channel::Event::kText) {
      st.stream.push(ev.text, &deltas);
      apply(i, deltas, ev.has_probs ? &ev.probs : nullptr, &u);
      if (u.deltas.empty() && u.logprobs.empty()) continue;
    } else if (ev.kind == Channel::Event::kProgress) {
      u.kind = Update::kProgress;
      u.done = ev.done;
      u.total = ev.total;
      u.ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0_).count();
    } else {
      u.kind = Update::kDone;
      st.stream.finish(&deltas);
      apply(i, deltas, nullptr, &u);
      const Job& job = *jobs_[static_cast<size_t>(i)];
      if (job.result().is_ok()) {
        choices_[static_cast<size_t>(i)].result = *job.result();
      } else if (!error_) {
        error_ = job.result().status();
      }
      st.done = true;
    }
    out->push_back(std::move(u));
  }
  return true;
}

}  // namespace longctx::server
