// HttpServer: keys, CORS, error bodies and llama-server's endpoints (tokenize, props, slots,
// metrics) of `longctx serve`; the generation routes are in routes_generate.cpp.
#include "server/http_server.h"

#include <httplib.h>

#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <string>

#include "runtime/chat_prompt.h"
#include "runtime/session_file.h"
#include "server/anthropic.h"
#include "server/constraint.h"
#include "server/http_impl.h"
#include "server/webui.h"
#include "tokenizer/utf8.h"

namespace longctx::server {
namespace {

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

// A slot file name: one path component of ordinary characters (no directories, no "..").
bool valid_file_name(const std::string& f) {
  if (f.empty() || f.size() > 200 || f == "." || f == "..") return false;
  for (char c : f) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

void set_exclusive_bind(httplib::Server& svr) {
  svr.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    // Accepted sockets inherit it: every SSE chunk goes out at once instead of waiting for
    // Nagle's algorithm to meet the client's delayed ACK (~40 ms a token).
    setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof(yes));
  });
}

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

std::optional<ApiError> parse_body(const httplib::Request& req, Json* out, size_t max_bytes) {
  // The body as received: a chunked or compressed body passes cpp-httplib's limit on the bytes
  // on the wire, so the limit is checked again here on what it became.
  if (req.body.size() > max_bytes) {
    return api_error(413, "invalid_request_error",
                     "the request body is too large (" + std::to_string(req.body.size()) +
                         " bytes; the limit is " + std::to_string(max_bytes) + ")");
  }
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

HttpServer::Impl::Impl(Engine& e, Scheduler& s, HttpOptions o)
    : engine(e), sched(s), opt(std::move(o)) {
  if (const Tokenizer* tok = engine.tokenizer()) vocab = make_token_vocab(*tok);
  if (!opt.memory_db.empty()) {
    memory::MemoryBudgets b = opt.memory_budgets;
    b.ctx = sched.n_ctx();
    memory = std::make_unique<ServerMemory>(opt.memory_db, engine, sched, b);
  }
}

// /props "conversation_memory": whether serve --memory is on (the web UI offers to remember a
// conversation on the server then) and its budgets in tokens.
Json HttpServer::Impl::conversation_memory() const {
  if (!memory) return {{"enabled", false}};
  const memory::MemoryBudgets& b = memory->budgets();
  return {{"enabled", true},
          {"budgets",
           {{"ctx", b.ctx},
            {"reply", b.reply},
            {"facts", b.facts},
            {"summary", b.summary},
            {"recall", b.recall}}}};
}

RequestDefaults HttpServer::Impl::defaults() const {
  RequestDefaults d;
  d.alias = opt.alias;
  d.n_ctx = sched.n_ctx();
  d.n_slots = sched.n_slots();
  d.max_tokens = opt.max_tokens;
  d.sampling = opt.sampling;
  d.seed = opt.seed;
  d.on_full = opt.on_full;
  d.enable_thinking = opt.enable_thinking;
  d.verbose = opt.verbose;
  d.engine = &engine;
  d.vocab = vocab;
  return d;
}

// CORS: no --cors-origins or "*" allows any origin (llama-server's default), "localhost" any
// origin on this machine (localhost, 127.0.0.1, [::1], any scheme and port), anything else
// must equal the Origin header.
bool HttpServer::Impl::origin_allowed(const std::string& origin) const {
  if (opt.cors_origins.empty()) return true;  // llama-server's default: any origin
  auto local = [&] {
    const size_t sep = origin.find("://");
    if (sep == std::string::npos) return false;
    std::string host = origin.substr(sep + 3);
    if (host.rfind("[::1]", 0) == 0) return host.size() == 5 || host[5] == ':';
    host = host.substr(0, host.find(':'));
    return host == "localhost" || host == "127.0.0.1";
  };
  for (const std::string& o : opt.cors_origins) {
    if (o == "*" || o == origin || (o == "localhost" && local())) return true;
  }
  return false;
}

// POST /slots/{id}?action=save|restore|erase (llama-server's, under --slot-save-path /
// --session-dir): a sequence's state to or from a session file (runtime/session_file.h), or
// forgotten. The sequence must be idle.
void HttpServer::Impl::slot_action(const httplib::Request& req, httplib::Response& res) {
  const int id = std::atoi(req.matches[1].str().c_str());
  const std::string action = req.get_param_value("action");
  if (action != "save" && action != "restore" && action != "erase") {
    return send_error(res,
                      api_error(400, "invalid_request_error",
                                "'action' must be save, restore or erase, got '" + action + "'"));
  }
  if (id < 0 || id >= sched.n_slots()) {
    return send_error(res, api_error(400, "invalid_request_error",
                                     "no slot " + req.matches[1].str() + " (the server has " +
                                         std::to_string(sched.n_slots()) + ")"));
  }
  std::string path, filename;
  if (action != "erase") {
    if (opt.slot_save_dir.empty()) {
      return send_error(res, api_error(501, "not_supported_error",
                                       "slot save and restore need a directory: start the "
                                       "server with --session-dir DIR (or --slot-save-path)"));
    }
    Json body;
    if (auto e = parse_body(req, &body, opt.max_body_bytes)) return send_error(res, *e);
    const auto f = body.find("filename");
    if (f == body.end() || !f->is_string() || !valid_file_name(f->get<std::string>())) {
      return send_error(res, api_error(400, "invalid_request_error",
                                       "'filename' must be a plain file name (letters, digits, "
                                       "'.', '_', '-'; no directories)"));
    }
    filename = f->get<std::string>();
    path = (std::filesystem::path(opt.slot_save_dir) / filename).string();
  }
  const auto t0 = std::chrono::steady_clock::now();
  Json out = {{"id_slot", id}};
  const Status st = sched.with_idle_slot(id, [&](Session& s) -> Status {
    if (action == "erase") {
      out["n_erased"] = s.n_past();
      s.reset();
      return Status::ok();
    }
    if (action == "save") {
      auto f = SessionFile::save_as(path, s, "");
      if (!f) return f.status();
      out["filename"] = filename;
      out["n_saved"] = s.n_past();
      out["n_written"] = (*f)->file_bytes();
      out["timings"] = {{"save_ms", ms_since(t0)}};
      return Status::ok();
    }
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
      return not_found("no session file '" + filename + "' in the session directory");
    }
    std::string app;
    auto f = SessionFile::open(path, s, &app);
    if (!f) return f.status();
    out["filename"] = filename;
    out["n_restored"] = s.n_past();
    out["n_read"] = (*f)->file_bytes();
    out["timings"] = {{"restore_ms", ms_since(t0)}};
    return Status::ok();
  });
  if (!st.is_ok()) {
    const int code = st.code() == ErrorCode::kUnsupported ? 409
                     : st.code() == ErrorCode::kNotFound  ? 404
                     : st.code() == ErrorCode::kIo        ? 500
                                                          : 400;
    return send_error(
        res, api_error(code, code == 500 ? "server_error" : "invalid_request_error", st.message()));
  }
  send_json(res, 200, out);
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
      res.set_header("Access-Control-Allow-Credentials", "true");
      // llama-server answers "*"; a browser does not take "*" for Authorization, so with
      // origins of one's own (--cors-origins) the headers the preflight asks for are allowed
      // by name instead.
      const std::string asked = req.get_header_value("Access-Control-Request-Headers");
      res.set_header("Access-Control-Allow-Headers",
                     opt.cors_origins.empty() || asked.empty() ? std::string("*") : asked);
      res.set_header("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS");
    }
    // Range is ignored (RFC 9110 lets a server answer 200 with the whole body): every answer
    // here is generated per request, and cpp-httplib 0.11 would cut it anyway, answering 200
    // with a partial JSON body or 416 without a body.
    const_cast<httplib::Request&>(req).ranges.clear();
    if (req.method == "OPTIONS") {  // preflight: answered before the key is checked
      res.status = 200;
      return httplib::Server::HandlerResponse::Handled;
    }
    const std::string& p = req.path;
    const bool open = p == "/health" || p == "/v1/health" || p == "/v1/models" || p == "/models" ||
                      (opt.webui && (p == "/" || p == "/index.html" || p.rfind("/ui/", 0) == 0));
    if (!opt.api_key.empty() && !open) {
      const std::string auth = req.get_header_value("Authorization");
      const std::string x = req.get_header_value("X-Api-Key");
      if (auth != "Bearer " + opt.api_key && x != opt.api_key) {
        const std::string m = "Invalid API Key (send it as Authorization: Bearer KEY)";
        if (p.find("/messages") != std::string::npos) {  // Anthropic's clients read its shape
          send_json(res, 401, anthropic_error_body(401, m));
        } else {
          send_error(res, api_error(401, "authentication_error", m));
        }
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
  if (opt.webui) register_webui(svr);

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
                                        {"aliases", opt.aliases.empty() ? Json::array({opt.alias})
                                                                        : Json(opt.aliases)},
                                        {"tags", Json(opt.tags)},
                                        {"object", "model"},
                                        {"created", started},
                                        {"owned_by", "longctx"},
                                        {"meta",
                                         {{"n_ctx", sched.n_ctx()},
                                          {"n_ctx_train", hp.n_ctx_train},
                                          {"n_vocab", hp.n_vocab},
                                          {"n_embd", hp.n_embd},
                                          {"n_params", engine.model().n_params()},
                                          {"size", engine.model().weight_bytes()}}}}})},
                 // Ollama's shape too, which some clients list models from.
                 {"models", Json::array({{{"name", opt.alias},
                                          {"model", opt.alias},
                                          {"type", "model"},
                                          {"capabilities", Json::array({"completion"})}}})}});
    });
  });
  both("/tokenize", [&](const std::string& p) {
    svr.Post(p, [this](const httplib::Request& req, httplib::Response& res) {
      Json body;
      if (auto e = parse_body(req, &body, opt.max_body_bytes)) return send_error(res, *e);
      const auto c = body.find("content");
      if (c == body.end() || !c->is_string()) {
        return send_error(res,
                          api_error(400, "invalid_request_error", "'content' must be a string"));
      }
      const Tokenizer* tok = engine.tokenizer();
      if (!tok) return send_error(res, api_error(400, "invalid_request_error", "no tokenizer"));
      bool pieces = false, special = true;
      for (auto [key, into] : {std::pair{"with_pieces", &pieces}, {"parse_special", &special}}) {
        const auto it = body.find(key);
        if (it == body.end() || it->is_null()) continue;
        if (!it->is_boolean()) {
          return send_error(res, api_error(400, "invalid_request_error",
                                           std::string("'") + key + "' must be a boolean"));
        }
        *into = it->get<bool>();
      }
      Json out = Json::array();
      for (int32_t id : tok->encode(c->get<std::string>(), special)) {
        if (pieces) {
          // A piece that is not whole UTF-8 (a character split over tokens) comes as its
          // bytes, as llama-server sends it, so the pieces always join back to the text.
          const std::string piece = tok->token_piece(id);
          std::string checked;
          if (tok::append_valid_utf8(piece, &checked)) {
            out.push_back({{"id", id}, {"piece", piece}});
          } else {
            Json bytes = Json::array();
            for (unsigned char ch : piece) bytes.push_back(static_cast<int>(ch));
            out.push_back({{"id", id}, {"piece", bytes}});
          }
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
      if (auto e = parse_body(req, &body, opt.max_body_bytes)) return send_error(res, *e);
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
  both("/apply-template", [&](const std::string& p) {
    svr.Post(p, [this](const httplib::Request& req, httplib::Response& res) {
      Json body;
      if (auto e = parse_body(req, &body, opt.max_body_bytes)) return send_error(res, *e);
      std::string text;
      if (auto e = render_prompt_text(engine, body, defaults(), &text)) return send_error(res, *e);
      send_json(res, 200, {{"prompt", text}});
    });
  });
  both("/props", [&](const std::string& p) {
    svr.Get(p, [this](const httplib::Request&, httplib::Response& res) {
      const SchedulerStats st = sched.stats();
      const SamplingParams sp =
          opt.sampling ? opt.sampling(true) : SamplingParams::qwen3_defaults(true);
      const Tokenizer* tok = engine.tokenizer();
      auto piece = [&](std::optional<int32_t> id) {
        return tok && id ? Json(tok->token_piece(*id)) : Json();
      };
      send_json(res, 200,
                {{"default_generation_settings",
                  {{"n_ctx", sched.n_ctx()},
                   {"params",
                    {{"n_predict", opt.max_tokens},
                     {"seed", opt.seed ? Json(*opt.seed) : Json(-1)},
                     {"temperature", sp.temperature},
                     {"top_k", sp.top_k},
                     {"top_p", sp.top_p},
                     {"min_p", sp.min_p},
                     {"repeat_penalty", sp.repetition_penalty},
                     {"presence_penalty", sp.presence_penalty},
                     {"frequency_penalty", sp.frequency_penalty}}}}},
                 {"n_ctx", sched.n_ctx()},
                 {"total_slots", st.slots},
                 {"model_alias", opt.alias},
                 {"model_path", opt.model_path},
                 {"chat_template", engine.chat_template()},
                 {"bos_token", piece(tok ? tok->bos_id() : std::nullopt)},
                 {"eos_token", piece(tok ? tok->eos_id() : std::nullopt)},
                 {"modalities", {{"vision", false}, {"video", false}, {"audio", false}}},
                 {"endpoint_slots", opt.slots_endpoint},
                 {"endpoint_metrics", true},
                 {"is_sleeping", st.sleeping},
                 {"memory", opt.memory},
                 {"conversation_memory", conversation_memory()},
                 {"webui", opt.webui},
                 {"build_info", "longctx"}});
    });
  });
  both("/slots", [&](const std::string& p) {
    svr.Get(p, [this](const httplib::Request&, httplib::Response& res) {
      if (!opt.slots_endpoint) {
        return send_error(res, api_error(501, "not_supported_error",
                                         "This server does not support slots endpoint. Start it "
                                         "with `--slots` (it was started with --no-slots)"));
      }
      const SchedulerStats st = sched.stats();
      Json out = Json::array();
      for (size_t i = 0; i < st.slot_busy.size(); ++i) {
        out.push_back({{"id", i},
                       {"id_task", st.slot_busy[i] ? st.slot_job_index[i] : -1},
                       {"n_ctx", sched.n_ctx()},
                       {"speculative", false},
                       {"is_processing", static_cast<bool>(st.slot_busy[i])},
                       {"n_past", st.slot_cells[i]}});
      }
      send_json(res, 200, out);
    });
  });
  svr.Post(R"(/slots/(\d+))",
           [this](const httplib::Request& q, httplib::Response& s) { slot_action(q, s); });
  svr.Post(R"(/v1/slots/(\d+))",
           [this](const httplib::Request& q, httplib::Response& s) { slot_action(q, s); });
  both("/metrics", [&](const std::string& p) {
    svr.Get(p, [this](const httplib::Request&, httplib::Response& res) {
      const SchedulerStats st = sched.stats();
      std::string m;
      auto metric = [&](const char* name, const char* type, const char* help, double v) {
        char line[320];
        std::snprintf(line, sizeof line,
                      "# HELP longctx:%s %s\n# TYPE longctx:%s %s\nlongctx:%s %.6g\n", name, help,
                      name, type, name, v);
        m += line;
      };
      const double prompt_new = static_cast<double>(st.prompt_tokens - st.cached_tokens);
      metric("prompt_tokens_total", "counter", "Prompt tokens of finished requests.",
             static_cast<double>(st.prompt_tokens));
      metric("prompt_tokens_cached_total", "counter",
             "Prompt tokens taken from a cached prefix (prefix-cache hits).",
             static_cast<double>(st.cached_tokens));
      metric("tokens_predicted_total", "counter", "Generated tokens of finished requests.",
             static_cast<double>(st.generated_tokens));
      metric("prompt_tokens_seconds", "gauge", "Prefill tokens/s over finished requests.",
             st.prompt_seconds > 0 ? prompt_new / st.prompt_seconds : 0.0);
      metric("predicted_tokens_seconds", "gauge", "Decode tokens/s over finished requests.",
             st.gen_seconds > 0 ? static_cast<double>(st.generated_tokens) / st.gen_seconds : 0.0);
      metric("requests_total", "counter", "Finished requests (choices).",
             static_cast<double>(st.requests));
      metric("requests_processing", "gauge", "Requests running on a sequence.",
             static_cast<double>(st.busy));
      metric("requests_deferred", "gauge", "Requests waiting for a sequence.",
             static_cast<double>(st.queued));
      metric("kv_cache_tokens", "gauge", "KV positions held over all sequences.",
             static_cast<double>(st.cells_used));
      metric("kv_cache_tokens_total", "gauge", "KV positions available over all sequences.",
             static_cast<double>(st.cells_total));
      metric("kv_cache_usage_ratio", "gauge", "KV positions held / available.",
             st.cells_total > 0
                 ? static_cast<double>(st.cells_used) / static_cast<double>(st.cells_total)
                 : 0.0);
      metric("sequences_spilled_total", "counter",
             "Idle sequences written to the session directory before being reused.",
             static_cast<double>(st.spilled));
      metric("sequences_restored_total", "counter",
             "Spilled sequences read back for a request that continued them.",
             static_cast<double>(st.restored));
      metric("sleeping", "gauge",
             "1 while the server sleeps (weights and caches released after --sleep-idle-seconds).",
             st.sleeping ? 1.0 : 0.0);
      metric("sleeps_total", "counter", "Times the server went to sleep.",
             static_cast<double>(st.sleeps));
      res.set_content(m, "text/plain; version=0.0.4");
    });
  });
  routes_generate();
  if (memory) memory->routes(svr);
}

std::shared_ptr<const GbnfVocab> HttpServer::Impl::gbnf_vocab() {
  std::call_once(gbnf_once, [this] {
    if (vocab) gbnf_vocab_ = make_gbnf_vocab(*vocab);
  });
  return gbnf_vocab_;
}

HttpServer::HttpServer(Engine& engine, Scheduler& scheduler, HttpOptions options)
    : impl_(std::make_unique<Impl>(engine, scheduler, std::move(options))) {
  Impl& m = *impl_;
  set_exclusive_bind(m.svr);
  m.svr.set_payload_max_length(m.opt.max_body_bytes);
  m.svr.set_read_timeout(m.opt.idle_timeout_s, 0);
  m.svr.set_write_timeout(m.opt.idle_timeout_s, 0);
  m.svr.set_request_deadline(m.opt.idle_timeout_s);
  m.svr.set_max_connections(m.opt.max_connections);
  // An idle keep-alive connection holds a worker until this runs out, and stop() waits for it.
  m.svr.set_keep_alive_timeout(1);
  const int threads =
      m.opt.http_threads > 0 ? m.opt.http_threads : static_cast<int>(scheduler.n_slots()) + 8;
  m.svr.use_workers(threads);
  m.routes();
  // After a request that made the heap grow a lot (a big body, thousands of headers), give the
  // memory back at once (the scheduler trims too when it goes idle, but such requests may
  // never reach it).
  m.svr.set_logger([](const httplib::Request& req, const httplib::Response&) {
    if (req.body.size() >= (size_t{1} << 20) || req.headers.size() >= 256) malloc_trim(0);
  });
}

HttpServer::~HttpServer() { stop(); }

Status HttpServer::bind() {
  Impl& m = *impl_;
  if (m.memory) {
    if (Status st = m.memory->open(); !st) return st.with_context("--memory " + m.opt.memory_db);
  }
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
