// The memory loop: a prompt layout that stays a cached prefix between compactions, compaction
// into versioned summaries with proposed facts, budgets never exceeded, recall of evicted turns,
// the report's accounting, refusals and a failing summariser.
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>
#include <string>

#include "common/temp_path.h"
#include "memory/memory_loop.h"
#include "memory/summary_prompt.h"

namespace longctx::memory {
namespace {

namespace fs = std::filesystem;

// One token per whitespace-separated word (a stand-in tokenizer: the loop only adds counts).
int64_t words(std::string_view s) {
  int64_t n = 0;
  bool in = false;
  for (char c : s) {
    const bool sp = c == ' ' || c == '\n' || c == '\t';
    if (!sp && !in) ++n;
    in = !sp;
  }
  return n;
}

class MemoryLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static const fs::path dir = testing_util::unique_temp_dir("loop");
    const std::string path = (dir / "m.db").string();
    fs::remove(path);
    auto s = Store::open(path);
    ASSERT_TRUE(s.is_ok()) << s.status().message();
    store_ = std::move(s).value();
    conv_ = store_->create("c")->id;
    budgets_.ctx = 1024;
    ASSERT_TRUE(budgets_.resolve().is_ok());
    loop_ = std::make_unique<MemoryLoop>(*store_, conv_, analyzer_, words, budgets_,
                                         "You are a helpful assistant.");
  }
  // A user message and a reply of about `n` words each; returns the assembled prompt.
  AssembledPrompt exchange(const std::string& user, const std::string& reply) {
    Turn u;
    u.role = "user";
    u.content = user;
    auto p = loop_->begin_turn(u, summarize_);
    EXPECT_TRUE(p.is_ok()) << p.status().message();
    Turn r;
    r.role = "assistant";
    r.content = reply;
    EXPECT_TRUE(loop_->end_turn(&*p, r, 0, 0).is_ok());
    return *p;
  }
  static std::string filler(int i, int n) {
    std::ostringstream o;
    for (int k = 0; k < n; ++k) o << "word" << (i * 7 + k) % 50 << ' ';
    return o.str();
  }

  std::unique_ptr<Store> store_;
  int64_t conv_ = 0;
  TextAnalyzer analyzer_;
  MemoryBudgets budgets_;
  std::unique_ptr<MemoryLoop> loop_;
  int summaries_ = 0;
  std::string last_request_;
  Summarizer summarize_ = [this](const std::string& req,
                                 int64_t max_tokens) -> Result<std::string> {
    ++summaries_;
    last_request_ = req;
    EXPECT_EQ(max_tokens, budgets_.summary);
    return std::string("Summary number ") + std::to_string(summaries_) +
           ".\nFACT: the user keeps bees\nFACT: the user keeps bees";
  };
};

TEST_F(MemoryLoopTest, OrdinaryTurnsKeepThePromptAsACachedPrefix) {
  AssembledPrompt prev = exchange("hello there " + filler(0, 10), "hi " + filler(1, 10));
  int ordinary = 0;
  for (int i = 2; i < 80; i += 2) {
    AssembledPrompt p = exchange(filler(i, 20), filler(i + 1, 20));
    if (!p.report.compaction) {
      // Everything the previous prompt held before its last message is still there, unchanged.
      const size_t n = prev.messages.size() - 1;
      ASSERT_GE(p.messages.size(), n + 2);
      for (size_t k = 0; k < n; ++k) EXPECT_EQ(p.messages[k], prev.messages[k]) << "turn " << i;
      ++ordinary;
    }
    prev = p;
  }
  EXPECT_GT(ordinary, 10);
  EXPECT_GT(summaries_, 0);
}

TEST_F(MemoryLoopTest, CompactionFoldsTheOldestTurnsIntoANewSummaryVersion) {
  std::optional<Compaction> first;
  AssembledPrompt p;
  for (int i = 0; i < 200 && !first; i += 2) {
    p = exchange(filler(i, 25), filler(i + 1, 25));
    first = p.report.compaction;
  }
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->first, 0);
  EXPECT_EQ(first->summary_version, 1);
  auto s = store_->latest_summary(conv_);
  ASSERT_TRUE(s->has_value());
  EXPECT_EQ((*s)->last_pos, first->last);
  EXPECT_EQ((*s)->text, "Summary number 1.");
  // The window opens with a user turn right after the summary, at most keep_share of its budget.
  EXPECT_EQ(p.report.window_first, first->last + 1);
  auto t = store_->turns(conv_, p.report.window_first, p.report.window_first + 1);
  EXPECT_EQ((*t)[0].role, "user");
  EXPECT_LE(p.report.recent + p.report.message,
            loop_->window_budget(words("You are a helpful assistant.")) * budgets_.keep_share + 60);
  // The summariser saw the evicted turns; its fact was proposed once, not pinned.
  EXPECT_NE(last_request_.find("[0 · user]"), std::string::npos);
  auto facts = store_->facts(conv_, false);
  ASSERT_EQ(facts->size(), 1u);
  EXPECT_EQ((*facts)[0].status, "proposed");
  EXPECT_EQ(p.messages[0]["content"].get<std::string>().find("bees"), std::string::npos);
  // The summary is in the system message.
  EXPECT_NE(p.messages[0]["content"].get<std::string>().find("Summary number 1."),
            std::string::npos);
}

