// Bad tokenizer files must give a Status that names the field, never a crash or a huge
// allocation: malformed tokenizer.json variants and hand-built GGUF headers.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cstring>

#include "gguf/gguf.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/tokenizer.h"

namespace longctx {
namespace {

using nlohmann::json;

json minimal_json() {
  json vocab = json::object();
  for (int b = 0; b < 256; ++b) vocab[tok::byte_level_encode(std::string(1, char(b)))] = b;
  vocab["ab"] = 256;
  json j;
  j["model"] = {{"type", "BPE"}, {"vocab", vocab}, {"merges", {"a b"}}};
  j["normalizer"] = {{"type", "NFC"}};
  j["pre_tokenizer"] = {{"type", "Split"},
                        {"pattern", {{"Regex", std::string(tok::kQwen2Pattern)}}},
                        {"behavior", "Isolated"}};
  return j;
}

// Loads j and expects an error whose message contains `needle`.
void expect_error(const json& j, const std::string& needle) {
  Result<Tokenizer> t = Tokenizer::from_hf_json(j.dump());
  ASSERT_FALSE(t.is_ok()) << "expected an error mentioning " << needle;
  EXPECT_NE(t.status().message().find(needle), std::string::npos) << t.status().message();
}

TEST(TokenizerErrors, MinimalJsonLoads) {
  Result<Tokenizer> t = Tokenizer::from_hf_json(minimal_json().dump());
  ASSERT_TRUE(t.is_ok()) << t.status().message();
  EXPECT_EQ(t->encode("ab"), std::vector<int32_t>{256});
}

TEST(TokenizerErrors, MalformedJsonNamesTheField) {
  EXPECT_FALSE(Tokenizer::from_hf_json("{not json").is_ok());
  json j = minimal_json();
  j["model"].erase("merges");
  expect_error(j, "model.merges");
  j = minimal_json();
  j["model"]["merges"] = {"a b c"};
  expect_error(j, "merge 0");
  j = minimal_json();
  j["model"]["merges"] = {"a z"};  // "az" is not in the vocabulary
  expect_error(j, "merge 0");
  j = minimal_json();
  j["model"]["vocab"].erase("A");  // byte 0x41 has no token
  expect_error(j, "byte 0x41");
  j = minimal_json();
  j["model"]["vocab"]["cd"] = 2000000000;  // would size a 2G-entry table
  expect_error(j, "implausible");
  j = minimal_json();
  j["model"]["vocab"]["x y"] = 300;  // a space is not byte-level text
  expect_error(j, "byte-level");
  j = minimal_json();
  j["normalizer"] = {{"type", "NFKC"}};
  expect_error(j, "NFKC");
  j = minimal_json();
  j["pre_tokenizer"]["pattern"]["Regex"] = "(unclosed";
  expect_error(j, "regex");
  j = minimal_json();
  j["model"]["type"] = "WordPiece";
  expect_error(j, "WordPiece");
  j = minimal_json();
  j["added_tokens"] = {{{"id", 1 << 30}, {"content", "<x>"}}};
  expect_error(j, "implausible");
  j = minimal_json();
  j["added_tokens"] = {{{"id", -3}, {"content", "<x>"}}};
  expect_error(j, "added_tokens[0]");
  j = minimal_json();
  j["added_tokens"] = {{{"id", 257}, {"content", ""}}};
  expect_error(j, "empty content");
  j = minimal_json();
  j["added_tokens"] = {{{"id", 256}, {"content", "<x>"}, {"single_word", true}}};
  expect_error(j, "single_word");
}

TEST(TokenizerErrors, MissingPathIsNotFound) {
  Result<Tokenizer> t = Tokenizer::from_hf_path("/nonexistent/dir/tokenizer.json");
  ASSERT_FALSE(t.is_ok());
}

// Minimal GGUF v3 writer for metadata-only files.
class GgufBytes {
 public:
  void str(const std::string& key, const std::string& v) {
    kv(key, 8);
    put_str(v);
  }
  void u32(const std::string& key, uint32_t v) {
    kv(key, 4);
    put(v);
  }
  void str_array(const std::string& key, const std::vector<std::string>& v) {
    kv(key, 9);
    put(uint32_t{8});
    put(uint64_t{v.size()});
    for (const auto& s : v) put_str(s);
  }
  void i32_array(const std::string& key, const std::vector<int32_t>& v) {
    kv(key, 9);
    put(uint32_t{5});
    put(uint64_t{v.size()});
    for (int32_t x : v) put(x);
  }
  std::string finish() const {
    std::string out;
    auto raw = [&](const void* p, size_t n) { out.append(static_cast<const char*>(p), n); };
    raw("GGUF", 4);
    const uint32_t version = 3;
    const uint64_t n_tensors = 0;
    raw(&version, 4);
    raw(&n_tensors, 8);
    raw(&n_kv_, 8);
    out += body_;
    out.resize((out.size() + 31) / 32 * 32, '\0');
    return out;
  }

