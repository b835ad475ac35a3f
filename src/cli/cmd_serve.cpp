// `longctx serve`: an OpenAI-compatible HTTP server over --parallel sequences decoded together
// (src/server/). While the model loads, /health answers 503 "loading"; the memory of all
// sequences is planned and printed before anything is allocated, and the server refuses to
// start when it does not fit; SIGINT / SIGTERM stop accepting, cancel what runs and exit
// cleanly. llama-server's command-line spellings are accepted (serve_aliases.cpp).
#include <httplib.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cli/commands.h"
#include "cli/engine_args.h"
#include "cli/sampling_args.h"
#include "cli/serve_aliases.h"
#include "core/system_memory.h"
#include "runtime/batch.h"
#include "runtime/session.h"
#include "server/http_server.h"
#include "server/scheduler.h"

namespace longctx::cli {
namespace {

struct ServeArgs {
  EngineArgs engine;
  SamplingArgs sampling;
  std::optional<int64_t> seed;
  LlamaServerArgs llama;
  std::string host = "127.0.0.1";
  int port = 8080;
  int64_t parallel = 1;
  int64_t max_queue = 64;
  std::string api_key;
  std::string alias;
  std::vector<std::string> cors_origins;
  int64_t n_predict = -1;
  int timeout_s = 30;
  int http_threads = 0;
  int64_t max_connections = 256;
  bool no_ui = false;
  std::string session_dir;
  std::string memory_db;  // --memory DB
  memory::MemoryBudgets budgets;
  int64_t spill_max = 16;
  std::string on_full = "stop";
  int64_t sleep_idle_s = -1;
  int64_t prefill_chunk = server::SchedulerOptions{}.prefill_chunk;
};

double mib(uint64_t b) { return static_cast<double>(b) / (1024.0 * 1024.0); }

// Answers /health with 503 "loading" (and everything else with 503) while the model loads, so
// clients and orchestrators polling the port see the server coming up.
class LoadingServer {
 public:
  bool start(const std::string& host, int port) {
    server::set_exclusive_bind(svr_);
    svr_.Get(".*", [](const httplib::Request& req, httplib::Response& res) {
      (void)req;
      res.status = 503;
      res.set_content(
          R"({"error":{"code":503,"message":"Loading model","type":"unavailable_error"}})",
          "application/json; charset=utf-8");
    });
    svr_.Post(".*", [](const httplib::Request&, httplib::Response& res) {
      res.status = 503;
      res.set_content(
          R"({"error":{"code":503,"message":"Loading model","type":"unavailable_error"}})",
          "application/json; charset=utf-8");
    });
    port_ = port == 0 ? svr_.bind_to_any_port(host) : (svr_.bind_to_port(host, port) ? port : -1);
    if (port_ <= 0) return false;
    thread_ = std::thread([this] { svr_.listen_after_bind(); });
    return true;
  }
  int port() const { return port_; }
  void stop() {
    svr_.stop();
    if (thread_.joinable()) thread_.join();
  }
  ~LoadingServer() { stop(); }

