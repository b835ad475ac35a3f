// A server on a loopback port for the tests: a tiny random-weight Qwen3 with the real tokenizer,
// N sequences, the scheduler and the HTTP routes running in this process.
#pragma once

#include <httplib.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "runtime/engine.h"
#include "runtime/engine_test_util.h"
#include "server/http_server.h"
#include "server/scheduler.h"

namespace longctx::server::testing {

inline const std::string& tok_model() {
  static const std::string p = longctx::testing_util::write_tiny_model(
      {.seed = 41, .n_vocab = 151936, .with_tokenizer = true}, "server_tok.gguf");
  return p;
}

struct TestServer {
  std::unique_ptr<Engine> engine;
  std::unique_ptr<Scheduler> sched;
  std::unique_ptr<HttpServer> http;
  std::thread thread;
  int port = 0;

  explicit TestServer(int parallel = 2, int64_t n_ctx = 256, HttpOptions ho = {},
                      int64_t max_queue = 8) {
    engine = longctx::testing_util::load_test_engine(tok_model(), "cpu");
    if (!engine) return;
    std::vector<std::unique_ptr<Session>> slots;
    for (int i = 0; i < parallel; ++i) {
      auto s = engine->new_session({.n_ctx = n_ctx, .n_batch = 32});
      if (!s) return;
      slots.push_back(std::move(s.value()));
    }
    auto sc = Scheduler::create(*engine, std::move(slots), 32, max_queue);
    if (!sc) return;
    sched = std::move(sc.value());
    ho.host = "127.0.0.1";
    ho.port = 0;
    if (ho.alias.empty()) ho.alias = "tiny";
    http = std::make_unique<HttpServer>(*engine, *sched, ho);
    if (!http->bind().is_ok()) return;
    port = http->port();
    thread = std::thread([this] { http->serve(); });
  }
  ~TestServer() {
    if (sched) sched->stop();
    if (http) http->stop();
    if (thread.joinable()) thread.join();
  }
  bool ok() const { return port > 0; }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(60, 0);
    return c;
  }
};

}  // namespace longctx::server::testing
