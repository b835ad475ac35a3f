// UTF-8 validation with maximal-subpart replacement, stream cut points, and NFC via utf8proc.
#include "tokenizer/utf8.h"

#include <utf8proc.h>

#include <cstdint>
#include <cstdlib>

#include "core/status.h"

namespace longctx::tok {
namespace {

// Allowed range of the second byte for each lead byte (Unicode Table 3-7); later continuation
// bytes are always 0x80..0xBF. Returns the sequence length, or 0 for a byte that cannot lead.
int lead_info(uint8_t b, uint8_t* lo, uint8_t* hi) {
  *lo = 0x80;
  *hi = 0xBF;
  if (b < 0x80) return 1;
  if (b < 0xC2) return 0;  // continuation byte or overlong lead C0/C1
  if (b < 0xE0) return 2;
  if (b < 0xF0) {
    if (b == 0xE0) *lo = 0xA0;  // no overlong 3-byte forms
    if (b == 0xED) *hi = 0x9F;  // no surrogates D800..DFFF
    return 3;
  }
  if (b < 0xF5) {
    if (b == 0xF0) *lo = 0x90;  // no overlong 4-byte forms
    if (b == 0xF4) *hi = 0x8F;  // nothing above U+10FFFF
    return 4;
  }
  return 0;
}

constexpr char kReplacement[] = "\xEF\xBF\xBD";  // U+FFFD

}  // namespace

size_t utf8_sequence_length(std::string_view s, size_t* maximal_subpart) {
  *maximal_subpart = 1;
  if (s.empty()) return 0;
  uint8_t lo, hi;
  const int n = lead_info(static_cast<uint8_t>(s[0]), &lo, &hi);
  if (n == 0) return 0;
  for (int k = 1; k < n; ++k) {
    if (static_cast<size_t>(k) >= s.size()) {
      *maximal_subpart = k;
      return 0;
    }
    const uint8_t c = static_cast<uint8_t>(s[k]);
    const bool ok = (k == 1) ? (c >= lo && c <= hi) : (c >= 0x80 && c <= 0xBF);
    if (!ok) {
      *maximal_subpart = k;
      return 0;
    }
  }
  return n;
}

bool is_ascii(std::string_view s) {
  // Eight bytes at a time: the high bit of any byte marks non-ASCII.
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    __builtin_memcpy(&w, s.data() + i, 8);
    if (w & 0x8080808080808080ull) return false;
  }
  for (; i < s.size(); ++i) {
    if (static_cast<uint8_t>(s[i]) >= 0x80) return false;
  }
  return true;
}

bool append_valid_utf8(std::string_view s, std::string* out) {
  bool valid = true;
  size_t i = 0;
  size_t run_start = 0;  // start of the pending run of valid bytes
  while (i < s.size()) {
    if (static_cast<uint8_t>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    size_t bad = 0;
    const size_t n = utf8_sequence_length(s.substr(i), &bad);
    if (n != 0) {
      i += n;
      continue;
    }
    valid = false;
    out->append(s.data() + run_start, i - run_start);
    out->append(kReplacement);
    i += bad;
    run_start = i;
  }
  out->append(s.data() + run_start, s.size() - run_start);
  return valid;
}

size_t utf8_complete_prefix(std::string_view s) {
  // Only the last three bytes can start an unfinished character.
  const size_t start = s.size() > 3 ? s.size() - 3 : 0;
  for (size_t i = s.size(); i-- > start;) {
    const uint8_t b = static_cast<uint8_t>(s[i]);
    if (b < 0x80) return s.size();
    if (b >= 0xC0) {  // a lead byte: is the tail from here an unfinished valid prefix?
      size_t bad = 0;
      const size_t n = utf8_sequence_length(s.substr(i), &bad);
      if (n == 0 && i + bad == s.size() && bad < 4 && (b >= 0xC2 && b < 0xF5)) return i;
      return s.size();
    }
  }
  return s.size();
}

void append_nfc(std::string_view s, std::string* out) {
  utf8proc_uint8_t* res = nullptr;
  const utf8proc_ssize_t n = utf8proc_map(
      reinterpret_cast<const utf8proc_uint8_t*>(s.data()), static_cast<utf8proc_ssize_t>(s.size()),
      &res, static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  // Input was validated by append_valid_utf8; utf8proc fails only on invalid input or OOM.
  LONGCTX_CHECK(n >= 0);
  out->append(reinterpret_cast<const char*>(res), static_cast<size_t>(n));
  std::free(res);
}

}  // namespace longctx::tok
