// The memory chat loop (chat_memory.h): input, /commands for facts and the report, one turn on
// the memory loop, the KV cache file.
#include "cli/chat_memory.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "chat/output_parser.h"
#include "chat/think_stream.h"
#include "cli/chat_input.h"
#include "cli/engine_args.h"
#include "cli/reply_printer.h"
#include "core/file_io.h"
#include "core/utc_time.h"
#include "memory/model_summarizer.h"
#include "memory/store.h"
#include "runtime/chat_prompt.h"
#include "runtime/generate.h"
#include "runtime/session_file.h"

namespace longctx::cli {
namespace {

constexpr const char* kHelp =
    "commands:\n"
    "  /pin TEXT     keep TEXT in every prompt of this conversation (a pinned fact)\n"
    "  /pin #N       pin fact N that the summariser proposed\n"
    "  /facts        list pinned and proposed facts\n"
    "  /unpin N      remove fact N\n"
    "  /memory       where the last prompt's tokens went (sections, window, recall, summary)\n"
    "  /think, /no_think   Qwen3 thinking mode for the next turns\n"
    "  /help         this list\n"
    "  /exit, /quit  leave (or Ctrl-D); every turn is already stored\n";

class MemoryChat {
 public:
  MemoryChat(const MemoryChatOptions& o, Engine& engine, Session& session,
             std::atomic<bool>* interrupt)
      : o_(o), engine_(engine), session_(session), interrupt_(interrupt), thinking_(o.thinking) {}

  Status open() {
    Result<std::unique_ptr<memory::Store>> s = memory::Store::open(o_.db);
    if (!s.is_ok()) return s.status();
    store_ = std::move(s).value();
    Result<std::optional<memory::Conversation>> c = store_->find(o_.conversation);
    if (!c.is_ok()) return c.status();
    if (c->has_value()) {
      conv_ = **c;
    } else {
      Result<memory::Conversation> made = store_->create(o_.conversation);
      if (!made.is_ok()) return made.status();
      conv_ = *made;
    }
    Result<std::string> sys = store_->system_prompt(conv_.id);
    if (!sys.is_ok()) return sys.status();
    std::string system = *sys;
    if (o_.system_given && o_.system != system) {
      if (Status st = store_->set_system_prompt(conv_.id, o_.system); !st) return st;
      system = o_.system;
    }
    memory::MemoryBudgets b = o_.budgets;
    b.ctx = session_.n_ctx();
    if (Status st = b.resolve(); !st) return st;
    const Tokenizer* tok = engine_.tokenizer();
    loop_ = std::make_unique<memory::MemoryLoop>(
        *store_, conv_.id, analyzer_,
        [tok](std::string_view t) { return static_cast<int64_t>(tok->encode(t, false).size()); }, b,
        system);
    if (!o_.summary_prompt_file.empty()) {
      Result<std::string> p = read_file(o_.summary_prompt_file);
      if (!p.is_ok()) return p.status();
      loop_->set_summary_prompt(*p);
    }
    open_cache();
    std::fprintf(stderr,
                 "(memory: conversation '%s' in %s: %lld turns stored; budgets at ctx %lld: reply "
                 "%lld, facts %lld, summary %lld, recall %lld)\n",
                 conv_.name.c_str(), o_.db.c_str(), static_cast<long long>(conv_.n_turns),
                 static_cast<long long>(b.ctx), static_cast<long long>(b.reply),
                 static_cast<long long>(b.facts), static_cast<long long>(b.summary),
                 static_cast<long long>(b.recall));
    return Status::ok();
  }

  int run() {
    return run_chat_input(
        interrupt_, [this](std::string_view c) { return command(c); },
        [this](const std::string& m) { turn(m); });
  }

 private:
  // The KV cache of this conversation, beside the database. A file that cannot be used (another
  // model or cache type) is replaced at the first save: it is only a cache.
  void open_cache() {
    cache_path_ = o_.db + ".kv-" + std::to_string(conv_.id);
    std::string app;
    auto f = SessionFile::open(cache_path_, session_, &app);
    if (f.is_ok()) {
      cache_ = std::move(f.value());
      if (cache_->loaded_tokens() > 0 && !o_.quiet) {
        std::fprintf(stderr, "(memory: %lld cached tokens loaded from %s)\n",
                     static_cast<long long>(cache_->loaded_tokens()), cache_path_.c_str());
      }
    } else {
      std::fprintf(stderr,
                   "(memory: the KV cache %s is not usable here (%s); it will be "
                   "replaced)\n",
                   cache_path_.c_str(), f.status().message().c_str());
      session_.reset();
    }
  }

