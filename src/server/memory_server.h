// `serve --memory DB`: conversations remembered by the server. A chat request names its
// conversation (a "conversation" field, an X-Conversation header, or a model name such as
// "qwen3@NAME", so unmodified clients can use it) and sends its new message(s) or its whole
// history; the turns already stored are recognised (memory/history_sync.h), the new ones stored
// before the reply starts, and the request's messages replaced by the prompt the memory loop
// assembles; the reply is stored when it ends, and its report returned in the response's
// "memory" field. Requests on one conversation run one at a time. Summaries at compactions are
// generated through the scheduler like any request. Also the conversations and facts endpoints.
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "memory/memory_loop.h"
#include "server/openai.h"
#include "server/scheduler.h"

namespace httplib {
class Server;
struct Request;
}  // namespace httplib

namespace longctx::server {

class ServerMemory;

// One turn of a remembered conversation, from the request's arrival to the reply's end. It holds
// the conversation (other requests on it wait) until finished or destroyed.
class MemoryTurn {
 public:
  ~MemoryTurn();
  MemoryTurn(const MemoryTurn&) = delete;
  MemoryTurn& operator=(const MemoryTurn&) = delete;

  const memory::AssembledPrompt& prompt() const { return prompt_; }
  // Stores the reply (when ok and not empty) and the report, once; returns the report as JSON.
  Json finish(bool ok, const std::string& content, int64_t n_prompt, int64_t n_reused);

 private:
  friend class ServerMemory;
  MemoryTurn(ServerMemory& owner, std::string name) : owner_(owner), name_(std::move(name)) {}
  ServerMemory& owner_;
  std::string name_;
  memory::TextAnalyzer analyzer_;         // its stemmers are not shared between threads
  std::unique_ptr<memory::Store> store_;  // a connection of its own
  std::unique_ptr<memory::MemoryLoop> loop_;
  memory::AssembledPrompt prompt_;
  bool assembled_ = false;  // prompt_ holds this turn's prompt (begin() got that far)
  std::mutex mu_;
  std::optional<Json> report_;
};

class ServerMemory {
 public:
  ServerMemory(std::string db, const Engine& engine, Scheduler& sched,
               memory::MemoryBudgets budgets);
  // Opens the database once (creating or migrating it) and checks the budgets.
  Status open();

  // The conversation a chat request names ("" when none); a "model@NAME" model id is cut back to
  // its model part in *body.
  static std::string conversation_of(const httplib::Request& req, Json* body);

  // Matches the request's messages with the stored conversation (created when new), stores the
  // new turns, compacts when due and replaces body["messages"] by the assembled prompt.
  Result<std::shared_ptr<MemoryTurn>> begin(const std::string& name, Json* body);

  // GET /v1/conversations, GET|DELETE /v1/conversations/NAME, facts under it.
  void routes(httplib::Server& svr);

  const memory::MemoryBudgets& budgets() const { return budgets_; }
  // Whether a summary of the conversation is being written now (shown by the web UI).
  bool compacting(const std::string& name);

 private:
  friend class MemoryTurn;
  void acquire(const std::string& name);
  void release(const std::string& name);
  memory::TokenCounter counter() const;
  memory::Summarizer summarizer(const std::string& name);

  std::string db_;
  const Engine& engine_;
  Scheduler& sched_;
  memory::MemoryBudgets budgets_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::set<std::string> busy_;        // conversations with a turn in flight
  std::set<std::string> compacting_;  // conversations whose summary is being written
};

}  // namespace longctx::server
