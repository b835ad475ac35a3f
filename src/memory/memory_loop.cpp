// The memory loop: storing turns, compaction into versioned summaries, prompt assembly under
// budgets with recall of earlier turns, and the per-turn report.
#include "memory/memory_loop.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "memory/summary_prompt.h"

namespace longctx::memory {
namespace {

// Fixed text around the sections, counted once with a margin instead of per turn.
constexpr const char* kFactsHeader = "\n\n## Pinned facts\n";
constexpr const char* kSummaryHeader = "\n\n## Summary of the conversation before the recent turns";
constexpr const char* kRecallHeader =
    "Earlier turns of this conversation that may be relevant (recalled from memory, "
    "[turn · time · speaker]):\n";
constexpr const char* kRecallFooter = "\n(end of recalled turns)\n\n";
constexpr int64_t kHeaderMargin = 96;  // tokens of the headers above, and rounding

std::string lower_ascii(std::string s) {
  for (char& c : s) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return s;
}

}  // namespace

Status MemoryBudgets::resolve() {
  if (ctx < 512) return invalid_argument("the memory loop needs a context of at least 512 tokens");
  if (reply < 0) reply = std::min<int64_t>(ctx / 8, 4096);
  if (facts < 0) facts = ctx / 32;
  if (summary < 0) summary = ctx / 16;
  if (recall < 0) recall = ctx / 16;
  if (keep_share <= 0 || keep_share >= 1) {
    return invalid_argument("the window's share kept at a compaction must be between 0 and 1");
  }
  const int64_t fixed = reply + facts + summary + recall + kHeaderMargin;
  if (fixed >= ctx * 3 / 4) {
    return invalid_argument("memory budgets (reply " + std::to_string(reply) + ", facts " +
                            std::to_string(facts) + ", summary " + std::to_string(summary) +
                            ", recall " + std::to_string(recall) +
                            ") leave less than a quarter of "
                            "the context (" +
                            std::to_string(ctx) + ") for recent turns");
  }
  return Status::ok();
}

chat::Json turn_message(const Turn& t) {
  std::string role = t.role;
  std::string content = t.name.empty() ? t.content : t.name + ": " + t.content;
  if (role == "system") {  // a system turn inside the conversation (templates allow one, first)
    role = "user";
    content = "[system] " + content;
  }
  return chat::Json{{"role", role}, {"content", content}};
}

std::string MemoryReport::to_json() const {
  nlohmann::ordered_json j;
  j["turn"] = turn;
  j["ctx"] = ctx;
  j["budget"] = budget;
  j["sections"] = {{"system", system}, {"facts", facts},   {"summary", summary},
                   {"recent", recent}, {"recall", recall}, {"message", message}};
  j["total"] = total;
  j["window"] = {window_first, turn};
  if (summary_version > 0) {
    j["summary"] = {{"version", summary_version}, {"covers", {0, summary_last}}};
  } else {
    j["summary"] = nullptr;
  }
  j["recalled"] = recalled;
  j["left_out"] = {{"facts", facts_left_out}, {"recall", recall_left_out}};
  if (compaction) {
    j["compaction"] = {{"turns", {compaction->first, compaction->last}},
                       {"tokens", compaction->tokens},
                       {"summary_version", compaction->summary_version},
                       {"summary_tokens", compaction->summary_tokens},
                       {"facts_proposed", compaction->facts_proposed},
                       {"seconds", compaction->seconds}};
  } else {
    j["compaction"] = nullptr;
  }
  // Every earlier turn is in the window, covered by the summary, or stored and recallable.
  j["turns"] = {{"stored", turns_total},
                {"in_window", turn - window_first},
                {"summarized", summary_last + 1},
                {"recalled", recalled.size()}};
  if (prompt_tokens >= 0) j["prompt_tokens"] = prompt_tokens;
  if (reused >= 0) j["reused"] = reused;
  if (prefilled >= 0) j["prefilled"] = prefilled;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

MemoryLoop::MemoryLoop(Store& store, int64_t conv, const TextAnalyzer& analyzer, TokenCounter count,
                       MemoryBudgets budgets, std::string system_prompt)
    : store_(store),
      conv_(conv),
      analyzer_(analyzer),
      count_(std::move(count)),
      b_(budgets),
      system_prompt_(std::move(system_prompt)),
      summary_prompt_(kDefaultSummaryPrompt) {}

int64_t MemoryLoop::window_budget(int64_t system_tokens) const {
  return b_.ctx - b_.reply - system_tokens - b_.facts - b_.summary - b_.recall - kHeaderMargin -
         2 * kMessageOverhead;
}

namespace {

// Tokens a turn takes as a message of the window.
int64_t message_tokens(const Turn& t, const TokenCounter& count) {
  return t.n_tokens + kMessageOverhead + (t.name.empty() ? 0 : count(t.name + ": "));
}

}  // namespace

Result<std::optional<Compaction>> MemoryLoop::maybe_compact(int64_t message_pos,
                                                            const Summarizer& summarize) {
  Result<std::optional<Summary>> prev = store_.latest_summary(conv_);
  if (!prev.is_ok()) return prev.status();
  const int64_t first = prev->has_value() ? (*prev)->last_pos + 1 : 0;
  Result<std::vector<Turn>> window = store_.turns(conv_, first, message_pos + 1);
  if (!window.is_ok()) return window.status();
  std::vector<int64_t> cost;
  int64_t total = 0;
  for (const Turn& t : *window) {
    cost.push_back(message_tokens(t, count_));
    total += cost.back();
  }
  const int64_t budget = window_budget(count_(system_prompt_));
  if (total <= budget) return std::optional<Compaction>();
  // Evict the oldest whole turns until the window is down to keep_share of its budget, then on
  // to the next user turn, so the window opens with one. The new message always stays.
  const int64_t target = static_cast<int64_t>(b_.keep_share * static_cast<double>(budget));
  size_t e = 0;
  int64_t removed = 0;
  while (e + 1 < window->size() && total - removed > target) removed += cost[e++];
  while (e + 1 < window->size() && (*window)[e].role != "user") removed += cost[e++];
  if (e == 0) return std::optional<Compaction>();
  const auto t0 = std::chrono::steady_clock::now();
  Compaction c;
  c.first = first;
  c.last = first + static_cast<int64_t>(e) - 1;
  c.tokens = removed;
  const std::vector<Turn> evicted(window->begin(),
                                  window->begin() + static_cast<std::ptrdiff_t>(e));
  const std::string previous = prev->has_value() ? (*prev)->text : "";
  const std::string request =
      build_summary_request(summary_prompt_, previous, evicted, static_cast<int>(b_.summary / 2));
  SummaryAnswer answer;
  Result<std::string> out = summarize ? summarize(request, b_.summary)
                                      : Result<std::string>(unsupported("no summariser"));
  if (out.is_ok()) {
    answer = parse_summary_answer(*out);
  } else {
    // The turns stay stored and recallable; the summary says what it could not cover.
    answer.summary = previous + (previous.empty() ? "" : "\n") + "(turns " +
                     std::to_string(c.first) + "-" + std::to_string(c.last) +
                     " were not summarised: " + out.status().message() + ")";
  }
  // Bound the summary to its budget: whole lines, then bytes, from the end.
  int64_t n = count_(answer.summary);
  while (n > b_.summary && !answer.summary.empty()) {
    const size_t cut =
        answer.summary.size() * static_cast<size_t>(b_.summary) / static_cast<size_t>(n + 1);
    size_t at = cut;
    while (at > 0 && (static_cast<unsigned char>(answer.summary[at]) & 0xC0) == 0x80) --at;
    answer.summary.resize(at);
    n = count_(answer.summary);
  }
  Summary s;
  s.first_pos = c.first;
  s.last_pos = c.last;
  s.text = answer.summary;
  s.n_tokens = static_cast<int>(n);
  Result<int> version = store_.add_summary(conv_, s);
  if (!version.is_ok()) return version.status();
  c.summary_version = *version;
  c.summary_tokens = n;
  // Proposed facts: listed for the user, never replacing a pinned one, never repeated.
  Result<std::vector<Fact>> facts = store_.facts(conv_, /*include_removed=*/true);
  if (!facts.is_ok()) return facts.status();
  std::set<std::string> known;
  for (const Fact& f : *facts) known.insert(lower_ascii(f.text));
  for (const std::string& f : answer.facts) {
    if (!known.insert(lower_ascii(f)).second) continue;
    Result<int64_t> id =
        store_.add_fact(conv_, f, "proposed", "summary", static_cast<int>(count_(f)));
    if (!id.is_ok()) return id.status();
    ++c.facts_proposed;
  }
  c.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return std::optional<Compaction>(c);
}

std::string MemoryLoop::system_text(const std::vector<Fact>& facts,
                                    const std::optional<Summary>& summary,
                                    MemoryReport* rep) const {
  std::string text = system_prompt_;
  rep->system = count_(system_prompt_);
  std::string facts_text;
  int64_t used = 0;
  for (const Fact& f : facts) {
    if (f.status != "pinned") continue;
    const int64_t n = f.n_tokens + 2;
    if (used + n > b_.facts) {
      rep->facts_left_out.push_back(f.id);
      continue;
    }
    used += n;
    facts_text += "- " + f.text + "\n";
  }
  if (!facts_text.empty()) {
    text += kFactsHeader + facts_text;
    rep->facts = used;
  }
  if (summary) {
    text += std::string(kSummaryHeader) + " (turns 0-" + std::to_string(summary->last_pos) + ")\n" +
            summary->text + "\n";
    rep->summary = summary->n_tokens;
    rep->summary_version = summary->version;
    rep->summary_last = summary->last_pos;
  }
  return text;
}

Result<std::vector<RecallHit>> MemoryLoop::recall_for(const std::string& message,
                                                      const std::string& context,
                                                      int64_t window_first) {
  RecallOptions ro;
  ro.k = 64;
  const auto skip = [window_first](int64_t p) { return p >= window_first; };
  Result<std::vector<RecallHit>> main = recall_search(store_, analyzer_, conv_, message, ro, skip);
  if (!main.is_ok() || context.empty()) return main;
  Result<std::vector<RecallHit>> ctx = recall_search(store_, analyzer_, conv_, context, ro, skip);
  if (!ctx.is_ok()) return ctx;
  std::map<int64_t, RecallHit> merged;
  for (const RecallHit& h : *main) merged[h.pos] = h;
  for (RecallHit h : *ctx) {
    h.score *= kContextWeight;
    auto [it, fresh] = merged.emplace(h.pos, h);
    if (!fresh) it->second.score += h.score;
  }
  std::vector<RecallHit> out;
  for (const auto& [pos, h] : merged) out.push_back(h);
  std::sort(out.begin(), out.end(), [](const RecallHit& a, const RecallHit& b) {
    return a.score != b.score ? a.score > b.score : a.pos < b.pos;
  });
  if (out.size() > static_cast<size_t>(ro.k)) out.resize(static_cast<size_t>(ro.k));
  return out;
}

Result<AssembledPrompt> MemoryLoop::assemble(int64_t message_pos) {
  AssembledPrompt out;
  MemoryReport& rep = out.report;
  rep.turn = message_pos;
  rep.ctx = b_.ctx;
  rep.budget = b_.ctx - b_.reply;
  rep.turns_total = message_pos;
  Result<std::optional<Summary>> summary = store_.latest_summary(conv_);
  if (!summary.is_ok()) return summary.status();
  Result<std::vector<Fact>> facts = store_.facts(conv_, false);
  if (!facts.is_ok()) return facts.status();
  rep.window_first = summary->has_value() ? (*summary)->last_pos + 1 : 0;
  out.messages = chat::Json::array();
  const std::string sys = system_text(*facts, *summary, &rep);
  if (!sys.empty()) out.messages.push_back({{"role", "system"}, {"content", sys}});
  Result<std::vector<Turn>> window = store_.turns(conv_, rep.window_first, message_pos + 1);
  if (!window.is_ok()) return window.status();
  if (window->empty() || window->back().pos != message_pos) {
    return not_found("turn " + std::to_string(message_pos) + " is not stored");
  }
  const Turn message = window->back();
  window->pop_back();
  for (const Turn& t : *window) {
    out.messages.push_back(turn_message(t));
    rep.recent += message_tokens(t, count_);
  }
  // Recall, among the turns before the window, for the new message and (at a third of its
  // weight) the last exchange: the exchange gives context, but its many words must not outrank
  // what the message itself asks about.
  std::string context;
  for (size_t i = window->size() >= 2 ? window->size() - 2 : 0; i < window->size(); ++i) {
    context += (*window)[i].content + "\n";
  }
  std::string block;
  if (rep.window_first > 0 && b_.recall > 0) {
    const int64_t wf = rep.window_first;
    Result<std::vector<RecallHit>> hits = recall_for(message.content, context, wf);
    if (!hits.is_ok()) return hits.status();
    std::set<int64_t> chosen;
    std::vector<std::pair<int64_t, std::string>> lines;
    int64_t used = count_(kRecallHeader) + count_(kRecallFooter);
    for (const RecallHit& h : *hits) {
      // Weak matches (a few common words) are left out rather than filling the budget with
      // noise that the next turn must prefill again.
      if (h.score < b_.recall_min_share * hits->front().score) break;
      // A hit comes with its neighbours (the question before an answer, the answer after it).
      const int64_t lo = std::max<int64_t>(0, h.pos - 1), hi = std::min(wf - 1, h.pos + 1);
      Result<std::vector<Turn>> group = store_.turns(conv_, lo, hi + 1);
      if (!group.is_ok()) return group.status();
      bool any = false;
      for (const Turn& t : *group) {
        if (chosen.count(t.pos)) continue;
        std::string line = turn_line(t, 2000) + "\n";
        const int64_t n = count_(line);
        if (used + n > b_.recall) {
          if (t.pos == h.pos) rep.recall_left_out.push_back(t.pos);
          continue;
        }
        used += n;
        chosen.insert(t.pos);
        lines.emplace_back(t.pos, std::move(line));
        any = true;
      }
      if (!any && used + 32 > b_.recall) break;  // full
    }
    if (!lines.empty()) {
      std::sort(lines.begin(), lines.end());
      block = kRecallHeader;
      for (auto& [pos, line] : lines) {
        block += line;
        rep.recalled.push_back(pos);
      }
      block += kRecallFooter;
      rep.recall = used;
    }
  }
  chat::Json last = turn_message(message);
  if (!block.empty()) last["content"] = block + last["content"].get<std::string>();
  out.messages.push_back(std::move(last));
  rep.message = message_tokens(message, count_);
  rep.total = rep.system + rep.facts + rep.summary + rep.recent + rep.recall + rep.message +
              (sys.empty() ? 0 : kMessageOverhead) + (sys.empty() ? 0 : kHeaderMargin / 2);
  return out;
}

Result<AssembledPrompt> MemoryLoop::begin_turn(const Turn& message, const Summarizer& summarize) {
  Turn m = message;
  if (m.n_tokens <= 0) m.n_tokens = static_cast<int>(count_(m.content));
  const int64_t budget = window_budget(count_(system_prompt_));
  if (message_tokens(m, count_) > budget) {
    return invalid_argument("the message is " + std::to_string(m.n_tokens) +
                            " tokens; with the memory budgets at --ctx " + std::to_string(b_.ctx) +
                            " at most " + std::to_string(budget) + " fit");
  }
  std::vector<Turn> one{m};
  if (Status st = store_.append(conv_, &one); !st) return st;
  return prepare(one[0].pos, summarize);
}

Result<AssembledPrompt> MemoryLoop::prepare(int64_t message_pos, const Summarizer& summarize) {
  Result<std::optional<Compaction>> c = maybe_compact(message_pos, summarize);
  if (!c.is_ok()) return c.status();
  Result<AssembledPrompt> p = assemble(message_pos);
  if (!p.is_ok()) return p.status();
  p->report.compaction = *c;
  return p;
}

Status MemoryLoop::end_turn(AssembledPrompt* prompt, const Turn& reply, int64_t reused,
                            int64_t prefilled) {
  if (!reply.content.empty()) {
    Turn r = reply;
    if (r.n_tokens <= 0) r.n_tokens = static_cast<int>(count_(r.content));
    std::vector<Turn> one{r};
    if (Status st = store_.append(conv_, &one); !st) return st;
  }
  prompt->report.reused = reused;
  prompt->report.prefilled = prefilled;
  return store_.add_report(conv_, prompt->report.turn, prompt->report.to_json());
}

}  // namespace longctx::memory
