// The memory store on SQLite: schema, migrations, turns, facts, summaries, reports.
#include "memory/store.h"

#include <algorithm>

#include "core/utc_time.h"
#include "memory/dates.h"
#include "memory/fts_tokenizer.h"
#include "memory/sqlite_util.h"

namespace longctx::memory {
namespace {

constexpr int64_t kPosBits = 32;
int64_t row_id(int64_t conv, int64_t pos) { return (conv << kPosBits) | pos; }

template <typename T>
std::string comma_list(const std::vector<T>& v) {
  std::string out;
  for (const T& x : v) {
    if (!out.empty()) out += ',';
    out += std::to_string(x);
  }
  return out;
}

// Version 1. Turns' full-text index is an external-content FTS5 table kept in step by
// triggers (so the text is stored once); its columns mirror turns.content / name / time.
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE conversations(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  created TEXT NOT NULL,
  system TEXT NOT NULL DEFAULT ''      -- the conversation's system prompt
);
CREATE TABLE turns(
  id INTEGER PRIMARY KEY,              -- (conv << 32) | pos
  conv INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  pos INTEGER NOT NULL,
  role TEXT NOT NULL,
  name TEXT NOT NULL DEFAULT '',
  time TEXT NOT NULL DEFAULT '',
  time_unix REAL,                      -- when time is ISO 8601
  content TEXT NOT NULL,
  n_tokens INTEGER NOT NULL,
  stored TEXT NOT NULL,                -- when the row was written (UTC)
  UNIQUE(conv, pos)
);
CREATE VIRTUAL TABLE turn_fts USING fts5(content, name, time, content='turns',
                                         content_rowid='id', tokenize='longctx');
CREATE TRIGGER turns_ai AFTER INSERT ON turns BEGIN
  INSERT INTO turn_fts(rowid, content, name, time) VALUES (new.id, new.content, new.name, new.time);
END;
CREATE TRIGGER turns_ad AFTER DELETE ON turns BEGIN
  INSERT INTO turn_fts(turn_fts, rowid, content, name, time)
  VALUES ('delete', old.id, old.content, old.name, old.time);
END;
CREATE TABLE facts(
  id INTEGER PRIMARY KEY,
  conv INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  text TEXT NOT NULL,
  status TEXT NOT NULL CHECK(status IN ('pinned', 'proposed', 'removed')),
  source TEXT NOT NULL,
  created TEXT NOT NULL,
  n_tokens INTEGER NOT NULL
);
CREATE TABLE summaries(
  id INTEGER PRIMARY KEY,
  conv INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  version INTEGER NOT NULL,
  first_pos INTEGER NOT NULL,
  last_pos INTEGER NOT NULL,
  text TEXT NOT NULL,
  n_tokens INTEGER NOT NULL,
  created TEXT NOT NULL,
  superseded INTEGER NOT NULL DEFAULT 0,  -- 1 when an edit removed turns it covered
  UNIQUE(conv, version)
);
CREATE TABLE reports(
  id INTEGER PRIMARY KEY,
  conv INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  turn_pos INTEGER NOT NULL,
  created TEXT NOT NULL,
  report TEXT NOT NULL                 -- JSON
);
CREATE INDEX reports_conv ON reports(conv, turn_pos);
)sql";

Status exec(sqlite3* db, const char* sql, const std::string& what) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string m = what + ": " + (err ? err : "error");
    sqlite3_free(err);
    const int code = sqlite3_extended_errcode(db) & 0xff;
    if (code == SQLITE_NOTADB || code == SQLITE_CORRUPT) return invalid_format(m);
    return io_error(m);
  }
  return Status::ok();
}

}  // namespace

