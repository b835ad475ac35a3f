// `longctx serve`: an OpenAI-compatible HTTP server over --parallel sequences decoded together
// (src/server/). The memory of all sequences is checked before anything is allocated; SIGINT /
// SIGTERM stop accepting, cancel what runs and exit cleanly.
#include <pthread.h>
#include <signal.h>
#include <CLI/CLI.hpp>

#include <algorithm>

#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cli/commands.h"
#include "cli/engine_args.h"
#include "core/system_memory.h"
#include "runtime/session.h"
#include "server/http_server.h"
#include "server/scheduler.h"

namespace longctx::cli {
namespace {

struct ServeArgs {
  EngineArgs engine;
  std::string host = "127.0.0.1";
  int port = 8080;
  int64_t parallel = 1;
  int64_t max_queue = 64;
  std::string api_key;
  std::string alias;
  std::vector<std::string> cors_origins;
  int64_t n_predict = -1;
  int timeout_s = 30;
};

int run(const ServeArgs& a) {
  if (a.parallel < 1 || a.parallel > 256) {
    std::fprintf(stderr, "longctx serve: --parallel must be in 1..256, got %lld\n",
                 static_cast<long long>(a.parallel));
    return 2;
  }
  if (a.port < 0 || a.port > 65535) {
    std::fprintf(stderr, "longctx serve: --port must be in 0..65535, got %d\n", a.port);
    return 2;
  }
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
  auto engine = load_engine_only(a.engine);
  if (!engine) {
    std::fprintf(stderr, "longctx serve: %s\n", engine.status().message().c_str());
    return 1;
  }
  Engine& e = **engine;
  // All sequences' caches must fit together; refuse before allocating any.
  {
    const ModelHparams& hp = e.hparams();
    const int64_t n_ctx = a.engine.ctx > 0 ? a.engine.ctx : std::min<int64_t>(hp.n_ctx_train, 4096);
    const KvShape shape{hp.n_layer, hp.n_head_kv, hp.head_dim, hp.head_dim_v};
    const KvCacheOptions kvo{n_ctx, types->first, types->second, a.engine.kv_rotation != "off"};
    const uint64_t per = KvCache::bytes_for(shape, kvo) +
                         Session::compute_bytes_for(hp, std::min(a.engine.batch, n_ctx));
    const uint64_t need = per * static_cast<uint64_t>(a.parallel);
    if (const auto avail = available_memory_bytes(); avail && need > *avail) {
      std::fprintf(stderr,
                   "longctx serve: %lld sequences of context %lld need %llu MiB (%llu MiB each: "
                   "KV cache and buffers) but %llu MiB are available; lower --parallel or --ctx, "
                   "or use a smaller KV type (longctx plan shows what fits)\n",
                   static_cast<long long>(a.parallel), static_cast<long long>(n_ctx),
                   static_cast<unsigned long long>(need >> 20),
                   static_cast<unsigned long long>(per >> 20),
                   static_cast<unsigned long long>(*avail >> 20));
      return 1;
    }
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
  const int64_t n_ctx = slots.front()->n_ctx();
  auto sched = server::Scheduler::create(e, std::move(slots), a.engine.batch, a.max_queue);
  if (!sched) {
    std::fprintf(stderr, "longctx serve: %s\n", sched.status().message().c_str());
    return 1;
  }
  server::HttpOptions ho;
  ho.host = a.host;
  ho.port = a.port;
  ho.api_key = a.api_key;
  ho.alias = a.alias;
  if (ho.alias.empty()) {
    const std::string& p = a.engine.model;
    const size_t slash = p.find_last_of('/');
    ho.alias = slash == std::string::npos ? p : p.substr(slash + 1);
  }
  ho.cors_origins = a.cors_origins;
  ho.max_tokens = a.n_predict;
  ho.idle_timeout_s = a.timeout_s;
  server::HttpServer http(e, **sched, ho);
  if (Status st = http.bind(); !st.is_ok()) {
    std::fprintf(stderr, "longctx serve: %s\n", st.message().c_str());
    return 1;
  }
  std::fprintf(stderr,
               "longctx serve: http://%s:%d/v1 (model \"%s\", %lld sequences of %lld tokens%s)\n",
               a.host.c_str(), http.port(), ho.alias.c_str(), static_cast<long long>(a.parallel),
               static_cast<long long>(n_ctx), a.api_key.empty() ? "" : ", API key required");
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
  app.add_option("--host", a->host, "Address to listen on (loopback by default)")
      ->capture_default_str();
  app.add_option("--port", a->port, "Port (0: any free port)")->capture_default_str();
  app.add_option("--parallel,-P", a->parallel,
                 "Sequences decoded together; --ctx is the context of each")
      ->capture_default_str();
  app.add_option("--max-queue", a->max_queue,
                 "Requests that may wait for a free sequence before the server answers 503")
      ->capture_default_str();
  app.add_option("--api-key", a->api_key, "Require this key (Authorization: Bearer KEY)");
  app.add_option("--alias", a->alias, "Model id clients see (default: the file's name)");
  app.add_option("--cors-origins", a->cors_origins,
                 "Origins allowed by CORS (comma-separated; * for any)")
      ->delimiter(',');
  app.add_option("-n,--n-predict", a->n_predict,
                 "Default reply limit in tokens when a request sets none (-1: until the context "
                 "is full)")
      ->capture_default_str();
  app.add_option("--timeout", a->timeout_s, "Read / write timeout of a connection in seconds")
      ->capture_default_str();
  return [a] { return run(*a); };
}

}  // namespace longctx::cli
