// ThinkStreamSplitter: the same reply cut into pieces at every possible place (so tags and the
// newlines around them arrive split) must show the same reasoning and answer as parsed whole.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "chat/output_parser.h"
#include "chat/think_stream.h"

namespace longctx::chat {
namespace {

struct Shown {
  std::string reasoning, content;
  int switches = 0;  // segment kind changes (reasoning -> content and back)
};

void collect(const std::vector<StreamSegment>& segs, Shown* s, int* last) {
  for (const StreamSegment& seg : segs) {
    ASSERT_FALSE(seg.text.empty());
    (seg.reasoning ? s->reasoning : s->content) += seg.text;
    const int kind = seg.reasoning ? 1 : 0;
    if (*last >= 0 && kind != *last) ++s->switches;
    *last = kind;
  }
}

// Feeds `text` cut at the given positions.
Shown feed(const std::string& text, const std::vector<size_t>& cuts, bool starts_in_think) {
  ThinkStreamSplitter sp(starts_in_think);
  Shown s;
  int last = -1;
  size_t prev = 0;
  for (size_t c : cuts) {
    collect(sp.push(std::string_view(text).substr(prev, c - prev)), &s, &last);
    prev = c;
  }
  collect(sp.push(std::string_view(text).substr(prev)), &s, &last);
  collect(sp.finish(), &s, &last);
  return s;
}

void expect_all_splits(const std::string& text, bool starts_in_think, const std::string& reasoning,
                       const std::string& content) {
  // Every single cut and every pair of cuts: covers a tag split in two or three pieces.
  for (size_t i = 0; i <= text.size(); ++i) {
    for (size_t j = i; j <= text.size(); ++j) {
      const Shown s = feed(text, {i, j}, starts_in_think);
      ASSERT_EQ(s.reasoning, reasoning) << "cuts " << i << "," << j;
      ASSERT_EQ(s.content, content) << "cuts " << i << "," << j;
    }
  }
  // Token-sized pieces of one byte.
  std::vector<size_t> every;
  for (size_t i = 1; i < text.size(); ++i) every.push_back(i);
  const Shown s = feed(text, every, starts_in_think);
  EXPECT_EQ(s.reasoning, reasoning);
  EXPECT_EQ(s.content, content);
  // Agrees with the whole-text parser used for the stored message.
  const ParsedOutput p = parse_model_output(text, {.starts_in_think = starts_in_think});
  EXPECT_EQ(p.reasoning, reasoning);
  EXPECT_EQ(p.content, content);
}

TEST(ThinkStream, Qwen3ThinkingReplySplitsAtEveryCut) {
  expect_all_splits("<think>\nLet me add: 2+2.\nIt is 4.\n</think>\n\nThe answer is 4.", false,
                    "Let me add: 2+2.\nIt is 4.", "The answer is 4.");
}

TEST(ThinkStream, PromptOpenedTheBlock) {
  expect_all_splits("why <b>\n</think>\n\nok", true, "why <b>", "ok");
}

TEST(ThinkStream, NoThinkBlockIsAllContentWithInnerNewlinesKept) {
  expect_all_splits("\n\nline one\n\nline <two>\n", false, "", "line one\n\nline <two>");
}

TEST(ThinkStream, UnterminatedReasoningStaysReasoning) {
  const Shown s = feed("<think>\nstill thinking </thi", {3, 12}, false);
  EXPECT_EQ(s.reasoning, "still thinking </thi");  // the partial tag is text at the end
  EXPECT_EQ(s.content, "");
}

TEST(ThinkStream, OnlyTheFirstBlockIsATag) {
  // After </think>, a later "<think>" is the model's text, shown as content.
  const Shown s = feed("<think>a</think>b <think>c</think>", {10, 20}, false);
  EXPECT_EQ(s.reasoning, "a");
  EXPECT_EQ(s.content, "b <think>c</think>");
  EXPECT_EQ(s.switches, 1);
}

TEST(ThinkStream, ThinkAfterOtherTextIsNotATag) {
  const Shown s = feed("hi <think>x", {2, 5}, false);
  EXPECT_EQ(s.reasoning, "");
  EXPECT_EQ(s.content, "hi <think>x");
}

TEST(ThinkStream, HeldTextIsReleasedOnlyWhenDecided) {
  ThinkStreamSplitter sp;
  EXPECT_TRUE(sp.push("<thi").empty());  // may become the tag
  auto segs = sp.push("nk>x\n");
  ASSERT_EQ(segs.size(), 1u);
  EXPECT_TRUE(segs[0].reasoning);
  EXPECT_EQ(segs[0].text, "x");  // the newline waits: it may precede </think>
  EXPECT_TRUE(sp.in_reasoning());
  segs = sp.push("y");
  ASSERT_EQ(segs.size(), 1u);
  EXPECT_EQ(segs[0].text, "\ny");
}

}  // namespace
}  // namespace longctx::chat
