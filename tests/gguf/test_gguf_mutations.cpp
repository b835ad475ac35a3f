// Deterministic mutation tests of the GGUF reader: every truncation, bit flips across the header,
// hostile values in every count/length/type/dim/offset field, and targeted corruptions whose
// error message must name the key or tensor. Each input is read correctly (invariants re-checked)
// or rejected with a non-empty message; none may crash, hang or allocate by a hostile count.
#include <gtest/gtest.h>

#include <chrono>

#include "gguf/gguf.h"
#include "gguf/gguf_writer.h"
#include "gguf_invariants.h"
#include "gguf_layout.h"
#include "gguf_test_util.h"

namespace longctx {
namespace {

using testing_util::FieldKind;
using testing_util::HeaderField;

const std::string kData = LONGCTX_TEST_DATA_DIR;

struct Outcome {
  bool ok = false;
  std::string message;  // the error, or "" when parsed
};

// Parses a copy held in exactly-sized heap memory (so ASan sees any read past the end) and
// checks the contract: success implies the invariants, failure implies a message.
Outcome parse_checked(const std::vector<uint8_t>& bytes) {
  std::vector<uint8_t> copy(bytes);
  auto r = GgufFile::parse(copy.data(), copy.size());
  if (!r.is_ok()) {
    EXPECT_FALSE(r.status().message().empty());
    return {false, r.status().message()};
  }
  const std::string violation = testing_util::check_invariants(r.value(), copy.size());
  EXPECT_EQ(violation, "");
  return {true, ""};
}

const HeaderField& find_field(const std::vector<HeaderField>& fields, const std::string& what) {
  for (const HeaderField& f : fields) {
    if (f.what == what) return f;
  }
  ADD_FAILURE() << "no field " << what;
  return fields.front();
}

class Mutations : public ::testing::Test {
 protected:
  void SetUp() override {
    file_ = testing_util::load_bytes(kData + "/all_types.gguf");
    fields_ = testing_util::map_header(file_);
    auto r = GgufFile::parse(file_.data(), file_.size());
    ASSERT_TRUE(r.is_ok()) << r.status().message();
    for (const GgufTensorInfo& t : r->tensors()) {
      needed_ = std::max(needed_, r->data_offset() + t.offset + t.n_bytes);
    }
  }
  // Parses file_ with one field replaced, expecting rejection with `expect` in the message.
  void expect_rejected(const std::string& field, uint64_t value, const std::string& expect) {
    std::vector<uint8_t> m = file_;
    const HeaderField& f = find_field(fields_, field);
    testing_util::poke(m, f.pos, f.width, value);
    Outcome o = parse_checked(m);
    EXPECT_FALSE(o.ok) << field << " = " << value;
    EXPECT_NE(o.message.find(expect), std::string::npos)
        << field << " = " << value << ": " << o.message;
  }

