// The HTTP server's shared state and helpers, for the files that add its routes:
// http_server.cpp (keys, CORS, errors, llama-server's endpoints, slots), routes_generate.cpp
// (chat / completions / Anthropic messages). Not part of the server's public interface.
#pragma once

#include <httplib.h>

#include <atomic>
#include <ctime>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "server/http_connection.h"
#include "server/http_server.h"
#include "server/memory_server.h"
#include "server/openai.h"

namespace longctx {
class GbnfVocab;  // runtime/gbnf.h
}  // namespace longctx

namespace longctx::server {

void send_json(httplib::Response& res, int status, const Json& j);
void send_error(httplib::Response& res, const ApiError& e);
ApiError api_error(int status, std::string type, std::string message);
// The body as a JSON object; larger than max_bytes (after any decoding) is a 413, malformed, too
// deeply nested or not an object a 400.
std::optional<ApiError> parse_body(const httplib::Request& req, Json* out, size_t max_bytes);
std::string sse(const Json& j);  // "data: JSON\n\n"

struct HttpServer::Impl {
  Engine& engine;
  Scheduler& sched;
  HttpOptions opt;
  ConnectionServer svr;
  std::shared_ptr<const TokenVocab> vocab;  // token bytes, for constrained decoding
  // The same as a byte trie for GBNF grammars: built at the first request that has one.
  std::shared_ptr<const GbnfVocab> gbnf_vocab();
  std::once_flag gbnf_once;
  std::shared_ptr<const GbnfVocab> gbnf_vocab_;
  std::atomic<uint64_t> next_id{1};
  int64_t started = static_cast<int64_t>(std::time(nullptr));
  std::unique_ptr<ServerMemory> memory;  // --memory DB

  Impl(Engine& e, Scheduler& s, HttpOptions o);

  RequestDefaults defaults() const;
  Json conversation_memory() const;  // GET /props "conversation_memory"
  bool origin_allowed(const std::string& origin) const;

  enum class Api { kChat, kCompletion, kAnthropic, kResponses };
  void generate(const httplib::Request& req, httplib::Response& res, Api api);
  void count_tokens(const httplib::Request& req, httplib::Response& res);
  void input_tokens(const httplib::Request& req, httplib::Response& res);
  void routes();           // http_server.cpp
  void routes_generate();  // routes_generate.cpp
  void slot_action(const httplib::Request& req, httplib::Response& res);
};

}  // namespace longctx::server
