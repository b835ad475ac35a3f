// The C++ tokenizer against the Hugging Face `tokenizers` goldens (tests/tokenizer/data): ids
// with and without special-token parsing, decode, and the NFC round trip, for every case.
#include <gtest/gtest.h>

#include "tokenizer_test_util.h"

namespace longctx {
namespace {

using testing_util::golden_cases;
using testing_util::ids_to_string;
using testing_util::qwen3_tokenizer;

TEST(TokenizerGolden, HasTheAdvertisedCoverage) {
  // The generator promises at least 300 cases, a long document and invalid UTF-8 inputs.
  const auto& cases = golden_cases();
  ASSERT_GE(cases.size(), 300u);
  size_t longest = 0, invalid = 0;
  for (const auto& c : cases) {
    longest = std::max(longest, c.text.size());
    invalid += c.invalid_utf8;
  }
  EXPECT_GE(longest, 20000u);
  EXPECT_GE(invalid, 10u);
}

TEST(TokenizerGolden, EncodeMatchesHuggingFace) {
  const Tokenizer& tok = qwen3_tokenizer();
  size_t k = 0;
  for (const auto& c : golden_cases()) {
    const std::vector<int32_t> ids = tok.encode(c.text, /*parse_special=*/true);
    EXPECT_EQ(ids, c.ids) << "case " << k << ": " << c.text.substr(0, 200) << "\n got "
                          << ids_to_string(ids) << "\nwant " << ids_to_string(c.ids);
    ++k;
  }
}

TEST(TokenizerGolden, EncodeWithoutSpecialParsingMatchesHuggingFace) {
  const Tokenizer& tok = qwen3_tokenizer();
  size_t k = 0;
  for (const auto& c : golden_cases()) {
    const std::vector<int32_t> ids = tok.encode(c.text, /*parse_special=*/false);
    EXPECT_EQ(ids, c.ids_no_special)
        << "case " << k << ": " << c.text.substr(0, 200) << "\n got " << ids_to_string(ids)
        << "\nwant " << ids_to_string(c.ids_no_special);
    ++k;
  }
}

TEST(TokenizerGolden, DecodeRoundTripsToNfc) {
  const Tokenizer& tok = qwen3_tokenizer();
  size_t k = 0;
  for (const auto& c : golden_cases()) {
    // HF's decode equals NFC(input) (the generator asserts it); ours must equal both.
    EXPECT_EQ(tok.decode(c.ids), c.decoded) << "case " << k;
    EXPECT_EQ(tok.decode(c.ids_no_special), c.nfc) << "case " << k;
    EXPECT_EQ(tok.decode(tok.encode(c.text)), c.nfc) << "case " << k;
    ++k;
  }
}

}  // namespace
}  // namespace longctx
