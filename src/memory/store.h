// The conversation store of the memory loop: one SQLite database (WAL, synchronous commits)
// holding conversations, every turn verbatim with its full-text index, pinned and proposed
// facts, versioned summaries, and the report of every assembled prompt. The schema carries a
// version (PRAGMA user_version) and is migrated on open; a newer schema is refused.
//
// Turns of a conversation are a stack of positions 0..n-1: an edit or regeneration truncates
// from the changed position and appends. A turn's row id is (conversation id << 32) | position,
// so a conversation's turns are one row-id range, which FTS5 searches without a join.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace longctx::memory {

inline constexpr int kSchemaVersion = 1;

struct Turn {
  int64_t pos = -1;  // position in the conversation, from 0
  std::string role;  // "system", "user", "assistant", "tool"
  std::string name;  // speaker name, may be empty
  std::string time;  // as given (any string), may be empty
  std::string content;
  int n_tokens = 0;  // tokens of content under the model's tokenizer
};

struct Conversation {
  int64_t id = 0;
  std::string name;
  std::string created;  // UTC, ISO 8601
  int64_t n_turns = 0;
  int64_t n_tokens = 0;  // sum of the turns' n_tokens
};

struct Fact {
  int64_t id = 0;
  std::string text;
  std::string status;  // "pinned", "proposed", "removed"
  std::string source;  // "user", "summary"
  std::string created;
  int n_tokens = 0;
};

struct Summary {
  int64_t id = 0;
  int version = 0;        // 1, 2, ... per conversation; a new summary never replaces a row
  int64_t first_pos = 0;  // turns [first_pos, last_pos] folded into it (with the previous one)
  int64_t last_pos = -1;
  std::string text;
  int n_tokens = 0;
  std::string created;
};

// How lcx_bm25 scores the phrases of a match (see fts_rank.cpp).
struct MatchScoring {
  int skip = 0;                 // leading phrases not scored (a selecting copy)
  std::vector<int64_t> dfs;     // document counts in the conversation of the scored phrases
  std::vector<double> weights;  // their query weights (1 where missing)
  double w_name = 0.5;          // column weights of speaker name and time against content's 1
  double w_time = 0.5;
  int64_t bonus_from = 0, bonus_to = 0;  // turns with bonus_from <= pos < bonus_to gain bonus
  double bonus = 0;
};

// A BM25 match of one turn (score: larger is better).
struct TurnMatch {
  int64_t pos = 0;
  double score = 0;
};

class Store {
 public:
  // Opens (creating when missing) the database at path and migrates it to kSchemaVersion. A file
  // that is not a longctx memory database, or one from a newer version, is refused untouched.
  static Result<std::unique_ptr<Store>> open(const std::string& path);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  sqlite3* db() { return db_; }
  const std::string& path() const { return path_; }

  Result<std::optional<Conversation>> find(std::string_view name);
  Result<Conversation> create(std::string_view name);
  Status remove(int64_t conv);  // the conversation and everything stored for it
  Result<std::vector<Conversation>> list();
  // The conversation's system prompt ("" when none was set).
  Result<std::string> system_prompt(int64_t conv);
  Status set_system_prompt(int64_t conv, std::string_view text);

  // Appends turns at the end of the conversation in one transaction, assigning their pos.
  Status append(int64_t conv, std::vector<Turn>* turns);
  // Deletes the turns at positions >= from_pos (an edit or a regeneration replaces them), and
  // summaries that covered any of them.
  Status truncate(int64_t conv, int64_t from_pos);
  // Turns with from <= pos < to, in order.
  Result<std::vector<Turn>> turns(int64_t conv, int64_t from, int64_t to);
  Result<int64_t> turn_count(int64_t conv);

  // Turns at min_pos or later matching an FTS5 query expression (built by recall.cpp), ranked by
  // lcx_bm25 (see fts_rank.cpp) as scoring says, best first, at most limit.
  Result<std::vector<TurnMatch>> match(int64_t conv, const std::string& fts_query,
                                       const MatchScoring& scoring, int limit, int64_t min_pos = 0);
  // The positions [first, last) of conv's turns whose time lies in [from, to) (seconds since
  // 1970), by binary search over positions: turns are taken to be in time order, and a turn with
  // no readable time has that of the timed turn before it (within 64 turns; else it counts as
  // earlier than any).
  Result<std::pair<int64_t, int64_t>> time_range(int64_t conv, double from, double to);
  // The position of the n-th latest turn of conv matching the expression, or -1 when fewer match.
  Result<int64_t> nth_latest_match(int64_t conv, const std::string& fts_query, int64_t n);
  // Turns of conv containing the phrase (one quoted FTS5 string), counting at most cap + 1.
  Result<int64_t> count_matches(int64_t conv, const std::string& phrase, int64_t cap);

  // Facts.
  Result<int64_t> add_fact(int64_t conv, std::string_view text, std::string_view status,
                           std::string_view source, int n_tokens);
  Status set_fact_status(int64_t conv, int64_t fact_id, std::string_view status);
  Result<std::vector<Fact>> facts(int64_t conv, bool include_removed);

  // Summaries: the latest version, and adding a new one.
  Result<std::optional<Summary>> latest_summary(int64_t conv);
  Result<int> add_summary(int64_t conv, const Summary& s);  // returns its version

  // Prompt-assembly reports (JSON text), kept with the turn they were made for.
  Status add_report(int64_t conv, int64_t turn_pos, std::string_view json);
  Result<std::vector<std::string>> reports(int64_t conv, int64_t limit);

 private:
  Store() = default;
  Status migrate();

  sqlite3* db_ = nullptr;
  std::string path_;
};

// Seconds since 1970 (UTC) of an ISO 8601 date or date-time ("2024-03-17", "2024-03-17T18:42",
// "...:00Z", "...+03:00", a space for "T"), or nullopt when text is not one. Turns' times are
// read with parse_time (dates.h), which also takes dates written out in words.
std::optional<double> parse_iso8601(std::string_view text);

}  // namespace longctx::memory
