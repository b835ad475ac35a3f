// Measuring recall: questions with known evidence turns, turn-level recall@5/10/25 (the share of
// a question's evidence turns among the top k, averaged over questions) by kind and conversation,
// and the in-process latency of each search. Used by `longctx memory bench` and the recall test.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "memory/recall.h"

namespace longctx::memory {

struct RecallQuestion {
  std::string conversation;
  std::string question;
  std::string kind;               // free label ("paraphrase", "date", ...); may be empty
  std::vector<int64_t> evidence;  // turn positions; may be empty (latency only)
};

// A JSON array of {"conversation", "question", "evidence"?: [turn ids], "kind"?}.
Result<std::vector<RecallQuestion>> parse_recall_questions(std::string_view json_text);

inline constexpr int kRecallAt[3] = {5, 10, 25};

struct RecallScores {
  int n = 0;           // questions with evidence
  double sum[3] = {};  // summed recall at kRecallAt
  double at(int i) const { return n ? sum[i] / n : 0.0; }
};

struct RecallReport {
  RecallScores all;
  std::map<std::string, RecallScores> by_kind;
  std::map<std::string, RecallScores> by_conversation;
  std::vector<double> latency_ms;  // one per question, sorted
  double latency_quantile(double q) const;
};

// Runs every question against store (conversations looked up by name; a missing one is an
// error). opt.k is raised to the largest kRecallAt.
Result<RecallReport> evaluate_recall(Store& store, const TextAnalyzer& analyzer,
                                     const std::vector<RecallQuestion>& questions,
                                     RecallOptions opt);

}  // namespace longctx::memory
