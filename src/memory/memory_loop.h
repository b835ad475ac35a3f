// The memory loop of one conversation: each new message is stored, the prompt is assembled under
// a token budget in a layout that keeps the KV cache valid between compactions, and a report
// says where every token went.
//
// Layout (messages of the chat template):
//   system:    [system prompt][pinned facts][summary of the turns before the window]
//   turns:     the recent window, verbatim, one message each
//   user:      [recalled earlier turns][the new message]
// The system message and the window's start change only at a compaction: when the window (with
// the new message) outgrows its budget, its oldest whole turns — enough to bring it down to
// `keep_share` of the budget — are folded into a new summary version by the model, before the
// turn is answered. An ordinary turn therefore changes the prompt only from the last exchange on
// (Qwen3's template re-renders the last reply without its thinking, and the last user message
// carried the previous recall block): what it prefills is the last exchange, the recall block
// and the new message.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "chat/chat_template.h"
#include "core/status.h"
#include "memory/recall.h"
#include "memory/store.h"
#include "memory/text_analyzer.h"

namespace longctx::memory {

// Token budgets of the prompt's sections; -1 picks the documented default from ctx.
struct MemoryBudgets {
  int64_t ctx = 8192;       // the sequence's context
  int64_t reply = -1;       // kept free for the reply: min(ctx / 8, 4096)
  int64_t facts = -1;       // pinned facts: ctx / 32
  int64_t summary = -1;     // the rolling summary: ctx / 16 (also the summariser's output bound)
  int64_t recall = -1;      // recalled earlier turns: ctx / 16
  double keep_share = 0.5;  // a compaction leaves the window at most this share of its budget
  double recall_min_share = 0.3;  // recalled turns score at least this share of the best match

  // Fills the defaults; an error when the fixed sections leave no room for a window.
  Status resolve();
};

// Tokens of a text under the model's tokenizer.
using TokenCounter = std::function<int64_t(std::string_view)>;
// Runs the summariser: its user message (summary_prompt.h) and the most tokens to write; returns
// the model's answer.
using Summarizer =
    std::function<Result<std::string>(const std::string& request, int64_t max_tokens)>;

// Tokens a chat template adds around one message's content (ChatML: "<|im_start|>role\n" and
// "<|im_end|>\n"), counted on top of the content's own tokens.
inline constexpr int64_t kMessageOverhead = 5;

struct Compaction {
  int64_t first = 0, last = -1;  // turns folded into the summary
  int64_t tokens = 0;            // their tokens
  int summary_version = 0;
  int64_t summary_tokens = 0;
  int facts_proposed = 0;
  double seconds = 0;
};

// Where the tokens of one assembled prompt went (stored with the turn, shown by /memory, returned
// by the server).
struct MemoryReport {
  int64_t turn = 0;             // position of the new user message
  int64_t ctx = 0, budget = 0;  // budget = ctx - reply
  int64_t system = 0, facts = 0, summary = 0, recent = 0, recall = 0, message = 0;
  int64_t total = 0;         // sum of the sections (template overhead included)
  int64_t window_first = 0;  // the recent window: turns [window_first, turn)
  int summary_version = 0;
  int64_t summary_last = -1;  // the summary covers turns [0, summary_last]
  std::vector<int64_t> recalled;
  std::vector<int64_t> facts_left_out;   // pinned facts that did not fit their budget
  std::vector<int64_t> recall_left_out;  // matching turns that did not fit the recall budget
  std::optional<Compaction> compaction;
  int64_t turns_total = 0;     // turns stored before the new message
  int64_t prompt_tokens = -1;  // the rendered prompt's tokens, when the caller counted them
  int64_t reused = -1, prefilled = -1;  // from the generation, when known
  std::string to_json() const;
};

struct AssembledPrompt {
  chat::Json messages;  // for the chat template
  MemoryReport report;
};

class MemoryLoop {
 public:
  // budgets must be resolved. system_prompt is the conversation's system message (may be empty).
  MemoryLoop(Store& store, int64_t conv, const TextAnalyzer& analyzer, TokenCounter count,
             MemoryBudgets budgets, std::string system_prompt);

  void set_summary_prompt(std::string templ) { summary_prompt_ = std::move(templ); }

  // Stores the user message (committed before anything else happens), compacts when the window
  // has outgrown its budget (calling summarize), and assembles the prompt. A message that
  // cannot fit even alone is refused before it is stored.
  Result<AssembledPrompt> begin_turn(const Turn& message, const Summarizer& summarize);

  // The same for a user turn already stored as the last (a regenerated reply, a retry).
  Result<AssembledPrompt> prepare(int64_t message_pos, const Summarizer& summarize);

  // Stores the reply (when not empty) and the turn's report with the generation's figures.
  Status end_turn(AssembledPrompt* prompt, const Turn& reply, int64_t reused, int64_t prefilled);

  // Assembles the prompt for the turns stored so far without storing anything (the last stored
  // turn is taken as the new message); used by tests and `memory replay`.
  Result<AssembledPrompt> assemble(int64_t message_pos);

  const MemoryBudgets& budgets() const { return b_; }
  int64_t window_budget(int64_t system_tokens) const;

 private:
  // Weight of the last exchange's matches against the new message's in the recall.
  static constexpr double kContextWeight = 1.0 / 3.0;
  Result<std::vector<RecallHit>> recall_for(const std::string& message, const std::string& context,
                                            int64_t window_first);
  Result<std::optional<Compaction>> maybe_compact(int64_t message_pos, const Summarizer& summarize);
  std::string system_text(const std::vector<Fact>& facts, const std::optional<Summary>& summary,
                          MemoryReport* rep) const;

  Store& store_;
  int64_t conv_;
  const TextAnalyzer& analyzer_;
  TokenCounter count_;
  MemoryBudgets b_;
  std::string system_prompt_;
  std::string summary_prompt_;
};

// A stored turn as the message the chat template renders ("Name: text" when it has a speaker).
chat::Json turn_message(const Turn& t);

}  // namespace longctx::memory