Result<std::unique_ptr<Store>> Store::open(const std::string& path) {
  std::unique_ptr<Store> s(new Store());
  s->path_ = path;
  const int rc =
      sqlite3_open_v2(path.c_str(), &s->db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    return io_error("cannot open memory database " + path + ": " +
                    (s->db_ ? sqlite3_errmsg(s->db_) : "out of memory"));
  }
  sqlite3_busy_timeout(s->db_, 5000);
  sqlite3_extended_result_codes(s->db_, 1);
  if (Status st = register_fts_extensions(s->db_); !st) return st;
  // Reading the schema first: a file that is not a database fails here, before anything is
  // written to it (journal_mode=WAL would otherwise be attempted on it).
  if (Status st = exec(s->db_, "SELECT count(*) FROM sqlite_master", path); !st) {
    return invalid_format(path + " is not a longctx memory database (" + st.message() + ")");
  }
  if (Status st = s->migrate(); !st) return st.with_context(path);
  return s;
}

Store::~Store() { sqlite3_close_v2(db_); }

Status Store::migrate() {
  int64_t version = 0;
  {  // statements finished before the pragmas below (WAL cannot be set inside a read)
    Stmt v(db_, "PRAGMA user_version");
    if (v.step() != SQLITE_ROW) return sqlite_error(db_, "read the schema version");
    version = v.i64(0);
  }
  if (version > kSchemaVersion) {
    return unsupported("memory database has schema version " + std::to_string(version) +
                       ", newer than this longctx reads (" + std::to_string(kSchemaVersion) + ")");
  }
  if (version == 0) {
    Stmt t(db_, "SELECT count(*) FROM sqlite_master");
    if (t.step() != SQLITE_ROW) return sqlite_error(db_, "read the schema");
    if (t.i64(0) != 0) {
      return invalid_format("an SQLite database, but not a longctx memory database");
    }
  }

  // WAL: readers never block the writer and a crash leaves the last committed state;
  // synchronous=FULL makes each commit durable before the call returns.
  if (Status st = exec(db_, "PRAGMA journal_mode=WAL", "enable WAL"); !st) return st;
  // Reads through a memory map and a 32 MiB page cache: a search touches posting lists all over
  // the index, and page-by-page pread() copies were most of a search's time at 100,000 turns.
  if (Status st = exec(db_,
                       "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; "
                       "PRAGMA mmap_size=1073741824; PRAGMA cache_size=-32768",
                       "set pragmas");
      !st) {
    return st;
  }
  if (version == kSchemaVersion) return Status::ok();
  // Migrations run in one transaction each, from the file's version up. Version 0 is an empty file.
  Transaction tx(db_);
  if (Status st = tx.begun(); !st) return st;
  if (version < 1) {
    if (Status st = exec(db_, kSchemaV1, "create the schema"); !st) return st;
  }
  const std::string set = "PRAGMA user_version=" + std::to_string(kSchemaVersion);
  if (Status st = exec(db_, set.c_str(), "set the schema version"); !st) return st;
  return tx.commit();
}

Result<std::optional<Conversation>> Store::find(std::string_view name) {
  Stmt q(db_,
         "SELECT c.id, c.name, c.created, count(t.id), coalesce(sum(t.n_tokens), 0) "
         "FROM conversations c LEFT JOIN turns t ON t.conv = c.id WHERE c.name = ?1 GROUP BY c.id");
  q.bind(1, name);
  const int rc = q.step();
  if (rc == SQLITE_DONE) return std::optional<Conversation>();
  if (rc != SQLITE_ROW) return sqlite_error(db_, "find conversation");
  return std::optional<Conversation>(
      Conversation{q.i64(0), q.text(1), q.text(2), q.i64(3), q.i64(4)});
}

Result<Conversation> Store::create(std::string_view name) {
  if (name.empty()) return invalid_argument("a conversation needs a name");
  Stmt q(db_, "INSERT INTO conversations(name, created) VALUES (?1, ?2)");
  const std::string now = utc_now_iso8601();
  q.bind(1, name).bind(2, now);
  if (q.step() != SQLITE_DONE) {
    if ((sqlite3_extended_errcode(db_)) == SQLITE_CONSTRAINT_UNIQUE) {
      return invalid_argument("conversation '" + std::string(name) + "' already exists");
    }
    return sqlite_error(db_, "create conversation");
  }
  return Conversation{sqlite3_last_insert_rowid(db_), std::string(name), now, 0, 0};
}