 private:
  template <class T>
  void put(T v) {
    body_.append(reinterpret_cast<const char*>(&v), sizeof(v));
  }
  void put_str(const std::string& s) {
    put(uint64_t{s.size()});
    body_ += s;
  }
  void kv(const std::string& key, uint32_t type) {
    ++n_kv_;
    put_str(key);
    put(type);
  }
  std::string body_;
  uint64_t n_kv_ = 0;
};

// A valid tiny vocabulary: 256 byte tokens + "ab".
GgufBytes tiny_gguf(const std::string& pre, size_t n_types) {
  std::vector<std::string> tokens;
  for (int b = 0; b < 256; ++b) tokens.push_back(tok::byte_level_encode(std::string(1, char(b))));
  tokens.push_back("ab");
  GgufBytes g;
  g.str("tokenizer.ggml.model", "gpt2");
  g.str("tokenizer.ggml.pre", pre);
  g.str_array("tokenizer.ggml.tokens", tokens);
  g.i32_array("tokenizer.ggml.token_type", std::vector<int32_t>(n_types, 1));
  g.str_array("tokenizer.ggml.merges", {"a b"});
  return g;
}

Result<Tokenizer> load_gguf(const std::string& bytes) {
  Result<GgufFile> f =
      GgufFile::parse(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  if (!f.is_ok()) return f.status();
  return Tokenizer::from_gguf(*f);
}

TEST(TokenizerErrors, GgufTinyVocabularyLoads) {
  Result<Tokenizer> t = load_gguf(tiny_gguf("qwen2", 257).finish());
  ASSERT_TRUE(t.is_ok()) << t.status().message();
  EXPECT_EQ(t->encode("abc"), (std::vector<int32_t>{256, 'c'}));
}

TEST(TokenizerErrors, GgufBadMetadataNamesTheKey) {
  Result<Tokenizer> t = load_gguf(tiny_gguf("llama3", 257).finish());
  ASSERT_FALSE(t.is_ok());
  EXPECT_NE(t.status().message().find("llama3"), std::string::npos) << t.status().message();

  t = load_gguf(tiny_gguf("qwen2", 100).finish());
  ASSERT_FALSE(t.is_ok());
  EXPECT_NE(t.status().message().find("token_type"), std::string::npos);
  EXPECT_NE(t.status().message().find("100"), std::string::npos);

  GgufBytes g = tiny_gguf("qwen2", 257);
  g.u32("tokenizer.ggml.eos_token_id", 5000);
  t = load_gguf(g.finish());
  ASSERT_FALSE(t.is_ok());
  EXPECT_NE(t.status().message().find("5000"), std::string::npos) << t.status().message();

  GgufBytes no_merges;
  no_merges.str("tokenizer.ggml.model", "gpt2");
  no_merges.str("tokenizer.ggml.pre", "qwen2");
  no_merges.str_array("tokenizer.ggml.tokens", {"a"});
  no_merges.i32_array("tokenizer.ggml.token_type", {1});
  t = load_gguf(no_merges.finish());
  ASSERT_FALSE(t.is_ok());
}

}  // namespace
}  // namespace longctx
