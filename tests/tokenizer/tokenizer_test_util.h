// Shared helpers of the tokenizer tests: the shipped Qwen3 tokenizer (loaded once) and the
// golden cases written by tools/tokenizer_make_fixtures.py from Hugging Face `tokenizers`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace longctx::testing_util {

struct GoldenCase {
  std::string text;  // input bytes (invalid UTF-8 for the cases stored as hex)
  bool invalid_utf8 = false;
  std::vector<int32_t> ids;             // parse_special = true
  std::vector<int32_t> ids_no_special;  // parse_special = false
  std::string decoded;                  // HF decode(ids, skip_special_tokens=False)
  std::string nfc;                      // NFC of the (repaired) input
};

// tests/tokenizer/data/encode_cases.json; aborts the binary if it is missing (it is committed).
const std::vector<GoldenCase>& golden_cases();

// The repo's Qwen3 tokenizer (data/qwen3-tokenizer), loaded once.
const Tokenizer& qwen3_tokenizer();

// A short readable rendering of an id list for failure messages.
std::string ids_to_string(const std::vector<int32_t>& ids);

}  // namespace longctx::testing_util
