// Recall of earlier turns verbatim: BM25 (SQLite FTS5, through TextAnalyzer) over a
// conversation's turns, then neighbour smoothing — a turn also scores a share of its best
// adjacent turn's match, so the answer that follows a matching question (or the question before
// a matching answer) ranks next to it — and the K best distinct turns.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "memory/store.h"
#include "memory/text_analyzer.h"

namespace longctx::memory {

struct RecallOptions {
  int k = 10;                     // turns returned
  int candidates = 256;           // BM25 matches considered before smoothing
  double neighbour_weight = 0.5;  // share of the best adjacent turn's score a turn gains
  double meta_weight = 0.5;       // weight of speaker name and time against the text (1)
};

struct RecallHit {
  int64_t pos = 0;
  double score = 0;  // after smoothing
  double bm25 = 0;   // the turn's own match (0 when only a neighbour matched)
};

// The FTS5 query for text: its query words, each quoted, joined by OR ("" when none).
std::string fts_query(const TextAnalyzer& analyzer, std::string_view text);

// The k best turns of conv for query, skipping turns for which skip(pos) is true (the recent
// window, turns already in the prompt); skip may be empty.
Result<std::vector<RecallHit>> recall_search(Store& store, const TextAnalyzer& analyzer,
                                             int64_t conv, std::string_view query,
                                             const RecallOptions& opt,
                                             const std::function<bool(int64_t)>& skip = {});

}  // namespace longctx::memory
