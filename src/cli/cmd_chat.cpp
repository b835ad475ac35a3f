// `longctx chat -m FILE`: an interactive conversation on one long-lived session, so each turn
// only prefills what is new since the last. Reasoning is streamed dimmed (or hidden), /commands
// switch thinking mode, reset, save the transcript or the session; --session FILE keeps the
// session on disk after every turn and resumes it without a prefill; on a terminal the prompt
// has line editing and history (libedit); Ctrl-C stops a reply, not the program.
#include <signal.h>
#include <unistd.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

#include "chat/output_parser.h"
#include "chat/think_stream.h"
#include "cli/chat_input.h"
#include "cli/chat_memory.h"
#include "cli/commands.h"
#include "cli/engine_args.h"
#include "cli/reply_printer.h"
#include "cli/sampling_args.h"
#include "core/file_io.h"
#include "runtime/chat_prompt.h"
#include "runtime/generate.h"
#include "runtime/session.h"
#include "runtime/session_file.h"

namespace longctx::cli {
namespace {

// Set by SIGINT: stops the running generation, or interrupts the read at the prompt.
std::atomic<bool> g_interrupt{false};
extern "C" void on_chat_sigint(int) { g_interrupt.store(true); }

struct ChatArgs {
  EngineArgs engine;
  SamplingArgs sampling;
  ContextArgs context;
  OnFull on_full = OnFull::kStop;
  std::string system, session;
  bool no_think = false, hide_reasoning = false, dump_prompt = false;
  int64_t n_predict = -1;
  // --memory DB: the memory loop (chat_memory.h).
  std::string memory_db, conversation = "default", summary_prompt;
  memory::MemoryBudgets budgets;
};

constexpr const char* kHelp =
    "commands:\n"
    "  /think        Qwen3 thinking mode for the next turns (T 0.6, top-p 0.95 unless set)\n"
    "  /no_think     non-thinking mode (T 0.7, top-p 0.8 unless set)\n"
    "  /reset        forget the conversation and the cached context\n"
    "  /save FILE    write the transcript as JSON\n"
    "  /session save FILE   write the session (conversation + KV cache) to FILE and keep\n"
    "                saving there after every turn\n"
    "  /session load FILE   continue the session saved in FILE (no prefill)\n"
    "  /help         this list\n"
    "  /exit, /quit  leave (or Ctrl-D)\n"
    "a line ending in \\ continues on the next line; a line \"\"\" opens a block closed by "
    "\"\"\"\n";

class ChatLoop {
 public:
  ChatLoop(const ChatArgs& args, Engine& engine, Session& session)
      : a_(args), engine_(engine), session_(session), thinking_(!args.no_think) {
    if (!a_.system.empty()) messages_.push_back({{"role", "system"}, {"content", a_.system}});
  }

  // --session FILE: resume what it holds (or create it). False (with a message) when the file
  // cannot be used; the chat does not start then, and the file is as it was.
  bool open_session(const std::string& path) {
    ProgressLine progress("loading session", !a_.engine.quiet);
    SessionFileOptions so;
    so.progress = [&](uint64_t d, uint64_t t) { progress.update(d, t); };
    std::string app;
    auto f = SessionFile::open(path, session_, &app, so);
    progress.finish();
    if (!f) {
      std::fprintf(stderr, "longctx chat: %s\n", f.status().message().c_str());
      return false;
    }
    file_ = std::move(f.value());
    file_->set_progress(nullptr);  // `progress` ends with this function
    if (file_->loaded_tokens() > 0 && !adopt_transcript(app, path)) {
      session_.reset();
      file_.reset();
      return false;
    }
    return true;
  }

  int run() {
    return run_chat_input(
        &g_interrupt, [this](std::string_view c) { return command(c); },
        [this](const std::string& m) { turn(m); });
  }