Status Store::remove(int64_t conv) {
  Transaction tx(db_);
  if (Status st = tx.begun(); !st) return st;
  // Turns first, through the trigger that keeps the index in step (a cascade skips triggers
  // only when recursive triggers are off, so it is done explicitly).
  Stmt dt(db_, "DELETE FROM turns WHERE id BETWEEN ?1 AND ?2");
  dt.bind(1, row_id(conv, 0)).bind(2, row_id(conv, (int64_t{1} << kPosBits) - 1));
  if (Status st = dt.run("delete turns"); !st) return st;
  Stmt dc(db_, "DELETE FROM conversations WHERE id = ?1");
  dc.bind(1, conv);
  if (Status st = dc.run("delete conversation"); !st) return st;
  return tx.commit();
}

Result<std::string> Store::system_prompt(int64_t conv) {
  Stmt q(db_, "SELECT system FROM conversations WHERE id = ?1");
  q.bind(1, conv);
  if (q.step() != SQLITE_ROW) return sqlite_error(db_, "read the system prompt");
  return q.text(0);
}

Status Store::set_system_prompt(int64_t conv, std::string_view text) {
  Stmt q(db_, "UPDATE conversations SET system = ?2 WHERE id = ?1");
  q.bind(1, conv).bind(2, text);
  return q.run("store the system prompt");
}

Result<std::vector<Conversation>> Store::list() {
  Stmt q(db_,
         "SELECT c.id, c.name, c.created, count(t.id), coalesce(sum(t.n_tokens), 0) "
         "FROM conversations c LEFT JOIN turns t ON t.conv = c.id GROUP BY c.id ORDER BY c.name");
  std::vector<Conversation> out;
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) {
    out.push_back(Conversation{q.i64(0), q.text(1), q.text(2), q.i64(3), q.i64(4)});
  }
  if (rc != SQLITE_DONE) return sqlite_error(db_, "list conversations");
  return out;
}

Result<int64_t> Store::turn_count(int64_t conv) {
  // The last row id of the conversation's range (one B-tree descent), not max(pos) (a scan).
  Stmt q(db_, "SELECT id FROM turns WHERE id BETWEEN ?1 AND ?2 ORDER BY id DESC LIMIT 1");
  q.bind(1, row_id(conv, 0)).bind(2, row_id(conv, (int64_t{1} << kPosBits) - 1));
  const int rc = q.step();
  if (rc == SQLITE_DONE) return int64_t{0};
  if (rc != SQLITE_ROW) return sqlite_error(db_, "count turns");
  return (q.i64(0) & ((int64_t{1} << kPosBits) - 1)) + 1;
}

Status Store::append(int64_t conv, std::vector<Turn>* turns) {
  Transaction tx(db_);
  if (Status st = tx.begun(); !st) return st;
  Result<int64_t> n = turn_count(conv);
  if (!n.is_ok()) return n.status();
  int64_t pos = n.value();
  if (pos + static_cast<int64_t>(turns->size()) >= (int64_t{1} << kPosBits)) {
    return invalid_argument("a conversation holds at most 2^32 turns");
  }
  Stmt ins(db_,
           "INSERT INTO turns(id, conv, pos, role, name, time, time_unix, content, n_tokens, "
           "stored) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
  if (Status st = ins.prepare_status("prepare insert"); !st) return st;
  const std::string now = utc_now_iso8601();
  for (Turn& t : *turns) {
    t.pos = pos++;
    ins.bind(1, row_id(conv, t.pos)).bind(2, conv).bind(3, t.pos).bind(4, t.role).bind(5, t.name);
    ins.bind(6, t.time);
    if (auto unix = parse_time(t.time)) {
      ins.bind(7, *unix);
    } else {
      ins.bind_null(7);
    }
    ins.bind(8, t.content).bind(9, t.n_tokens).bind(10, now);
    if (Status st = ins.run("store turn"); !st) return st;
    ins.reset();
  }
  return tx.commit();
}

Status Store::truncate(int64_t conv, int64_t from_pos) {
  Transaction tx(db_);
  if (Status st = tx.begun(); !st) return st;
  Stmt dt(db_, "DELETE FROM turns WHERE id BETWEEN ?1 AND ?2");
  dt.bind(1, row_id(conv, from_pos)).bind(2, row_id(conv, (int64_t{1} << kPosBits) - 1));
  if (Status st = dt.run("delete turns"); !st) return st;
  Stmt ds(db_, "UPDATE summaries SET superseded = 1 WHERE conv = ?1 AND last_pos >= ?2");
  ds.bind(1, conv).bind(2, from_pos);
  if (Status st = ds.run("retire summaries"); !st) return st;
  return tx.commit();
}

Result<std::vector<Turn>> Store::turns(int64_t conv, int64_t from, int64_t to) {
  Stmt q(db_,
         "SELECT pos, role, name, time, content, n_tokens FROM turns WHERE id >= ?1 AND id < ?2 "
         "ORDER BY id");
  q.bind(1, row_id(conv, std::max<int64_t>(from, 0)))
      .bind(2, row_id(conv, std::min<int64_t>(to, (int64_t{1} << kPosBits) - 1)));
  std::vector<Turn> out;
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) {
    out.push_back(
        Turn{q.i64(0), q.text(1), q.text(2), q.text(3), q.text(4), static_cast<int>(q.i64(5))});
  }
  if (rc != SQLITE_DONE) return sqlite_error(db_, "read turns");
  return out;
}