  void save_cache() {
    const std::string app = nlohmann::json{{"conversation", conv_.name}}.dump();
    Status st;
    if (cache_) {
      st = cache_->save(session_, app);
    } else {
      auto f = SessionFile::save_as(cache_path_, session_, app);
      if (f.is_ok()) cache_ = std::move(f.value());
      st = f.status();
    }
    if (!st.is_ok()) {
      std::fprintf(stderr, "(memory: the KV cache was not saved: %s; the turns are stored)\n",
                   st.message().c_str());
    }
  }

  bool command(std::string_view text) {
    std::string name, arg;
    split_chat_command(text, &name, &arg);
    if (name == "/exit" || name == "/quit") return false;
    if (name == "/help") {
      std::fputs(kHelp, stderr);
    } else if (name == "/think" || name == "/no_think") {
      thinking_ = name == "/think";
      std::fprintf(stderr, "(thinking %s)\n", thinking_ ? "on" : "off");
    } else if (name == "/pin") {
      pin(arg);
    } else if (name == "/unpin") {
      char* end = nullptr;
      const long long id = std::strtoll(arg.c_str() + (arg.starts_with("#") ? 1 : 0), &end, 10);
      Status st = arg.empty() || *end ? invalid_argument("usage: /unpin N")
                                      : store_->set_fact_status(conv_.id, id, "removed");
      std::fprintf(stderr, "%s\n", st.is_ok() ? "(removed)" : st.message().c_str());
    } else if (name == "/facts") {
      auto facts = store_->facts(conv_.id, false);
      if (!facts.is_ok() || facts->empty()) std::fprintf(stderr, "(no facts)\n");
      if (facts.is_ok()) {
        for (const auto& f : *facts) {
          std::fprintf(stderr, "  #%lld %-8s %s\n", static_cast<long long>(f.id), f.status.c_str(),
                       f.text.c_str());
        }
      }
    } else if (name == "/memory") {
      auto r = store_->reports(conv_.id, 1);
      if (!r.is_ok() || r->empty()) {
        std::fprintf(stderr, "(no turn yet)\n");
      } else {
        std::fprintf(stderr, "%s\n", nlohmann::json::parse((*r)[0]).dump(2).c_str());
      }
    } else {
      std::fprintf(stderr, "unknown command %s; /help lists the commands\n", name.c_str());
    }
    return true;
  }

  void pin(const std::string& arg) {
    if (arg.empty()) {
      std::fprintf(stderr, "usage: /pin TEXT or /pin #N\n");
      return;
    }
    if (arg[0] == '#') {
      char* end = nullptr;
      const long long id = std::strtoll(arg.c_str() + 1, &end, 10);
      Status st = *end ? invalid_argument("usage: /pin #N")
                       : store_->set_fact_status(conv_.id, id, "pinned");
      std::fprintf(stderr, "%s\n", st.is_ok() ? "(pinned)" : st.message().c_str());
      return;
    }
    const int n = static_cast<int>(engine_.tokenizer()->encode(arg, false).size());
    auto id = store_->add_fact(conv_.id, arg, "pinned", "user", n);
    if (id.is_ok()) {
      std::fprintf(stderr, "(pinned as #%lld)\n", static_cast<long long>(*id));
    } else {
      std::fprintf(stderr, "%s\n", id.status().message().c_str());
    }
  }

