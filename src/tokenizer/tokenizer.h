// The Qwen2/2.5/3 tokenizer: byte-level BPE with NFC normalisation, the Qwen2 pre-tokenizer
// regex and added (special) tokens, loaded from a Hugging Face tokenizer.json or GGUF metadata.
// Encodes to and decodes from token ids; StreamDecoder turns generated ids into UTF-8 text.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace longctx {

class GgufFile;

// Token types, numbered as GGUF's tokenizer.ggml.token_type.
enum class TokenKind : uint8_t {
  kNormal = 1,  // a BPE vocabulary entry
  kUnknown = 2,
  kControl = 3,      // special added token: matched in text only when parsing specials
  kUserDefined = 4,  // non-special added token: always matched in text (e.g. <think>)
  kUnused = 5,       // padding entries such as "[PAD151700]": never produced by encode
  kByte = 6,
};

// A token matched verbatim in the input before normalisation and BPE.
struct AddedToken {
  std::string content;
  int32_t id = -1;
  bool special = false;  // HF "special": skipped (treated as text) when parse_special is false
  bool lstrip = false;   // absorbs ASCII whitespace to its left
  bool rstrip = false;   // absorbs ASCII whitespace to its right
};

// Everything a loader extracts; Tokenizer::from_spec validates it and builds the tables.
struct TokenizerSpec {
  std::vector<std::string> pieces;  // raw bytes of each id ("" where an id has no token)
  std::vector<TokenKind> kinds;     // same length as pieces
  std::vector<std::pair<std::string, std::string>> merges;  // raw bytes, in rank order
  std::vector<AddedToken> added;
  std::string pattern;  // pre-tokenizer regex (PCRE2 syntax)
  bool nfc = true;      // NFC-normalise text outside added tokens
  std::optional<int32_t> eos_id;
  std::optional<int32_t> bos_id;
  std::optional<int32_t> pad_id;
};

class Tokenizer {
 public:
  // tokenizer.json text (model BPE, normalizer NFC or none, Split + ByteLevel pre-tokenizer).
  static Result<Tokenizer> from_hf_json(const std::string& json_text);
  // A tokenizer.json or tokenizer.json.zst file, or a directory holding one; a
  // tokenizer_config.json beside it supplies the eos token.
  static Result<Tokenizer> from_hf_path(const std::string& path);
  // GGUF metadata: tokenizer.ggml.model "gpt2" with pre "qwen2" (or "qwen3").
  static Result<Tokenizer> from_gguf(const GgufFile& f);
  static Result<Tokenizer> from_spec(TokenizerSpec spec);

  // Token ids of `text` (never adds BOS). Invalid UTF-8 is first replaced, one U+FFFD per
  // maximal ill-formed subsequence. Added tokens are matched longest-first in the raw text;
  // special ones only when parse_special is true, non-special ones (e.g. <think>) always.
  std::vector<int32_t> encode(std::string_view text, bool parse_special = true) const;

  // Concatenated raw bytes of the tokens (specials included); ids out of range are skipped.
  // The result can be invalid UTF-8 when the ids split a character (see StreamDecoder).
  std::string decode(std::span<const int32_t> ids) const;

  // Raw bytes of one token ("" for an id out of range).
  std::string token_piece(int32_t id) const;
  // Id of the token whose raw bytes are `piece` (e.g. "<|im_end|>", "hello").
  std::optional<int32_t> token_id(std::string_view piece) const;
  TokenKind token_kind(int32_t id) const;
  int32_t n_vocab() const;

  // The configured end-of-sequence token (tokenizer_config.json eos_token, GGUF eos_token_id),
  // else <|endoftext|>.
  std::optional<int32_t> eos_id() const;
  std::optional<int32_t> end_of_turn_id() const;  // <|im_end|>
  std::optional<int32_t> end_of_text_id() const;  // <|endoftext|>
  std::optional<int32_t> pad_id() const;
  // The configured beginning-of-sequence token (GGUF bos_token_id; llama.cpp's converter writes
  // <|endoftext|> for Qwen), which Qwen never prepends: templates may print it as bos_token.
  std::optional<int32_t> bos_id() const;
  // True for every id that ends generation: eos, <|im_end|>, <|endoftext|>.
  bool is_end_of_generation(int32_t id) const;

  const std::string& pre_tokenizer_pattern() const;

 private:
  Tokenizer() = default;  // only the factories make one, so impl_ is never null
  struct Impl;
  std::shared_ptr<const Impl> impl_;  // immutable after construction: copies share it
};

// Turns ids into text one at a time for streaming output: returns only complete UTF-8
// characters, holding back the bytes of a character split across tokens until its last byte
// arrives. Ill-formed bytes become U+FFFD, so every returned string is valid UTF-8.
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tokenizer) : tokenizer_(&tokenizer) {}
  std::string push(int32_t id);
  // Text still held back; an unfinished character at the end becomes U+FFFD.
  std::string flush();

 private:
  const Tokenizer* tokenizer_;
  std::string pending_;
};

}  // namespace longctx
