// History matching for serve --memory (history_sync.h).
//
// The request R is aligned with the stored turns S at a start p where S[p] == R[0]: p = 0 (the
// whole history) or p in the last |R| + 1 turns (a history trimmed at the front). The match
// length k is how many turns of R agree with S from p on; the best start has the longest match.
// Then, with j = p + k:
//  - j == |S|: R[k..] are new turns (none: the last stored user turn is answered again);
//  - j < |S| and R is fully matched: R was cut back to a stored user turn to regenerate its
//    reply: the turns after it are replaced;
//  - j < |S| otherwise: an edit at R[k]: stored turns from j on are replaced by R[k..].
// Deleting stored turns needs a match of at least two turns: a lone message that equals an old
// one ("hi") is a new message, never a rewind.
#include "memory/history_sync.h"

#include <string_view>

namespace longctx::memory {
namespace {

std::string_view normalized(std::string_view s, bool assistant) {
  auto trim = [](std::string_view& v) {
    while (!v.empty() &&
           (v.front() == ' ' || v.front() == '\n' || v.front() == '\r' || v.front() == '\t')) {
      v.remove_prefix(1);
    }
    while (!v.empty() &&
           (v.back() == ' ' || v.back() == '\n' || v.back() == '\r' || v.back() == '\t')) {
      v.remove_suffix(1);
    }
  };
  trim(s);
  if (assistant && s.substr(0, 7) == "<think>") {
    const size_t end = s.find("</think>");
    if (end != std::string_view::npos) {
      s.remove_prefix(end + 8);
      trim(s);
    }
  }
  return s;
}

}  // namespace

bool same_turn(const Turn& a, const Turn& b) {
  if (a.role != b.role) return false;
  const bool assistant = a.role == "assistant";
  return normalized(a.content, assistant) == normalized(b.content, assistant);
}

Result<HistorySync> sync_history(const std::vector<Turn>& request,
                                 const std::vector<Turn>& stored_head,
                                 const std::vector<Turn>& stored_tail, int64_t tail_first,
                                 int64_t n_stored, bool full_history) {
  HistorySync out;
  if (request.empty()) return invalid_argument("the request has no message to answer");
  auto stored_at = [&](int64_t pos) -> const Turn* {
    if (pos >= tail_first && pos - tail_first < static_cast<int64_t>(stored_tail.size())) {
      return &stored_tail[static_cast<size_t>(pos - tail_first)];
    }
    if (pos < static_cast<int64_t>(stored_head.size()))
      return &stored_head[static_cast<size_t>(pos)];
    return nullptr;
  };
  // The best start p and match length k.
  int64_t best_p = -1, best_k = 0;
  auto try_start = [&](int64_t p) {
    int64_t k = 0;
    while (k < static_cast<int64_t>(request.size()) && p + k < n_stored) {
      const Turn* s = stored_at(p + k);
      if (s == nullptr || !same_turn(*s, request[static_cast<size_t>(k)])) break;
      ++k;
    }
    if (k > best_k || (k == best_k && k > 0 && p > best_p)) {
      best_k = k;
      best_p = p;
    }
  };
  if (n_stored > 0) try_start(0);
  const int64_t r = static_cast<int64_t>(request.size());
  if (full_history) {
    // Aligned at the start, whatever the match length: the stored turns after the first
    // difference are replaced.
    const int64_t k = best_p == 0 ? best_k : 0;
    if (k < n_stored) out.truncate_from = k;
    out.append.assign(request.begin() + k, request.end());
  }
  for (int64_t p = std::max<int64_t>(1, n_stored - r - 1); !full_history && p < n_stored; ++p) {
    try_start(p);
  }
  const int64_t j = best_p + best_k;
  if (full_history) {
    // decided above
  } else if (best_k == 0) {
    out.append = request;
  } else if (j == n_stored) {
    out.append.assign(request.begin() + best_k, request.end());
  } else if (best_k >= 2 && best_k == r) {
    out.truncate_from = j;  // regenerate the reply to R's last turn
  } else if (best_k >= 2) {
    out.truncate_from = j;  // an edit
    out.append.assign(request.begin() + best_k, request.end());
  } else {
    out.append = request;  // a one-turn match inside the history: a new message
  }
  if (out.append.empty()) {
    const Turn& last = request.back();
    if (last.role != "user") {
      return invalid_argument(
          "every message of the request is already stored and the last is the assistant's: "
          "nothing to answer");
    }
    out.answer_stored = true;
  } else if (out.append.back().role == "assistant") {
    return invalid_argument(
        "with memory, the last message must be the user's (continuing an assistant message "
        "is not supported)");
  }
  return out;
}

}  // namespace longctx::memory