  std::vector<uint8_t> file_;
  std::vector<HeaderField> fields_;
  uint64_t needed_ = 0;  // end of the last tensor's bytes
};

TEST_F(Mutations, EveryTruncation) {
  // 7936 lengths. Shorter than the end of the last tensor must fail; the rest (only padding
  // removed) may parse.
  int rejected = 0;
  for (size_t len = 0; len < file_.size(); ++len) {
    Outcome o = parse_checked(std::vector<uint8_t>(file_.begin(), file_.begin() + len));
    if (len < needed_) {
      EXPECT_FALSE(o.ok) << "truncated to " << len;
    }
    rejected += !o.ok;
  }
  EXPECT_GE(rejected, static_cast<int>(needed_));
}

TEST_F(Mutations, BitFlipsAcrossHeader) {
  // Two bits of every header byte (positions vary the bit), ~5000 inputs. Flips in string
  // bytes usually still parse; flips in counts and types usually fail. Both must be clean.
  const uint64_t header_end = fields_.back().pos + fields_.back().width;
  int parsed = 0, rejected = 0;
  for (uint64_t pos = 0; pos < header_end; ++pos) {
    for (int bit : {static_cast<int>(pos % 8), static_cast<int>((pos + 3) % 8)}) {
      std::vector<uint8_t> m = file_;
      m[pos] ^= static_cast<uint8_t>(1u << bit);
      (parse_checked(m).ok ? parsed : rejected) += 1;
    }
  }
  EXPECT_GT(parsed, 0);
  EXPECT_GT(rejected, 0);
}

TEST_F(Mutations, HostileValuesInEveryField) {
  // Counts and lengths of 2^60 and friends must fail fast: with no allocation driven by the
  // count, the whole loop runs in well under a second even under ASan.
  const auto start = std::chrono::steady_clock::now();
  const uint64_t size = file_.size();
  const uint64_t wide[] = {0,
                           1,
                           size,
                           size + 1,
                           uint64_t{1} << 32,
                           uint64_t{1} << 60,
                           uint64_t{1} << 63,
                           ~uint64_t{0},
                           ~uint64_t{0} - 7};
  const uint64_t narrow[] = {0, 1, 5, 13, 31, 99, 0x80000000u, 0xffffffffu};
  int inputs = 0;
  for (const HeaderField& f : fields_) {
    const bool is_wide = f.width == 8;
    for (uint64_t v : is_wide ? std::vector<uint64_t>(std::begin(wide), std::end(wide))
                              : std::vector<uint64_t>(std::begin(narrow), std::end(narrow))) {
      std::vector<uint8_t> m = file_;
      testing_util::poke(m, f.pos, f.width, v);
      Outcome o = parse_checked(m);
      ++inputs;
      const bool counts = f.kind == FieldKind::kArrayCount || f.kind == FieldKind::kKvCount ||
                          f.kind == FieldKind::kTensorCount || f.kind == FieldKind::kStringLength ||
                          f.kind == FieldKind::kKeyLength;
      if (counts && v >= (uint64_t{1} << 32)) {
        EXPECT_FALSE(o.ok) << f.what << " = " << v;
      }
    }
  }
  EXPECT_GT(inputs, 1000);
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(secs, 20.0);  // generous bound for sanitizer builds; ~0.1 s in Release
}

TEST_F(Mutations, TargetedCorruptionsNameTheCulprit) {
  expect_rejected("general.alignment value", 48, "'general.alignment' is 48");
  expect_rejected("general.alignment value", 0, "'general.alignment' is 0");
  expect_rejected("general.alignment value", 1u << 30, "must be a power of two");
  expect_rejected("version", 1, "version 1 (32-bit counts)");
  expect_rejected("version", 0x03000000, "big-endian");
  expect_rejected("version", 4, "GGUF version 4 is not supported");
  expect_rejected("tensor 'blk.0.attn_q.weight' type", 99, "unknown tensor type id 99");
  expect_rejected("tensor 'blk.0.attn_q.weight' type", 4, "unknown tensor type id 4");
  expect_rejected("tensor 'blk.0.attn_q.weight' dim 0", 0, "dimension 0 is 0");
  expect_rejected("tensor 'blk.0.attn_q.weight' dim 1", ~uint64_t{0}, "must be positive");
  expect_rejected("tensor 'blk.0.attn_q.weight' n_dims", 5, "5 dimensions");
  expect_rejected("tensor 'blk.0.attn_q.weight' n_dims", 0, "0 dimensions");
  expect_rejected("tensor 'blk.0.ffn_up.weight' dim 0", 100,
                  "row length 100 is not a multiple of the q8_0 block size 32");
  expect_rejected("tensor 'blk.0.ffn_up.weight' offset", 1, "offset 1 is not a multiple");
  expect_rejected("tensor 'blk.0.ffn_up.weight' offset", uint64_t{1} << 62,
                  "tensor 'blk.0.ffn_up.weight': data [offset 2560 + 4611686018427387904");
  expect_rejected("tensor 'blk.0.q5_k' dim 1", 1000, "extends past end of file (size 7936)");
  expect_rejected("tensor 'blk.0.attn_q.weight' offset", 0, "overlaps tensor 'tok_embd.weight'");
  expect_rejected("key 't.arr.str' array count", uint64_t{1} << 60,
                  "key 't.arr.str': array of 1152921504606846976 string");
  expect_rejected("key 't.arr.str' array type", 13, "unknown array element type 13");
  expect_rejected("key 't.str' string length", uint64_t{1} << 60, "key 't.str'");
  expect_rejected("key 't.u8' type", 77, "key 't.u8': unknown value type 77");
  expect_rejected("general.alignment value", 64 + 1, "'general.alignment' is 65");
  expect_rejected("metadata count", uint64_t{1} << 60, "metadata count 1152921504606846976");
  expect_rejected("tensor count", ~uint64_t{0}, "tensor count 18446744073709551615");
}

TEST_F(Mutations, DuplicatesAndBadBool) {
  // Rename key 't.i8' to 't.u8' (same length) and tensor names likewise.
  std::vector<uint8_t> m = file_;
  const HeaderField& key = find_field(fields_, "key #3 length");
  ASSERT_EQ(std::string(m.begin() + key.pos + 8, m.begin() + key.pos + 12), "t.i8");
  m[key.pos + 8 + 2] = 'u';
  EXPECT_NE(parse_checked(m).message.find("duplicate metadata key 't.u8'"), std::string::npos);

  m = file_;
  const HeaderField& name = find_field(fields_, "tensor #3 name length");
  ASSERT_EQ(std::string(m.begin() + name.pos + 8, m.begin() + name.pos + 27),
            "blk.0.attn_k.weight");
  m[name.pos + 8 + 11] = 'q';  // -> blk.0.attn_q.weight, already tensor #2
  EXPECT_NE(parse_checked(m).message.find("duplicate tensor name 'blk.0.attn_q.weight'"),
            std::string::npos);

  m = file_;
  const HeaderField& bool_type = find_field(fields_, "key 't.bool_true' type");
  m[bool_type.pos + 4] = 2;
  EXPECT_NE(parse_checked(m).message.find("key 't.bool_true': bool value is 2"), std::string::npos);
}

// Builds a minimal header by hand: magic, version 3, no tensors, one key of the given body.
std::vector<uint8_t> one_key_file(const std::string& key, const std::vector<uint8_t>& body) {
  std::vector<uint8_t> f = {'G', 'G', 'U', 'F', 3, 0, 0, 0};
  auto u64 = [&](uint64_t v) {
    for (int k = 0; k < 8; ++k) f.push_back(static_cast<uint8_t>(v >> (8 * k)));
  };
  u64(0);
  u64(1);
  u64(key.size());
  f.insert(f.end(), key.begin(), key.end());
  f.insert(f.end(), body.begin(), body.end());
  return f;
}

TEST(GgufHostile, NestingDepthIsBounded) {
  // 10000 nested array headers (type ARRAY, count 1) would recurse 10000 deep without a bound.
  std::vector<uint8_t> body = {9, 0, 0, 0};  // value type ARRAY
  for (int d = 0; d < 10000; ++d) {
    const uint8_t level[12] = {9, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0};
    body.insert(body.end(), level, level + 12);
  }
  Outcome o = parse_checked(one_key_file("deep", body));
  EXPECT_FALSE(o.ok);
  EXPECT_NE(o.message.find("key 'deep': arrays nested deeper than 8 levels"), std::string::npos)
      << o.message;
}

TEST(GgufHostile, HugeStringArrayFailsFast) {
  // An array of 2^60 strings in a 45-byte file: rejected by the count check, not by allocation.
  std::vector<uint8_t> body = {9, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10};
  Outcome o = parse_checked(one_key_file("tokens", body));
  EXPECT_FALSE(o.ok);
  EXPECT_NE(o.message.find("key 'tokens': array of 1152921504606846976 string"), std::string::npos)
      << o.message;
}

TEST(GgufHostile, ElementBudgetBoundsMemory) {
  // 2^22 + 1 one-byte elements fit in the file but exceed the 2^22-element metadata budget.
  const uint64_t n = (uint64_t{1} << 22) + 1;
  std::vector<uint8_t> body = {9, 0, 0, 0, 0, 0, 0, 0};
  for (int k = 0; k < 8; ++k) body.push_back(static_cast<uint8_t>(n >> (8 * k)));
  body.resize(body.size() + n, 0);
  Outcome o = parse_checked(one_key_file("bytes", body));
  EXPECT_FALSE(o.ok);
  EXPECT_NE(o.message.find("exceeds the limit of 4194304"), std::string::npos) << o.message;
}

TEST(GgufHostile, NestedArraysWeighMoreAgainstTheBudget) {
  // 2^18 + 1 empty nested arrays (12 bytes each in the file, a whole value each in memory): over
  // the budget at 16 elements apiece, though 2^18 + 1 plain elements would be far under it.
  const uint64_t n = (uint64_t{1} << 18) + 1;
  std::vector<uint8_t> body = {9, 0, 0, 0, 9, 0, 0, 0};
  for (int k = 0; k < 8; ++k) body.push_back(static_cast<uint8_t>(n >> (8 * k)));
  for (uint64_t e = 0; e < n; ++e) body.insert(body.end(), {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  Outcome o = parse_checked(one_key_file("lists", body));
  EXPECT_FALSE(o.ok);
  EXPECT_NE(o.message.find("(a nested array counts 16)"), std::string::npos) << o.message;
  // One fewer fits.
  body[8] = 0;
  body.resize(body.size() - 12);
  EXPECT_TRUE(parse_checked(one_key_file("lists", body)).ok);
}

TEST(GgufHostile, BoolArrayElementOutsideZeroOneNamesTheElement) {
  // array of 4 bools: 1, 0, 7, 1 (arrays keep their element bytes packed; each is still checked)
  const std::vector<uint8_t> body = {9, 0, 0, 0, 7, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 1, 0, 7, 1};
  Outcome o = parse_checked(one_key_file("flags", body));
  EXPECT_FALSE(o.ok);
  EXPECT_NE(o.message.find("key 'flags': bool element 2 is 7 (must be 0 or 1)"), std::string::npos)
      << o.message;
}

TEST(GgufHostile, TruncatedStringElementNamesTheElement) {
  // array of 2 strings: "ab", then a length of 9 with 3 bytes left
  const std::vector<uint8_t> body = {9, 0, 0, 0, 8, 0, 0, 0, 2,   0,   0,  0,   0,
                                     0, 0, 0, 2, 0, 0, 0, 0, 0,   0,   0,  'a', 'b',
                                     9, 0, 0, 0, 0, 0, 0, 0, 'x', 'y', 'z'};
  Outcome o = parse_checked(one_key_file("words", body));
  EXPECT_FALSE(o.ok);
  EXPECT_NE(o.message.find("key 'words' element 1"), std::string::npos) << o.message;
  EXPECT_NE(o.message.find("string of length 9 exceeds the 3 bytes left"), std::string::npos)
      << o.message;
}

TEST(GgufHostile, NotGguf) {
  EXPECT_NE(parse_checked({}).message.find("not a GGUF file"), std::string::npos);
  EXPECT_NE(parse_checked({'G', 'G', 'M', 'L', 3, 0, 0, 0}).message.find("not a GGUF file"),
            std::string::npos);
}

}  // namespace
}  // namespace longctx
