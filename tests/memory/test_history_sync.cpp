// History matching for serve --memory: whole, trimmed, new-only, edited and regenerated
// histories, and the refusals.
#include <gtest/gtest.h>

#include "memory/history_sync.h"

namespace longctx::memory {
namespace {

Turn T(const char* role, std::string content) {
  Turn t;
  t.role = role;
  t.content = std::move(content);
  return t;
}

std::vector<Turn> conversation(int n) {
  std::vector<Turn> v;
  for (int i = 0; i < n; ++i) {
    v.push_back(
        T(i % 2 ? "assistant" : "user", (i % 2 ? "reply " : "message ") + std::to_string(i)));
    v.back().pos = i;
  }
  return v;
}

Result<HistorySync> sync(const std::vector<Turn>& req, const std::vector<Turn>& stored) {
  return sync_history(req, stored, stored, 0, static_cast<int64_t>(stored.size()));
}

TEST(HistorySync, WholeHistoryAppendsOnlyTheNewMessage) {
  const auto s = conversation(6);
  auto req = s;
  req.push_back(T("user", "message 6"));
  auto r = sync(req, s);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r->truncate_from, -1);
  ASSERT_EQ(r->append.size(), 1u);
  EXPECT_EQ(r->append[0].content, "message 6");
}

TEST(HistorySync, ARepliesThinkBlockAndWhitespaceDoNotMatter) {
  const auto s = conversation(4);
  auto req = s;
  req[1].content = "<think>\nplanning\n</think>\n\nreply 1\n";
  req.push_back(T("user", "next"));
  auto r = sync(req, s);
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->truncate_from, -1);
  EXPECT_EQ(r->append.size(), 1u);
}

TEST(HistorySync, TrimmedHistoryAndNewMessagesOnly) {
  const auto s = conversation(100);
  std::vector<Turn> req(s.end() - 10, s.end());
  req.push_back(T("user", "new"));
  auto r = sync(req, s);
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->truncate_from, -1);
  ASSERT_EQ(r->append.size(), 1u);
  r = sync({T("user", "just this")}, s);
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->append.size(), 1u);
  // A lone message equal to an old one is new, never a rewind.
  r = sync({T("user", "message 0")}, s);
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->truncate_from, -1);
  EXPECT_EQ(r->append.size(), 1u);
}

TEST(HistorySync, EditReplacesTheTurnsFromTheChangedOne) {
  const auto s = conversation(8);
  std::vector<Turn> req(s.begin(), s.begin() + 4);
  req.push_back(T("user", "message 4, edited"));
  auto r = sync(req, s);
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->truncate_from, 4);
  ASSERT_EQ(r->append.size(), 1u);
  EXPECT_EQ(r->append[0].content, "message 4, edited");
}

TEST(HistorySync, RegenerationCutsBackToTheUserTurn) {
  const auto s = conversation(8);
  std::vector<Turn> req(s.begin(), s.begin() + 7);  // ends with user "message 6"
  auto r = sync(req, s);
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->truncate_from, 7);
  EXPECT_TRUE(r->append.empty());
  EXPECT_TRUE(r->answer_stored);
  // A retry of a message whose reply never came.
  auto s2 = conversation(7);
  r = sync({s2.back()}, s2);
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->truncate_from, -1);
  EXPECT_TRUE(r->answer_stored);
}

TEST(HistorySync, FullHistoryIsMatchedFromTheStartAndReplacesTheRest) {
  const auto s = conversation(6);
  auto full = [&](const std::vector<Turn>& req) {
    return sync_history(req, s, s, 0, static_cast<int64_t>(s.size()), /*full_history=*/true);
  };
  // A lone first message (edited or not) restarts the conversation.
  auto r = full({T("user", "message 0, edited")});
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->truncate_from, 0);
  ASSERT_EQ(r->append.size(), 1u);
  r = full({s[0]});
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->truncate_from, 1);
  EXPECT_TRUE(r->answer_stored);
  // The whole history and a new message.
  auto req = s;
  req.push_back(T("user", "new"));
  r = full(req);
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->truncate_from, -1);
  EXPECT_EQ(r->append.size(), 1u);
  // A trimmed history is not a whole one: everything is replaced by it.
  r = full({s[4], T("user", "new")});
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->truncate_from, 0);
  EXPECT_EQ(r->append.size(), 2u);
  EXPECT_FALSE(full(s).is_ok());  // all stored, the last is the assistant's
}

TEST(HistorySync, Refusals) {
  const auto s = conversation(6);
  EXPECT_FALSE(sync(s, s).is_ok());  // all stored, the last is the assistant's
  EXPECT_FALSE(sync({}, s).is_ok());
  EXPECT_FALSE(sync({T("user", "a"), T("assistant", "prefill")}, s).is_ok());
  auto r = sync({T("user", "first")}, {});
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->append.size(), 1u);
}

}  // namespace
}  // namespace longctx::memory
