// The memory store: schema and migrations, refusal of foreign files, turns as a stack with the
// full-text index kept in step, facts, versioned summaries, reports, turn times (ISO 8601 and in
// words) and the turns of a time range.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/temp_path.h"
#include "memory/conversation_file.h"
#include "memory/dates.h"
#include "memory/recall.h"
#include "memory/store.h"

namespace longctx::memory {
namespace {

namespace fs = std::filesystem;

std::string temp_db(const std::string& name) {
  static const fs::path dir = testing_util::unique_temp_dir("memory_test");
  const fs::path p = dir / name;
  fs::remove(p);
  fs::remove(p.string() + "-wal");
  fs::remove(p.string() + "-shm");
  return p.string();
}

std::vector<Turn> make_turns(std::initializer_list<const char*> texts) {
  std::vector<Turn> out;
  int i = 0;
  for (const char* t : texts) {
    Turn x;
    x.role = i++ % 2 == 0 ? "user" : "assistant";
    x.content = t;
    x.n_tokens = 3;
    out.push_back(x);
  }
  return out;
}

TEST(MemoryStore, CreatesMigratesAndReopens) {
  const std::string path = temp_db("a.db");
  {
    auto s = Store::open(path);
    ASSERT_TRUE(s.is_ok()) << s.status().message();
    auto c = (*s)->create("trip");
    ASSERT_TRUE(c.is_ok());
    auto turns = make_turns({"We fly to Lisbon on Friday", "Great, pack the camera"});
    ASSERT_TRUE((*s)->append(c->id, &turns).is_ok());
    EXPECT_EQ(turns[1].pos, 1);
    EXPECT_FALSE((*s)->create("trip").is_ok());  // names are unique
  }
  auto s = Store::open(path);
  ASSERT_TRUE(s.is_ok()) << s.status().message();
  auto c = (*s)->find("trip");
  ASSERT_TRUE(c.is_ok() && c->has_value());
  EXPECT_EQ((*c)->n_turns, 2);
  EXPECT_EQ((*c)->n_tokens, 6);
  sqlite3* db = (*s)->db();
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, nullptr);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(st, 0), kSchemaVersion);
  sqlite3_finalize(st);
  sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, nullptr);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "wal");
  sqlite3_finalize(st);
}

TEST(MemoryStore, RefusesFilesThatAreNotItsDatabasesAndLeavesThemUntouched) {
  const std::string junk = temp_db("junk.db");
  {
    std::ofstream f(junk, std::ios::binary);
    f << std::string(5000, 'x');
  }
  auto s = Store::open(junk);
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.status().message().find("not a longctx memory database"), std::string::npos)
      << s.status().message();
  EXPECT_EQ(fs::file_size(junk), 5000u);

  // Another program's SQLite database.
  const std::string other = temp_db("other.db");
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(other.c_str(), &db), SQLITE_OK);
  sqlite3_exec(db, "CREATE TABLE t(x); INSERT INTO t VALUES (1)", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  s = Store::open(other);
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.status().message().find("not a longctx memory database"), std::string::npos);

  // A store from a newer longctx.
  const std::string newer = temp_db("newer.db");
  ASSERT_TRUE(Store::open(newer).is_ok());
  ASSERT_EQ(sqlite3_open(newer.c_str(), &db), SQLITE_OK);
  sqlite3_exec(db, "PRAGMA user_version=99", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  s = Store::open(newer);
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.status().message().find("newer"), std::string::npos) << s.status().message();
}

// Scoring of a one-phrase query in a one-turn conversation.
MatchScoring one_phrase() {
  MatchScoring s;
  s.dfs = {1};
  return s;
}