Result<std::vector<TurnMatch>> Store::match(int64_t conv, const std::string& fts_query,
                                            const MatchScoring& sc, int limit, int64_t min_pos) {
  std::vector<TurnMatch> out;
  if (fts_query.empty()) return out;
  Result<int64_t> n = turn_count(conv);
  if (!n.is_ok()) return n.status();
  const std::string df_list = comma_list(sc.dfs), weight_list = comma_list(sc.weights);
  const int64_t last = (int64_t{1} << kPosBits) - 1;
  // The row-id range selects the conversation inside the index itself.
  Stmt q(db_,
         "SELECT rowid, lcx_bm25(turn_fts, ?4, 1.0, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) AS s "
         "FROM turn_fts WHERE turn_fts MATCH ?1 AND rowid BETWEEN ?2 AND ?3 "
         "ORDER BY s DESC LIMIT ?13");
  if (Status st = q.prepare_status("prepare search"); !st) return st;
  q.bind(1, fts_query)
      .bind(2, row_id(conv, std::max<int64_t>(min_pos, 0)))
      .bind(3, row_id(conv, last))
      .bind(4, sc.skip)
      .bind(5, sc.w_name)
      .bind(6, sc.w_time)
      .bind(7, static_cast<double>(*n))
      .bind(8, df_list)
      .bind(9, weight_list)
      .bind(10, row_id(conv, std::clamp<int64_t>(sc.bonus_from, 0, last)))
      .bind(11, row_id(conv, std::clamp<int64_t>(sc.bonus_to, 0, last)))
      .bind(12, sc.bonus)
      .bind(13, limit);
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) out.push_back(TurnMatch{q.i64(0) & last, q.f64(1)});
  if (rc != SQLITE_DONE) return sqlite_error(db_, "search turns");
  return out;
}