 private:
  // Runs one /command; false means leave.
  bool command(std::string_view text) {
    std::string name, arg;
    split_chat_command(text, &name, &arg);
    if (name == "/exit" || name == "/quit") return false;
    if (name == "/help") {
      std::fputs(kHelp, stderr);
    } else if (name == "/think" || name == "/no_think") {
      thinking_ = name == "/think";
      const SamplingParams p = sampling_params(a_.sampling, thinking_);
      std::fprintf(stderr, "(thinking %s: temperature %g, top-p %g, top-k %d)\n",
                   thinking_ ? "on" : "off", p.temperature, p.top_p, p.top_k);
    } else if (name == "/reset") {
      messages_ = chat::Json::array();
      if (!a_.system.empty()) messages_.push_back({{"role", "system"}, {"content", a_.system}});
      session_.reset();
      std::fprintf(stderr, "(conversation cleared)\n");
      autosave();
    } else if (name == "/session") {
      session_command(arg);
    } else if (name == "/save") {
      if (arg.empty()) {
        std::fprintf(stderr, "/save needs a file name: /save FILE\n");
      } else if (Status st = write_file_atomic(
                     arg,
                     transcript().dump(2, ' ', false, nlohmann::json::error_handler_t::replace) +
                         "\n");
                 !st.is_ok()) {
        std::fprintf(stderr, "/save failed: %s\n", st.message().c_str());
      } else {
        std::fprintf(stderr, "(saved %zu messages to %s)\n", messages_.size(), arg.c_str());
      }
    } else {
      std::fprintf(stderr, "unknown command %s; /help lists the commands\n", name.c_str());
    }
    return true;
  }

  // /session save FILE | /session load FILE.
  void session_command(const std::string& arg) {
    std::string verb, path;
    split_chat_command(arg, &verb, &path);
    if ((verb != "save" && verb != "load") || path.empty()) {
      std::fprintf(stderr, "usage: /session save FILE | /session load FILE\n");
      return;
    }
    if (verb == "save") {
      auto f = SessionFile::save_as(path, session_, transcript_text());
      if (!f) {
        std::fprintf(stderr, "/session save failed: %s\n", f.status().message().c_str());
        return;
      }
      file_ = std::move(f.value());
      std::fprintf(stderr,
                   "(session saved to %s: %lld tokens, %zu messages; saving there from "
                   "now on)\n",
                   path.c_str(), static_cast<long long>(session_.n_past()), messages_.size());
      return;
    }
    // Load: check the whole file first, so a bad one leaves this conversation as it is.
    auto n = SessionFile::verify(path, session_);
    if (!n) {
      std::fprintf(stderr, "/session load failed: %s\n", n.status().message().c_str());
      return;
    }
    const chat::Json saved_messages = messages_;
    const bool saved_thinking = thinking_;
    std::unique_ptr<SessionFile> saved_file = std::move(file_);
    if (!open_session(path)) {
      // The conversation stays; its cached context went with the attempt, so the next turn
      // reads it again (and keeps saving where it did).
      messages_ = saved_messages;
      thinking_ = saved_thinking;
      file_ = std::move(saved_file);
      std::fprintf(stderr,
                   "/session load failed; the conversation is kept, its next turn re-reads it\n");
      return;
    }
    std::fprintf(stderr, "(session %s: %lld tokens, %zu messages; saving there from now on)\n",
                 path.c_str(), static_cast<long long>(session_.n_past()), messages_.size());
  }

  // The transcript kept in a session file; false (with a message) when it is not one of ours.
  bool adopt_transcript(const std::string& app, const std::string& path) {
    const chat::Json j = chat::Json::parse(app, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("messages") ||
        !j["messages"].is_array()) {
      std::fprintf(stderr,
                   "longctx chat: %s holds a session without a chat transcript (written by "
                   "`run`?); use another file for chat\n",
                   path.c_str());
      return false;
    }
    messages_ = j["messages"];
    if (j.contains("settings") && j["settings"].contains("thinking") &&
        j["settings"]["thinking"].is_boolean()) {
      thinking_ = j["settings"]["thinking"].get<bool>();
    }
    if (!a_.system.empty()) {
      const bool same = !messages_.empty() && messages_[0]["role"] == "system" &&
                        messages_[0]["content"] == a_.system;
      if (!same) {
        std::fprintf(stderr,
                     "longctx chat: warning: --system differs from the resumed "
                     "conversation's; the saved one is kept\n");
      }
    }
    std::fprintf(stderr, "(resumed %zu messages, %lld tokens from %s; no prefill)\n",
                 messages_.size(), static_cast<long long>(session_.n_past()), path.c_str());
    return true;
  }

