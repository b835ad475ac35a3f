// HttpServer: the routes of `longctx serve` (see http_server.h).
#include "server/http_server.h"

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

#include "chat/think_stream.h"
#include "server/openai.h"

namespace longctx::server {
namespace {

void send_json(httplib::Response& res, int status, const Json& j) {
  res.status = status;
  res.set_content(dump(j), "application/json; charset=utf-8");
}

void send_error(httplib::Response& res, const ApiError& e) {
  send_json(res, e.status, error_body(e));
}

ApiError api_error(int status, std::string type, std::string message) {
  ApiError e;
  e.status = status;
  e.type = std::move(type);
  e.message = std::move(message);
  return e;
}

// Nesting depth of a JSON text (brackets outside strings), scanned before parsing so that a
// body of a million '[' cannot exhaust the stack of a recursive consumer.
bool json_depth_ok(const std::string& s, int max_depth) {
  int depth = 0;
  bool in_str = false, esc = false;
  for (char c : s) {
    if (in_str) {
      if (esc) {
        esc = false;
      } else if (c == '\\') {
        esc = true;
      } else if (c == '"') {
        in_str = false;
      }
    } else if (c == '"') {
      in_str = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return false;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return true;
}

std::optional<ApiError> parse_body(const httplib::Request& req, Json* out) {
  if (!json_depth_ok(req.body, 64)) {
    return api_error(400, "invalid_request_error", "the body nests JSON deeper than 64 levels");
  }
  *out = Json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (out->is_discarded()) {
    return api_error(400, "invalid_request_error", "the request body is not valid JSON");
  }
  if (!out->is_object())
    return api_error(400, "invalid_request_error", "the body must be a JSON object");
  return std::nullopt;
}

std::string sse(const Json& j) { return "data: " + dump(j) + "\n\n"; }

}  // namespace

struct HttpServer::Impl {
  Engine& engine;
  Scheduler& sched;
  HttpOptions opt;
  httplib::Server svr;
  std::atomic<uint64_t> next_id{1};
  int64_t started = static_cast<int64_t>(std::time(nullptr));

  Impl(Engine& e, Scheduler& s, HttpOptions o) : engine(e), sched(s), opt(std::move(o)) {}

  RequestDefaults defaults() const {
    RequestDefaults d;
    d.alias = opt.alias;
    d.n_ctx = sched.n_ctx();
    d.max_tokens = opt.max_tokens;
    return d;
  }

  bool origin_allowed(const std::string& origin) const {
    for (const std::string& o : opt.cors_origins) {
      if (o == "*" || o == origin) return true;
    }
    return false;
  }

  void generate(const httplib::Request& req, httplib::Response& res, bool chat);
  void routes();
};

void HttpServer::Impl::generate(const httplib::Request& req, httplib::Response& res, bool chat) {
  Json body;
  if (auto e = parse_body(req, &body)) return send_error(res, *e);
  auto r = std::make_shared<GenRequest>();
  const RequestDefaults d = defaults();
  if (auto e = chat ? parse_chat_request(engine, body, d, r.get())
                    : parse_completion_request(engine, body, d, r.get())) {
    return send_error(res, *e);
  }
  bool return_progress = false;
  if (const auto it = body.find("return_progress"); it != body.end() && it->is_boolean()) {
    return_progress = it->get<bool>();
  }
  auto job = std::make_shared<Job>();
  job->prompt = r->prompt;
  job->options = r->options;
  if (!sched.submit(job)) {
    return send_error(res, api_error(503, "unavailable_error",
                                     "the server is busy: every sequence is in use and the "
                                     "queue is full; retry later"));
  }
  char idbuf[32];
  std::snprintf(idbuf, sizeof idbuf, "%s-%010llu", chat ? "chatcmpl" : "cmpl",
                static_cast<unsigned long long>(next_id.fetch_add(1)));
  const std::string id = idbuf;
  const int64_t created = static_cast<int64_t>(std::time(nullptr));

  auto status_of = [](const Status& st) {
    return st.code() == ErrorCode::kInvalidArgument ? 400 : 500;
  };
  if (!r->stream) {
    std::vector<Job::Event> events;
    while (!job->finished()) {
      events.clear();
      job->wait(&events, 1000);
    }
    const Result<GenerateResult>& out = job->result();
    if (!out) {
      return send_error(res,
                        api_error(status_of(out.status()), "server_error", out.status().message()));
    }
    return send_json(res, 200,
                     chat ? chat_completion_body(*r, *out, id, created)
                          : completion_body(*r, *out, id, created));
  }

  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  const int keepalive_ms = std::max(1, opt.keepalive_s) * 1000;
  res.set_chunked_content_provider(
      "text/event-stream",
      [job, r, id, created, chat, return_progress, keepalive_ms, status_of](
          size_t, httplib::DataSink& sink) {
        auto write = [&](const std::string& s) {
          if (sink.write(s.data(), s.size())) return true;
          job->cancel = true;  // the client went away: free its sequence at the next step
          return false;
        };
        chat::ThinkStreamSplitter split(r->starts_in_think);
        auto text_out = [&](const std::vector<chat::StreamSegment>& segs) {
          for (const chat::StreamSegment& g : segs) {
            if (g.text.empty()) continue;
            const Json delta = {{g.reasoning ? "reasoning_content" : "content", g.text}};
            if (!write(sse(chat_chunk(*r, id, created, delta, "")))) return false;
          }
          return true;
        };
        if (chat && !write(sse(chat_chunk(*r, id, created, {{"role", "assistant"}, {"content", ""}},
                                          "")))) {
          return false;
        }
        std::vector<Job::Event> events;
        for (;;) {
          events.clear();
          if (!job->wait(&events, keepalive_ms)) {
            if (!write(": keep-alive\n\n")) return false;
            continue;
          }
          for (const Job::Event& ev : events) {
            if (ev.kind == Job::Event::kText) {
              if (chat ? !text_out(split.push(ev.text))
                       : !write(sse(completion_chunk(*r, id, created, ev.text, "")))) {
                return false;
              }
            } else if (ev.kind == Job::Event::kProgress) {
              // A comment line keeps proxies and clients from timing out during a long
              // prefill; with return_progress the figures also come as data (llama-server).
              std::string line =
                  ": prompt " + std::to_string(ev.done) + "/" + std::to_string(ev.total) + "\n\n";
              if (return_progress) {
                Json c = chat ? chat_chunk(*r, id, created, Json::object(), "")
                              : completion_chunk(*r, id, created, "", "");
                c["prompt_progress"] = {{"total", ev.total}, {"processed", ev.done}};
                line = sse(c);
              }
              if (!write(line)) return false;
            } else {  // kDone
              const Result<GenerateResult>& out = job->result();
              if (!out) {
                ApiError e =
                    api_error(status_of(out.status()), "server_error", out.status().message());
                write(sse(error_body(e)));
              } else {
                if (chat && !text_out(split.finish())) return false;
                const std::string fin = finish_reason(out->finish, false);
                if (!write(sse(chat ? chat_chunk(*r, id, created, Json::object(), fin)
                                    : completion_chunk(*r, id, created, "", fin)))) {
                  return false;
                }
                if (r->include_usage) {
                  Json u = chat ? chat_chunk(*r, id, created, Json::object(), "")
                                : completion_chunk(*r, id, created, "", "");
                  u["choices"] = Json::array();
                  u["usage"] = usage_body(*out);
                  if (!write(sse(u))) return false;
                }
              }
              write("data: [DONE]\n\n");
              sink.done();
              return true;
            }
          }
        }
      },
      [job](bool) { job->cancel = true; });
}

void HttpServer::Impl::routes() {
  // Both spellings of every route, as llama-server serves them.
  auto both = [&](const char* path, auto add) {
    add(std::string("/v1") + path);
    add(std::string(path));
  };
  svr.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    const std::string origin = req.get_header_value("Origin");
    if (!origin.empty() && origin_allowed(origin)) {
      res.set_header("Access-Control-Allow-Origin", origin);
      res.set_header("Vary", "Origin");
      res.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Api-Key");
      res.set_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
    }
    if (req.method == "OPTIONS") {  // preflight: answered before the key is checked
      res.status = 204;
      return httplib::Server::HandlerResponse::Handled;
    }
    const bool open = req.path == "/health" || req.path == "/v1/health" ||
                      req.path == "/v1/models" || req.path == "/models";
    if (!opt.api_key.empty() && !open) {
      const std::string auth = req.get_header_value("Authorization");
      const std::string x = req.get_header_value("X-Api-Key");
      if (auth != "Bearer " + opt.api_key && x != opt.api_key) {
        send_error(res, api_error(401, "authentication_error", "invalid or missing API key"));
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  svr.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    if (res.status == 404) {
      send_error(res, api_error(404, "not_found_error", "no route " + req.method + " " + req.path));
    } else if (res.status == 413) {
      send_error(res, api_error(413, "invalid_request_error", "the request body is too large"));
    } else {
      send_error(res, api_error(res.status, "invalid_request_error",
                                "the request could not be handled (HTTP " +
                                    std::to_string(res.status) + ")"));
    }
  });
  svr.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "internal error";
        try {
          if (ep) std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        send_error(res, api_error(500, "server_error", what));
      });

  both("/health", [&](const std::string& p) {
    svr.Get(p, [](const httplib::Request&, httplib::Response& res) {
      send_json(res, 200, {{"status", "ok"}});
    });
  });
  both("/models", [&](const std::string& p) {
    svr.Get(p, [this](const httplib::Request&, httplib::Response& res) {
      const ModelHparams& hp = engine.hparams();
      send_json(res, 200,
                {{"object", "list"},
                 {"data", Json::array({{{"id", opt.alias},
                                        {"object", "model"},
                                        {"created", started},
                                        {"owned_by", "longctx"},
                                        {"meta",
                                         {{"n_ctx", sched.n_ctx()},
                                          {"n_ctx_train", hp.n_ctx_train},
                                          {"n_vocab", hp.n_vocab},
                                          {"n_embd", hp.n_embd}}}}})}});
    });
  });
  both("/chat/completions", [&](const std::string& p) {
    svr.Post(p, [this](const httplib::Request& q, httplib::Response& s) { generate(q, s, true); });
  });
  both("/completions", [&](const std::string& p) {
    svr.Post(p, [this](const httplib::Request& q, httplib::Response& s) { generate(q, s, false); });
  });
  both("/tokenize", [&](const std::string& p) {
    svr.Post(p, [this](const httplib::Request& req, httplib::Response& res) {
      Json body;
      if (auto e = parse_body(req, &body)) return send_error(res, *e);
      const auto c = body.find("content");
      if (c == body.end() || !c->is_string()) {
        return send_error(res,
                          api_error(400, "invalid_request_error", "'content' must be a string"));
      }
      const Tokenizer* tok = engine.tokenizer();
      if (!tok) return send_error(res, api_error(400, "invalid_request_error", "no tokenizer"));
      const bool pieces = body.value("with_pieces", false);
      Json out = Json::array();
      for (int32_t id : tok->encode(c->get<std::string>(), true)) {
        if (pieces) {
          out.push_back({{"id", id}, {"piece", tok->decode(std::span<const int32_t>(&id, 1))}});
        } else {
          out.push_back(id);
        }
      }
      send_json(res, 200, {{"tokens", out}});
    });
  });
  both("/detokenize", [&](const std::string& p) {
    svr.Post(p, [this](const httplib::Request& req, httplib::Response& res) {
      Json body;
      if (auto e = parse_body(req, &body)) return send_error(res, *e);
      const auto t = body.find("tokens");
      const Tokenizer* tok = engine.tokenizer();
      if (!tok) return send_error(res, api_error(400, "invalid_request_error", "no tokenizer"));
      std::vector<int32_t> ids;
      const int64_t nv = engine.hparams().n_vocab;
      if (t == body.end() || !t->is_array()) {
        return send_error(res,
                          api_error(400, "invalid_request_error", "'tokens' must be an array"));
      }
      for (const Json& v : *t) {
        if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() >= nv) {
          return send_error(res,
                            api_error(400, "invalid_request_error",
                                      "'tokens' must hold ids in [0, " + std::to_string(nv) + ")"));
        }
        ids.push_back(static_cast<int32_t>(v.get<int64_t>()));
      }
      send_json(res, 200, {{"content", tok->decode(ids)}});
    });
  });
  both("/props", [&](const std::string& p) {
    svr.Get(p, [this](const httplib::Request&, httplib::Response& res) {
      const SchedulerStats st = sched.stats();
      send_json(res, 200,
                {{"default_generation_settings", {{"n_ctx", sched.n_ctx()}}},
                 {"total_slots", st.slots},
                 {"model_alias", opt.alias},
                 {"chat_template", engine.chat_template()},
                 {"build_info", "longctx"}});
    });
  });
  both("/slots", [&](const std::string& p) {
    svr.Get(p, [this](const httplib::Request&, httplib::Response& res) {
      const SchedulerStats st = sched.stats();
      Json out = Json::array();
      for (size_t i = 0; i < st.slot_busy.size(); ++i) {
        out.push_back({{"id", i},
                       {"n_ctx", sched.n_ctx()},
                       {"is_processing", static_cast<bool>(st.slot_busy[i])},
                       {"n_past", st.slot_cells[i]}});
      }
      send_json(res, 200, out);
    });
  });
  both("/metrics", [&](const std::string& p) {
    svr.Get(p, [this](const httplib::Request&, httplib::Response& res) {
      const SchedulerStats st = sched.stats();
      std::string m;
      auto metric = [&](const char* name, const char* type, const char* help, double v) {
        char line[256];
        std::snprintf(line, sizeof line,
                      "# HELP longctx:%s %s\n# TYPE longctx:%s %s\nlongctx:%s %.6g\n", name, help,
                      name, type, name, v);
        m += line;
      };
      const double prompt_new = static_cast<double>(st.prompt_tokens - st.cached_tokens);
      metric("prompt_tokens_total", "counter", "Prompt tokens of finished requests.",
             static_cast<double>(st.prompt_tokens));
      metric("prompt_tokens_cached_total", "counter", "Prompt tokens taken from a cached prefix.",
             static_cast<double>(st.cached_tokens));
      metric("tokens_predicted_total", "counter", "Generated tokens of finished requests.",
             static_cast<double>(st.generated_tokens));
      metric("prompt_tokens_seconds", "gauge", "Prefill tokens/s over finished requests.",
             st.prompt_seconds > 0 ? prompt_new / st.prompt_seconds : 0.0);
      metric("predicted_tokens_seconds", "gauge", "Decode tokens/s over finished requests.",
             st.gen_seconds > 0 ? static_cast<double>(st.generated_tokens) / st.gen_seconds : 0.0);
      metric("requests_total", "counter", "Finished requests.", static_cast<double>(st.requests));
      metric("requests_processing", "gauge", "Requests running on a sequence.",
             static_cast<double>(st.busy));
      metric("requests_deferred", "gauge", "Requests waiting for a sequence.",
             static_cast<double>(st.queued));
      metric("kv_cache_tokens", "gauge", "KV positions held over all sequences.",
             static_cast<double>(st.cells_used));
      metric("kv_cache_tokens_total", "gauge", "KV positions available over all sequences.",
             static_cast<double>(st.cells_total));
      res.set_content(m, "text/plain; version=0.0.4");
    });
  });
}

HttpServer::HttpServer(Engine& engine, Scheduler& scheduler, HttpOptions options)
    : impl_(std::make_unique<Impl>(engine, scheduler, std::move(options))) {
  Impl& m = *impl_;
  m.svr.set_payload_max_length(m.opt.max_body_bytes);
  m.svr.set_read_timeout(m.opt.idle_timeout_s, 0);
  m.svr.set_write_timeout(m.opt.idle_timeout_s, 0);
  m.svr.set_keep_alive_timeout(5);
  const int threads =
      m.opt.http_threads > 0 ? m.opt.http_threads : static_cast<int>(scheduler.stats().slots) + 8;
  m.svr.new_task_queue = [threads] {
    return new httplib::ThreadPool(static_cast<size_t>(threads));
  };
  m.routes();
}

HttpServer::~HttpServer() { stop(); }

Status HttpServer::bind() {
  Impl& m = *impl_;
  if (m.opt.port == 0) {
    port_ = m.svr.bind_to_any_port(m.opt.host);
    if (port_ <= 0) return io_error("cannot bind to " + m.opt.host + " on any port");
  } else {
    if (!m.svr.bind_to_port(m.opt.host, m.opt.port)) {
      return io_error("cannot bind to " + m.opt.host + ":" + std::to_string(m.opt.port) +
                      " (in use, or not an address of this machine)");
    }
    port_ = m.opt.port;
  }
  return Status::ok();
}

void HttpServer::serve() { impl_->svr.listen_after_bind(); }

void HttpServer::stop() {
  if (impl_) impl_->svr.stop();
}

}  // namespace longctx::server
