// Recall search: FTS5 BM25 candidates, a date window, pseudo-relevance feedback, neighbour
// smoothing, top K.
#include "memory/recall.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "memory/dates.h"

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

// A word's index terms as one key: "moved" and "moving" are one word.
std::string term_key(const TextAnalyzer& analyzer, std::string_view word) {
  std::string key;
  analyzer.index_terms(word, [&](std::string_view t, int, int) {
    key.append(t);
    key += ' ';
  });
  return key;
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
    const std::string key = term_key(analyzer, word);
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
    plan.phrases = cp;
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
  plan.phrases = rp;
  plan.phrases.insert(plan.phrases.end(), cp.begin(), cp.end());
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

namespace {

constexpr size_t kMaxFeedbackWords = 40;  // feedback words whose turns are counted, per search
// Share of the first search's best score a turn found only through feedback may reach; 0.5 to
// 1.0 measured within 0.005 of each other (recall@10, synthetic benchmark).
constexpr double kFeedbackCap = 0.75;

// BM25's idf of a word in df of n turns, as lcx_bm25 computes it.
double idf(double n, double df) { return std::max(1e-6, std::log((n - df + 0.5) / (df + 0.5))); }

// The date window: the first period the query names that holds turns becomes sc's bonus, and
// its words are blanked out of *text.
Status apply_date_window(Store& store, const TextAnalyzer& analyzer, int64_t conv, int64_t n_turns,
                         const RecallOptions& opt, std::string* text, MatchScoring* sc) {
  if (opt.date_weight <= 0) return Status::ok();
  for (const DatePeriod& p : find_periods(analyzer, *text)) {
    Result<std::pair<int64_t, int64_t>> r = store.time_range(conv, p.from, p.to);
    if (!r.is_ok()) return r.status();
    const auto [first, last] = *r;
    if (first >= last) continue;
    sc->bonus_from = first;
    sc->bonus_to = last;
    sc->bonus =
        opt.date_weight * idf(static_cast<double>(n_turns), static_cast<double>(last - first));
    text->replace(static_cast<size_t>(p.begin), static_cast<size_t>(p.end - p.begin),
                  static_cast<size_t>(p.end - p.begin), ' ');
    break;
  }
  return Status::ok();
}

// Feedback words and their weights, as the phrases of a second search.
struct Expansion {
  std::vector<std::string> phrases;
  std::vector<int64_t> dfs;
  std::vector<double> weights;
};

struct FeedbackWord {
  std::string word;  // folded surface form, searched for as a phrase
  double rel = 0;    // the best score of a feedback turn holding it, relative to the first's
  double value = 0;  // rel * idf: the order of choice
  int64_t df = 0;
};

// The words of the first search's best turns that the query lacks (by index term), each with
// the relative score of the best turn holding it.
Result<std::vector<FeedbackWord>> feedback_words(Store& store, const TextAnalyzer& analyzer,
                                                 int64_t conv, const QueryPlan& plan,
                                                 const std::vector<TurnMatch>& first,
                                                 const RecallOptions& opt) {
  std::unordered_set<std::string> query_keys;
  for (const auto* ws : {&plan.rare, &plan.common}) {
    for (const std::string& w : *ws) query_keys.insert(term_key(analyzer, w));
  }
  std::vector<FeedbackWord> out;
  std::unordered_map<std::string, size_t> by_key;
  const size_t n_docs = std::min(first.size(), static_cast<size_t>(opt.feedback_docs));
  for (size_t d = 0; d < n_docs && first[d].score > 0; ++d) {
    const double rel = first[d].score / first[0].score;
    Result<std::vector<Turn>> t = store.turns(conv, first[d].pos, first[d].pos + 1);
    if (!t.is_ok()) return t.status();
    if (t->empty()) continue;
    for (const Word& w : analyzer.words(t->front().content)) {
      if (TextAnalyzer::is_dropped(w, /*query=*/true)) continue;
      const std::string key = analyzer.stem(w) + ' ';
      if (query_keys.count(key)) continue;
      const auto it = by_key.find(key);
      if (it != by_key.end()) {
        out[it->second].rel = std::max(out[it->second].rel, rel);
      } else if (out.size() < kMaxFeedbackWords) {
        by_key.emplace(key, out.size());
        out.push_back(FeedbackWord{w.folded, rel});
      }
    }
  }
  return out;
}

// Feedback (see recall.h): the opt.feedback_terms words of most value among those in 2 to
// opt.feedback_max_df turns (a word only its own turn holds finds nothing new; a common one
// only drifts).
Result<Expansion> feedback(Store& store, const TextAnalyzer& analyzer, int64_t conv,
                           int64_t n_turns, const QueryPlan& plan,
                           const std::vector<TurnMatch>& first, const RecallOptions& opt) {
  Expansion ex;
  if (opt.feedback_terms <= 0 || opt.feedback_weight <= 0 || first.empty()) return ex;
  Result<std::vector<FeedbackWord>> words = feedback_words(store, analyzer, conv, plan, first, opt);
  if (!words.is_ok()) return words.status();
  std::vector<FeedbackWord> kept;
  for (FeedbackWord& w : *words) {
    Result<int64_t> df = store.count_matches(conv, quote(w.word), opt.feedback_max_df);
    if (!df.is_ok()) return df.status();
    if (*df < 2 || *df > opt.feedback_max_df) continue;
    w.df = *df;
    w.value = w.rel * idf(static_cast<double>(n_turns), static_cast<double>(*df));
    kept.push_back(std::move(w));
  }
  std::stable_sort(kept.begin(), kept.end(),
                   [](const FeedbackWord& a, const FeedbackWord& b) { return a.value > b.value; });
  kept.resize(std::min(kept.size(), static_cast<size_t>(opt.feedback_terms)));
  for (const FeedbackWord& w : kept) {
    ex.phrases.push_back(quote(w.word));
    ex.dfs.push_back(w.df);
    ex.weights.push_back(opt.feedback_weight * w.rel);
  }
  return ex;
}

// The second search: turns holding a feedback word, scored by the query's words and the
// feedback words together: "(fb...) AND (fb... OR query...)".
Result<std::vector<TurnMatch>> feedback_search(Store& store, int64_t conv, const QueryPlan& plan,
                                               const Expansion& ex, MatchScoring sc,
                                               const RecallOptions& opt) {
  const std::string f = join(ex.phrases, " OR ");
  std::string expr = "(" + f + ") AND (" + f;
  for (const std::string& p : plan.phrases) expr += " OR " + p;
  expr += ")";
  sc.skip = static_cast<int>(ex.phrases.size());
  sc.dfs = ex.dfs;
  sc.dfs.insert(sc.dfs.end(), plan.dfs.begin(), plan.dfs.end());
  sc.weights = ex.weights;
  sc.weights.resize(sc.dfs.size(), 1.0);
  return store.match(conv, expr, sc, std::max(opt.candidates, opt.k), plan.min_pos);
}

// Neighbour smoothing of the turns' own scores, and the k best turns before n_turns for which
// skip is false.
std::vector<RecallHit> smooth_top(const std::unordered_map<int64_t, double>& own, int64_t n_turns,
                                  const RecallOptions& opt,
                                  const std::function<bool(int64_t)>& skip) {
  // Each matched turn lends a share of its score to its two neighbours; a turn keeps the larger
  // loan (two matching neighbours do not add up).
  std::unordered_map<int64_t, RecallHit> by_pos;
  by_pos.reserve(own.size() * 3);
  for (const auto& [pos, s] : own) by_pos[pos] = RecallHit{pos, s, s};
  std::unordered_map<int64_t, double> loan;
  for (const auto& [pos, s] : own) {
    for (int64_t n : {pos - 1, pos + 1}) {
      if (n < 0 || n >= n_turns) continue;
      double& l = loan[n];
      l = std::max(l, opt.neighbour_weight * s);
    }
  }
  for (const auto& [pos, l] : loan) {
    RecallHit& h = by_pos[pos];
    h.pos = pos;
    h.score = h.bm25 + l;
  }
  std::vector<RecallHit> out;
  out.reserve(by_pos.size());
  for (const auto& [pos, h] : by_pos) {
    if (!skip || !skip(pos)) out.push_back(h);
  }
  // Best first; ties by position so results are stable.
  auto better = [](const RecallHit& a, const RecallHit& b) {
    return a.score != b.score ? a.score > b.score : a.pos < b.pos;
  };
  const size_t k = std::min(out.size(), static_cast<size_t>(opt.k));
  std::partial_sort(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(k), out.end(), better);
  out.resize(k);
  return out;
}

}  // namespace

Result<std::vector<RecallHit>> recall_search(Store& store, const TextAnalyzer& analyzer,
                                             int64_t conv, std::string_view query,
                                             const RecallOptions& opt,
                                             const std::function<bool(int64_t)>& skip) {
  if (opt.k <= 0) return std::vector<RecallHit>();
  Result<int64_t> n_turns = store.turn_count(conv);
  if (!n_turns.is_ok()) return n_turns.status();
  MatchScoring sc;
  sc.w_name = opt.name_weight;
  sc.w_time = opt.time_weight;
  std::string text(query);
  if (Status st = apply_date_window(store, analyzer, conv, *n_turns, opt, &text, &sc); !st) {
    return st;
  }
  Result<QueryPlan> plan = plan_query(store, analyzer, conv, text, opt);
  if (plan.is_ok() && plan->expr.empty() && text != query) {
    // The query is nothing but its period: its words are searched for too.
    plan = plan_query(store, analyzer, conv, query, opt);
  }
  if (!plan.is_ok()) return plan.status();
  if (plan->expr.empty()) return std::vector<RecallHit>();
  sc.skip = plan->skip;
  sc.dfs = plan->dfs;
  const int limit = std::max(opt.candidates, opt.k);
  Result<std::vector<TurnMatch>> first = store.match(conv, plan->expr, sc, limit, plan->min_pos);
  if (!first.is_ok()) return first.status();
  std::unordered_map<int64_t, double> own;
  for (const TurnMatch& t : *first) own[t.pos] = t.score;
  Result<Expansion> ex = feedback(store, analyzer, conv, *n_turns, *plan, *first, opt);
  if (!ex.is_ok()) return ex.status();
  if (!ex->phrases.empty()) {
    Result<std::vector<TurnMatch>> second = feedback_search(store, conv, *plan, *ex, sc, opt);
    if (!second.is_ok()) return second.status();
    // A turn found through feedback scores at most kFeedbackCap of the first search's best
    // score: it ranks below the turn it was found through, and a wrong first hit's near-copies
    // cannot crowd out the first search's own best matches.
    const double cap = kFeedbackCap * first->front().score;
    for (const TurnMatch& t : *second) own[t.pos] = std::max(own[t.pos], std::min(t.score, cap));
  }
  return smooth_top(own, *n_turns, opt, skip);
}

}  // namespace longctx::memory
