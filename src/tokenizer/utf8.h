// UTF-8 helpers of the tokenizer: replacing invalid sequences with U+FFFD, finding where a byte
// stream may be cut without splitting a character, and NFC normalisation (utf8proc).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace longctx::tok {

// Length of the well-formed UTF-8 sequence starting at s[0], or 0 when s does not start with one
// (Unicode Table 3-7: no overlongs, no surrogates, nothing above U+10FFFF). When 0 is returned,
// *maximal_subpart receives the length of the maximal subpart of an ill-formed sequence (>= 1),
// the unit that gets one U+FFFD, as in Python's bytes.decode("utf-8", "replace").
size_t utf8_sequence_length(std::string_view s, size_t* maximal_subpart);

// True when every byte of s is < 0x80.
bool is_ascii(std::string_view s);

// Appends s to out with each maximal ill-formed subsequence replaced by U+FFFD. Returns whether
// s was already valid (then out received s unchanged).
bool append_valid_utf8(std::string_view s, std::string* out);

// Number of leading bytes of s that hold complete characters, leaving out a trailing sequence
// that is a valid but unfinished prefix of a character (a stream decoder waits for its rest).
size_t utf8_complete_prefix(std::string_view s);

// Appends NFC(s) to out. s must be valid UTF-8 (see append_valid_utf8).
void append_nfc(std::string_view s, std::string* out);

}  // namespace longctx::tok
