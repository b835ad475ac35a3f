// `longctx memory`: inspect and test the memory loop's store without a model —
// import a conversation file, search it with the recall's scoring, show / export / list.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "core/file_io.h"
#include "memory/conversation_file.h"
#include "memory/recall.h"
#include "memory/recall_eval.h"
#include "memory/store.h"
#include "tokenizer/tokenizer.h"

namespace longctx::cli {
namespace {

using memory::Store;

struct MemoryOptions {
  std::string db;
  std::string conversation;
  std::string file;  // import: the conversation file
  bool append = false;
  bool replace = false;
  std::string tokenizer;  // import: HF tokenizer dir (default: the shipped Qwen3 one)
  std::string query;      // search
  int k = 10;
  bool json = false;
  int64_t from = 0, to = -1;  // show: turn range
  std::string questions;      // bench: questions file
  memory::RecallOptions recall;
};

int fail(const char* sub, const std::string& msg) {
  std::fprintf(stderr, "longctx memory %s: %s\n", sub, msg.c_str());
  return 1;
}

std::string dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Opens the store and finds the named conversation; a missing one is an error naming the
// conversations there are.
Status open_conversation(const MemoryOptions& o, std::unique_ptr<Store>* store,
                         memory::Conversation* conv) {
  Result<std::unique_ptr<Store>> s = Store::open(o.db);
  if (!s.is_ok()) return s.status();
  *store = std::move(s).value();
  Result<std::optional<memory::Conversation>> c = (*store)->find(o.conversation);
  if (!c.is_ok()) return c.status();
  if (!c->has_value()) {
    std::string names;
    if (auto all = (*store)->list(); all.is_ok()) {
      for (const auto& x : *all) names += (names.empty() ? "" : ", ") + x.name;
    }
    return not_found("no conversation '" + o.conversation + "' in " + o.db +
                     (names.empty() ? " (it holds none)" : " (it holds: " + names + ")"));
  }
  *conv = **c;
  return Status::ok();
}

int run_import(const MemoryOptions& o) {
  if (o.append && o.replace) return fail("import", "give --append or --replace, not both");
  const auto t0 = std::chrono::steady_clock::now();
  Result<std::string> text = read_file(o.file);
  if (!text.is_ok()) return fail("import", text.status().message());
  Result<std::vector<memory::Turn>> turns = memory::parse_conversation(*text);
  if (!turns.is_ok()) return fail("import", o.file + ": " + turns.status().message());
  Result<Tokenizer> tok = Tokenizer::from_hf_path(
      o.tokenizer.empty() ? std::string(LONGCTX_DATA_DIR) + "/qwen3-tokenizer" : o.tokenizer);
  if (!tok.is_ok()) return fail("import", tok.status().message());
  for (memory::Turn& t : *turns) {
    t.n_tokens = static_cast<int>(tok->encode(t.content, /*parse_special=*/false).size());
  }
  Result<std::unique_ptr<Store>> store = Store::open(o.db);
  if (!store.is_ok()) return fail("import", store.status().message());
  Result<std::optional<memory::Conversation>> existing = (*store)->find(o.conversation);
  if (!existing.is_ok()) return fail("import", existing.status().message());
  int64_t conv_id = 0;
  if (existing->has_value()) {
    if (!o.append && !o.replace) {
      return fail("import", "conversation '" + o.conversation + "' already exists in " + o.db +
                                " (add --append to add these turns after it, or --replace)");
    }
    conv_id = (*existing)->id;
    if (o.replace) {
      if (Status st = (*store)->truncate(conv_id, 0); !st) return fail("import", st.message());
    }
  } else {
    Result<memory::Conversation> c = (*store)->create(o.conversation);
    if (!c.is_ok()) return fail("import", c.status().message());
    conv_id = c->id;
  }
  if (Status st = (*store)->append(conv_id, &*turns); !st) return fail("import", st.message());
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  int64_t tokens = 0;
  for (const auto& t : *turns) tokens += t.n_tokens;
  std::fprintf(stderr, "imported %zu turns (%lld tokens) into '%s' in %.2f s (%.0f turns/s)\n",
               turns->size(), static_cast<long long>(tokens), o.conversation.c_str(), s,
               turns->empty() ? 0.0 : static_cast<double>(turns->size()) / s);
  return 0;
}

int run_search(const MemoryOptions& o) {
  if (o.k <= 0) return fail("search", "-k must be at least 1");
  std::unique_ptr<Store> store;
  memory::Conversation conv;
  if (Status st = open_conversation(o, &store, &conv); !st) return fail("search", st.message());
  const memory::TextAnalyzer analyzer;
  memory::RecallOptions ro;
  ro.k = o.k;
  Result<std::vector<memory::RecallHit>> hits =
      memory::recall_search(*store, analyzer, conv.id, o.query, ro);
  if (!hits.is_ok()) return fail("search", hits.status().message());
  nlohmann::json arr = nlohmann::json::array();
  for (const memory::RecallHit& h : *hits) {
    Result<std::vector<memory::Turn>> t = store->turns(conv.id, h.pos, h.pos + 1);
    if (!t.is_ok()) return fail("search", t.status().message());
    if (t->empty()) continue;
    const memory::Turn& turn = t->front();
    if (o.json) {
      arr.push_back({{"turn", h.pos},
                     {"score", h.score},
                     {"text", turn.content},
                     {"role", turn.role},
                     {"name", turn.name},
                     {"time", turn.time}});
    } else {
      std::printf("%6lld  %7.3f  %s%s%s: %s\n", static_cast<long long>(h.pos), h.score,
                  turn.time.empty() ? "" : ("[" + turn.time + "] ").c_str(),
                  turn.name.empty() ? turn.role.c_str() : turn.name.c_str(), "",
                  turn.content.c_str());
    }
  }
  if (o.json) std::printf("%s\n", dump(arr).c_str());
  return 0;
}

int run_show(const MemoryOptions& o, bool as_export) {
  const char* sub = as_export ? "export" : "show";
  std::unique_ptr<Store> store;
  memory::Conversation conv;
  if (Status st = open_conversation(o, &store, &conv); !st) return fail(sub, st.message());
  const int64_t to = o.to < 0 ? conv.n_turns : o.to;
  Result<std::vector<memory::Turn>> turns = store->turns(conv.id, o.from, to);
  if (!turns.is_ok()) return fail(sub, turns.status().message());
  if (as_export) {
    for (const memory::Turn& t : *turns) std::printf("%s\n", memory::turn_to_json_line(t).c_str());
    return 0;
  }
  std::printf("conversation '%s': %lld turns, %lld tokens, created %s\n", conv.name.c_str(),
              static_cast<long long>(conv.n_turns), static_cast<long long>(conv.n_tokens),
              conv.created.c_str());
  if (auto facts = store->facts(conv.id, false); facts.is_ok() && !facts->empty()) {
    std::printf("facts:\n");
    for (const auto& f : *facts) {
      std::printf("  #%lld [%s] %s\n", static_cast<long long>(f.id), f.status.c_str(),
                  f.text.c_str());
    }
  }
  if (auto sum = store->latest_summary(conv.id); sum.is_ok() && sum->has_value()) {
    std::printf("summary v%d (turns %lld-%lld, %d tokens):\n  %s\n", (*sum)->version,
                static_cast<long long>((*sum)->first_pos), static_cast<long long>((*sum)->last_pos),
                (*sum)->n_tokens, (*sum)->text.c_str());
  }
  for (const memory::Turn& t : *turns) {
    std::printf("%6lld  %s%s (%d tok): %s\n", static_cast<long long>(t.pos),
                t.time.empty() ? "" : ("[" + t.time + "] ").c_str(),
                t.name.empty() ? t.role.c_str() : (t.name + "/" + t.role).c_str(), t.n_tokens,
                t.content.c_str());
  }
  return 0;
}

void print_scores(const char* label, const std::string& name, const memory::RecallScores& s) {
  std::printf("%-10s %-22s %6d %8.3f %8.3f %8.3f\n", label, name.c_str(), s.n, s.at(0), s.at(1),
              s.at(2));
}

int run_bench(const MemoryOptions& o) {
  Result<std::string> text = read_file(o.questions);
  if (!text.is_ok()) return fail("bench", text.status().message());
  Result<std::vector<memory::RecallQuestion>> qs = memory::parse_recall_questions(*text);
  if (!qs.is_ok()) return fail("bench", o.questions + ": " + qs.status().message());
  if (!o.conversation.empty()) {
    for (auto& q : *qs) q.conversation = o.conversation;
  }
  Result<std::unique_ptr<Store>> store = Store::open(o.db);
  if (!store.is_ok()) return fail("bench", store.status().message());
  const memory::TextAnalyzer analyzer;
  Result<memory::RecallReport> rep = memory::evaluate_recall(**store, analyzer, *qs, o.recall);
  if (!rep.is_ok()) return fail("bench", rep.status().message());
  if (o.json) {
    auto scores = [](const memory::RecallScores& s) {
      return nlohmann::json{
          {"n", s.n}, {"recall@5", s.at(0)}, {"recall@10", s.at(1)}, {"recall@25", s.at(2)}};
    };
    nlohmann::json j{{"all", scores(rep->all)},
                     {"latency_ms",
                      {{"p50", rep->latency_quantile(0.5)},
                       {"p99", rep->latency_quantile(0.99)},
                       {"max", rep->latency_quantile(1.0)}}}};
    for (const auto& [k, s] : rep->by_kind) j["by_kind"][k] = scores(s);
    for (const auto& [k, s] : rep->by_conversation) j["by_conversation"][k] = scores(s);
    std::printf("%s\n", dump(j).c_str());
    return 0;
  }
  std::printf("%-10s %-22s %6s %8s %8s %8s\n", "", "", "n", "R@5", "R@10", "R@25");
  print_scores("all", "", rep->all);
  for (const auto& [k, s] : rep->by_kind) print_scores("kind", k, s);
  for (const auto& [k, s] : rep->by_conversation) print_scores("conv", k, s);
  std::printf("search latency over %zu queries: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
              rep->latency_ms.size(), rep->latency_quantile(0.5), rep->latency_quantile(0.99),
              rep->latency_quantile(1.0));
  return 0;
}

int run_list(const MemoryOptions& o) {
  Result<std::unique_ptr<Store>> store = Store::open(o.db);
  if (!store.is_ok()) return fail("list", store.status().message());
  Result<std::vector<memory::Conversation>> all = (*store)->list();
  if (!all.is_ok()) return fail("list", all.status().message());
  if (o.json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& c : *all) {
      arr.push_back(
          {{"name", c.name}, {"turns", c.n_turns}, {"tokens", c.n_tokens}, {"created", c.created}});
    }
    std::printf("%s\n", dump(arr).c_str());
    return 0;
  }
  std::printf("%-24s %10s %12s  %s\n", "conversation", "turns", "tokens", "created");
  for (const auto& c : *all) {
    std::printf("%-24s %10lld %12lld  %s\n", c.name.c_str(), static_cast<long long>(c.n_turns),
                static_cast<long long>(c.n_tokens), c.created.c_str());
  }
  return 0;
}

}  // namespace

