// Crash safety of the memory store: a child process runs the memory loop turn after turn (with
// compactions) and is killed with SIGKILL at random moments; after each kill the database must
// pass SQLite's and FTS5's integrity checks and hold every turn the child had reported committed,
// and a restarted child goes on from where the store says it stopped, until 200 turns are in.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <random>
#include <string>

#include "memory/memory_loop.h"

namespace longctx::memory {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kTurns = 200;

int64_t words(std::string_view s) {
  int64_t n = 0;
  bool in = false;
  for (char c : s) {
    const bool sp = c == ' ';
    if (!sp && !in) ++n;
    in = !sp;
  }
  return n;
}

std::string text_for(int64_t pos) {
  std::string s = "turn " + std::to_string(pos);
  for (int k = 0; k < 20 + pos % 17; ++k) s += " word" + std::to_string((pos * 13 + k) % 97);
  return s;
}

// The child: resumes from the store and reports each committed turn's position on fd.
[[noreturn]] void child(const std::string& path, int fd) {
  auto s = Store::open(path);
  if (!s.is_ok()) _exit(2);
  auto found = (*s)->find("d");
  if (!found.is_ok()) _exit(3);
  int64_t conv = found->has_value() ? (**found).id : 0;
  if (!found->has_value()) {
    auto c = (*s)->create("d");
    if (!c.is_ok()) _exit(4);
    conv = c->id;
  }
  MemoryBudgets b;
  b.ctx = 1024;
  if (!b.resolve().is_ok()) _exit(5);
  const TextAnalyzer analyzer;
  MemoryLoop loop(**s, conv, analyzer, words, b, "system");
  const Summarizer summarize = [](const std::string&, int64_t) -> Result<std::string> {
    return std::string("a summary\nFACT: something durable");
  };
  auto report = [fd](int64_t pos) {
    if (write(fd, &pos, sizeof pos) != sizeof pos) _exit(6);
  };
  for (;;) {
    auto n = (*s)->turn_count(conv);
    if (!n.is_ok()) _exit(7);
    if (*n >= kTurns) _exit(0);
    Turn u;
    u.role = *n % 2 == 0 ? "user" : "assistant";
    u.content = text_for(*n);
    if (*n % 2 == 1) {  // a reply was lost in the last crash: store one now
      std::vector<Turn> one{u};
      one[0].n_tokens = static_cast<int>(words(u.content));
      if (!(*s)->append(conv, &one).is_ok()) _exit(8);
      report(*n);
      continue;
    }
    auto p = loop.begin_turn(u, summarize);
    if (!p.is_ok()) _exit(9);
    report(*n);
    Turn r;
    r.role = "assistant";
    r.content = text_for(*n + 1);
    if (!loop.end_turn(&*p, r, 0, 0).is_ok()) _exit(10);
    report(*n + 1);
  }
}

TEST(MemoryDurability, KillNineLosesNoCommittedTurn) {
  const fs::path dir =
      fs::temp_directory_path() / ("longctx_durability_" + std::to_string(getpid()));
  fs::create_directories(dir);
  const std::string path = (dir / "d.db").string();
  fs::remove(path);
  std::mt19937 rng(20261207);
  int kills = 0, runs = 0;
  int64_t committed = -1;  // the highest position a child reported committed
  int64_t stored = 0;      // turns the store held after the last run
  for (;; ++runs) {
    ASSERT_LT(runs, 500) << "the child never finished";
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      child(path, fds[1]);
    }
    close(fds[1]);
    usleep(static_cast<useconds_t>(rng() % 40000));
    const bool killed = kill(pid, SIGKILL) == 0;
    int status = 0;
    waitpid(pid, &status, 0);
    int64_t pos;
    while (read(fds[0], &pos, sizeof pos) == sizeof pos) committed = std::max(committed, pos);
    close(fds[0]);
    const bool finished = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (WIFEXITED(status)) {
      ASSERT_EQ(WEXITSTATUS(status), 0) << "child failed";
    }
    if (killed && WIFSIGNALED(status)) ++kills;

    // The store after the crash (opened only while no child runs: SQLite and fork do not mix).
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, nullptr);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "ok");
    sqlite3_finalize(st);
    sqlite3_close(db);
    {
      auto s = Store::open(path);  // registers the tokenizer FTS5 needs for its own check
      ASSERT_TRUE(s.is_ok()) << s.status().message();
      EXPECT_EQ(sqlite3_exec((*s)->db(), "INSERT INTO turn_fts(turn_fts) VALUES('integrity-check')",
                             nullptr, nullptr, nullptr),
                SQLITE_OK);
      auto c = (*s)->find("d");
      if (c.is_ok() && c->has_value()) {
        auto turns = (*s)->turns((**c).id, 0, kTurns + 10);
        ASSERT_TRUE(turns.is_ok());
        ASSERT_GE(static_cast<int64_t>(turns->size()), committed + 1) << "a committed turn is lost";
        stored = static_cast<int64_t>(turns->size());
        for (size_t i = 0; i < turns->size(); ++i) {
          ASSERT_EQ((*turns)[i].pos, static_cast<int64_t>(i));
          ASSERT_EQ((*turns)[i].content, text_for(static_cast<int64_t>(i)));
        }
      } else {
        ASSERT_EQ(committed, -1);
      }
    }
    if (finished) break;
  }
  EXPECT_EQ(stored, kTurns);  // (a kill can land after a commit and before its report)
  EXPECT_GE(kills, 3) << "the child was never killed mid-run";
  std::printf("%d runs, %d killed mid-run\n", runs + 1, kills);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace longctx::memory
