// Recall search: FTS5 BM25 candidates, neighbour smoothing, top K.
#include "memory/recall.h"

#include <algorithm>
#include <unordered_map>

namespace longctx::memory {

std::string fts_query(const TextAnalyzer& analyzer, std::string_view text) {
  std::string q;
  for (const std::string& w : analyzer.query_words(text)) {
    if (!q.empty()) q += " OR ";
    q += '"';
    for (char c : w) {
      if (c == '"') q += '"';  // FTS5 string escape: a doubled quote
      q += c;
    }
    q += '"';
  }
  return q;
}

Result<std::vector<RecallHit>> recall_search(Store& store, const TextAnalyzer& analyzer,
                                             int64_t conv, std::string_view query,
                                             const RecallOptions& opt,
                                             const std::function<bool(int64_t)>& skip) {
  std::vector<RecallHit> out;
  const std::string q = fts_query(analyzer, query);
  if (q.empty() || opt.k <= 0) return out;
  Result<std::vector<TurnMatch>> m =
      store.match(conv, q, std::max(opt.candidates, opt.k), opt.meta_weight);
  if (!m.is_ok()) return m.status();
  // Own scores, then each matched turn lends a share of its score to its two neighbours; a
  // turn keeps the larger loan (two matching neighbours do not add up).
  std::unordered_map<int64_t, RecallHit> by_pos;
  by_pos.reserve(m->size() * 3);
  for (const TurnMatch& t : *m) by_pos[t.pos] = RecallHit{t.pos, t.score, t.score};
  std::unordered_map<int64_t, double> loan;
  for (const TurnMatch& t : *m) {
    for (int64_t n : {t.pos - 1, t.pos + 1}) {
      if (n < 0) continue;
      double& l = loan[n];
      l = std::max(l, opt.neighbour_weight * t.score);
    }
  }
  for (const auto& [pos, l] : loan) {
    RecallHit& h = by_pos[pos];
    h.pos = pos;
    h.score = h.bm25 + l;
  }
  out.reserve(by_pos.size());
  for (const auto& [pos, h] : by_pos) {
    if (skip && skip(pos)) continue;
    out.push_back(h);
  }
  // Best first; ties by position so results are stable.
  std::sort(out.begin(), out.end(), [](const RecallHit& a, const RecallHit& b) {
    return a.score != b.score ? a.score > b.score : a.pos < b.pos;
  });
  // A neighbour loan may name a position past the end of the conversation.
  Result<int64_t> n = store.turn_count(conv);
  if (!n.is_ok()) return n.status();
  std::vector<RecallHit> top;
  for (const RecallHit& h : out) {
    if (h.pos >= *n) continue;
    top.push_back(h);
    if (static_cast<int>(top.size()) == opt.k) break;
  }
  return top;
}

}  // namespace longctx::memory
