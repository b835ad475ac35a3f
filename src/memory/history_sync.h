// Matching a request's messages with a stored conversation (serve --memory): clients send only
// their new message, or — as SillyTavern and Open WebUI do — the whole history (perhaps trimmed
// at the front by their own context limit), an edited history, or a history cut back to a user
// message to regenerate its reply. The stored turns they repeat are recognised and skipped, and
// the turns an edit or a regeneration changes are replaced.
#pragma once

#include <cstdint>
#include <vector>

#include "memory/store.h"

namespace longctx::memory {

struct HistorySync {
  int64_t truncate_from = -1;  // delete stored turns from here on (-1: none)
  std::vector<Turn> append;    // then store these
  bool answer_stored = false;  // nothing new: answer the last stored turn (a user turn) again
};

// request: the request's non-system messages in order. stored_head: the conversation's first
// turns (at least 2 when it has them); stored_tail: its last turns, from position tail_first on
// (at least as many as the request has, plus one); n_stored: how many turns it has. An error
// when the request leaves nothing to answer (it ends with a stored assistant turn).
// full_history: the client says the request holds the whole conversation (the server's
// "history": "full"): it is matched from the first turn only, and whatever is stored beyond the
// first difference is replaced — a lone first message then restarts the conversation. stored_head
// must then hold min(n_stored, |request| + 1) turns.
Result<HistorySync> sync_history(const std::vector<Turn>& request,
                                 const std::vector<Turn>& stored_head,
                                 const std::vector<Turn>& stored_tail, int64_t tail_first,
                                 int64_t n_stored, bool full_history = false);

// Stored and requested turns are the same message: same role and the same text (an assistant
// text's leading <think> block and surrounding whitespace aside).
bool same_turn(const Turn& a, const Turn& b);

}  // namespace longctx::memory