  std::string transcript_text() const {
    return transcript().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }

  // After every turn (and /reset): the session file, when there is one, holds this state.
  void autosave() {
    if (!file_) return;
    const Status st = file_->save(session_, transcript_text());
    if (!st.is_ok()) {
      std::fprintf(stderr, "longctx chat: the session was not saved: %s\n", st.message().c_str());
    }
  }

  chat::Json transcript() const {
    const SamplingParams p = sampling_params(a_.sampling, thinking_);
    chat::Json settings = {{"thinking", thinking_},
                           {"system", a_.system},
                           {"max_tokens", a_.n_predict},
                           {"ctx", session_.n_ctx()},
                           {"sampling",
                            {{"temperature", p.temperature},
                             {"top_k", p.top_k},
                             {"top_p", p.top_p},
                             {"min_p", p.min_p},
                             {"repetition_penalty", p.repetition_penalty},
                             {"presence_penalty", p.presence_penalty},
                             {"frequency_penalty", p.frequency_penalty},
                             {"penalty_last_n", p.penalty_last_n},
                             {"seed", p.seed}}}};
    return {{"model", a_.engine.model}, {"messages", messages_}, {"settings", settings}};
  }

  void context_full_hint(const std::string& what) {
    std::fprintf(stderr,
                 "longctx chat: context full: %s (context %lld tokens); /reset to start over, or "
                 "restart with a larger --ctx (or --on-full shift to drop the oldest turns)\n",
                 what.c_str(), static_cast<long long>(session_.n_ctx()));
  }

  // One user turn: render the whole conversation, generate on the long-lived session (the
  // cached prefix is reused), stream the reply and store it.
  // The conversation's first `n` messages rendered as the next prompt would render them (no
  // generation prompt), as token ids, and the token offset where each message starts: at its
  // <|im_start|> (ChatML opens every message with it), plus the end. Prefix renders would not
  // do: Qwen3's template gives the last assistant message a think block that later renders drop.
  struct Rendered {
    std::vector<int32_t> ids;
    std::vector<int64_t> starts;  // [n + 1]
  };
  Result<Rendered> render_messages(size_t n) const {
    chat::Json prefix = chat::Json::array();
    for (size_t j = 0; j < n; ++j) prefix.push_back(messages_[j]);
    auto p = render_chat_prompt(engine_, prefix,
                                {.enable_thinking = thinking_, .add_generation_prompt = false});
    if (!p) return p.status();
    Rendered r;
    r.ids = engine_.tokenizer()->encode(p->text, true);
    const auto im_start = engine_.tokenizer()->token_id("<|im_start|>");
    for (size_t i = 0; im_start && i < r.ids.size(); ++i) {
      if (r.ids[i] == *im_start) r.starts.push_back(static_cast<int64_t>(i));
    }
    if (r.starts.size() != n) {
      return invalid_argument(
          "the rendered conversation does not open each message with "
          "<|im_start|>");
    }
    r.starts.push_back(static_cast<int64_t>(r.ids.size()));
    return r;
  }

