// Unit tests of the tokenizer's parts: UTF-8 repair and cut points, the byte-level alphabet,
// BPE merge order on a toy vocabulary, the piece table, added-token flags, streaming decode and
// long inputs.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <random>

#include "tokenizer/byte_level.h"
#include "tokenizer/piece_table.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/utf8.h"
#include "tokenizer_test_util.h"

namespace longctx {
namespace {

using testing_util::qwen3_tokenizer;

std::string repaired(std::string_view s) {
  std::string out;
  tok::append_valid_utf8(s, &out);
  return out;
}

const std::string kFffd = "\xEF\xBF\xBD";

TEST(Utf8, MaximalSubpartReplacementMatchesPython) {
  // Expected values are Python's bytes.decode("utf-8", "replace") (Unicode's recommended
  // practice): one U+FFFD per maximal subpart of an ill-formed sequence.
  EXPECT_EQ(repaired("abc"), "abc");
  EXPECT_EQ(repaired("\xff"), kFffd);
  EXPECT_EQ(repaired("\xe2\x82"), kFffd);  // truncated 3-byte: one
  EXPECT_EQ(repaired("\xe2\x82x"), kFffd + "x");
  EXPECT_EQ(repaired("\xf0\x9f\x98"), kFffd);                  // truncated 4-byte: one
  EXPECT_EQ(repaired("\xed\xa0\x80"), kFffd + kFffd + kFffd);  // surrogate: three
  EXPECT_EQ(repaired("\xc0\xaf"), kFffd + kFffd);              // overlong: two
  EXPECT_EQ(repaired("\xe0\x80\x80"), kFffd + kFffd + kFffd);
  EXPECT_EQ(repaired("\xf4\x90\x80\x80"), kFffd + kFffd + kFffd + kFffd);  // > U+10FFFF
  EXPECT_EQ(repaired("\xf0\x9f\x98\x80"), "\xf0\x9f\x98\x80");             // valid emoji untouched
}

TEST(Utf8, CompletePrefixHoldsOnlyUnfinishedCharacters) {
  EXPECT_EQ(tok::utf8_complete_prefix("ab"), 2u);
  EXPECT_EQ(tok::utf8_complete_prefix("a\xf0\x9f\x98"), 1u);  // waits for the 4th byte
  EXPECT_EQ(tok::utf8_complete_prefix("a\xf0\x9f\x98\x80"), 5u);
  EXPECT_EQ(tok::utf8_complete_prefix("a\xe2"), 1u);
  EXPECT_EQ(tok::utf8_complete_prefix("a\xff"), 2u);      // never completes: released
  EXPECT_EQ(tok::utf8_complete_prefix("a\xe2x"), 3u);     // already broken: released
  EXPECT_EQ(tok::utf8_complete_prefix("a\xed\xa0"), 3u);  // surrogate prefix: released
}

TEST(ByteLevel, AlphabetFollowsTheGpt2Rule) {
  EXPECT_EQ(tok::byte_to_codepoint('A'), static_cast<uint32_t>('A'));
  EXPECT_EQ(tok::byte_to_codepoint(0x00), 0x100u);
  EXPECT_EQ(tok::byte_to_codepoint(' '), 0x120u);   // "Ġ"
  EXPECT_EQ(tok::byte_to_codepoint('\n'), 0x10Au);  // "Ċ"
  EXPECT_EQ(tok::byte_to_codepoint(0xAD), 0x143u);  // the last of the 68 remapped bytes
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  EXPECT_EQ(tok::byte_level_decode(tok::byte_level_encode(all)), all);
  EXPECT_EQ(tok::byte_level_decode("\xc4\xa0hello"), " hello");
  EXPECT_FALSE(tok::byte_level_decode(" ").has_value());             // space is not in the alphabet
  EXPECT_FALSE(tok::byte_level_decode("\xe4\xbd\xa0").has_value());  // nor is CJK
  EXPECT_FALSE(tok::byte_level_decode("\xc1\x81").has_value());      // overlong
}

// A tokenizer.json with the 256 byte tokens and the given extra tokens/merges.
nlohmann::json toy_json(const std::vector<std::pair<std::string, std::string>>& merges) {
  nlohmann::json vocab = nlohmann::json::object();
  int id = 0;
  for (int b = 0; b < 256; ++b) {
    vocab[tok::byte_level_encode(std::string(1, static_cast<char>(b)))] = id++;
  }
  nlohmann::json m = nlohmann::json::array();
  for (const auto& [a, b] : merges) {
    const std::string ab = tok::byte_level_encode(a + b);
    if (!vocab.contains(ab)) vocab[ab] = id++;
    m.push_back(tok::byte_level_encode(a) + " " + tok::byte_level_encode(b));
  }
  nlohmann::json j;
  j["model"] = {{"type", "BPE"}, {"vocab", vocab}, {"merges", m}};
  j["normalizer"] = {{"type", "NFC"}};
  nlohmann::json split = {{"type", "Split"},
                          {"pattern", {{"Regex", std::string(tok::kQwen2Pattern)}}},
                          {"behavior", "Isolated"},
                          {"invert", false}};
  nlohmann::json byte_level = {
      {"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}};
  j["pre_tokenizer"] = {{"type", "Sequence"},
                        {"pretokenizers", nlohmann::json::array({split, byte_level})}};
  j["added_tokens"] = nlohmann::json::array();
  return j;
}

Tokenizer build(const nlohmann::json& j) {
  Result<Tokenizer> t = Tokenizer::from_hf_json(j.dump());
  EXPECT_TRUE(t.is_ok()) << t.status().message();
  return std::move(t).value();
}

TEST(Bpe, MergesFollowRankNotPosition) {
  // "abc" with merges [b c] (rank 0) then [a b] (rank 1): rank 0 wins although "ab" is leftmost,
  // giving a + bc; with the ranks swapped the result is ab + c.
  Tokenizer t1 = build(toy_json({{"b", "c"}, {"a", "b"}}));
  Tokenizer t2 = build(toy_json({{"a", "b"}, {"b", "c"}}));
  EXPECT_EQ(t1.encode("abc"), (std::vector<int32_t>{'a', 256}));
  EXPECT_EQ(t2.encode("abc"), (std::vector<int32_t>{256, 'c'}));
}

TEST(Bpe, EqualRanksMergeLeftmostFirst) {
  // "aaa" with only [a a]: the left pair merges first -> aa + a (HF's tie-break by position).
  Tokenizer t = build(toy_json({{"a", "a"}}));
  EXPECT_EQ(t.encode("aaa"), (std::vector<int32_t>{256, 'a'}));
  EXPECT_EQ(t.encode("aaaa"), (std::vector<int32_t>{256, 256}));
}

TEST(PieceTable, FindsEveryPieceAndOnlyThose) {
  // 200,000 distinct pieces (more than any Qwen vocabulary), with empty ids and a repeat.
  std::vector<std::string> pieces;
  for (int i = 0; i < 200000; ++i) {
    std::string p;
    if (i % 1000 != 0) p = 'p' + std::to_string(i);
    pieces.push_back(std::move(p));
  }
  pieces.push_back("p7");  // repeat: find() keeps id 7
  pieces.push_back(std::string("\0x", 2));
  auto t = tok::PieceTable::build(pieces);
  ASSERT_TRUE(t.is_ok()) << t.status().message();
  ASSERT_EQ(t->size(), static_cast<int32_t>(pieces.size()));
  for (int32_t i = 0; i < 200000; ++i) {
    ASSERT_EQ(t->piece(i), pieces[i]) << i;
    if (!pieces[i].empty()) {
      ASSERT_EQ(t->find(pieces[i]), i) << pieces[i];
    }
  }
  EXPECT_EQ(t->find("p7"), 7);
  EXPECT_EQ(t->piece(200000), "p7");
  EXPECT_EQ(t->find(std::string("\0x", 2)), 200001);
  EXPECT_EQ(t->find(std::string("\0", 1)), std::nullopt);
  EXPECT_EQ(t->find(""), std::nullopt);  // empty ids are not indexed
  EXPECT_EQ(t->find("p200000"), std::nullopt);
  EXPECT_EQ(t->find("p1000"), std::nullopt);
}

TEST(PieceTable, EmptyVocabularyFindsNothing) {
  auto t = tok::PieceTable::build({});
  ASSERT_TRUE(t.is_ok());
  EXPECT_EQ(t->size(), 0);
  EXPECT_EQ(t->find("a"), std::nullopt);
}

TEST(AddedTokens, LstripAndRstripAbsorbWhitespace) {
  nlohmann::json j = toy_json({});
  j["added_tokens"] = {{{"id", 256},
                        {"content", "<x>"},
                        {"special", true},
                        {"lstrip", true},
                        {"rstrip", true},
                        {"normalized", false}},
                       {{"id", 257}, {"content", "<x>y"}, {"special", false}}};
  Tokenizer t = build(j);
  EXPECT_EQ(t.encode("a  <x>  b"), (std::vector<int32_t>{'a', 256, 'b'}));
  EXPECT_EQ(t.encode("<x>y"), (std::vector<int32_t>{257}));  // longest match wins
  // Without special parsing the special <x> is text but the non-special <x>y still matches.
  EXPECT_EQ(t.encode("<x>", false), (std::vector<int32_t>{'<', 'x', '>'}));
  EXPECT_EQ(t.encode("<x>y", false), (std::vector<int32_t>{257}));
}

TEST(Tokenizer, SpecialIdsOfQwen3) {
  const Tokenizer& t = qwen3_tokenizer();
  EXPECT_EQ(t.n_vocab(), 151669);
  EXPECT_EQ(t.token_id("<|im_end|>"), 151645);
  EXPECT_EQ(t.token_id("<|im_start|>"), 151644);
  EXPECT_EQ(t.token_id("<think>"), 151667);
  EXPECT_EQ(t.token_id("hello"), 14990);
  EXPECT_FALSE(t.token_id("no such token at all").has_value());
  EXPECT_EQ(t.eos_id(), 151645);         // tokenizer_config.json eos_token
  EXPECT_FALSE(t.bos_id().has_value());  // tokenizer_config.json bos_token: null
  EXPECT_EQ(t.end_of_text_id(), 151643);
  EXPECT_TRUE(t.is_end_of_generation(151643));
  EXPECT_TRUE(t.is_end_of_generation(151645));
  EXPECT_FALSE(t.is_end_of_generation(151644));
  EXPECT_EQ(t.token_piece(-1), "");
  EXPECT_EQ(t.token_piece(t.n_vocab()), "");
  EXPECT_EQ(t.decode(std::vector<int32_t>{-5, 14990, 1 << 30}), "hello");
}

TEST(Tokenizer, InvalidUtf8BecomesReplacementCharacters) {
  const Tokenizer& t = qwen3_tokenizer();
  // Same ids as the text with U+FFFD in place of the ill-formed bytes.
  EXPECT_EQ(t.encode("abc\xff"), t.encode("abc" + kFffd));
  EXPECT_EQ(t.encode("\xed\xa0\x80"), t.encode(kFffd + kFffd + kFffd));
  EXPECT_EQ(t.decode(t.encode("x\xc3")), "x" + kFffd);
}

TEST(Tokenizer, LongRunsDoNotFailTheRegex) {
  const Tokenizer& t = qwen3_tokenizer();
  // Long runs stress PCRE2's JIT stack on "\s+(?!\S)" and the BPE heap on one huge piece.
  for (const std::string& s : {std::string(1 << 19, ' ') + "x", std::string(1 << 18, 'a'),
                               std::string(1 << 18, '\n') + std::string(1 << 18, '\t')}) {
    const std::vector<int32_t> ids = t.encode(s);
    EXPECT_LT(ids.size(), s.size());  // merges happened
    EXPECT_EQ(t.decode(ids), s);
  }
}

TEST(StreamDecoder, HoldsSplitCharactersUntilComplete) {
  const Tokenizer& t = qwen3_tokenizer();
  // "😀" is F0 9F 98 80; fed as four single-byte tokens the decoder must emit nothing until the
  // last byte, then the whole character.
  const std::string emoji = "\xf0\x9f\x98\x80";
  StreamDecoder d(t);
  std::string got;
  for (int i = 0; i < 4; ++i) {
    const std::string part = d.push(*t.token_id(emoji.substr(i, 1)));
    if (i < 3) {
      EXPECT_EQ(part, "") << "byte " << i;
    }
    got += part;
  }
  EXPECT_EQ(got, emoji);
  EXPECT_EQ(d.flush(), "");
  // An unfinished character at the end becomes U+FFFD on flush.
  EXPECT_EQ(d.push(*t.token_id("x")), "x");
  EXPECT_EQ(d.push(*t.token_id("\xf0")), "");
  EXPECT_EQ(d.flush(), kFffd);
}

TEST(StreamDecoder, ConcatenationEqualsDecodeOnGoldens) {
  const Tokenizer& t = qwen3_tokenizer();
  for (const auto& c : testing_util::golden_cases()) {
    StreamDecoder d(t);
    std::string streamed;
    for (int32_t id : c.ids) streamed += d.push(id);
    streamed += d.flush();
    EXPECT_EQ(streamed, c.decoded);
  }
}

TEST(Tokenizer, RandomBytesRoundTripToRepairedNfc) {
  // Property over arbitrary input: no crash, and decode(encode(s)) == NFC(repair(s)). The byte
  // alphabet is skewed toward UTF-8 lead/continuation bytes, '<', '|' and whitespace so that
  // partial characters, special-token prefixes and whitespace runs are common.
  const Tokenizer& t = qwen3_tokenizer();
  const std::string alphabet = std::string("<|>im_start end think \n\t\r'sA1") +
                               "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xcc\x81\xff\x80\xed";
  std::mt19937 rng(12345);
  for (int iter = 0; iter < 3000; ++iter) {
    std::string s;
    const int len = static_cast<int>(rng() % 40);
    for (int i = 0; i < len; ++i) s.push_back(alphabet[rng() % alphabet.size()]);
    if (iter % 7 == 0) s += "<|im_end|>";
    std::string valid, nfc;
    tok::append_valid_utf8(s, &valid);
    tok::append_nfc(valid, &nfc);
    for (bool special : {true, false}) {
      const std::vector<int32_t> ids = t.encode(s, special);
      ASSERT_EQ(t.decode(ids), nfc) << "iteration " << iter;
      for (int32_t id : ids) ASSERT_TRUE(id >= 0 && id < t.n_vocab());
    }
  }
}

TEST(Tokenizer, FromHfPathAcceptsFileAndDirectory) {
  const std::string dir = std::string(LONGCTX_SOURCE_DIR) + "/data/qwen3-tokenizer";
  Result<Tokenizer> from_file = Tokenizer::from_hf_path(dir + "/tokenizer.json.zst");
  ASSERT_TRUE(from_file.is_ok()) << from_file.status().message();
  EXPECT_EQ(from_file->eos_id(), 151645);  // tokenizer_config.json beside the file was read
  EXPECT_EQ(from_file->encode("Hello world"), (std::vector<int32_t>{9707, 1879}));
  Result<Tokenizer> missing = Tokenizer::from_hf_path(::testing::TempDir());
  ASSERT_FALSE(missing.is_ok());
  EXPECT_NE(missing.status().message().find("tokenizer.json"), std::string::npos);
}

TEST(StreamDecoder, OutputIsValidUtf8ForRandomIds) {
  // Arbitrary byte tokens in arbitrary order: every returned chunk must be valid UTF-8, and the
  // concatenation must equal the repaired full decode.
  const Tokenizer& t = qwen3_tokenizer();
  std::mt19937 rng(777);
  for (int iter = 0; iter < 500; ++iter) {
    StreamDecoder d(t);
    std::vector<int32_t> ids;
    std::string streamed;
    for (int i = 0; i < 30; ++i) {
      const int32_t id = static_cast<int32_t>(rng() % 2 ? rng() % 256 : rng() % t.n_vocab());
      ids.push_back(id);
      const std::string chunk = d.push(id);
      std::string check;
      ASSERT_TRUE(tok::append_valid_utf8(chunk, &check)) << "iteration " << iter;
      streamed += chunk;
    }
    streamed += d.flush();
    std::string whole;
    tok::append_valid_utf8(t.decode(ids), &whole);
    EXPECT_EQ(streamed, whole) << "iteration " << iter;
  }
}

}  // namespace
}  // namespace longctx