 private:
  httplib::Server svr_;
  std::thread thread_;
  int port_ = -1;
};

int run(ServeArgs a) {
  if (Status st = apply_llama_server_args(a.llama, &a.engine, &a.parallel, &a.http_threads,
                                          &a.no_ui, &a.session_dir, &a.on_full);
      !st.is_ok()) {
    std::fprintf(stderr, "longctx serve: %s\n", st.message().c_str());
    return 2;
  }
  if (a.parallel < 1 || a.parallel > 256) {
    std::fprintf(stderr, "longctx serve: --parallel must be in 1..256, got %lld\n",
                 static_cast<long long>(a.parallel));
    return 2;
  }
  if (a.timeout_s < 1 || a.timeout_s > 86400) {
    std::fprintf(stderr, "longctx serve: --timeout must be in 1..86400 seconds, got %d\n",
                 a.timeout_s);
    return 2;
  }
  if (a.max_connections < 0) {
    std::fprintf(stderr, "longctx serve: --max-connections must be >= 0, got %lld\n",
                 static_cast<long long>(a.max_connections));
    return 2;
  }
  if (a.port < 0 || a.port > 65535) {
    std::fprintf(stderr, "longctx serve: --port must be in 0..65535, got %d\n", a.port);
    return 2;
  }
  if (a.on_full != "stop" && a.on_full != "shift" && a.on_full != "error") {
    std::fprintf(stderr, "longctx serve: --on-full must be stop, shift or error, got '%s'\n",
                 a.on_full.c_str());
    return 2;
  }
  if (a.sleep_idle_s < -1 || a.sleep_idle_s > 31 * 86400) {
    std::fprintf(stderr,
                 "longctx serve: --sleep-idle-seconds must be a number of seconds up to "
                 "2678400 (0 or -1: never sleep), got %lld\n",
                 static_cast<long long>(a.sleep_idle_s));
    return 2;
  }
  if (a.prefill_chunk < 0) {
    std::fprintf(stderr, "longctx serve: --prefill-chunk must be >= 0, got %lld\n",
                 static_cast<long long>(a.prefill_chunk));
    return 2;
  }
  if (a.seed && *a.seed < -1) {
    std::fprintf(stderr, "longctx serve: --seed must be >= 0 (or -1: random), got %lld\n",
                 static_cast<long long>(*a.seed));
    return 2;
  }
  // A few malloc arenas, not 8 per core: each HTTP worker thread would otherwise grow its own
  // and keep it after a large request.
  mallopt(M_ARENA_MAX, 2);
  // Blocks of 256 KiB and more (request bodies, long strings, JSON of big requests) come from
  // their own mappings and go back to the system when freed. Setting the threshold also stops
  // glibc from raising it after each large free (up to 32 MiB), which would put later large
  // blocks inside the heap, where the small long-lived allocations around them keep the pages.
  mallopt(M_MMAP_THRESHOLD, 256 << 10);
  // Signals go to one thread (sigwait below), not to whichever thread httplib or the pool runs.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

  auto types = kv_types(a.engine);
  if (!types) {
    std::fprintf(stderr, "longctx serve: %s\n", types.status().message().c_str());
    return 2;
  }
  int port = a.port;
  std::unique_ptr<Engine> engine_holder;
  {
    LoadingServer loading;
    if (!loading.start(a.host, a.port)) {
      std::fprintf(stderr,
                   "longctx serve: cannot bind to %s:%d (in use, or not an address of "
                   "this machine)\n",
                   a.host.c_str(), a.port);
      return 1;
    }
    port = loading.port();
    auto engine = load_engine_only(a.engine);
    if (!engine) {
      std::fprintf(stderr, "longctx serve: %s\n", engine.status().message().c_str());
      return 1;
    }
    engine_holder = std::move(engine.value());
  }
  Engine& e = *engine_holder;
  const ModelHparams& hp = e.hparams();
  auto tmpl = chat_template_override(a.llama);
  if (!tmpl) {
    std::fprintf(stderr, "longctx serve: %s\n", tmpl.status().message().c_str());
    return 2;
  }
  if (!tmpl->empty()) e.set_chat_template(std::move(*tmpl));

  // The memory plan of all sequences, printed, and checked before any cache is allocated.
  const int64_t n_ctx = a.engine.ctx > 0 ? a.engine.ctx : std::min<int64_t>(hp.n_ctx_train, 4096);
  const int64_t n_batch = std::min(a.engine.batch, n_ctx);
  const KvShape shape{hp.n_layer, hp.n_head_kv, hp.head_dim, hp.head_dim_v};
  const KvCacheOptions kvo{n_ctx, types->first, types->second, a.engine.kv_rotation != "off"};
  const uint64_t kv_per = KvCache::bytes_for(shape, kvo);
  const uint64_t compute_per = Session::compute_bytes_for(hp, n_batch);
  const int64_t rows = std::max<int64_t>(a.engine.batch, a.parallel);
  const uint64_t runner = ForwardScratch::bytes_for(hp, rows) +
                          static_cast<uint64_t>(a.parallel * hp.n_vocab) * sizeof(float);
  const uint64_t runtime = e.runtime_memory(n_batch, a.engine.experts.value_or(0)).total();
  const uint64_t weights = e.model().weight_bytes();
  const uint64_t need = (kv_per + compute_per) * static_cast<uint64_t>(a.parallel) + runner;
  const uint64_t total = weights + need + runtime;
  const auto avail = available_memory_bytes();
  std::fprintf(stderr,
               "longctx serve: memory plan, %lld sequences of %lld tokens, KV %s/%s:\n"
               "  weights        %10.1f MiB\n"
               "  KV cache       %10.1f MiB  (%lld x %.1f)\n"
               "  compute        %10.1f MiB  (%lld x %.1f, and %.1f for the batched step)\n"
               "  runtime        %10.1f MiB\n"
               "  total          %10.1f MiB",
               static_cast<long long>(a.parallel), static_cast<long long>(n_ctx),
               type_name(types->first), type_name(types->second), mib(weights),
               mib(kv_per * a.parallel), static_cast<long long>(a.parallel), mib(kv_per),
               mib(compute_per * a.parallel), static_cast<long long>(a.parallel), mib(compute_per),
               mib(runner), mib(runtime), mib(total));
  if (avail) std::fprintf(stderr, "; %.1f MiB more available now", mib(*avail));
  std::fprintf(stderr, "\n");
  if (avail && need > *avail) {
    std::fprintf(stderr,
                 "longctx serve: %lld sequences of context %lld need %.1f MiB for their caches "
                 "and buffers, but %.1f MiB are available: lower --parallel or --ctx, or use a "
                 "smaller KV type (-ctk q8_0 -ctv q8_0); `longctx plan` shows what fits\n",
                 static_cast<long long>(a.parallel), static_cast<long long>(n_ctx), mib(need),
                 mib(*avail));
    return 1;
  }
  std::vector<std::unique_ptr<Session>> slots;
  EngineArgs quiet = a.engine;
  for (int64_t i = 0; i < a.parallel; ++i) {
    auto s = new_cli_session(e, quiet, types->first, types->second, "serve");
    if (!s) {
      std::fprintf(stderr, "longctx serve: sequence %lld: %s\n", static_cast<long long>(i),
                   s.status().message().c_str());
      return 1;
    }
    quiet.quiet = true;  // the cost line once
    slots.push_back(std::move(s.value()));
  }
  server::SchedulerOptions so;
  so.n_batch = a.engine.batch;
  so.max_queue = a.max_queue;
  so.spill_dir = a.session_dir;
  so.spill_max_files = a.spill_max;
  so.sleep_idle_ms = a.sleep_idle_s > 0 ? a.sleep_idle_s * 1000 : 0;
  so.prefill_chunk = a.prefill_chunk;
  auto sched = server::Scheduler::create(e, std::move(slots), so);
  if (!sched) {
    std::fprintf(stderr, "longctx serve: %s\n", sched.status().message().c_str());
    return 1;
  }
  server::HttpOptions ho;
  ho.host = a.host;
  ho.port = port;
  ho.api_key = a.api_key;
  ho.alias = a.alias;
  // llama-server takes a comma list of aliases: the model answers to each; the first in
  // alphabetical order is its id.
  if (ho.alias.find(',') != std::string::npos) {
    for (size_t at = 0; at <= ho.alias.size();) {
      const size_t comma = std::min(ho.alias.find(',', at), ho.alias.size());
      if (comma > at) ho.aliases.push_back(ho.alias.substr(at, comma - at));
      at = comma + 1;
    }
    std::sort(ho.aliases.begin(), ho.aliases.end());
    ho.alias = ho.aliases.empty() ? std::string() : ho.aliases.front();
  }
  ho.tags = a.llama.tags;
  ho.verbose = a.llama.verbose;
  if (ho.alias.empty()) {
    const std::string& p = a.engine.model;
    const size_t slash = p.find_last_of('/');
    ho.alias = slash == std::string::npos ? p : p.substr(slash + 1);
  }
  ho.cors_origins = a.cors_origins;
  ho.memory_db = a.memory_db;
  ho.memory_budgets = a.budgets;
  ho.model_path = a.engine.model;
  ho.max_tokens = a.n_predict;
  ho.idle_timeout_s = a.timeout_s;
  ho.http_threads = a.http_threads;
  ho.max_connections = a.max_connections;
  ho.webui = !a.no_ui;
  ho.slots_endpoint = !a.llama.no_slots;
  ho.slot_save_dir = a.session_dir;
  const SamplingArgs sampling = a.sampling;
  ho.sampling = [sampling](bool thinking) { return sampling_params(sampling, thinking); };
  if (a.seed && *a.seed >= 0) ho.seed = static_cast<uint64_t>(*a.seed);
  if (a.llama.reasoning && *a.llama.reasoning != "auto") {
    ho.enable_thinking = *a.llama.reasoning == "on";
  }
  ho.on_full = a.on_full == "shift"   ? OnFull::kShift
               : a.on_full == "error" ? OnFull::kError
                                      : OnFull::kStop;
  ho.memory = {{"weights_bytes", weights},
               {"kv_bytes", kv_per * static_cast<uint64_t>(a.parallel)},
               {"compute_bytes", compute_per * static_cast<uint64_t>(a.parallel) + runner},
               {"runtime_bytes", runtime},
               {"total_bytes", total},
               {"available_bytes", avail ? chat::Json(*avail) : chat::Json()},
               {"kv_type_k", type_name(types->first)},
               {"kv_type_v", type_name(types->second)}};
  server::HttpServer http(e, **sched, ho);
  if (Status st = http.bind(); !st.is_ok()) {
    std::fprintf(stderr, "longctx serve: %s\n", st.message().c_str());
    return 1;
  }
  std::fprintf(stderr,
               "longctx serve: http://%s:%d/v1 (model \"%s\", %lld sequences of %lld tokens%s%s)\n",
               a.host.c_str(), http.port(), ho.alias.c_str(), static_cast<long long>(a.parallel),
               static_cast<long long>((*sched)->n_ctx()),
               a.api_key.empty() ? "" : ", API key required", ho.webui ? "; web UI at /" : "");
  std::fflush(stderr);
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&sigs, &sig);
    std::fprintf(stderr, "longctx serve: %s, stopping\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    (*sched)->stop();  // cancels what runs, so streams end
    http.stop();
  });
  http.serve();
  // serve() also returns when the listener fails: wake the waiter so the process can exit.
  pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
  (*sched)->stop();
  return 0;
}

}  // namespace