  // Whole turns (a user message and the reply after it) a shift may drop: from the first after
  // the system prompt and --keep tokens up to the current user message. Drops the oldest until
  // at least `want` tokens go (or none are left), from messages_ and from the cache, in place.
  // Returns the dropped range (turns = 0: nothing could be dropped).
  Result<ShiftRange> drop_turns(int64_t want, size_t end_msg) {
    auto rendered = render_messages(end_msg);
    if (!rendered) return rendered.status();
    const std::vector<int64_t>& starts = rendered->starts;
    const size_t first = !messages_.empty() && messages_[0]["role"] == "system" ? 1 : 0;
    size_t a = first;
    while (a < end_msg && starts[a] < starts[first] + a_.context.keep) ++a;
    size_t b = a;
    ShiftRange r;
    while (b + 1 < end_msg && starts[b] - starts[a] < want) {
      b += 2;  // a user message and its reply
      ++r.turns;
    }
    r.begin = starts[a];
    r.end = starts[b];
    if (r.turns == 0 || r.end <= r.begin) return ShiftRange{};
    // The cache holds the rendering up to their common prefix: drop what it holds.
    const std::vector<int32_t>& cached = session_.tokens();
    int64_t common = 0;
    const int64_t n = static_cast<int64_t>(std::min(cached.size(), rendered->ids.size()));
    while (common < n && cached[common] == rendered->ids[common]) ++common;
    messages_.erase(messages_.begin() + static_cast<std::ptrdiff_t>(a),
                    messages_.begin() + static_cast<std::ptrdiff_t>(b));
    if (common >= r.end) return r;  // the caller removes [begin, end) from the cache
    session_.truncate(r.begin);     // the cache diverged inside the dropped turns
    return ShiftRange{r.begin, r.begin, r.turns};
  }

  void report_drop(const ShiftRange& r) {
    std::fprintf(stderr,
                 "[longctx chat: context full: dropped the %lld oldest turn(s), %lld tokens; the "
                 "later keys were turned to their new positions, no prefill]\n",
                 static_cast<long long>(r.turns), static_cast<long long>(r.end - r.begin));
  }

