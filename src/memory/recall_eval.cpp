// Turn-level recall@k and search latency over a question set.
#include "memory/recall_eval.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <unordered_set>

namespace longctx::memory {

Result<std::vector<RecallQuestion>> parse_recall_questions(std::string_view json_text) {
  nlohmann::json j = nlohmann::json::parse(json_text, nullptr, false);
  if (j.is_discarded() || !j.is_array()) {
    return invalid_argument("questions: expected a JSON array of {conversation, question, ...}");
  }
  std::vector<RecallQuestion> out;
  for (size_t i = 0; i < j.size(); ++i) {
    const auto& q = j[i];
    const std::string where = "questions[" + std::to_string(i) + "]";
    if (!q.is_object() || !q.contains("question") || !q["question"].is_string()) {
      return invalid_argument(where + ": \"question\" (a string) is missing");
    }
    RecallQuestion r;
    r.question = q["question"].get<std::string>();
    if (q.contains("conversation") && q["conversation"].is_string()) {
      r.conversation = q["conversation"].get<std::string>();
    }
    if (q.contains("kind") && q["kind"].is_string()) r.kind = q["kind"].get<std::string>();
    if (q.contains("evidence")) {
      if (!q["evidence"].is_array()) return invalid_argument(where + ": \"evidence\" not an array");
      for (const auto& e : q["evidence"]) {
        if (!e.is_number_integer()) return invalid_argument(where + ": evidence ids are integers");
        r.evidence.push_back(e.get<int64_t>());
      }
    }
    out.push_back(std::move(r));
  }
  return out;
}

double RecallReport::latency_quantile(double q) const {
  if (latency_ms.empty()) return 0;
  const size_t i = std::min(latency_ms.size() - 1,
                            static_cast<size_t>(q * static_cast<double>(latency_ms.size())));
  return latency_ms[i];
}

Result<RecallReport> evaluate_recall(Store& store, const TextAnalyzer& analyzer,
                                     const std::vector<RecallQuestion>& questions,
                                     RecallOptions opt) {
  opt.k = std::max(opt.k, kRecallAt[2]);
  RecallReport rep;
  std::map<std::string, int64_t> conv_ids;
  for (const RecallQuestion& q : questions) {
    auto it = conv_ids.find(q.conversation);
    if (it == conv_ids.end()) {
      Result<std::optional<Conversation>> c = store.find(q.conversation);
      if (!c.is_ok()) return c.status();
      if (!c->has_value()) return not_found("no conversation '" + q.conversation + "'");
      it = conv_ids.emplace(q.conversation, (*c)->id).first;
    }
    const auto t0 = std::chrono::steady_clock::now();
    Result<std::vector<RecallHit>> hits =
        recall_search(store, analyzer, it->second, q.question, opt);
    const auto t1 = std::chrono::steady_clock::now();
    if (!hits.is_ok()) return hits.status();
    rep.latency_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    if (q.evidence.empty()) continue;
    const std::unordered_set<int64_t> ev(q.evidence.begin(), q.evidence.end());
    double found[3] = {};
    for (size_t r = 0; r < hits->size(); ++r) {
      if (!ev.count((*hits)[r].pos)) continue;
      for (int i = 0; i < 3; ++i) {
        if (static_cast<int>(r) < kRecallAt[i]) found[i] += 1.0;
      }
    }
    for (RecallScores* s : {&rep.all, &rep.by_kind[q.kind], &rep.by_conversation[q.conversation]}) {
      ++s->n;
      for (int i = 0; i < 3; ++i) s->sum[i] += found[i] / static_cast<double>(ev.size());
    }
  }
  std::sort(rep.latency_ms.begin(), rep.latency_ms.end());
  return rep;
}

}  // namespace longctx::memory