Result<std::pair<int64_t, int64_t>> Store::time_range(int64_t conv, double from, double to) {
  Result<int64_t> n = turn_count(conv);
  if (!n.is_ok()) return n.status();
  // A turn's time: its own, else that of the latest timed turn of the kUntimedRun before it.
  constexpr int64_t kUntimedRun = 64;
  Stmt q(db_,
         "SELECT time_unix FROM (SELECT time_unix FROM turns WHERE id BETWEEN ?1 AND ?2 "
         "ORDER BY id DESC LIMIT ?3) WHERE time_unix IS NOT NULL LIMIT 1");
  if (Status st = q.prepare_status("prepare time lookup"); !st) return st;
  // The first position whose time is at least t (n when none is).
  auto lower_bound = [&](double t) -> Result<int64_t> {
    int64_t lo = 0, hi = *n;
    while (lo < hi) {
      const int64_t mid = lo + (hi - lo) / 2;
      q.reset();
      q.bind(1, row_id(conv, std::max<int64_t>(0, mid - kUntimedRun + 1)))
          .bind(2, row_id(conv, mid))
          .bind(3, kUntimedRun);
      const int rc = q.step();
      if (rc != SQLITE_ROW && rc != SQLITE_DONE) return sqlite_error(db_, "read a turn's time");
      const bool before = rc == SQLITE_DONE || q.f64(0) < t;
      if (before) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  };
  Result<int64_t> first = lower_bound(from);
  if (!first.is_ok()) return first.status();
  Result<int64_t> end = lower_bound(to);
  if (!end.is_ok()) return end.status();
  return std::make_pair(*first, std::max(*first, *end));
}

Result<int64_t> Store::nth_latest_match(int64_t conv, const std::string& fts_query, int64_t n) {
  Stmt q(db_,
         "SELECT rowid FROM turn_fts WHERE turn_fts MATCH ?1 AND rowid BETWEEN ?2 AND ?3 "
         "ORDER BY rowid DESC LIMIT 1 OFFSET ?4");
  q.bind(1, fts_query)
      .bind(2, row_id(conv, 0))
      .bind(3, row_id(conv, (int64_t{1} << kPosBits) - 1))
      .bind(4, std::max<int64_t>(n - 1, 0));
  const int rc = q.step();
  if (rc == SQLITE_DONE) return int64_t{-1};
  if (rc != SQLITE_ROW) return sqlite_error(db_, "find the latest matches");
  return q.i64(0) & ((int64_t{1} << kPosBits) - 1);
}

Result<int64_t> Store::count_matches(int64_t conv, const std::string& phrase, int64_t cap) {
  Stmt q(db_,
         "SELECT count(*) FROM (SELECT rowid FROM turn_fts WHERE turn_fts MATCH ?1 "
         "AND rowid BETWEEN ?2 AND ?3 LIMIT ?4)");
  q.bind(1, phrase)
      .bind(2, row_id(conv, 0))
      .bind(3, row_id(conv, (int64_t{1} << kPosBits) - 1))
      .bind(4, cap + 1);
  if (q.step() != SQLITE_ROW) return sqlite_error(db_, "count matches");
  return q.i64(0);
}

Result<int64_t> Store::add_fact(int64_t conv, std::string_view text, std::string_view status,
                                std::string_view source, int n_tokens) {
  Stmt q(db_,
         "INSERT INTO facts(conv, text, status, source, created, n_tokens) "
         "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  q.bind(1, conv).bind(2, text).bind(3, status).bind(4, source).bind(5, utc_now_iso8601());
  q.bind(6, n_tokens);
  if (Status st = q.run("store fact"); !st) return st;
  return sqlite3_last_insert_rowid(db_);
}

Status Store::set_fact_status(int64_t conv, int64_t fact_id, std::string_view status) {
  Stmt q(db_, "UPDATE facts SET status = ?3 WHERE conv = ?1 AND id = ?2");
  q.bind(1, conv).bind(2, fact_id).bind(3, status);
  if (Status st = q.run("update fact"); !st) return st;
  if (sqlite3_changes(db_) == 0) return not_found("no fact " + std::to_string(fact_id));
  return Status::ok();
}

Result<std::vector<Fact>> Store::facts(int64_t conv, bool include_removed) {
  Stmt q(db_,
         "SELECT id, text, status, source, created, n_tokens FROM facts WHERE conv = ?1 "
         "AND (?2 OR status != 'removed') ORDER BY id");
  q.bind(1, conv).bind(2, include_removed ? 1 : 0);
  std::vector<Fact> out;
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) {
    out.push_back(
        Fact{q.i64(0), q.text(1), q.text(2), q.text(3), q.text(4), static_cast<int>(q.i64(5))});
  }
  if (rc != SQLITE_DONE) return sqlite_error(db_, "read facts");
  return out;
}

Result<std::optional<Summary>> Store::latest_summary(int64_t conv) {
  Stmt q(db_,
         "SELECT id, version, first_pos, last_pos, text, n_tokens, created FROM summaries "
         "WHERE conv = ?1 AND superseded = 0 ORDER BY version DESC LIMIT 1");
  q.bind(1, conv);
  const int rc = q.step();
  if (rc == SQLITE_DONE) return std::optional<Summary>();
  if (rc != SQLITE_ROW) return sqlite_error(db_, "read summary");
  return std::optional<Summary>(Summary{q.i64(0), static_cast<int>(q.i64(1)), q.i64(2), q.i64(3),
                                        q.text(4), static_cast<int>(q.i64(5)), q.text(6)});
}

Result<int> Store::add_summary(int64_t conv, const Summary& s) {
  Transaction tx(db_);
  if (Status st = tx.begun(); !st) return st;
  Stmt v(db_, "SELECT coalesce(max(version), 0) + 1 FROM summaries WHERE conv = ?1");
  v.bind(1, conv);
  if (v.step() != SQLITE_ROW) return sqlite_error(db_, "next summary version");
  const int version = static_cast<int>(v.i64(0));
  Stmt q(db_,
         "INSERT INTO summaries(conv, version, first_pos, last_pos, text, n_tokens, created) "
         "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  q.bind(1, conv).bind(2, version).bind(3, s.first_pos).bind(4, s.last_pos).bind(5, s.text);
  q.bind(6, s.n_tokens).bind(7, utc_now_iso8601());
  if (Status st = q.run("store summary"); !st) return st;
  if (Status st = tx.commit(); !st) return st;
  return version;
}

Status Store::add_report(int64_t conv, int64_t turn_pos, std::string_view json) {
  Stmt q(db_, "INSERT INTO reports(conv, turn_pos, created, report) VALUES (?1, ?2, ?3, ?4)");
  q.bind(1, conv).bind(2, turn_pos).bind(3, utc_now_iso8601()).bind(4, json);
  return q.run("store report");
}

Result<std::vector<std::string>> Store::reports(int64_t conv, int64_t limit) {
  Stmt q(db_, "SELECT report FROM reports WHERE conv = ?1 ORDER BY id DESC LIMIT ?2");
  q.bind(1, conv).bind(2, limit);
  std::vector<std::string> out;
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) out.push_back(q.text(0));
  if (rc != SQLITE_DONE) return sqlite_error(db_, "read reports");
  return out;
}

std::optional<double> parse_iso8601(std::string_view s) {
  auto digits = [&](size_t at, size_t n, int* v) {
    if (at + n > s.size()) return false;
    int x = 0;
    for (size_t i = at; i < at + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      x = x * 10 + (s[i] - '0');
    }
    *v = x;
    return true;
  };
  int y, mo, d, h = 0, mi = 0, sec = 0;
  if (!digits(0, 4, &y) || s.size() < 10 || s[4] != '-' || !digits(5, 2, &mo) || s[7] != '-' ||
      !digits(8, 2, &d)) {
    return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31) return std::nullopt;
  size_t i = 10;
  double offset = 0;
  if (i < s.size() && (s[i] == 'T' || s[i] == ' ')) {
    if (!digits(i + 1, 2, &h) || i + 3 >= s.size() || s[i + 3] != ':' || !digits(i + 4, 2, &mi)) {
      return std::nullopt;
    }
    i += 6;
    if (i < s.size() && s[i] == ':') {
      if (!digits(i + 1, 2, &sec)) return std::nullopt;
      i += 3;
      if (i < s.size() && s[i] == '.') {  // fractions of a second are dropped
        ++i;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
      }
    }
    if (h > 23 || mi > 59 || sec > 60) return std::nullopt;
    if (i < s.size() && s[i] == 'Z') {
      ++i;
    } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
      int oh, om = 0;
      if (!digits(i + 1, 2, &oh)) return std::nullopt;
      size_t j = i + 3;
      if (j < s.size() && s[j] == ':') ++j;
      if (j < s.size()) {
        if (!digits(j, 2, &om)) return std::nullopt;
        j += 2;
      }
      offset = (s[i] == '+' ? 1 : -1) * (oh * 3600.0 + om * 60.0);
      i = j;
    }
  }
  if (i != s.size()) return std::nullopt;
  return unix_seconds(y, mo, d, h, mi, sec) - offset;
}

}  // namespace longctx::memory