void add_memory_replay(CLI::App& memory_app, std::function<int()>* run);  // cmd_memory_replay.cpp

CommandFn add_memory_command(CLI::App& app) {
  auto o = std::make_shared<MemoryOptions>();
  app.require_subcommand(1);
  auto db_conv = [&](CLI::App* s, bool conv) {
    s->add_option("--db", o->db, "Memory database (SQLite)")->required();
    if (conv) s->add_option("--conversation", o->conversation, "Conversation name")->required();
  };
  CLI::App* imp = app.add_subcommand("import", "Import a conversation (JSON array or JSON lines)");
  db_conv(imp, true);
  imp->add_option("FILE", o->file, "Conversation file")->required();
  imp->add_flag("--append", o->append, "Add the turns after an existing conversation");
  imp->add_flag("--replace", o->replace, "Replace an existing conversation's turns");
  imp->add_option("--tokenizer", o->tokenizer,
                  "Hugging Face tokenizer directory for token counts (default: Qwen3's)");
  CLI::App* search = app.add_subcommand("search", "Rank a conversation's turns for a query");
  db_conv(search, true);
  search->add_option("--query", o->query, "Query text")->required();
  search->add_option("-k", o->k, "Turns to print")->default_val(10);
  search->add_flag("--json", o->json, "A JSON array of {turn, score, text, ...}");
  CLI::App* show = app.add_subcommand("show", "Print a conversation's turns, facts and summary");
  db_conv(show, true);
  show->add_option("--from", o->from, "First turn");
  show->add_option("--to", o->to, "Turn after the last");
  CLI::App* exp =
      app.add_subcommand("export", "Write a conversation as JSON lines (import format)");
  db_conv(exp, true);
  CLI::App* list = app.add_subcommand("list", "List the stored conversations");
  db_conv(list, false);
  list->add_flag("--json", o->json, "JSON output");
  CLI::App* bench = app.add_subcommand(
      "bench", "Recall@5/10/25 and search latency over questions with known evidence turns");
  db_conv(bench, false);
  bench
      ->add_option("--questions", o->questions,
                   "JSON array of {conversation, question, evidence: [turn ids], kind}")
      ->required();
  bench->add_option("--conversation", o->conversation,
                    "Ask every question of this conversation (overrides the file's)");
  bench->add_flag("--json", o->json, "JSON output");
  bench
      ->add_option("--neighbour-weight", o->recall.neighbour_weight,
                   "Share of an adjacent turn's score a turn gains")
      ->capture_default_str();
  bench
      ->add_option("--name-weight", o->recall.name_weight,
                   "Weight of the speaker's name against the text")
      ->capture_default_str();
  bench->add_option("--time-weight", o->recall.time_weight, "Weight of the time against the text")
      ->capture_default_str();
  bench->add_option("--candidates", o->recall.candidates, "BM25 matches considered")
      ->capture_default_str();
  bench
      ->add_option("--date-weight", o->recall.date_weight,
                   "Weight of a period the query names, as a query word (0: none)")
      ->capture_default_str();
  bench
      ->add_option("--feedback-docs", o->recall.feedback_docs,
                   "Best turns of the first search whose words feed the second")
      ->capture_default_str();
  bench
      ->add_option("--feedback-terms", o->recall.feedback_terms,
                   "Feedback words searched for again (0: no feedback)")
      ->capture_default_str();
  bench
      ->add_option("--feedback-weight", o->recall.feedback_weight,
                   "Weight of a feedback word against a query word")
      ->capture_default_str();
  bench
      ->add_option("--feedback-max-df", o->recall.feedback_max_df,
                   "A feedback word in more turns than this is not used")
      ->capture_default_str();
  auto replay = std::make_shared<std::function<int()>>();
  add_memory_replay(app, replay.get());
  return [o, imp, search, show, exp, list, bench, replay]() {
    if (const int rc = (*replay)(); rc >= 0) return rc;
    if (bench->parsed()) return run_bench(*o);
    if (imp->parsed()) return run_import(*o);
    if (search->parsed()) return run_search(*o);
    if (show->parsed()) return run_show(*o, false);
    if (exp->parsed()) return run_show(*o, true);
    if (list->parsed()) return run_list(*o);
    return 1;
  };
}

}  // namespace longctx::cli