  // One user turn: render the whole conversation, generate on the long-lived session (the
  // cached prefix is reused), stream the reply and store it.
  void turn(const std::string& text) {
    messages_.push_back({{"role", "user"}, {"content", text}});
    Result<ChatPrompt> prompt =
        render_chat_prompt(engine_, messages_, {.enable_thinking = thinking_});
    if (!prompt) {
      std::fprintf(stderr, "longctx chat: %s\n", prompt.status().message().c_str());
      messages_.erase(messages_.size() - 1);
      return;
    }
    std::vector<int32_t> ids = engine_.tokenizer()->encode(prompt->text, true);
    // --on-full shift: room for the reply (its -n, else an eighth of the context) is made by
    // dropping the oldest whole turns before the prompt is evaluated.
    const int64_t reserve =
        a_.n_predict > 0 ? std::min(a_.n_predict, session_.n_ctx() / 2) : session_.n_ctx() / 8;
    while (a_.on_full == OnFull::kShift &&
           static_cast<int64_t>(ids.size()) + reserve > session_.n_ctx()) {
      const int64_t excess = static_cast<int64_t>(ids.size()) + reserve - session_.n_ctx();
      auto r =
          drop_turns(std::max(excess, static_cast<int64_t>(ids.size()) / 2), messages_.size() - 1);
      if (!r || r->turns == 0) break;
      if (r->end > r->begin) {
        if (Status st = session_.remove(r->begin, r->end); !st.is_ok()) {
          std::fprintf(stderr, "longctx chat: %s\n", st.message().c_str());
          session_.truncate(r->begin);
        }
      }
      report_drop(*r);
      prompt = render_chat_prompt(engine_, messages_, {.enable_thinking = thinking_});
      if (!prompt) break;
      ids = engine_.tokenizer()->encode(prompt->text, true);
    }
    if (!prompt) {
      std::fprintf(stderr, "longctx chat: %s\n", prompt.status().message().c_str());
      messages_.erase(messages_.size() - 1);
      return;
    }
    if (!prompt->warning.empty() && !warned_) {
      std::fprintf(stderr, "longctx chat: warning: %s\n", prompt->warning.c_str());
      warned_ = true;
    }
    if (a_.dump_prompt) {
      std::fprintf(stderr, "--- prompt ---\n%s\n--- end of prompt ---\n", prompt->text.c_str());
    }
    if (static_cast<int64_t>(ids.size()) >= session_.n_ctx()) {
      // The reply needs at least one free position after the prompt.
      context_full_hint("the conversation is " + std::to_string(ids.size()) +
                        " tokens with this message, which was not sent");
      messages_.erase(messages_.size() - 1);
      return;
    }

    const std::string_view ptext(prompt->text);
    const bool starts_in_think = ptext.ends_with("<think>\n") || ptext.ends_with("<think>");
    GenerateOptions go;
    go.max_tokens = a_.n_predict;
    go.sampling = sampling_params(a_.sampling, thinking_);
    go.cancel = &g_interrupt;
    go.on_full = a_.on_full;
    // Mid-reply shifts drop whole earlier turns too (the current user message stays); when there
    // is none left, the oldest half of the tokens after the system prompt and --keep.
    go.choose_drop = [&](const Session& s) -> Result<ShiftRange> {
      const size_t first = !messages_.empty() && messages_[0]["role"] == "system" ? 1 : 0;
      auto rendered = render_messages(messages_.size());
      const int64_t keep =
          (rendered && first < rendered->starts.size() ? rendered->starts[first] : 0) +
          a_.context.keep;
      auto r = drop_turns((s.n_past() - keep) / 2, messages_.size() - 1);
      if (r && r->turns > 0 && r->end > r->begin) return r;
      return default_drop(s, keep);
    };
    go.on_shift = [&](const ShiftRange& r) {
      if (r.turns > 0) {
        report_drop(r);
      } else {
        std::fprintf(stderr,
                     "\n[longctx chat: context full: dropped %lld tokens inside the current turn; "
                     "the next turn re-reads the conversation]\n",
                     static_cast<long long>(r.end - r.begin));
      }
    };
    ProgressLine progress("prompt", !a_.engine.quiet && ids.size() > 256);
    go.prefill_progress = [&](int64_t d, int64_t t) {
      progress.update(d, t);
      if (d == t) progress.finish();
    };
    chat::ThinkStreamSplitter splitter(starts_in_think);
    ReplyPrinter printer(a_.hide_reasoning, isatty(STDOUT_FILENO));
    g_interrupt.store(false);
    auto res = generate(session_, ids, go, [&](std::string_view s) {
      printer.print(splitter.push(s));
      return true;
    });
    progress.finish();
    printer.print(splitter.finish());
    printer.end();
    g_interrupt.store(false);
    if (!res) {
      std::fprintf(stderr, "longctx chat: %s\n", res.status().message().c_str());
      messages_.erase(messages_.size() - 1);
      return;
    }

    // The stored message: the parser's split of the whole reply (partial if stopped).
    const chat::ParsedOutput parsed =
        chat::parse_model_output(res->text, {.starts_in_think = starts_in_think});
    chat::Json reply = {{"role", "assistant"}, {"content", parsed.content}};
    if (!parsed.reasoning.empty()) reply["reasoning_content"] = parsed.reasoning;
    messages_.push_back(std::move(reply));

    autosave();
    if (res->finish == FinishReason::kCancelled) std::fprintf(stderr, "(stopped)\n");
    if (res->finish == FinishReason::kContextFull) {
      context_full_hint("the reply was cut off after " + std::to_string(res->ids.size()) +
                        " tokens");
    }
    if (!a_.engine.quiet) {
      const int64_t n_gen = static_cast<int64_t>(res->ids.size());
      const int64_t n_eval = res->n_prompt - res->n_reused;
      std::fprintf(stderr,
                   "longctx chat: %lld tokens in %.2f s (%.1f tok/s) | prompt %lld tokens, "
                   "reused %lld, prefilled %lld in %.2f s | stop: %s\n",
                   static_cast<long long>(n_gen), res->gen_seconds,
                   res->gen_seconds > 0 ? n_gen / res->gen_seconds : 0.0,
                   static_cast<long long>(res->n_prompt), static_cast<long long>(res->n_reused),
                   static_cast<long long>(n_eval), res->prompt_seconds,
                   finish_reason_name(res->finish));
    }
  }

