// `longctx serve`'s HTTP side (cpp-httplib): routes, the API key, CORS, body limits, and the
// OpenAI, Anthropic and llama-server endpoints over the scheduler. Every route is served with
// and without the /v1 prefix, as llama-server does; /health, /v1/models and the web UI need no
// key.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "chat/chat_template.h"
#include "core/status.h"
#include "memory/memory_loop.h"
#include "runtime/engine.h"
#include "runtime/generate.h"
#include "runtime/sampler.h"
#include "server/scheduler.h"

namespace httplib {
class Server;
}

namespace longctx::server {

// Socket options for a listener that owns its port: SO_REUSEADDR (a restart binds at once) but
// not cpp-httplib's default SO_REUSEPORT, under which a second server on the same port starts
// silently and the kernel splits the connections between the two; and TCP_NODELAY, so streamed
// tokens are not held back by Nagle's algorithm.
void set_exclusive_bind(httplib::Server& svr);

struct HttpOptions {
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string api_key;                    // "" = no key
  std::string alias;                      // model id clients see
  std::string model_path;                 // the GGUF file (/props)
  std::vector<std::string> cors_origins;  // allowed origins ("*" = any); empty = no CORS headers
  size_t max_body_bytes = 32u << 20;      // larger bodies get 413
  int64_t max_tokens = -1;                // default reply limit (-1: until the context is full)
  int http_threads = 0;                   // 0: parallel sequences + 8 (streams hold a thread)
  int idle_timeout_s = 30;  // slow clients: read / write timeouts, and the time a request's head
                            // and body have to arrive in from its first byte
  int64_t max_connections = 256;  // open at once (served or waiting); more get 503 (0: no limit)
  int keepalive_s = 10;           // SSE comment lines while a long prefill runs
  bool webui = true;              // serve the web UI at /
  bool slots_endpoint = true;     // GET /slots (llama-server's --no-slots turns it off)
  std::string slot_save_dir;      // POST /slots/{id}?action=save|restore ("" = off)
  // Sampling where a request sets nothing (the server's --temp, ...); unset: Qwen3's settings.
  std::function<SamplingParams(bool thinking)> sampling;
  std::optional<uint64_t> seed;  // --seed: every request's default seed
  OnFull on_full = OnFull::kStop;
  std::optional<bool> enable_thinking;  // --reasoning on|off: requests' default; unset: template's
  bool verbose = false;                 // --verbose: answers carry llama-server's __verbose
  std::vector<std::string> aliases;     // more model ids (--alias a,b), listed by /v1/models
  std::vector<std::string> tags;        // --tags, listed by /v1/models
  chat::Json memory = chat::Json::object();  // the plan's figures, shown by /props and the UI
  std::string memory_db;                     // --memory DB: remembered conversations
  memory::MemoryBudgets memory_budgets;      // their budgets (ctx: the sequence's context)
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

  struct Impl;  // http_impl.h

 private:
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace longctx::server
