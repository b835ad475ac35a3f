// `longctx serve`'s HTTP side (cpp-httplib): routes, the API key, CORS, body limits, and the
// OpenAI / llama-server endpoints over the scheduler. Every route is served with and without the
// /v1 prefix, as llama-server does; /health and /v1/models need no key.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "runtime/engine.h"
#include "server/scheduler.h"

namespace longctx::server {

struct HttpOptions {
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string api_key;                    // "" = no key
  std::string alias;                      // model id clients see
  std::vector<std::string> cors_origins;  // allowed origins ("*" = any); empty = no CORS headers
  size_t max_body_bytes = 32u << 20;      // larger bodies get 413
  int64_t max_tokens = -1;                // default reply limit (-1: until the context is full)
  int http_threads = 0;                   // 0: parallel sequences + 8 (streams hold a thread)
  int idle_timeout_s = 30;                // slow clients: read / write timeouts
  int keepalive_s = 10;                   // SSE comment lines while a long prefill runs
};

class HttpServer {
 public:
  HttpServer(Engine& engine, Scheduler& scheduler, HttpOptions options);
  ~HttpServer();
  // Binds (an error names the address) and serves until stop(); blocks.
  Status bind();
  int port() const { return port_; }  // after bind (port 0 picks a free one)
  void serve();
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace longctx::server
