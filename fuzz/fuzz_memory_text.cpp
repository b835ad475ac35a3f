// libFuzzer target: the memory loop's parsers of untrusted text — a conversation file (import,
// JSON array or JSON lines), the recall's text analysis (words, index terms, query words), turn
// times (parse_time) and the periods a query names (find_periods). Each must return an answer or
// an error for any bytes, never crash or read out of bounds; index terms must lie in the input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "memory/conversation_file.h"
#include "memory/dates.h"
#include "memory/text_analyzer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  static const longctx::memory::TextAnalyzer analyzer;
  (void)longctx::memory::parse_conversation(text);
  analyzer.index_terms(text, [&](std::string_view term, int b, int e) {
    if (term.empty() || b < 0 || e < b || static_cast<size_t>(e) > size) std::abort();
  });
  (void)analyzer.query_words(text);
  (void)longctx::memory::parse_time(text);
  for (const auto& p : longctx::memory::find_periods(analyzer, text)) {
    if (p.begin < 0 || p.end < p.begin || static_cast<size_t>(p.end) > size || p.to < p.from) {
      std::abort();
    }
  }
  return 0;
}