CommandFn add_serve_command(CLI::App& app) {
  auto a = std::make_shared<ServeArgs>();
  add_engine_options(app, &a->engine);
  add_sampling_options(app, &a->sampling);
  // The server's seed is optional (unset or -1: each request draws its own, as llama-server).
  app.remove_option(app.get_option("--seed"));
  app.add_option("-s,--seed", a->seed, "Default sampling seed of every request (-1: random)");
  app.add_option("--host", a->host, "Address to listen on (loopback by default)")
      ->capture_default_str();
  app.add_option("--port", a->port, "Port (0: any free port)")->capture_default_str();
  app.add_option("--parallel,-P", a->parallel,
                 "Sequences decoded together; --ctx is the context of each (llama-server's "
                 "-c/--ctx-size is the total, split over them)")
      ->capture_default_str();
  app.add_option("--max-queue", a->max_queue,
                 "Requests that may wait for a free sequence before the server answers 503")
      ->capture_default_str();
  app.add_option("--api-key", a->api_key, "Require this key (Authorization: Bearer KEY)");
  app.add_option("-a,--alias", a->alias, "Model id clients see (default: the file's name)");
  app.add_option(
         "--cors-origins", a->cors_origins,
         "Origins allowed by CORS (comma-separated; * for any; default: localhost, i.e. pages "
         "served from this machine)")
      ->delimiter(',');
  app.add_option("-n,--n-predict", a->n_predict,
                 "Default reply limit in tokens when a request sets none (-1: until the context "
                 "is full)")
      ->capture_default_str();
  app.add_option("--timeout", a->timeout_s,
                 "Seconds a connection's read or write may wait, and a request's head and body "
                 "have to arrive in")
      ->capture_default_str();
  app.add_option("--max-connections", a->max_connections,
                 "Open connections at once (served or waiting for a worker); more are answered "
                 "503 (0: no limit)")
      ->capture_default_str();
  app.add_option("--threads-http", a->http_threads,
                 "HTTP worker threads = open connections served at once (0: parallel + 8)")
      ->capture_default_str();
  app.add_flag("--no-ui", a->no_ui, "Do not serve the web UI at /");
  app.add_option("--session-dir", a->session_dir,
                 "Directory for slot save / restore (POST /slots/{id}?action=...) and for idle "
                 "sequences' states spilled instead of dropped (llama-server: --slot-save-path)");
  app.add_option("--memory", a->memory_db,
                 "Remembered conversations in this SQLite database: a request naming one "
                 "(\"conversation\", X-Conversation, or model \"NAME@CONV\") gets the memory "
                 "loop's prompt (docs/MEMORY.md)");
  app.add_option("--memory-reply", a->budgets.reply, "Memory: tokens kept for the reply");
  app.add_option("--memory-facts", a->budgets.facts, "Memory: tokens for pinned facts");
  app.add_option("--memory-summary", a->budgets.summary, "Memory: tokens for the summary");
  app.add_option("--memory-recall", a->budgets.recall, "Memory: tokens for recalled turns");
  app.add_option("--spill-max", a->spill_max,
                 "Spilled sequence states kept in --session-dir (oldest removed first)")
      ->capture_default_str();
  app.add_option("--on-full", a->on_full,
                 "When a sequence's context fills up during a reply: stop (finish reason length), "
                 "shift (drop the oldest half and go on) or error")
      ->capture_default_str();
  app.add_option("--prefill-chunk", a->prefill_chunk,
                 "Prompt tokens a step takes while other sequences are decoding (a smaller chunk "
                 "shortens their pause during another request's prefill; 0: up to --batch)")
      ->capture_default_str();
  app.add_option("--sleep-idle-seconds", a->sleep_idle_s,
                 "After this many seconds without requests, give the memory of the weights and "
                 "caches back to the system (idle sequences spilled to --session-dir first); the "
                 "next request reloads them (0 or -1: never)")
      ->capture_default_str();
  add_llama_server_options(app, &a->llama);
  return [a] { return run(*a); };
}

}  // namespace longctx::cli
