// Recall search: FTS5 BM25 candidates, neighbour smoothing, top K.
#include "memory/recall.h"

#include <algorithm>
#include <string>
#include <unordered_map>
#include <unordered_set>

namespace longctx::memory {

namespace {

std::string quote(const std::string& w) {
  std::string q = "\"";
  for (char c : w) {
    if (c == '"') q += '"';  // FTS5 string escape: a doubled quote
    q += c;
  }
  return q + '"';
}

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const std::string& x : v) out += (out.empty() ? "" : sep) + x;
  return out;
}

}  // namespace

Result<QueryPlan> plan_query(Store& store, const TextAnalyzer& analyzer, int64_t conv,
                             std::string_view text, const RecallOptions& opt) {
  QueryPlan plan;
  struct W {
    std::string phrase;
    int64_t df;
    std::string word;
  };
  std::vector<W> rare, common;
  std::unordered_set<std::string> seen;  // by index terms: "moved" and "moving" are one word
  for (const std::string& word : analyzer.query_words(text)) {
    std::string key;
    analyzer.index_terms(word, [&](std::string_view t, int, int) {
      key.append(t);
      key += ' ';
    });
    if (key.empty() || !seen.insert(key).second) continue;
    const std::string phrase = quote(word);
    Result<int64_t> df = store.count_matches(conv, phrase, opt.common_df);
    if (!df.is_ok()) return df.status();
    if (*df == 0) continue;
    (*df <= opt.common_df ? rare : common).push_back(W{phrase, *df, word});
  }
  if (rare.empty() && common.empty()) return plan;
  std::vector<std::string> cp;
  for (const W& w : common) cp.push_back(w.phrase);
  if (rare.empty()) {
    // Every word is common. The turns holding the two rarest (counted further, up to 16x the
    // limit) select, or the rarest alone when no turn holds both; of those, only the latest
    // 4 x common_df are scored (an uninformative query prefers recent turns), so a search stays
    // bounded however common its words are.
    for (W& w : common) {
      Result<int64_t> df = store.count_matches(conv, w.phrase, 16 * opt.common_df);
      if (!df.is_ok()) return df.status();
      w.df = *df;
    }
    std::stable_sort(common.begin(), common.end(),
                     [](const W& a, const W& b) { return a.df < b.df; });
    cp.clear();
    for (const W& w : common) {
      cp.push_back(w.phrase);
      plan.dfs.push_back(w.df);
      plan.common.push_back(w.word);
    }
    std::string sel = cp[0];
    plan.skip = 1;
    if (cp.size() >= 2) {
      Result<int64_t> both = store.count_matches(conv, cp[0] + " AND " + cp[1], 1);
      if (!both.is_ok()) return both.status();
      if (*both > 0) {
        sel = cp[0] + " AND " + cp[1];
        plan.skip = 2;
      }
    }
    Result<int64_t> lo = store.nth_latest_match(conv, sel, 4 * opt.common_df);
    if (!lo.is_ok()) return lo.status();
    plan.min_pos = std::max<int64_t>(0, *lo);
    plan.expr = "(" + sel + ") AND (" + join(cp, " OR ") + ")";
    return plan;
  }
  std::vector<std::string> rp;
  for (const W& w : rare) {
    rp.push_back(w.phrase);
    plan.dfs.push_back(w.df);
    plan.rare.push_back(w.word);
  }
  for (const W& w : common) {
    plan.dfs.push_back(w.df);
    plan.common.push_back(w.word);
  }
  const std::string r = join(rp, " OR ");
  if (cp.empty()) {
    plan.expr = r;
    plan.skip = 0;
  } else {
    plan.expr = "(" + r + ") AND (" + r + " OR " + join(cp, " OR ") + ")";
    plan.skip = static_cast<int>(rp.size());
  }
  return plan;
}

Result<std::vector<RecallHit>> recall_search(Store& store, const TextAnalyzer& analyzer,
                                             int64_t conv, std::string_view query,
                                             const RecallOptions& opt,
                                             const std::function<bool(int64_t)>& skip) {
  std::vector<RecallHit> out;
  if (opt.k <= 0) return out;
  Result<QueryPlan> plan = plan_query(store, analyzer, conv, query, opt);
  if (!plan.is_ok()) return plan.status();
  if (plan->expr.empty()) return out;
  Result<std::vector<TurnMatch>> m =
      store.match(conv, plan->expr, plan->skip, plan->dfs, std::max(opt.candidates, opt.k),
                  opt.meta_weight, plan->min_pos);
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
