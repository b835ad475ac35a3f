// `longctx memory replay -m MODEL --db DB --conversation NAME FILE`: replays a conversation file
// through the memory loop on a real model, as a chat would live it — each non-assistant turn is a
// new message (stored, compacted when due with the model's own summaries, assembled, prefilled
// on the one long-lived sequence), and the recorded assistant turn after it is stored as its
// reply instead of a generated one. Reports what the cache target of the memory loop measures:
// the share of prompt tokens reused from the KV cache, what an ordinary turn prefilled against
// its allowance (the last exchange, the recall block and the new message), compactions and their
// cost, and whether the budget held.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/engine_args.h"
#include "core/file_io.h"
#include "memory/conversation_file.h"
#include "memory/memory_loop.h"
#include "memory/model_summarizer.h"
#include "runtime/chat_prompt.h"
#include "runtime/generate.h"

namespace longctx::cli {
namespace {

struct ReplayArgs {
  EngineArgs engine;
  std::string db, conversation = "replay", file, log;
  memory::MemoryBudgets budgets;
  int64_t max_turns = -1;
  bool json = false;
};

struct Totals {
  int64_t turns = 0, ordinary = 0, compactions = 0, over_allowance = 0, over_budget = 0;
  int64_t prompt = 0, reused = 0, prompt_ordinary = 0, reused_ordinary = 0;
  int64_t max_prompt = 0, max_prefill_ordinary = 0, compaction_tokens = 0;
  double compaction_seconds = 0, prefill_seconds = 0;
};

int fail(const std::string& m) {
  std::fprintf(stderr, "longctx memory replay: %s\n", m.c_str());
  return 1;
}

int run_replay(ReplayArgs a) {
  Result<std::string> text = read_file(a.file);
  if (!text.is_ok()) return fail(text.status().message());
  Result<std::vector<memory::Turn>> turns = memory::parse_conversation(*text);
  if (!turns.is_ok()) return fail(a.file + ": " + turns.status().message());
  auto loaded = load_engine(a.engine, "memory replay");
  if (!loaded) return fail(loaded.status().message());
  Engine& engine = *loaded->engine;
  Session& session = *loaded->session;
  const Tokenizer* tok = engine.tokenizer();
  if (!tok) return fail("the model has no tokenizer");
  auto count = [tok](std::string_view t) {
    return static_cast<int64_t>(tok->encode(t, false).size());
  };
  a.budgets.ctx = session.n_ctx();
  if (Status st = a.budgets.resolve(); !st) return fail(st.message());
  Result<std::unique_ptr<memory::Store>> store = memory::Store::open(a.db);
  if (!store.is_ok()) return fail(store.status().message());
  Result<memory::Conversation> conv = (*store)->create(a.conversation);
  if (!conv.is_ok()) return fail(conv.status().message());
  const memory::TextAnalyzer analyzer;
  memory::MemoryLoop loop(**store, conv->id, analyzer, count, a.budgets, "");
  const memory::Summarizer summarize = memory::model_summarizer(engine, session, nullptr);
  std::ofstream log;
  if (!a.log.empty()) log.open(a.log);
  Totals t;
  int64_t prev_exchange = 0;  // tokens of the previous user message and its reply, as messages
  const auto t0 = std::chrono::steady_clock::now();
  const size_t n = a.max_turns > 0 ? std::min<size_t>(turns->size(), a.max_turns) : turns->size();
  for (size_t i = 0; i < n; ++i) {
    memory::Turn u = (*turns)[i];
    if (u.role == "assistant") continue;  // stored as the reply of the turn before it
    u.n_tokens = static_cast<int>(count(u.content));
    auto p = loop.begin_turn(u, summarize);
    if (!p.is_ok()) return fail("turn " + std::to_string(i) + ": " + p.status().message());
    auto rendered = render_chat_prompt(engine, p->messages, {.enable_thinking = false});
    if (!rendered) return fail(rendered.status().message());
    const std::vector<int32_t> ids = tok->encode(rendered->text, true);
    p->report.prompt_tokens = static_cast<int64_t>(ids.size());
    GenerateOptions go;
    go.max_tokens = 1;  // the prompt's prefill is what is measured; the reply is recorded
    go.sampling.temperature = 0;
    auto res = generate(session, ids, go, [](std::string_view) { return true; });
    if (!res) return fail("turn " + std::to_string(i) + ": " + res.status().message());
    memory::Turn reply;
    if (i + 1 < n && (*turns)[i + 1].role == "assistant") {
      reply = (*turns)[i + 1];
      reply.n_tokens = static_cast<int>(count(reply.content));
    }
    const int64_t prefilled = res->n_prompt - res->n_reused;
    if (Status st = loop.end_turn(&*p, reply, res->n_reused, prefilled); !st)
      return fail(st.message());
    const memory::MemoryReport& r = p->report;
    ++t.turns;
    t.prompt += res->n_prompt;
    t.reused += res->n_reused;
    t.prefill_seconds += res->prompt_seconds;
    t.max_prompt = std::max<int64_t>(t.max_prompt, res->n_prompt);
    if (res->n_prompt > r.budget) ++t.over_budget;
    if (r.compaction) {
      ++t.compactions;
      t.compaction_tokens += r.compaction->tokens;
      t.compaction_seconds += r.compaction->seconds;
    } else if (t.turns > 1) {
      // An ordinary turn may prefill the last exchange, the recall block and the new message
      // (plus the generation prompt's few tokens).
      const int64_t allowance = prev_exchange + r.recall + r.message + 8;
      ++t.ordinary;
      t.prompt_ordinary += res->n_prompt;
      t.reused_ordinary += res->n_reused;
      t.max_prefill_ordinary = std::max(t.max_prefill_ordinary, prefilled);
      if (prefilled > allowance) ++t.over_allowance;
    }
    prev_exchange = r.message + (reply.content.empty()
                                     ? 0
                                     : reply.n_tokens + memory::kMessageOverhead +
                                           (reply.name.empty() ? 0 : count(reply.name + ": ")));
    if (log.is_open()) log << r.to_json() << "\n";
    if (!a.engine.quiet && t.turns % 50 == 0) {
      std::fprintf(stderr, "\r[replay: %zu/%zu turns, %lld compactions, cache share %.1f%%]", i + 1,
                   n, static_cast<long long>(t.compactions),
                   t.prompt ? 100.0 * t.reused / t.prompt : 0.0);
    }
  }
  if (!a.engine.quiet) std::fprintf(stderr, "\n");
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  nlohmann::ordered_json j;
  j["ctx"] = a.budgets.ctx;
  j["budgets"] = {{"reply", a.budgets.reply},
                  {"facts", a.budgets.facts},
                  {"summary", a.budgets.summary},
                  {"recall", a.budgets.recall}};
  j["turns_answered"] = t.turns;
  j["cache_share"] = t.prompt ? static_cast<double>(t.reused) / t.prompt : 0;
  j["cache_share_ordinary"] =
      t.prompt_ordinary ? static_cast<double>(t.reused_ordinary) / t.prompt_ordinary : 0;
  j["ordinary_turns"] = t.ordinary;
  j["ordinary_over_allowance"] = t.over_allowance;
  j["max_prefill_ordinary"] = t.max_prefill_ordinary;
  j["compactions"] = t.compactions;
  j["compaction_tokens"] = t.compaction_tokens;
  j["compaction_seconds"] = t.compaction_seconds;
  j["max_prompt"] = t.max_prompt;
  j["prompts_over_budget"] = t.over_budget;
  j["prefill_seconds"] = t.prefill_seconds;
  j["wall_seconds"] = secs;
  if (a.json) {
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("%s\n", j.dump(2).c_str());
  }
  return t.over_budget == 0 && t.over_allowance == 0 ? 0 : 2;
}

}  // namespace

void add_memory_replay(CLI::App& memory_app, std::function<int()>* run) {
  auto a = std::make_shared<ReplayArgs>();
  CLI::App* r = memory_app.add_subcommand(
      "replay",
      "Replay a conversation file through the memory loop on a model: cache share, "
      "compactions, budget");
  add_engine_options(*r, &a->engine);
  r->add_option("--db", a->db, "Memory database (SQLite)")->required();
  r->add_option("--conversation", a->conversation, "Name for the replayed conversation (new)")
      ->capture_default_str();
  r->add_option("FILE", a->file, "Conversation file (JSON array or JSON lines)")->required();
  r->add_option("--turns", a->max_turns, "Replay only the first N turns of the file");
  r->add_option("--log", a->log, "Write each turn's memory report as a JSON line here");
  r->add_option("--memory-reply", a->budgets.reply, "Tokens kept for the reply");
  r->add_option("--memory-facts", a->budgets.facts, "Tokens for pinned facts");
  r->add_option("--memory-summary", a->budgets.summary, "Tokens for the rolling summary");
  r->add_option("--memory-recall", a->budgets.recall, "Tokens for recalled earlier turns");
  r->add_flag("--json", a->json, "One line of JSON");
  *run = [a, r]() { return r->parsed() ? run_replay(*a) : -1; };
}

}  // namespace longctx::cli
