// lcx_bm25(turn_fts, skip, w_content, w_name, w_time, n_docs, 'df0,df1,...', 'q0,q1,...',
//          bonus_lo, bonus_hi, bonus): BM25F of a row over the query's phrases from index skip on,
// with the document frequencies (and the number of documents) of the conversation searched and
// each phrase's query weight passed in by the caller, plus a flat bonus for rows with
// bonus_lo <= rowid < bonus_hi (the date window of a query, see recall.h).
//
// Why not FTS5's own bm25(): recall.cpp matches with "(rare) AND (rare OR common)" so that FTS5
// visits only rows holding a rare term while the common terms still score them (Lucene's
// "common terms" query); the rare terms appear twice in that expression and must count once.
// The caller counts each term's documents within the conversation (FTS5's own statistics are over
// the whole table, every conversation), capped where a term is common, so the per-query scan of
// every phrase's full posting list that bm25() does to count its hits is skipped too. Query
// weights let pseudo-relevance feedback weigh its words by the turn they came from.
//
// idf(p) = ln((N - n(p) + 0.5) / (n(p) + 0.5)), at least 1e-6, as in FTS5: a word in half the
// turns or more scores nothing, which keeps a long query's many common words (the memory loop
// asks with whole messages) from outweighing its one rare word. (Lucene's always-positive
// ln(1 + ...) measured +0.005 recall@10 on the synthetic benchmark but lost exactly that case.)
// Score = sum over phrases p of q(p) * idf(p) * f(p) * (k1 + 1) / (f(p) + k1 * (1 - b + b * D /
// avgD)), f(p) the column-weighted count of p in the row (BM25F: the fields' counts are summed
// before saturation), D the row's tokens in all columns, avgD their mean over the table,
// k1 = 1.2, b = 0.75 (FTS5's values), q(p) the phrase's query weight. Larger is better.
#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "memory/fts_tokenizer.h"

namespace longctx::memory {
namespace {

constexpr int kArgs = 10;
constexpr int kMaxPhrases = 64;

struct QueryData {
  std::vector<double> weight;  // q(p) * idf(p) per phrase from skip on
  double avg_len = 1;
};

void free_query_data(void* p) { delete static_cast<QueryData*>(p); }

// The numbers of a comma-separated list.
std::vector<double> parse_list(sqlite3_value* v) {
  std::vector<double> out;
  const char* list = reinterpret_cast<const char*>(sqlite3_value_text(v));
  for (const char* p = list ? list : ""; *p;) {
    char* end = nullptr;
    const double x = std::strtod(p, &end);
    if (end == p) break;
    out.push_back(x);
    p = *end == ',' ? end + 1 : end;
  }
  return out;
}

// The per-query data, made at the first row: idf from the caller's counts, query weights (1 when
// the list is shorter), and the mean row length.
QueryData* make_query_data(const Fts5ExtensionApi* api, Fts5Context* fts, sqlite3_value** val) {
  auto* q = new QueryData();
  const double n_docs = sqlite3_value_double(val[4]);
  const std::vector<double> dfs = parse_list(val[5]);
  const std::vector<double> qw = parse_list(val[6]);
  for (size_t i = 0; i < dfs.size(); ++i) {
    const double idf = std::log((n_docs - dfs[i] + 0.5) / (dfs[i] + 0.5));
    q->weight.push_back((i < qw.size() ? qw[i] : 1.0) * std::max(1e-6, idf));
  }
  sqlite3_int64 rows = 0, tokens = 0;
  if (api->xRowCount(fts, &rows) == SQLITE_OK &&
      api->xColumnTotalSize(fts, -1, &tokens) == SQLITE_OK && rows > 0) {
    q->avg_len = static_cast<double>(tokens) / static_cast<double>(rows);
  }
  return q;
}

void lcx_bm25(const Fts5ExtensionApi* api, Fts5Context* fts, sqlite3_context* out, int n_val,
              sqlite3_value** val) {
  if (n_val != kArgs) {
    sqlite3_result_error(out,
                         "lcx_bm25: expected (skip, w_content, w_name, w_time, n_docs, df list, "
                         "weight list, bonus_lo, bonus_hi, bonus)",
                         -1);
    return;
  }
  const int skip = sqlite3_value_int(val[0]);
  const double w_col[3] = {sqlite3_value_double(val[1]), sqlite3_value_double(val[2]),
                           sqlite3_value_double(val[3])};
  auto* q = static_cast<QueryData*>(api->xGetAuxdata(fts, 0));
  if (q == nullptr) {
    q = make_query_data(api, fts, val);
    if (api->xSetAuxdata(fts, q, free_query_data) != SQLITE_OK) {
      sqlite3_result_error_nomem(out);
      return;
    }
  }
  const int n_phrase = api->xPhraseCount(fts);
  if (n_phrase - skip != static_cast<int>(q->weight.size())) {
    sqlite3_result_error(out, "lcx_bm25: df list does not match the query's phrases", -1);
    return;
  }
  double freq[kMaxPhrases] = {};
  const int n_scored = std::min(n_phrase - skip, kMaxPhrases);
  int n_inst = 0;
  if (api->xInstCount(fts, &n_inst) != SQLITE_OK) {
    sqlite3_result_error_code(out, SQLITE_ERROR);
    return;
  }
  for (int i = 0; i < n_inst; ++i) {
    int phrase = 0, col = 0, off = 0;
    if (api->xInst(fts, i, &phrase, &col, &off) != SQLITE_OK) continue;
    const int p = phrase - skip;
    if (p < 0 || p >= n_scored || col < 0 || col > 2) continue;
    freq[p] += w_col[col];
  }
  int len = 0;
  api->xColumnSize(fts, -1, &len);
  constexpr double k1 = 1.2, b = 0.75;
  const double norm = k1 * (1 - b + b * static_cast<double>(len) / q->avg_len);
  double score = 0;
  for (int p = 0; p < n_scored; ++p) {
    if (freq[p] > 0)
      score += q->weight[static_cast<size_t>(p)] * freq[p] * (k1 + 1) / (freq[p] + norm);
  }
  const sqlite3_int64 rowid = api->xRowid(fts);
  if (rowid >= sqlite3_value_int64(val[7]) && rowid < sqlite3_value_int64(val[8])) {
    score += sqlite3_value_double(val[9]);
  }
  sqlite3_result_double(out, score);
}

}  // namespace

Status register_fts_rank(fts5_api* api) {
  if (api->xCreateFunction(api, "lcx_bm25", nullptr, lcx_bm25, nullptr) != SQLITE_OK) {
    return unsupported("could not register the memory store's ranking function");
  }
  return Status::ok();
}

}  // namespace longctx::memory
