// serve --memory: request matching, turns, the summariser on the scheduler, and the
// conversations / facts endpoints (memory_server.h).
#include "server/memory_server.h"

#include <httplib.h>

#include "core/utc_time.h"
#include "memory/history_sync.h"
#include "memory/summary_prompt.h"
#include "runtime/chat_prompt.h"
#include "server/http_impl.h"

namespace longctx::server {

using memory::Turn;

ServerMemory::ServerMemory(std::string db, const Engine& engine, Scheduler& sched,
                           memory::MemoryBudgets budgets)
    : db_(std::move(db)), engine_(engine), sched_(sched), budgets_(budgets) {}

Status ServerMemory::open() {
  if (Status st = budgets_.resolve(); !st) return st;
  Result<std::unique_ptr<memory::Store>> s = memory::Store::open(db_);
  return s.is_ok() ? Status::ok() : s.status();
}

void ServerMemory::acquire(const std::string& name) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return !busy_.count(name); });
  busy_.insert(name);
}

void ServerMemory::release(const std::string& name) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    busy_.erase(name);
  }
  cv_.notify_all();
}

memory::TokenCounter ServerMemory::counter() const {
  const Tokenizer* tok = engine_.tokenizer();
  return [tok](std::string_view t) { return static_cast<int64_t>(tok->encode(t, false).size()); };
}

// The summary is generated as a request of its own on the scheduler (it waits its turn like any
// other), in non-thinking mode at a low temperature.
bool ServerMemory::compacting(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  return compacting_.count(name) > 0;
}

memory::Summarizer ServerMemory::summarizer(const std::string& name) {
  return [this, name](const std::string& request, int64_t max_tokens) -> Result<std::string> {
    {
      std::lock_guard<std::mutex> lock(mu_);
      compacting_.insert(name);
    }
    struct Done {
      ServerMemory* m;
      std::string n;
      ~Done() {
        std::lock_guard<std::mutex> lock(m->mu_);
        m->compacting_.erase(n);
      }
    } done{this, name};
    const chat::Json msgs = chat::Json::array(
        {{{"role", "system"}, {"content", "You summarise conversations faithfully."}},
         {{"role", "user"}, {"content", request}}});
    auto p = render_chat_prompt(engine_, msgs, {.enable_thinking = false});
    if (!p) return p.status();
    auto job = std::make_shared<Job>();
    job->prompt = engine_.tokenizer()->encode(p->text, true);
    job->options.max_tokens = max_tokens;
    job->options.sampling.temperature = 0.3f;
    job->options.sampling.top_p = 0.9f;
    job->channel = std::make_shared<Channel>();
    if (!sched_.submit(job)) return unsupported("the server is busy; the summary waits");
    std::vector<Channel::Event> events;
    while (!job->finished()) {
      events.clear();
      job->wait(&events, 200);
    }
    const Result<GenerateResult>& r = job->result();
    if (!r.is_ok()) return r.status();
    return r->text;
  };
}

std::string ServerMemory::conversation_of(const httplib::Request& req, Json* body) {
  if (auto it = body->find("conversation"); it != body->end() && it->is_string()) {
    const std::string name = it->get<std::string>();
    body->erase("conversation");
    return name;
  }
  if (const std::string h = req.get_header_value("X-Conversation"); !h.empty()) return h;
  if (auto it = body->find("model"); it != body->end() && it->is_string()) {
    const std::string model = it->get<std::string>();
    const size_t at = model.rfind('@');
    if (at != std::string::npos && at + 1 < model.size()) {
      *it = model.substr(0, at);
      return model.substr(at + 1);
    }
  }
  return "";
}

namespace {

// A request message as a turn: text content (content-part arrays joined), its name.
Result<Turn> message_turn(const Json& m) {
  Turn t;
  if (!m.is_object() || !m.contains("role") || !m["role"].is_string()) {
    return invalid_argument("each message needs a \"role\"");
  }
  t.role = m["role"].get<std::string>();
  if (t.role == "developer") t.role = "system";
  const Json& c = m.contains("content") ? m["content"] : Json();
  if (c.is_string()) {
    t.content = c.get<std::string>();
  } else if (c.is_array()) {
    for (const Json& part : c) {
      if (part.is_object() && part.contains("text") && part["text"].is_string()) {
        if (!t.content.empty()) t.content += "\n";
        t.content += part["text"].get<std::string>();
      }
    }
  } else if (!c.is_null()) {
    return invalid_argument("a message's \"content\" must be a string or an array of parts");
  }
  if (m.contains("tool_calls") && t.content.empty()) t.content = m["tool_calls"].dump();
  if (m.contains("name") && m["name"].is_string()) t.name = m["name"].get<std::string>();
  return t;
}

}  // namespace