TEST(MemoryStore, TruncateReplacesTurnsAndTheIndexFollows) {
  auto s = Store::open(temp_db("b.db"));
  ASSERT_TRUE(s.is_ok());
  Store& st = **s;
  auto c = st.create("c");
  auto other = st.create("other");
  auto turns = make_turns({"the violin lesson is on Monday", "ok", "my cat Mura is ill", "sorry"});
  ASSERT_TRUE(st.append(c->id, &turns).is_ok());
  auto o_turns = make_turns({"violin strings for Mura"});
  ASSERT_TRUE(st.append(other->id, &o_turns).is_ok());
  auto hits = st.match(c->id, "\"violin\"", one_phrase(), 10);
  ASSERT_TRUE(hits.is_ok());
  ASSERT_EQ(hits->size(), 1u);  // the other conversation's turn is not seen
  EXPECT_EQ((*hits)[0].pos, 0);
  EXPECT_GT((*hits)[0].score, 0);

  ASSERT_TRUE(st.add_summary(c->id, Summary{0, 0, 0, 2, "Mura is ill", 4, ""}).is_ok());
  // An edit of turn 2 replaces it and what follows.
  ASSERT_TRUE(st.truncate(c->id, 2).is_ok());
  EXPECT_EQ(*st.turn_count(c->id), 2);
  hits = st.match(c->id, "\"Mura\"", one_phrase(), 10);
  ASSERT_TRUE(hits.is_ok());
  EXPECT_TRUE(hits->empty());
  EXPECT_FALSE(st.latest_summary(c->id)->has_value());  // it covered a removed turn
  auto more = make_turns({"my dog Rex is ill"});
  ASSERT_TRUE(st.append(c->id, &more).is_ok());
  EXPECT_EQ(more[0].pos, 2);
  hits = st.match(c->id, "\"Rex\"", one_phrase(), 10);
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_EQ((*hits)[0].pos, 2);

  ASSERT_TRUE(st.remove(c->id).is_ok());
  EXPECT_FALSE(st.find("c")->has_value());
  hits = st.match(other->id, "\"violin\"", one_phrase(), 10);
  EXPECT_EQ(hits->size(), 1u);
  // The index holds no rows of the removed conversation (an integrity check of FTS5 against
  // its content table).
  EXPECT_EQ(sqlite3_exec(st.db(), "INSERT INTO turn_fts(turn_fts) VALUES('integrity-check')",
                         nullptr, nullptr, nullptr),
            SQLITE_OK)
      << sqlite3_errmsg(st.db());
}

TEST(MemoryStore, FactsSummariesAndReports) {
  auto s = Store::open(temp_db("c.db"));
  ASSERT_TRUE(s.is_ok());
  Store& st = **s;
  auto c = st.create("c");
  auto f1 = st.add_fact(c->id, "Anna is allergic to nuts", "pinned", "user", 7);
  auto f2 = st.add_fact(c->id, "Anna likes tea", "proposed", "summary", 5);
  ASSERT_TRUE(f1.is_ok() && f2.is_ok());
  ASSERT_TRUE(st.set_fact_status(c->id, *f2, "removed").is_ok());
  EXPECT_FALSE(st.set_fact_status(c->id, 999, "removed").is_ok());
  EXPECT_EQ(st.facts(c->id, false)->size(), 1u);
  EXPECT_EQ(st.facts(c->id, true)->size(), 2u);
  EXPECT_FALSE(st.add_fact(c->id, "x", "bogus", "user", 1).is_ok());

  EXPECT_EQ(*st.add_summary(c->id, Summary{0, 0, 0, 9, "first", 1, ""}), 1);
  EXPECT_EQ(*st.add_summary(c->id, Summary{0, 0, 0, 19, "second", 1, ""}), 2);
  auto latest = st.latest_summary(c->id);
  ASSERT_TRUE(latest.is_ok() && latest->has_value());
  EXPECT_EQ((*latest)->text, "second");
  EXPECT_EQ((*latest)->last_pos, 19);

  ASSERT_TRUE(st.add_report(c->id, 4, R"({"a":1})").is_ok());
  ASSERT_TRUE(st.add_report(c->id, 6, R"({"a":2})").is_ok());
  auto r = st.reports(c->id, 1);
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0], R"({"a":2})");
}

TEST(MemoryStore, Iso8601Times) {
  // Expected values from Python: datetime(2024, 3, 17, 18, 42, tzinfo=timezone.utc).timestamp(),
  // datetime.fromisoformat("2024-02-29T23:59:59+03:00").timestamp(), and so on.
  EXPECT_EQ(parse_iso8601("2024-03-17T18:42:00"), 1710700920.0);
  EXPECT_EQ(parse_iso8601("2024-03-17 18:42:00Z"), 1710700920.0);
  EXPECT_EQ(parse_iso8601("2024-03-17T18:42"), 1710700920.0);
  EXPECT_EQ(parse_iso8601("1999-12-31"), 946598400.0);
  EXPECT_EQ(parse_iso8601("2024-02-29T23:59:59+03:00"), 1709240399.0);
  EXPECT_EQ(parse_iso8601("2024-02-29T23:59:59.250+0300"), 1709240399.0);
  EXPECT_FALSE(parse_iso8601("1:56 pm on 8 May, 2023"));
  EXPECT_FALSE(parse_iso8601("2024-13-01"));
  EXPECT_FALSE(parse_iso8601("2024-03-17T25:00"));
  EXPECT_FALSE(parse_iso8601("2024-03-17junk"));
  EXPECT_FALSE(parse_iso8601(""));
}

