// The regex pre-tokenizer: splits normalised text into pieces that BPE encodes independently,
// using the Split pattern of tokenizer.json (behaviour "Isolated": matches and the gaps between
// them are both pieces). PCRE2 with UTF + UCP gives Unicode \p{L}/\p{N}/\s; JIT when available.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace longctx::tok {

// The Qwen2 pre-tokenizer pattern (tokenizer.json of Qwen2/2.5/3; GGUF pre = "qwen2").
extern const char kQwen2Pattern[];

class RegexSplitter {
 public:
  // Compiles `pattern`; the error names the pattern offset PCRE2 complains about.
  static Result<RegexSplitter> compile(const std::string& pattern);

  // Calls on_piece(std::string_view) for each piece of `text` (valid UTF-8), in order; the
  // pieces concatenate to `text`. Returns an error only if PCRE2 fails at run time.
  template <class F>
  Status split(std::string_view text, F&& on_piece) const;

  const std::string& pattern() const;

 private:
  struct Impl;
  // Next match at or after `start`: fills [*mb, *me); returns false when there is none.
  Result<bool> next_match(std::string_view text, size_t start, size_t* mb, size_t* me,
                          void* match_data) const;
  void* new_match_data() const;
  static void free_match_data(void* md);
  std::shared_ptr<const Impl> impl_;
};

template <class F>
Status RegexSplitter::split(std::string_view text, F&& on_piece) const {
  std::unique_ptr<void, void (*)(void*)> md(new_match_data(), &free_match_data);
  size_t pos = 0;
  while (pos < text.size()) {
    size_t mb = 0, me = 0;
    Result<bool> found = next_match(text, pos, &mb, &me, md.get());
    if (!found.is_ok()) return found.status();
    if (!*found) break;
    if (mb > pos) on_piece(text.substr(pos, mb - pos));  // the unmatched gap is a piece too
    on_piece(text.substr(mb, me - mb));
    pos = me;
  }
  if (pos < text.size()) on_piece(text.substr(pos));
  return Status::ok();
}

}  // namespace longctx::tok
