// Recall of earlier turns verbatim: BM25 (SQLite FTS5, through TextAnalyzer) over a
// conversation's turns — candidates are the turns holding a rare query word, common words only
// add to their scores, so a search costs the rare words' postings even at 100,000 turns — with
// three additions, then the K best distinct turns:
//  - a date window: a period the query names ("in March 2024", dates.h) is one more query term,
//    held by the turns whose time lies in it (found by position, turns being in time order);
//  - pseudo-relevance feedback (RM3, Lavrenko & Croft / Abdul-Jaleel et al. 2004): the rarest
//    words of the first search's best turns that the query lacks are searched for again with
//    the query, so the turn that names what a first hit names ("the desk lamp" a question about
//    "Igor's birthday present" found) ranks too, below that hit — a second search that costs
//    only those rare words' postings;
//  - neighbour smoothing: a turn also scores a share of its best adjacent turn's match, so the
//    answer that follows a matching question (or the question before a matching answer) ranks
//    next to it.
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
  double name_weight = 1.0;       // weight of the speaker-name column against the text (1)
  double time_weight = 0.5;       // weight of the time column against the text
  int64_t common_df = 1500;       // a word in more turns than this only scores, never selects
  // Date window: a turn in the period gains date_weight * idf(turns in the period), the score
  // of one more query word those turns hold; the words naming the period are left out of the
  // query (the window stands for them). 0: no window.
  double date_weight = 1.0;
  // Feedback: up to feedback_terms words of the best feedback_docs turns of the first search,
  // in at least 2 and at most feedback_max_df turns (rare words name something specific: a
  // person, a place, a thing; commoner ones drift to other topics), weighted feedback_weight
  // times their turn's score relative to the best one's. A turn found only through them ranks
  // below the best first hit. 0 terms: no feedback.
  int feedback_docs = 2;
  int feedback_terms = 4;
  double feedback_weight = 1.0;
  int64_t feedback_max_df = 4;
};

// The FTS5 query for a text: its words' phrases, the rare ones (in at most opt.common_df turns
// of conv) selecting candidates, "(rare...) AND (rare... OR common...)", and each scored
// phrase's document count in conv for lcx_bm25. Words no turn holds are left out.
struct QueryPlan {
  std::string expr;          // "" when no word of the text is in any turn
  int skip = 0;              // leading phrases lcx_bm25 does not score (the selecting copy)
  std::vector<int64_t> dfs;  // document counts of the scored phrases, in order
  int64_t min_pos = 0;       // turns before it are not candidates (when every word is common)
  std::vector<std::string> rare, common;  // the words, for reports and tests
  std::vector<std::string> phrases;       // the scored phrases, in the order of dfs
};

struct RecallHit {
  int64_t pos = 0;
  double score = 0;  // after smoothing
  double bm25 = 0;   // the turn's own match, feedback and date window included (0 when only a
                     // neighbour matched)
};

Result<QueryPlan> plan_query(Store& store, const TextAnalyzer& analyzer, int64_t conv,
                             std::string_view text, const RecallOptions& opt);

// The k best turns of conv for query, skipping turns for which skip(pos) is true (the recent
// window, turns already in the prompt); skip may be empty.
Result<std::vector<RecallHit>> recall_search(Store& store, const TextAnalyzer& analyzer,
                                             int64_t conv, std::string_view query,
                                             const RecallOptions& opt,
                                             const std::function<bool(int64_t)>& skip = {});

}  // namespace longctx::memory