TEST(MemoryStore, TimesWrittenInWords) {
  // Expected values from Python: datetime(2023, 5, 8, 13, 56, tzinfo=timezone.utc).timestamp().
  EXPECT_EQ(parse_time("1:56 pm on 8 May, 2023"), 1683554160.0);
  EXPECT_EQ(parse_time("8 May 2023"), 1683504000.0);
  EXPECT_EQ(parse_time("May 8, 2023"), 1683504000.0);
  EXPECT_EQ(parse_time("Monday, May 8th, 2023 at 2:05 PM"), 1683554700.0);
  EXPECT_EQ(parse_time("12:30 a.m. on the 8th of May 2023"), 1683505800.0);
  EXPECT_EQ(parse_time("12:05 pm on 8 May, 2023"), 1683547500.0);
  EXPECT_EQ(parse_time("10:04:30 on 5 Sep 2022"), 1662372270.0);
  EXPECT_EQ(parse_time("2023-05-08"), 1683504000.0);  // ISO 8601 as parse_iso8601
  EXPECT_FALSE(parse_time("8 May"));                  // no year
  EXPECT_FALSE(parse_time("13:00 pm on 8 May, 2023"));
  EXPECT_FALSE(parse_time("31 Foo 2023"));
  EXPECT_FALSE(parse_time("yesterday at 5 pm"));
  EXPECT_FALSE(parse_time("8 мая 2023"));
  EXPECT_FALSE(parse_time(""));
}

TEST(MemoryStore, TurnsOfATimeRange) {
  auto s = Store::open(temp_db("t.db"));
  ASSERT_TRUE(s.is_ok());
  Store& st = **s;
  auto c = st.create("c");
  auto turns = make_turns({"a", "b", "c", "d", "e", "f"});
  const char* times[] = {"",           "7 May 2023", "1:56 pm on 8 May, 2023", "2023-05-08T20:00",
                         "9 May 2023", "junk"};
  for (size_t i = 0; i < turns.size(); ++i) turns[i].time = times[i];
  ASSERT_TRUE(st.append(c->id, &turns).is_ok());
  using Range = std::pair<int64_t, int64_t>;
  const double may8 = *parse_time("8 May 2023");
  EXPECT_EQ(*st.time_range(c->id, may8, may8 + 86400), Range(2, 4));
  // The untimed first turn counts as earlier than any, the last one has its predecessor's time.
  EXPECT_EQ(*st.time_range(c->id, 0, may8), Range(1, 2));
  EXPECT_EQ(*st.time_range(c->id, may8 + 86400, may8 + 2 * 86400), Range(4, 6));
  auto none = st.time_range(c->id, 0, 1);
  EXPECT_EQ(none->first, none->second);
  EXPECT_EQ(*st.time_range(c->id, may8 * 2, may8 * 3), Range(6, 6));
}

TEST(ConversationFile, JsonArrayAndJsonLines) {
  auto a = parse_conversation(
      R"([{"role":"user","content":"hi","name":"Ann","time":"2024-01-02"},
          {"role":"assistant","content":[{"type":"text","text":"a"},{"type":"image_url"},{"type":"text","text":"b"}]}])");
  ASSERT_TRUE(a.is_ok()) << a.status().message();
  ASSERT_EQ(a->size(), 2u);
  EXPECT_EQ((*a)[0].name, "Ann");
  EXPECT_EQ((*a)[0].time, "2024-01-02");
  EXPECT_EQ((*a)[1].content, "a\nb");
  EXPECT_EQ((*a)[1].pos, 1);

  auto l = parse_conversation(
      "{\"role\":\"user\",\"content\":\"x\"}\n\n{\"role\":\"developer\",\"content\":\"y\"}\n");
  ASSERT_TRUE(l.is_ok());
  ASSERT_EQ(l->size(), 2u);
  EXPECT_EQ((*l)[1].role, "system");
  // Round trip through the export format.
  auto back = parse_conversation(turn_to_json_line((*a)[0]));
  ASSERT_TRUE(back.is_ok());
  EXPECT_EQ((*back)[0].content, "hi");
  EXPECT_EQ((*back)[0].name, "Ann");

  auto bad = parse_conversation("{\"role\":\"user\",\"content\":\"x\"}\n{\"role\":\"user\"\n");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("line 2"), std::string::npos);
  bad = parse_conversation(R"([{"role":"wizard","content":"x"}])");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("wizard"), std::string::npos);
  bad = parse_conversation(R"([{"role":"user","content":5}])");
  EXPECT_FALSE(bad.is_ok());
  bad = parse_conversation(R"([{"role":"user"}])");
  EXPECT_FALSE(bad.is_ok());
  EXPECT_TRUE(parse_conversation("  \n").is_ok());
}

}  // namespace
}  // namespace longctx::memory
