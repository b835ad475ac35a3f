// The summariser's prompt and the parsing of its answer.
#include "memory/summary_prompt.h"

namespace longctx::memory {

const char* const kDefaultSummaryPrompt =
    "You keep the running summary of a long conversation, so that it can go on after its "
    "oldest turns leave the context.\n\n"
    "Summary so far:\n{previous_summary}\n\n"
    "Turns to fold into it (each line: [turn · time · speaker] text):\n{turns}\n\n"
    "Write the updated summary in at most {max_words} words. Keep every name, number, date, "
    "place, decision, plan and preference; say who said or did what; keep what is still open. "
    "Drop greetings and small talk. Do not invent anything that is not in the summary or the "
    "turns. Write plain sentences, no preamble.\n"
    "Then, on separate lines, list at most 5 durable facts worth keeping for the rest of the "
    "conversation (identities, relationships, lasting preferences, commitments), each line "
    "starting with \"FACT: \". List none if there are none.";

namespace {

void replace_all(std::string* s, std::string_view key, std::string_view value) {
  for (size_t at = 0; (at = s->find(key, at)) != std::string::npos; at += value.size()) {
    s->replace(at, key.size(), value);
  }
}

std::string_view trim(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\n' || s.front() == '\r' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

// The first n bytes of s, not splitting a UTF-8 character.
std::string_view head(std::string_view s, size_t n) {
  if (n >= s.size()) return s;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

// The last n bytes of s, not splitting a UTF-8 character.
std::string_view tail(std::string_view s, size_t n) {
  if (n >= s.size()) return s;
  size_t at = s.size() - n;
  while (at < s.size() && (static_cast<unsigned char>(s[at]) & 0xC0) == 0x80) ++at;
  return s.substr(at);
}

}  // namespace

std::string turn_line(const Turn& t, size_t max_chars) {
  std::string line = "[" + std::to_string(t.pos);
  if (!t.time.empty()) line += " · " + t.time;
  line += " · " + (t.name.empty() ? t.role : t.name) + "] ";
  std::string text = t.content;
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  if (max_chars > 0 && text.size() > max_chars) {
    text = std::string(head(text, max_chars / 2)) + " … " + std::string(tail(text, max_chars / 2));
  }
  return line + text;
}

std::string build_summary_request(std::string_view templ, std::string_view previous_summary,
                                  const std::vector<Turn>& turns, int max_words,
                                  size_t max_turn_chars) {
  std::string lines;
  for (const Turn& t : turns) lines += turn_line(t, max_turn_chars) + "\n";
  std::string out(templ);
  replace_all(&out, "{previous_summary}",
              previous_summary.empty() ? "(none yet)" : previous_summary);
  replace_all(&out, "{turns}", trim(lines));
  replace_all(&out, "{max_words}", std::to_string(max_words));
  return out;
}

SummaryAnswer parse_summary_answer(std::string_view answer) {
  // A reasoning block, closed or not, is not part of the answer.
  if (const size_t end = answer.find("</think>"); end != std::string_view::npos) {
    answer.remove_prefix(end + 8);
  } else if (answer.find("<think>") != std::string_view::npos) {
    answer = answer.substr(0, answer.find("<think>"));
  }
  SummaryAnswer out;
  std::string summary;
  bool in_facts = false;
  size_t at = 0;
  while (at <= answer.size()) {
    size_t end = answer.find('\n', at);
    if (end == std::string_view::npos) end = answer.size();
    std::string_view line = trim(answer.substr(at, end - at));
    at = end + 1;
    std::string_view bare = line;
    while (!bare.empty() && (bare.front() == '-' || bare.front() == '*' || bare.front() == ' ')) {
      bare.remove_prefix(1);
    }
    if (bare.substr(0, 5) == "FACT:" || bare.substr(0, 5) == "Fact:") {
      in_facts = true;
      const std::string_view f = trim(bare.substr(5));
      if (!f.empty() && f != "none" && f != "None") out.facts.emplace_back(f);
      continue;
    }
    if (in_facts) continue;  // text after the facts is not summary
    summary.append(line);
    summary += '\n';
  }
  out.summary = std::string(trim(summary));
  return out;
}

}  // namespace longctx::memory