Result<std::shared_ptr<MemoryTurn>> ServerMemory::begin(const std::string& name, Json* body) {
  if (!body->contains("messages") || !(*body)["messages"].is_array()) {
    return invalid_argument("\"messages\" must be an array");
  }
  // "history": "full" (an extension): the messages are the whole conversation.
  bool full = false;
  if (auto it = body->find("history"); it != body->end()) {
    if (!it->is_string() || (*it != "full" && *it != "auto")) {
      return invalid_argument("\"history\" must be \"full\" or \"auto\"");
    }
    full = *it == "full";
    body->erase("history");
  }
  std::vector<Turn> req;
  std::optional<std::string> system;
  for (const Json& m : (*body)["messages"]) {
    Result<Turn> t = message_turn(m);
    if (!t.is_ok()) return t.status();
    if (t->role == "system" && req.empty()) {
      system = system.value_or("") + (system ? "\n\n" : "") + t->content;
      continue;
    }
    req.push_back(std::move(*t));
  }
  acquire(name);
  std::shared_ptr<MemoryTurn> turn(new MemoryTurn(*this, name));
  Result<std::unique_ptr<memory::Store>> s = memory::Store::open(db_);
  if (!s.is_ok()) return s.status();
  turn->store_ = std::move(s).value();
  memory::Store& store = *turn->store_;
  Result<std::optional<memory::Conversation>> found = store.find(name);
  if (!found.is_ok()) return found.status();
  memory::Conversation conv;
  if (found->has_value()) {
    conv = **found;
  } else {
    Result<memory::Conversation> made = store.create(name);
    if (!made.is_ok()) return made.status();
    conv = *made;
  }
  if (system) {
    Result<std::string> old = store.system_prompt(conv.id);
    if (!old.is_ok()) return old.status();
    if (*old != *system) {
      if (Status st = store.set_system_prompt(conv.id, *system); !st) return st;
    }
  }
  Result<std::string> sys = store.system_prompt(conv.id);
  if (!sys.is_ok()) return sys.status();
  // The stored turns the request may repeat: its first two, and its last |request| + 2.
  Result<int64_t> n = store.turn_count(conv.id);
  if (!n.is_ok()) return n.status();
  Result<std::vector<Turn>> head = store.turns(conv.id, 0, 2);
  const int64_t tail_first = std::max<int64_t>(0, *n - static_cast<int64_t>(req.size()) - 2);
  Result<std::vector<Turn>> tail = store.turns(conv.id, tail_first, *n);
  if (!head.is_ok()) return head.status();
  if (!tail.is_ok()) return tail.status();
  // A whole history is matched from its start: read as much of the stored one as it holds.
  if (full || (!req.empty() && !head->empty() && memory::same_turn((*head)[0], req[0]))) {
    head = store.turns(conv.id, 0, static_cast<int64_t>(req.size()) + 1);
    if (!head.is_ok()) return head.status();
  }
  Result<memory::HistorySync> sync = memory::sync_history(req, *head, *tail, tail_first, *n, full);
  if (!sync.is_ok()) return sync.status();
  if (sync->truncate_from >= 0) {
    if (Status st = store.truncate(conv.id, sync->truncate_from); !st) return st;
  }
  const memory::TokenCounter count = counter();
  // All new turns but the last are stored as they are; the last is the message to answer.
  std::vector<Turn> earlier(sync->append.begin(),
                            sync->append.empty() ? sync->append.end() : sync->append.end() - 1);
  const std::string now = utc_now_iso8601();
  for (Turn& t : earlier) {
    t.n_tokens = static_cast<int>(count(t.content));
    if (t.time.empty()) t.time = now;
  }
  if (!earlier.empty()) {
    if (Status st = store.append(conv.id, &earlier); !st) return st;
  }
  turn->loop_ =
      std::make_unique<memory::MemoryLoop>(store, conv.id, turn->analyzer_, count, budgets_, *sys);
  Result<memory::AssembledPrompt> p = [&]() -> Result<memory::AssembledPrompt> {
    if (sync->answer_stored) {
      Result<int64_t> last = store.turn_count(conv.id);
      if (!last.is_ok()) return last.status();
      return turn->loop_->prepare(*last - 1, summarizer(name));
    }
    Turn m = sync->append.back();
    m.time = now;
    return turn->loop_->begin_turn(m, summarizer(name));
  }();
  if (!p.is_ok()) return p.status();
  turn->prompt_ = std::move(*p);
  turn->assembled_ = true;
  (*body)["messages"] = turn->prompt_.messages;
  return turn;
}

MemoryTurn::~MemoryTurn() {
  // A turn that ends without finish() (the client left, an error) still keeps its report.
  if (assembled_ && !report_) finish(false, "", 0, 0);
  owner_.release(name_);
}

Json MemoryTurn::finish(bool ok, const std::string& content, int64_t n_prompt, int64_t n_reused) {
  std::lock_guard<std::mutex> lock(mu_);
  if (report_) return *report_;
  Turn reply;
  reply.role = "assistant";
  reply.time = utc_now_iso8601();
  if (ok) reply.content = content;
  prompt_.report.prompt_tokens = n_prompt;
  const Status st = loop_->end_turn(&prompt_, reply, n_reused, n_prompt - n_reused);
  report_ = Json::parse(prompt_.report.to_json());
  if (!st.is_ok()) (*report_)["error"] = st.message();
  return *report_;
}

}  // namespace longctx::server
