// The generation routes of `longctx serve`: OpenAI's /v1/chat/completions, /v1/completions and
// /v1/responses, llama-server's /completion, and Anthropic's /v1/messages (+ count_tokens). Each
// request is parsed into a GenRequest, submitted as one job per choice, and answered from a
// RequestRun's updates, streamed by SSE or as one body (the bodies' parts: answer_parts.h).
#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>

#include "server/answer_parts.h"
#include "server/anthropic.h"
#include "server/constraint.h"
#include "server/http_impl.h"
#include "server/memory_server.h"
#include "server/request_run.h"
#include "server/responses.h"

namespace longctx::server {
namespace {

int status_of(const Status& st) { return st.code() == ErrorCode::kInvalidArgument ? 400 : 500; }

// OpenAI's delta for one reply delta of choice `index`; tool calls are numbered per choice.
Json openai_delta(const ReplyDelta& d, const std::string& call_id, int call_index) {
  switch (d.kind) {
    case ReplyDelta::kReasoning:
      return {{"reasoning_content", d.text}};
    case ReplyDelta::kToolCall:
      return {{"tool_calls",
               Json::array(
                   {{{"index", call_index},
                     {"id", call_id},
                     {"type", "function"},
                     {"function", {{"name", d.call.name}, {"arguments", d.call.arguments}}}}})}};
    default:
      return {{"content", d.text}};
  }
}

}  // namespace

void HttpServer::Impl::generate(const httplib::Request& req, httplib::Response& res, Api api) {
  const bool anthropic = api == Api::kAnthropic;
  const bool responses = api == Api::kResponses;  // OpenAI's Responses API over the chat path
  // llama-server's own completion endpoint answers /completion and /completions; only
  // /v1/completions is OpenAI's.
  const bool native =
      api == Api::kCompletion && (req.path == "/completion" || req.path == "/completions");
  auto fail = [&](const ApiError& e) {
    if (anthropic) return send_json(res, e.status, anthropic_error_body(e.status, e.message));
    send_error(res, e);
  };
  Json body;
  if (auto e = parse_body(req, &body, opt.max_body_bytes)) return fail(*e);
  if (anthropic) {
    std::string err;
    auto chat = anthropic_to_chat(body, &err);
    if (!chat) return fail(api_error(400, "invalid_request_error", err));
    body = std::move(*chat);
  }
  auto resp_request = std::make_shared<Json>();  // the Responses body, echoed in its answer
  if (responses) {
    std::string err;
    auto chat = responses_to_chat(body, &err);
    if (!chat) return fail(api_error(400, "invalid_request_error", err));
    *resp_request = std::move(body);
    body = std::move(*chat);
  }
  // serve --memory: a request that names a conversation gets the prompt the memory loop
  // assembles from the stored conversation (memory_server.h).
  std::shared_ptr<MemoryTurn> mem;
  if (memory && api != Api::kCompletion) {
    const std::string conv = ServerMemory::conversation_of(req, &body);
    if (!conv.empty()) {
      if (body.contains("n") && body["n"].is_number_integer() && body["n"].get<int64_t>() > 1) {
        return fail(api_error(400, "invalid_request_error",
                              "a remembered conversation takes one choice (n = 1)"));
      }
      Result<std::shared_ptr<MemoryTurn>> t = memory->begin(conv, &body);
      if (!t.is_ok()) {
        const int code = t.status().code() == ErrorCode::kInvalidArgument ? 400 : 500;
        return fail(api_error(code, code == 400 ? "invalid_request_error" : "server_error",
                              t.status().message()));
      }
      mem = *t;
    }
  }
  auto r = std::make_shared<GenRequest>();
  const RequestDefaults d = defaults();
  if (auto e = api == Api::kCompletion ? parse_completion_request(engine, body, d, r.get())
                                       : parse_chat_request(engine, body, d, r.get())) {
    return fail(*e);
  }
  const bool return_tokens = body.contains("return_tokens") && body["return_tokens"].is_boolean() &&
                             body["return_tokens"].get<bool>();
  int slot_pin = -1;
  if (const auto it = body.find("id_slot"); it != body.end() && it->is_number_integer()) {
    slot_pin = it->get<int>();
    if (slot_pin >= sched.n_slots()) {
      return fail(api_error(400, "invalid_request_error",
                            "'id_slot' " + std::to_string(slot_pin) +
                                " is not a slot (the "
                                "server has " +
                                std::to_string(sched.n_slots()) + ")"));
    }
  }
  // One job per choice; they share the prompt (the first evaluates it, the others copy it) and
  // differ in seed.
  const Tokenizer& tok = *engine.tokenizer();
  auto channel = std::make_shared<Channel>();
  std::vector<std::shared_ptr<Job>> jobs;
  // Several prompts (completions): one independent job each; else n choices of one prompt.
  const int n_jobs = r->prompts.size() > 1 ? static_cast<int>(r->prompts.size()) : r->n;
  for (int i = 0; i < n_jobs; ++i) {
    auto job = std::make_shared<Job>();
    const bool own = r->prompts.size() > 1 || i == 0;
    job->prompt = r->prompts.size() > 1 ? r->prompts[static_cast<size_t>(i)] : r->prompt;
    job->options = r->options;
    job->options.sampling.seed += static_cast<uint64_t>(i);
    job->config = r->config;
    job->index = i;
    job->channel = channel;
    job->slot_pin = i == 0 ? slot_pin : -1;
    job->reuse = r->cache_prompt;
    if (!own) job->leader = jobs.front();
    if (r->constraint.grammar) {
      job->options.constraint =
          make_constraint(r->constraint.grammar, vocab, tok, engine.hparams().n_vocab,
                          r->constraint.after_think, r->options.max_tokens);
    } else if (r->constraint.gbnf) {
      job->options.constraint =
          make_constraint(r->constraint.gbnf, gbnf_vocab(), tok, engine.hparams().n_vocab,
                          r->constraint.after_think, r->options.max_tokens);
    }
    jobs.push_back(std::move(job));
  }
  if (!sched.submit_all(jobs)) {
    return fail(api_error(503, "unavailable_error",
                          "the server is busy: every sequence is in use and the queue is full; "
                          "retry later"));
  }
  auto run = std::make_shared<RequestRun>(*r, tok, jobs);
  for (size_t i = 0; i < jobs.size(); ++i) run->choices()[i].own_prompt = !jobs[i]->leader;
  const std::string id =
      anthropic ? anthropic_message_id(next_id.fetch_add(1))
      : responses
          ? responses_id(next_id.fetch_add(1))
          : [&] {
              char buf[32];
              std::snprintf(buf, sizeof buf, "%s-%010llu", api == Api::kChat ? "chatcmpl" : "cmpl",
                            static_cast<unsigned long long>(next_id.fetch_add(1)));
              return std::string(buf);
            }();
  const int64_t created = static_cast<int64_t>(std::time(nullptr));
  const std::string alias = opt.alias;

  // The whole answer of a finished run.
  const Tokenizer* tokp = &tok;
  // The remembered turn ends with the run: its reply and report are stored once.
  auto memory_report = [mem, run]() -> Json {
    if (!mem) return Json();
    const ChoiceOut& c = run->choices().front();
    const Job& job = *run->jobs().front();
    const bool ok = run->all_done() && !run->error() && job.finished() && job.result().is_ok();
    return mem->finish(ok, c.content, ok ? c.result.n_prompt : 0, ok ? c.result.n_reused : 0);
  };
  // What a Responses answer holds (the body, or the stream's last event).
  auto resp_reply = [r, run, id, created, tokp]() {
    return responses_reply(*r, run->choices().front(), id, created, *tokp);
  };
  auto final_body = [r, run, id, created, api, anthropic, responses, native, alias, return_tokens,
                     tokp, memory_report, resp_reply, resp_request]() -> Json {
    const Tokenizer& tok = *tokp;
    std::vector<ChoiceOut>& ch = run->choices();
    if (responses || anthropic) {
      Json out = responses ? responses_body(resp_reply(), *resp_request)
                           : anthropic_message_body(anthropic_reply(*r, ch.front(), id));
      if (Json m = memory_report(); !m.is_null()) out["memory"] = m;
      return out;
    }
    if (native) {  // llama-server's /completion: one result, or an array for several prompts
      auto one = [&](size_t i) {
        return native_completion_body(*r, ch[i], tok, alias, return_tokens, run->jobs()[i]->slot(),
                                      i);
      };
      if (ch.size() == 1) return one(0);
      Json all = Json::array();
      for (size_t i = 0; i < ch.size(); ++i) all.push_back(one(i));
      return all;
    }
    Json out = api == Api::kChat ? chat_completion_body(*r, ch, id, created)
                                 : completion_body(*r, ch, id, created);
    if (Json m = memory_report(); !m.is_null()) out["memory"] = m;
    if (r->verbose) {  // llama-server's debugging view: what the model saw and wrote
      out["__verbose"] = {{"prompt", r->prompt_text},
                          {"content", ch.front().content},
                          {"tokens_evaluated", ch.front().result.n_prompt},
                          {"tokens_predicted", static_cast<int64_t>(ch.front().result.ids.size())}};
    }
    return out;
  };
  auto error_json = [anthropic](const Status& st) -> std::pair<int, Json> {
    const int code = status_of(st);
    if (anthropic) return {code, anthropic_error_body(code, st.message())};
    return {code, error_body(api_error(code, code == 400 ? "invalid_request_error" : "server_error",
                                       st.message()))};
  };

  if (!r->stream) {
    // Short answers come as a plain body. A longer one switches to a chunked body that starts
    // with JSON whitespace, a space every 0.1 s: it keeps proxies from timing out and tells a
    // client that went away (the write fails), which cancels the generation.
    std::vector<RequestRun::Update> ups;
    const auto t0 = std::chrono::steady_clock::now();
    while (!run->all_done() &&
           std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(250)) {
      ups.clear();
      run->next(100, &ups);
    }
    if (run->all_done()) {
      if (const Status* e = run->error()) {
        auto [code, j] = error_json(*e);
        return send_json(res, code, j);
      }
      return send_json(res, 200, final_body());
    }
    res.set_chunked_content_provider(
        "application/json; charset=utf-8",
        [run, final_body, error_json](size_t, httplib::DataSink& sink) {
          std::vector<RequestRun::Update> ups;
          auto last = std::chrono::steady_clock::now();
          while (!run->all_done()) {
            ups.clear();
            run->next(100, &ups);
            // A tenth of a second between probes: a write to a closed connection fails by the
            // second one, so an abandoned generation stops within about 0.2 s.
            if (std::chrono::steady_clock::now() - last >= std::chrono::milliseconds(100)) {
              last = std::chrono::steady_clock::now();
              if (!sink.write(" ", 1)) {
                run->cancel();
                return false;
              }
            }
          }
          const std::string text =
              run->error() ? dump(error_json(*run->error()).second) : dump(final_body());
          sink.write(text.data(), text.size());
          sink.done();
          return true;
        },
        [run](bool) { run->cancel(); });
    return;
  }

  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  const int keepalive_ms = std::max(1, opt.keepalive_s) * 1000;
  auto astream =
      std::make_shared<AnthropicStream>(id, r->model, static_cast<int64_t>(r->prompt.size()));
  auto rstream = std::make_shared<ResponsesStream>(id, r->model, created, *resp_request);
  // llama-server's timings_per_token: running figures on each chunk (delta) of text.
  const Json& asked = responses ? *resp_request : body;
  const bool per_token = asked.contains("timings_per_token") &&
                         asked["timings_per_token"].is_boolean() &&
                         asked["timings_per_token"].get<bool>();
  auto live = std::make_shared<LiveTimings>();
  res.set_chunked_content_provider(
      "text/event-stream",
      [run, r, id, created, api, anthropic, responses, native, keepalive_ms, astream, rstream,
       per_token, live, resp_reply, final_body, error_json,
       memory_report](size_t, httplib::DataSink& sink) {
        auto write = [&](const std::string& s) {
          if (s.empty() || sink.write(s.data(), s.size())) return true;
          run->cancel();  // the client went away: free its sequences at the next step
          return false;
        };
        const bool chat = api == Api::kChat;
        std::vector<int> n_calls(static_cast<size_t>(r->n), 0);
        // The first frames: the role (OpenAI chat), message_start (Anthropic).
        if (anthropic && !write(astream->start())) return false;
        if (responses && !write(rstream->start())) return false;
        if (chat) {
          for (int i = 0; i < r->n; ++i) {
            if (!write(sse(chat_chunk(*r, id, created, i,
                                      {{"role", "assistant"}, {"content", nullptr}}, "")))) {
              return false;
            }
          }
        }
        std::vector<RequestRun::Update> ups;
        for (;;) {
          ups.clear();
          if (!run->next(keepalive_ms, &ups)) {
            if (!write(anthropic ? AnthropicStream::ping() : std::string(": keep-alive\n\n"))) {
              return false;
            }
            continue;
          }
          for (RequestRun::Update& u : ups) {
            if (u.kind == RequestRun::Update::kProgress) {
              // A comment line keeps proxies and clients from timing out during a long
              // prefill; with return_progress the figures also come as data (llama-server).
              std::string line =
                  ": prompt " + std::to_string(u.done) + "/" + std::to_string(u.total) + "\n\n";
              const int64_t cached = static_cast<int64_t>(r->prompt.size()) - u.total;
              const Json progress = {{"total", static_cast<int64_t>(r->prompt.size())},
                                     {"cache", cached},
                                     {"processed", cached + u.done},
                                     {"time_ms", u.ms}};
              live->prompt_n = u.done;
              live->prompt_ms = u.ms;
              if (r->return_progress && responses) {
                line = rstream->progress(progress);
              } else if (r->return_progress && !anthropic) {
                Json c = chat ? chat_chunk(*r, id, created, u.index, Json::object(), "")
                              : completion_chunk(*r, id, created, u.index, "", "");
                c["prompt_progress"] = progress;
                line = sse(c);
              }
              if (!write(line)) return false;
              continue;
            }
            // Text, tool calls and logprobs of choice u.index.
            const ChoiceOut& c = run->choices()[static_cast<size_t>(u.index)];
            std::vector<Json> chunks;
            for (const ReplyDelta& d : u.deltas) {
              if (responses) {
                std::string f;
                if (d.kind == ReplyDelta::kReasoning) {
                  f = rstream->reasoning(d.text);
                } else if (d.kind == ReplyDelta::kToolCall) {
                  int& k = n_calls[static_cast<size_t>(u.index)];
                  f = rstream->tool_call(
                      {responses_call_id(id, k++), d.call.name, d.call.arguments});
                } else {
                  f = rstream->text(d.text, per_token ? live->next() : Json());
                }
                if (!write(f)) return false;
              } else if (anthropic) {
                std::string f = d.kind == ReplyDelta::kReasoning ? astream->thinking(d.text)
                                : d.kind == ReplyDelta::kContent
                                    ? astream->text(d.text)
                                    : astream->tool_call({"", d.call.name, d.call.arguments});
                if (!write(f)) return false;
              } else if (chat) {
                const int k = n_calls[static_cast<size_t>(u.index)];
                if (d.kind == ReplyDelta::kToolCall) ++n_calls[static_cast<size_t>(u.index)];
                chunks.push_back(chat_chunk(
                    *r, id, created, u.index,
                    openai_delta(
                        d, id + "-" + std::to_string(u.index) + "-call-" + std::to_string(k), k),
                    ""));
              } else if (native) {
                chunks.push_back({{"index", u.index},
                                  {"content", d.text},
                                  {"tokens", Json::array()},
                                  {"stop", false},
                                  {"id_slot", run->jobs()[0]->slot()},
                                  {"tokens_predicted", static_cast<int64_t>(c.result.ids.size())},
                                  {"tokens_evaluated", static_cast<int64_t>(r->prompt.size())}});
              } else {
                chunks.push_back(completion_chunk(*r, id, created, u.index, d.text, ""));
              }
            }
            if (per_token && !anthropic && !responses && !chunks.empty()) {
              chunks.back()["timings"] = live->next();  // one update: one sampled token
            }
            if (!anthropic && !responses && !u.logprobs.empty()) {
              if (chunks.empty()) {
                chunks.push_back(chat ? chat_chunk(*r, id, created, u.index, Json::object(), "")
                                      : completion_chunk(*r, id, created, u.index, "", ""));
              }
              Json& last = chunks.back();
              if (native) {
                last["completion_probabilities"] =
                    r->options.post_sampling_probs ? post_sampling_entries(u.logprobs) : u.logprobs;
              } else {
                last["choices"][0]["logprobs"] =
                    chat ? Json{{"content", u.logprobs}} : legacy_logprobs(u.logprobs);
              }
            }
            if (u.kind == RequestRun::Update::kDone && !anthropic && !responses && !native) {
              const Job& job = *run->jobs()[static_cast<size_t>(u.index)];
              if (job.result().is_ok()) {
                const std::string fin = finish_reason(c.result.finish, !c.tool_calls.empty());
                chunks.push_back(chat ? chat_chunk(*r, id, created, u.index, Json::object(), fin)
                                      : completion_chunk(*r, id, created, u.index, "", fin));
                // llama-server: the timings ride on the finish chunk unless a usage chunk follows.
                if (!r->include_usage) chunks.back()["timings"] = timings_body({c});
              }
            }
            for (const Json& j : chunks) {
              if (!write(sse(j))) return false;
            }
          }
          if (!run->all_done()) continue;
          // The end: an error, or the usage and the closing frames.
          if (const Status* e = run->error()) {
            auto [code, j] = error_json(*e);
            if (anthropic) {
              write(anthropic_sse_error(code, e->message()));
            } else if (responses) {
              write(rstream->error(code, e->message()));
            } else {
              write(sse(j));
              if (!native) write("data: [DONE]\n\n");
            }
            sink.done();
            return true;
          }
          std::vector<ChoiceOut>& ch = run->choices();
          const Json mem_json = memory_report();  // the reply is stored before the stream ends
          if (responses) {
            write(rstream->finish(resp_reply(), timings_body(ch)));
          } else if (anthropic) {
            const ChoiceOut& c = ch.front();
            const std::string fin = c.result.finish == FinishReason::kStopString
                                        ? "stop_sequence"
                                        : finish_reason(c.result.finish, !c.tool_calls.empty());
            write(astream->finish(
                fin, c.result.stop_word,
                {c.result.n_prompt, c.result.n_reused, static_cast<int64_t>(c.result.ids.size())}));
          } else if (native) {
            Json last = final_body();
            if (!last.is_array()) last = Json::array({last});
            for (Json& one : last) {
              one["content"] = "";
              write(sse(one));
            }
          } else {
            if (r->include_usage) {
              Json u = chat ? chat_chunk(*r, id, created, 0, Json::object(), "")
                            : completion_chunk(*r, id, created, 0, "", "");
              u["choices"] = Json::array();
              u["usage"] = usage_body(ch);
              u["timings"] = timings_body(ch);
              if (!write(sse(u))) return false;
            }
            if (!mem_json.is_null()) {  // the memory report, as a chunk without choices
              Json m = chat ? chat_chunk(*r, id, created, 0, Json::object(), "")
                            : completion_chunk(*r, id, created, 0, "", "");
              m["choices"] = Json::array();
              m["memory"] = mem_json;
              if (!write(sse(m))) return false;
            }
            write("data: [DONE]\n\n");
          }
          sink.done();
          return true;
        }
      },
      [run](bool) { run->cancel(); });
}

// POST /v1/messages/count_tokens: the prompt the Messages request renders to, counted.
void HttpServer::Impl::count_tokens(const httplib::Request& req, httplib::Response& res) {
  auto fail = [&](int status, const std::string& m) {
    send_json(res, status, anthropic_error_body(status, m));
  };
  Json body;
  if (auto e = parse_body(req, &body, opt.max_body_bytes)) return fail(e->status, e->message);
  std::string err;
  auto chat = anthropic_count_tokens_request(body, &err);
  if (!chat) return fail(400, err);
  (*chat)["max_tokens"] = 1;
  GenRequest r;
  RequestDefaults d = defaults();
  d.n_ctx = std::numeric_limits<int64_t>::max();  // counting is not generating: any length
  if (auto e = parse_chat_request(engine, *chat, d, &r)) return fail(e->status, e->message);
  send_json(res, 200, anthropic_count_tokens_body(static_cast<int64_t>(r.prompt.size())));
}

// POST /v1/chat/completions/input_tokens (llama-server): the tokens a chat request's prompt holds.
void HttpServer::Impl::input_tokens(const httplib::Request& req, httplib::Response& res) {
  Json body;
  if (auto e = parse_body(req, &body, opt.max_body_bytes)) return send_error(res, *e);
  GenRequest r;
  RequestDefaults d = defaults();
  d.n_ctx = std::numeric_limits<int64_t>::max();  // counting is not generating: any length
  if (auto e = parse_chat_request(engine, body, d, &r)) return send_error(res, *e);
  send_json(res, 200,
            {{"input_tokens", static_cast<int64_t>(r.prompt.size())},
             {"object", "response.input_tokens"}});
}

void HttpServer::Impl::routes_generate() {
  for (const char* p : {"/v1/chat/completions", "/chat/completions"}) {
    svr.Post(
        p, [this](const httplib::Request& q, httplib::Response& s) { generate(q, s, Api::kChat); });
  }
  for (const char* p : {"/v1/completions", "/completions", "/completion"}) {
    svr.Post(p, [this](const httplib::Request& q, httplib::Response& s) {
      generate(q, s, Api::kCompletion);
    });
  }
  for (const char* p : {"/v1/messages", "/messages"}) {
    svr.Post(p, [this](const httplib::Request& q, httplib::Response& s) {
      generate(q, s, Api::kAnthropic);
    });
  }
  for (const char* p : {"/v1/responses", "/responses"}) {
    svr.Post(p, [this](const httplib::Request& q, httplib::Response& s) {
      generate(q, s, Api::kResponses);
    });
  }
  for (const char* p : {"/v1/chat/completions/input_tokens", "/chat/completions/input_tokens"}) {
    svr.Post(p, [this](const httplib::Request& q, httplib::Response& s) { input_tokens(q, s); });
  }
  for (const char* p : {"/v1/messages/count_tokens", "/messages/count_tokens"}) {
    svr.Post(p, [this](const httplib::Request& q, httplib::Response& s) { count_tokens(q, s); });
  }
}

}  // namespace longctx::server