  const ChatArgs& a_;
  Engine& engine_;
  Session& session_;
  bool thinking_;
  bool warned_ = false;
  chat::Json messages_ = chat::Json::array();
  std::unique_ptr<SessionFile> file_;
};

int fail(const std::string& msg) {
  std::fprintf(stderr, "longctx chat: %s\n", msg.c_str());
  return 1;
}

int run_chat(ChatArgs a) {
  if (a.n_predict < -1 || a.n_predict == 0) return fail("-n must be -1 (no limit) or >= 1");
  if (Status st = sampling_params(a.sampling, !a.no_think).validate(); !st.is_ok()) {
    return fail(st.message());
  }
  if (!a.memory_db.empty() && !a.session.empty()) {
    return fail("--memory keeps its own KV cache beside the database; drop --session");
  }
  auto on_full = parse_on_full(a.context);
  if (!on_full) return fail(on_full.status().message());
  a.on_full = *on_full;
  auto loaded = load_engine(a.engine, "chat");
  if (!loaded) return fail(loaded.status().message());
  if (!loaded->engine->tokenizer()) {
    return fail("the model has no tokenizer; give --tokenizer DIR");
  }
  // No SA_RESTART: a read blocked at the prompt returns EINTR, so Ctrl-C there is noticed.
  struct sigaction sa = {};
  sa.sa_handler = on_chat_sigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;
  sigaction(SIGINT, &sa, nullptr);
  if (!a.memory_db.empty()) {
    MemoryChatOptions mo;
    mo.db = a.memory_db;
    mo.conversation = a.conversation;
    mo.system = a.system;
    mo.system_given = !a.system.empty();
    mo.summary_prompt_file = a.summary_prompt;
    mo.budgets = a.budgets;
    mo.sampling = a.sampling;
    mo.thinking = !a.no_think;
    mo.hide_reasoning = a.hide_reasoning;
    mo.dump_prompt = a.dump_prompt;
    mo.quiet = a.engine.quiet;
    mo.n_predict = a.n_predict;
    return run_memory_chat(mo, *loaded->engine, *loaded->session, &g_interrupt);
  }
  ChatLoop loop(a, *loaded->engine, *loaded->session);
  if (!a.session.empty() && !loop.open_session(a.session)) return 1;
  return loop.run();
}

}  // namespace

CommandFn add_chat_command(CLI::App& app) {
  auto a = std::make_shared<ChatArgs>();
  add_engine_options(app, &a->engine);
  add_sampling_options(app, &a->sampling);
  add_context_options(app, &a->context);
  app.add_option("--system", a->system, "System message");
  app.add_flag("--no-think", a->no_think,
               "Start in Qwen3 non-thinking mode (/think and /no_think switch it)");
  app.add_flag("--hide-reasoning", a->hide_reasoning, "Do not show the <think> block's text");
  app.add_option("-n,--n-predict", a->n_predict,
                 "Tokens per reply at most (-1: until end of turn or a full context)")
      ->capture_default_str();
  app.add_option("--session", a->session,
                 "Keep the session (conversation and KV cache) in FILE after every turn, and "
                 "resume it from there without a prefill (created if missing)");
  app.add_option("--memory", a->memory_db,
                 "Conversation memory in this SQLite database: every turn stored, prompts "
                 "assembled under budgets with pinned facts, a rolling summary and recall of "
                 "earlier turns (docs/MEMORY.md)");
  app.add_option("--conversation", a->conversation, "Conversation name in --memory")
      ->capture_default_str();
  app.add_option("--summary-prompt", a->summary_prompt,
                 "File with the summariser's instruction ({previous_summary}, {turns}, "
                 "{max_words})");
  app.add_option("--memory-reply", a->budgets.reply,
                 "Tokens kept for the reply (default min(ctx/8, 4096))");
  app.add_option("--memory-facts", a->budgets.facts, "Tokens for pinned facts (default ctx/32)");
  app.add_option("--memory-summary", a->budgets.summary,
                 "Tokens for the rolling summary (default ctx/16)");
  app.add_option("--memory-recall", a->budgets.recall,
                 "Tokens for recalled earlier turns (default ctx/16)");
  app.add_flag("--dump-prompt", a->dump_prompt,
               "Print each turn's rendered prompt on stderr (for debugging templates)");
  return [a] { return run_chat(*a); };
}

}  // namespace longctx::cli