TEST_F(MemoryLoopTest, BudgetsHoldAndEveryTurnIsAccountedFor) {
  for (int i = 0; i < 300; i += 2) {
    AssembledPrompt p = exchange(filler(i, 5 + i % 37), filler(i + 1, 3 + i % 23));
    const MemoryReport& r = p.report;
    EXPECT_LE(r.total, r.budget) << "turn " << i;
    EXPECT_LE(r.facts, budgets_.facts);
    EXPECT_LE(r.summary, budgets_.summary);
    EXPECT_LE(r.recall, budgets_.recall);
    EXPECT_EQ(r.turn, i);
    EXPECT_EQ(r.turns_total, i);
    EXPECT_EQ(r.window_first, r.summary_last + 1);  // nothing falls between summary and window
    EXPECT_EQ(static_cast<int64_t>(p.messages.size()), 1 + (r.turn - r.window_first) + 1);
  }
  auto reports = store_->reports(conv_, 1000);
  EXPECT_EQ(reports->size(), 150u);
}

TEST_F(MemoryLoopTest, EvictedTurnsAreRecalledVerbatim) {
  exchange("my cat is called Murka and she is grey", "what a lovely name for a cat");
  for (int i = 2; i < 120; i += 2) exchange(filler(i, 25), filler(i + 1, 25));
  ASSERT_GT(summaries_, 0);
  Turn q;
  q.role = "user";
  q.content = "what is my cat called again";
  auto p = loop_->begin_turn(q, summarize_);
  ASSERT_TRUE(p.is_ok());
  const MemoryReport& r = p->report;
  ASSERT_GT(r.window_first, 1);
  EXPECT_NE(std::find(r.recalled.begin(), r.recalled.end(), 0), r.recalled.end());
  EXPECT_NE(std::find(r.recalled.begin(), r.recalled.end(), 1), r.recalled.end());
  const std::string last = p->messages.back()["content"].get<std::string>();
  EXPECT_NE(last.find("my cat is called Murka"), std::string::npos);
  EXPECT_NE(last.rfind("what is my cat called again"), std::string::npos);
  EXPECT_GT(last.rfind("what is my cat called again"), last.find("Murka"));  // recall first
}

TEST_F(MemoryLoopTest, PinnedFactsBeyondTheirBudgetAreReportedNotSilentlyDropped) {
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(store_
                    ->add_fact(conv_, "fact number " + std::to_string(i) + " is long enough",
                               "pinned", "user", 6)
                    .is_ok());
  }
  AssembledPrompt p = exchange("hi", "hello");
  // 32 tokens of facts: 4 facts of 6 + 2.
  EXPECT_EQ(p.report.facts, 32);
  EXPECT_EQ(p.report.facts_left_out.size(), 6u);
  EXPECT_NE(p.messages[0]["content"].get<std::string>().find("fact number 3"), std::string::npos);
}

TEST_F(MemoryLoopTest, AMessageTooLongIsRefusedBeforeItIsStored) {
  Turn u;
  u.role = "user";
  u.content = filler(0, 2000);
  auto p = loop_->begin_turn(u, summarize_);
  ASSERT_FALSE(p.is_ok());
  EXPECT_NE(p.status().message().find("2000 tokens"), std::string::npos) << p.status().message();
  EXPECT_EQ(*store_->turn_count(conv_), 0);
}

TEST_F(MemoryLoopTest, AFailingSummariserLeavesANoteAndTheLoopGoesOn) {
  summarize_ = [](const std::string&, int64_t) -> Result<std::string> {
    return io_error("model unavailable");
  };
  std::optional<Compaction> c;
  for (int i = 0; i < 200 && !c; i += 2)
    c = exchange(filler(i, 25), filler(i + 1, 25)).report.compaction;
  ASSERT_TRUE(c.has_value());
  auto s = store_->latest_summary(conv_);
  ASSERT_TRUE(s->has_value());
  EXPECT_NE((*s)->text.find("not summarised: model unavailable"), std::string::npos);
}

TEST(SummaryPrompt, RequestAndAnswer) {
  Turn t{3, "user", "Olga", "2024-03-01", "line one\nline two", 4};
  const std::string req = build_summary_request(kDefaultSummaryPrompt, "", {t}, 100);
  EXPECT_NE(req.find("(none yet)"), std::string::npos);
  EXPECT_NE(req.find("[3 · 2024-03-01 · Olga] line one line two"), std::string::npos);
  EXPECT_NE(req.find("at most 100 words"), std::string::npos);
  const SummaryAnswer a = parse_summary_answer(
      "<think>\nhmm\n</think>\n\nOlga moved.\nShe likes tea.\n- FACT: Olga lives in Kazan\n"
      "FACT: none\nFACT: Olga's sister is Anna\ntrailing");
  EXPECT_EQ(a.summary, "Olga moved.\nShe likes tea.");
  EXPECT_EQ(a.facts, (std::vector<std::string>{"Olga lives in Kazan", "Olga's sister is Anna"}));
  Turn long_turn{0, "user", "", "", std::string(5000, 'a'), 1};
  EXPECT_LT(turn_line(long_turn, 100).size(), 130u);
}

}  // namespace
}  // namespace longctx::memory