  void turn(const std::string& text) {
    memory::Turn u;
    u.role = "user";
    u.content = text;
    u.time = utc_now_iso8601();
    auto prompt =
        loop_->begin_turn(u, memory::model_summarizer(engine_, session_, interrupt_, [this] {
                            if (!o_.quiet)
                              std::fprintf(stderr, "[memory: summarising earlier turns...]\n");
                          }));
    if (!prompt.is_ok()) {
      std::fprintf(stderr, "longctx chat: %s\n", prompt.status().message().c_str());
      return;
    }
    const memory::MemoryReport& rep = prompt->report;
    if (rep.compaction && !o_.quiet) {
      const auto& c = *rep.compaction;
      std::fprintf(stderr,
                   "[memory: turns %lld-%lld (%lld tokens) folded into summary v%d (%lld tokens) "
                   "in %.1f s%s]\n",
                   static_cast<long long>(c.first), static_cast<long long>(c.last),
                   static_cast<long long>(c.tokens), c.summary_version,
                   static_cast<long long>(c.summary_tokens), c.seconds,
                   c.facts_proposed ? "; new facts proposed, see /facts" : "");
    }
    auto rendered = render_chat_prompt(engine_, prompt->messages, {.enable_thinking = thinking_});
    if (!rendered) {
      std::fprintf(stderr, "longctx chat: %s\n", rendered.status().message().c_str());
      return;
    }
    if (o_.dump_prompt) {
      std::fprintf(stderr, "--- prompt ---\n%s\n--- end of prompt ---\n", rendered->text.c_str());
    }
    const std::vector<int32_t> ids = engine_.tokenizer()->encode(rendered->text, true);
    prompt->report.prompt_tokens = static_cast<int64_t>(ids.size());
    const std::string_view ptext(rendered->text);
    const bool starts_in_think = ptext.ends_with("<think>\n") || ptext.ends_with("<think>");
    GenerateOptions go;
    go.max_tokens =
        o_.n_predict > 0 ? std::min(o_.n_predict, loop_->budgets().reply) : loop_->budgets().reply;
    go.sampling = sampling_params(o_.sampling, thinking_);
    go.cancel = interrupt_;
    ProgressLine progress("prompt", !o_.quiet && ids.size() > 256);
    go.prefill_progress = [&](int64_t d, int64_t t) {
      progress.update(d, t);
      if (d == t) progress.finish();
    };
    chat::ThinkStreamSplitter splitter(starts_in_think);
    ReplyPrinter printer(o_.hide_reasoning, isatty(STDOUT_FILENO));
    auto res = generate(session_, ids, go, [&](std::string_view s) {
      printer.print(splitter.push(s));
      return true;
    });
    progress.finish();
    printer.print(splitter.finish());
    printer.end();
    memory::Turn reply;
    reply.role = "assistant";
    reply.time = utc_now_iso8601();
    int64_t reused = 0, prefilled = 0;
    if (res) {
      const chat::ParsedOutput parsed =
          chat::parse_model_output(res->text, {.starts_in_think = starts_in_think});
      reply.content = parsed.content;
      reused = res->n_reused;
      prefilled = res->n_prompt - res->n_reused;
    } else {
      std::fprintf(stderr, "longctx chat: %s\n", res.status().message().c_str());
    }
    if (Status st = loop_->end_turn(&*prompt, reply, reused, prefilled); !st.is_ok()) {
      std::fprintf(stderr, "longctx chat: the reply was not stored: %s\n", st.message().c_str());
    }
    save_cache();
    if (res && !o_.quiet) {
      std::fprintf(stderr,
                   "longctx chat: %zu tokens, %.1f tok/s | prompt %lld tokens: reused %lld, "
                   "prefilled %lld | window turns %lld-%lld, recalled %zu, summary v%d\n",
                   res->ids.size(), res->gen_seconds > 0 ? res->ids.size() / res->gen_seconds : 0.0,
                   static_cast<long long>(res->n_prompt), static_cast<long long>(reused),
                   static_cast<long long>(prefilled), static_cast<long long>(rep.window_first),
                   static_cast<long long>(rep.turn), rep.recalled.size(), rep.summary_version);
    }
  }

  const MemoryChatOptions& o_;
  Engine& engine_;
  Session& session_;
  std::atomic<bool>* interrupt_;
  bool thinking_;
  memory::TextAnalyzer analyzer_;
  std::unique_ptr<memory::Store> store_;
  memory::Conversation conv_;
  std::unique_ptr<memory::MemoryLoop> loop_;
  std::string cache_path_;
  std::unique_ptr<SessionFile> cache_;
};

}  // namespace

int run_memory_chat(const MemoryChatOptions& options, Engine& engine, Session& session,
                    std::atomic<bool>* interrupt) {
  MemoryChat chat(options, engine, session, interrupt);
  if (Status st = chat.open(); !st.is_ok()) {
    std::fprintf(stderr, "longctx chat: %s\n", st.message().c_str());
    return 1;
  }
  return chat.run();
}

}  // namespace longctx::cli
