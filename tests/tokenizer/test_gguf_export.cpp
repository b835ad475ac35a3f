// The GGUF tokenizer metadata we write must equal, key by key and value by value, what a
// converter-style writer produced with the Python gguf package from the same Hugging Face
// tokenizer (tests/tokenizer/data/qwen3-vocab.gguf.zst, see tools/tokenizer_make_gguf.py).
#include <gtest/gtest.h>

#include <string>

#include "core/file_io.h"
#include "gguf/gguf.h"
#include "tokenizer/gguf_export.h"

namespace longctx {
namespace {

bool same_value(const GgufValue& a, const GgufValue& b, std::string* why) {
  if (a.type != b.type) {
    *why = std::string("type ") + gguf_type_name(a.type) + " vs " + gguf_type_name(b.type);
    return false;
  }
  if (a.u != b.u || a.i != b.i || a.f != b.f || a.str != b.str) {
    *why = "value " + a.to_string() + " vs " + b.to_string();
    return false;
  }
  if (a.type == GgufType::ARRAY) {
    if (a.elem_type != b.elem_type || a.size() != b.size()) {
      *why = "array " + a.to_string() + " vs " + b.to_string();
      return false;
    }
    for (size_t k = 0; k < a.size(); ++k) {
      if (!same_value(a.element(k), b.element(k), why)) {
        *why = "element " + std::to_string(k) + ": " + *why;
        return false;
      }
    }
  }
  return true;
}

TEST(TokenizerGgufExport, MatchesConverterMetadataForQwen3) {
  auto packed =
      read_file(std::string(LONGCTX_SOURCE_DIR) + "/tests/tokenizer/data/qwen3-vocab.gguf.zst");
  ASSERT_TRUE(packed.is_ok()) << packed.status().message();
  auto oracle = GgufFile::parse(reinterpret_cast<const uint8_t*>(packed->data()), packed->size());
  ASSERT_TRUE(oracle.is_ok()) << oracle.status().message();

  auto ours =
      gguf_tokenizer_metadata(std::string(LONGCTX_SOURCE_DIR) + "/data/qwen3-tokenizer", 151936);
  ASSERT_TRUE(ours.is_ok()) << ours.status().message();

  size_t n_tokenizer_keys = 0;
  for (const GgufKV& kv : oracle->metadata()) {
    if (kv.key.rfind("tokenizer.", 0) != 0) continue;  // general.architecture is the model's
    ++n_tokenizer_keys;
    const GgufKV* mine = nullptr;
    for (const GgufKV& m : *ours) {
      if (m.key == kv.key) mine = &m;
    }
    ASSERT_NE(mine, nullptr) << "missing key " << kv.key;
    std::string why;
    EXPECT_TRUE(same_value(mine->value, kv.value, &why)) << kv.key << ": " << why;
  }
  EXPECT_EQ(ours->size(), n_tokenizer_keys) << "we write keys the converter does not";
  EXPECT_GE(n_tokenizer_keys, 9u);
}

TEST(TokenizerGgufExport, RejectsAVocabularySmallerThanTheTokenizer) {
  auto r = gguf_tokenizer_metadata(std::string(LONGCTX_SOURCE_DIR) + "/data/qwen3-tokenizer", 1000);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("1000"), std::string::npos);
}

TEST(TokenizerGgufExport, MissingDirectoryIsAnError) {
  auto r = gguf_tokenizer_metadata("/nonexistent/tokenizer/dir", 151936);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("/nonexistent/tokenizer/dir"), std::string::npos);
}

}  // namespace
}  // namespace longctx
