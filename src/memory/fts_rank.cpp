// lcx_bm25(turn_fts, skip, w_content, w_meta, n_docs, 'df0,df1,...'): BM25 of a row over the
// query's phrases from index skip on, with the document frequencies (and the number of
// documents) of the conversation searched passed in by the caller.
//
// Why not FTS5's own bm25(): recall.cpp matches with "(rare) AND (rare OR common)" so that FTS5
// visits only rows holding a rare term while the common terms still score them (Lucene's
// "common terms" query); the rare terms appear twice in that expression and must count once.
// The caller counts each term's documents within the conversation (FTS5's own statistics are over
// the whole table, every conversation), capped where a term is common, so the per-query scan of
// every phrase's full posting list that bm25() does to count its hits is skipped too.
//
// idf(p) = ln((N - n(p) + 0.5) / (n(p) + 0.5)), at least 1e-6, as in FTS5.
// Score = sum over phrases p of idf(p) * f(p) * (k1 + 1) / (f(p) + k1 * (1 - b + b * D / avgD)),
// f(p) the column-weighted count of p in the row, D the row's tokens in all columns, avgD their
// mean over the table, k1 = 1.2, b = 0.75 (FTS5's values). Larger is better.
#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "memory/fts_tokenizer.h"

namespace longctx::memory {
namespace {

struct QueryData {
  std::vector<double> idf;  // per phrase from skip on
  double avg_len = 1;
};

void free_query_data(void* p) { delete static_cast<QueryData*>(p); }

void lcx_bm25(const Fts5ExtensionApi* api, Fts5Context* fts, sqlite3_context* out, int n_val,
              sqlite3_value** val) {
  if (n_val != 5) {
    sqlite3_result_error(out, "lcx_bm25: expected (skip, w_content, w_meta, n_docs, df list)", -1);
    return;
  }
  const int skip = sqlite3_value_int(val[0]);
  const double w_content = sqlite3_value_double(val[1]);
  const double w_meta = sqlite3_value_double(val[2]);
  auto* q = static_cast<QueryData*>(api->xGetAuxdata(fts, 0));
  if (q == nullptr) {
    q = new QueryData();
    const double n_docs = sqlite3_value_double(val[3]);
    const char* list = reinterpret_cast<const char*>(sqlite3_value_text(val[4]));
    for (const char* p = list ? list : ""; *p;) {
      char* end = nullptr;
      const double df = std::strtod(p, &end);
      if (end == p) break;
      q->idf.push_back(std::max(1e-6, std::log((n_docs - df + 0.5) / (df + 0.5))));
      p = *end == ',' ? end + 1 : end;
    }
    sqlite3_int64 rows = 0, tokens = 0;
    if (api->xRowCount(fts, &rows) == SQLITE_OK &&
        api->xColumnTotalSize(fts, -1, &tokens) == SQLITE_OK && rows > 0) {
      q->avg_len = static_cast<double>(tokens) / static_cast<double>(rows);
    }
    if (api->xSetAuxdata(fts, q, free_query_data) != SQLITE_OK) {
      sqlite3_result_error_nomem(out);
      return;
    }
  }
  const int n_phrase = api->xPhraseCount(fts);
  if (n_phrase - skip != static_cast<int>(q->idf.size())) {
    sqlite3_result_error(out, "lcx_bm25: idf list does not match the query's phrases", -1);
    return;
  }
  double freq[64] = {};
  const int n_scored = std::min(n_phrase - skip, 64);
  int n_inst = 0;
  if (api->xInstCount(fts, &n_inst) != SQLITE_OK) {
    sqlite3_result_error_code(out, SQLITE_ERROR);
    return;
  }
  for (int i = 0; i < n_inst; ++i) {
    int phrase = 0, col = 0, off = 0;
    if (api->xInst(fts, i, &phrase, &col, &off) != SQLITE_OK) continue;
    const int p = phrase - skip;
    if (p < 0 || p >= n_scored) continue;
    freq[p] += col == 0 ? w_content : w_meta;
  }
  int len = 0;
  api->xColumnSize(fts, -1, &len);
  constexpr double k1 = 1.2, b = 0.75;
  const double norm = k1 * (1 - b + b * static_cast<double>(len) / q->avg_len);
  double score = 0;
  for (int p = 0; p < n_scored; ++p) {
    if (freq[p] > 0)
      score += q->idf[static_cast<size_t>(p)] * freq[p] * (k1 + 1) / (freq[p] + norm);
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
