// The byte-level alphabet of GPT-2-style BPE: every byte 0..255 is written as one printable
// Unicode character so that vocabulary files can be text. Token strings in tokenizer.json and in
// GGUF "NORMAL" tokens are in this alphabet; the tokenizer works on raw bytes internally.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace longctx::tok {

// Code point that represents byte b: printable Latin-1 bytes ('!'..'~', U+00A1..U+00AC,
// U+00AE..U+00FF) stand for themselves; the other 68 bytes map, in increasing order, to
// U+0100, U+0101, ... so that no byte becomes whitespace or a control character.
uint32_t byte_to_codepoint(uint8_t b);

// Raw bytes of a byte-level string, or nullopt when it holds a character outside the alphabet
// (or is not valid UTF-8).
std::optional<std::string> byte_level_decode(std::string_view text);

// Byte-level string of raw bytes (the inverse of byte_level_decode).
std::string byte_level_encode(std::string_view bytes);

}  // namespace longctx::tok
