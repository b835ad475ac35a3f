// The summariser's prompt: what the model is asked at a compaction (fold the evicted turns into
// the previous summary, keep names, numbers, dates and decisions, stay within a token bound, and
// propose durable facts), and the parsing of its answer into a summary and proposed facts.
// The default text is documented in docs/MEMORY.md and can be replaced (--summary-prompt FILE);
// a replacement uses the same {placeholders}.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "memory/store.h"

namespace longctx::memory {

// The default instruction. Placeholders: {previous_summary}, {turns}, {max_words}.
extern const char* const kDefaultSummaryPrompt;

// The user message for the summariser: template with its placeholders filled. Turns are written
// one per line as "[pos · time · speaker] text"; turns longer than max_turn_chars are cut in the
// middle (marked with " … ").
std::string build_summary_request(std::string_view templ, std::string_view previous_summary,
                                  const std::vector<Turn>& turns, int max_words,
                                  size_t max_turn_chars = 4000);

struct SummaryAnswer {
  std::string summary;             // the text before the first "FACT:" line, trimmed
  std::vector<std::string> facts;  // the "FACT: ..." lines, trimmed, without the tag
};

// Splits the model's answer (a <think> block, if any, is dropped).
SummaryAnswer parse_summary_answer(std::string_view answer);

// One line of a turn as the summariser and the recall block show it.
std::string turn_line(const Turn& t, size_t max_chars = 0);

}  // namespace longctx::memory
