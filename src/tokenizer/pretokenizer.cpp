// PCRE2 wrapper of the regex pre-tokenizer.
#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizer/pretokenizer.h"

#include <pcre2.h>

namespace longctx::tok {

// Contractions (any case), letter runs with one optional leading non-letter/non-digit, single
// digits, punctuation runs with an optional leading space and trailing newlines, newline runs
// with their leading whitespace, and whitespace runs that leave their last space to the next
// word ("\s+(?!\S)").
const char kQwen2Pattern[] =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

struct RegexSplitter::Impl {
  std::string pattern;
  pcre2_code* code = nullptr;
  ~Impl() { pcre2_code_free(code); }
};

Result<RegexSplitter> RegexSplitter::compile(const std::string& pattern) {
  int err = 0;
  PCRE2_SIZE err_offset = 0;
  pcre2_code* code =
      pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                    PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK, &err, &err_offset, nullptr);
  if (code == nullptr) {
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(err, msg, sizeof(msg));
    return invalid_format("pre-tokenizer regex does not compile at offset " +
                          std::to_string(err_offset) + ": " + reinterpret_cast<char*>(msg));
  }
  // JIT is an optimisation only: when unavailable, pcre2_match interprets the pattern.
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
  auto impl = std::make_shared<Impl>();
  impl->pattern = pattern;
  impl->code = code;
  RegexSplitter r;
  r.impl_ = std::move(impl);
  return r;
}

const std::string& RegexSplitter::pattern() const { return impl_->pattern; }

void* RegexSplitter::new_match_data() const {
  return pcre2_match_data_create_from_pattern(impl_->code, nullptr);
}

void RegexSplitter::free_match_data(void* md) {
  pcre2_match_data_free(static_cast<pcre2_match_data*>(md));
}

Result<bool> RegexSplitter::next_match(std::string_view text, size_t start, size_t* mb, size_t* me,
                                       void* match_data) const {
  auto* md = static_cast<pcre2_match_data*>(match_data);
  if (md == nullptr) return Status(ErrorCode::kOutOfMemory, "PCRE2 match data");
  while (start < text.size()) {
    // The text was validated once by the caller, so PCRE2's per-call UTF check is skipped.
    int rc = pcre2_match(impl_->code, reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), start,
                         PCRE2_NO_UTF_CHECK, md, nullptr);
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT) {
      // Very long runs can exhaust the JIT stack; the interpreter uses the heap instead.
      rc = pcre2_match(impl_->code, reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), start,
                       PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT, md, nullptr);
    }
    if (rc == PCRE2_ERROR_NOMATCH) return false;
    if (rc < 0) {
      PCRE2_UCHAR msg[256];
      pcre2_get_error_message(rc, msg, sizeof(msg));
      return invalid_argument("pre-tokenizer regex failed at byte " + std::to_string(start) + ": " +
                              reinterpret_cast<char*>(msg));
    }
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
    if (ov[1] > ov[0]) {
      *mb = ov[0];
      *me = ov[1];
      return true;
    }
    // An empty match yields no piece (as in HF); search again one character further on.
    start = ov[0] + 1;
    while (start < text.size() && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) {
      ++start;
    }
  }
  return false;
}

}  // namespace longctx::tok
