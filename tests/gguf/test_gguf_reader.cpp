// Reader tests against fixtures written by the Python `gguf` package (tools/gguf_make_fixtures.py):
// every metadata value, tensor info and tensor byte hash must match what that writer recorded.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/file_io.h"
#include "gguf/gguf.h"
#include "gguf_test_util.h"

namespace longctx {
namespace {

using nlohmann::json;

const std::string kData = LONGCTX_TEST_DATA_DIR;

json load_manifest() {
  auto text = read_file(kData + "/fixtures.json");
  EXPECT_TRUE(text.is_ok()) << text.status().message();
  return json::parse(text.value());
}

// Compares one parsed value with its JSON description, recursing into arrays.
void expect_value(const GgufValue& v, const json& j, const std::string& where) {
  ASSERT_EQ(static_cast<int>(v.type), j.at("type").get<int>()) << where;
  switch (v.type) {
    case GgufType::UINT8:
    case GgufType::UINT16:
    case GgufType::UINT32:
    case GgufType::UINT64:
      EXPECT_EQ(v.u, j.at("value").get<uint64_t>()) << where;
      break;
    case GgufType::INT8:
    case GgufType::INT16:
    case GgufType::INT32:
    case GgufType::INT64:
      EXPECT_EQ(v.i, j.at("value").get<int64_t>()) << where;
      break;
    case GgufType::FLOAT32:
    case GgufType::FLOAT64:
      // Exact: the JSON holds the double value of what the file stores (f32 widened exactly).
      EXPECT_EQ(v.f, j.at("value").get<double>()) << where;
      break;
    case GgufType::BOOL:
      EXPECT_EQ(v.u != 0, j.at("value").get<bool>()) << where;
      break;
    case GgufType::STRING:
      EXPECT_EQ(v.str, j.at("value").get<std::string>()) << where;
      break;
    case GgufType::ARRAY: {
      EXPECT_EQ(static_cast<int>(v.elem_type), j.at("elem_type").get<int>()) << where;
      const json& elems = j.at("elems");
      ASSERT_EQ(v.size(), elems.size()) << where;
      for (size_t k = 0; k < elems.size(); ++k) {
        expect_value(v.element(k), elems[k], where + "[" + std::to_string(k) + "]");
      }
      break;
    }
  }
}

class FixtureTest : public ::testing::TestWithParam<int> {};

TEST_P(FixtureTest, MatchesPythonWriter) {
  const json fx = load_manifest().at("fixtures").at(GetParam());
  const std::string path = kData + "/" + fx.at("file").get<std::string>();
  SCOPED_TRACE(path);
  auto r = GgufFile::open(path);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  const GgufFile& f = r.value();
  EXPECT_EQ(f.version(), fx.at("version").get<uint32_t>());
  EXPECT_EQ(f.alignment(), fx.at("alignment").get<uint64_t>());
  EXPECT_EQ(f.data_offset(), fx.at("data_offset").get<uint64_t>());

  const json& meta = fx.at("metadata");
  ASSERT_EQ(f.metadata().size(), meta.size());
  for (size_t k = 0; k < meta.size(); ++k) {
    EXPECT_EQ(f.metadata()[k].key, meta[k].at("key").get<std::string>());
    expect_value(f.metadata()[k].value, meta[k], meta[k].at("key").get<std::string>());
  }
  EXPECT_EQ(f.architecture(), meta[0].at("value").get<std::string>());

  const json& tensors = fx.at("tensors");
  ASSERT_EQ(f.tensors().size(), tensors.size());
  for (size_t k = 0; k < tensors.size(); ++k) {
    const GgufTensorInfo& t = f.tensors()[k];
    const json& jt = tensors[k];
    EXPECT_EQ(t.name, jt.at("name").get<std::string>());
    EXPECT_EQ(t.dims, jt.at("dims").get<std::vector<uint64_t>>()) << t.name;
    EXPECT_EQ(static_cast<int>(t.type), jt.at("type").get<int>()) << t.name;
    EXPECT_EQ(t.offset, jt.at("offset").get<uint64_t>()) << t.name;
    EXPECT_EQ(t.n_elements, jt.at("n_elements").get<uint64_t>()) << t.name;
    EXPECT_EQ(t.n_bytes, jt.at("n_bytes").get<uint64_t>()) << t.name;
    EXPECT_EQ(testing_util::sha256_hex(f.tensor_data(t), t.n_bytes),
              jt.at("sha256").get<std::string>())
        << t.name;
    EXPECT_EQ(f.find_tensor(t.name), &t);
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, FixtureTest, ::testing::Range(0, 4));

TEST(GgufReader, TypedGetters) {
  auto r = GgufFile::open(kData + "/all_types.gguf");
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  const GgufFile& f = r.value();
  EXPECT_EQ(f.get_uint("t.u32").value(), 4000000000u);
  EXPECT_EQ(f.get_int("t.i8").value(), -100);
  EXPECT_EQ(f.get_int("t.u64").status().code(), ErrorCode::kInvalidFormat);   // 2^64-1
  EXPECT_EQ(f.get_uint("t.i32").status().code(), ErrorCode::kInvalidFormat);  // negative
  EXPECT_EQ(f.get_float("t.u16").value(), 65000.0);
  EXPECT_FLOAT_EQ(static_cast<float>(f.get_float("t.f32").value()), 0.1f);
  EXPECT_TRUE(f.get_bool("t.bool_true").value());
  EXPECT_FALSE(f.get_bool("t.bool_false").value());
  EXPECT_EQ(f.get_string("t.str").value(), "hello, world");
  EXPECT_EQ(f.get_string_array("t.arr.str").value(),
            (std::vector<std::string>{"a", "", "ü", "<|im_start|>", std::string(100, 'x')}));
  EXPECT_EQ(f.get_int_array("t.arr.i8").value(), (std::vector<int64_t>{-128, 0, 127}));
  EXPECT_EQ(f.get_float_array("t.arr.f64").value(),
            (std::vector<double>{3.141592653589793, -2.5e100}));

  auto missing = f.get_uint("no.such.key");
  EXPECT_EQ(missing.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(missing.status().message().find("no.such.key"), std::string::npos);
  auto wrong = f.get_string("t.u8");
  EXPECT_NE(wrong.status().message().find("t.u8"), std::string::npos);
  EXPECT_NE(wrong.status().message().find("uint8"), std::string::npos);
  EXPECT_FALSE(f.get_string_array("t.arr.i32").is_ok());
  EXPECT_FALSE(f.get_int_array("t.arr.str").is_ok());
}

TEST(GgufReader, DropMetadataFreesOneKeyAndKeepsTheRest) {
  auto r = GgufFile::open(kData + "/all_types.gguf");
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  GgufFile& f = r.value();
  const size_t n_keys = f.metadata().size();
  const GgufValue* arr = f.find("t.arr.str");
  ASSERT_NE(arr, nullptr);
  // The strings' bytes (1 + 0 + 2 + 12 + 100) and their five end offsets at least.
  const size_t want_min = 115 + 5 * sizeof(uint64_t);
  EXPECT_GE(f.drop_metadata("t.arr.str"), want_min);
  EXPECT_EQ(f.find("t.arr.str"), nullptr);
  EXPECT_EQ(f.metadata().size(), n_keys - 1);
  EXPECT_EQ(f.get_string_array("t.arr.str").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(f.drop_metadata("t.arr.str"), 0u);  // already gone
  EXPECT_EQ(f.drop_metadata("no.such.key"), 0u);
  EXPECT_EQ(f.metadata().size(), n_keys - 1);
  // Everything else reads as before.
  EXPECT_EQ(f.get_string("t.str").value(), "hello, world");
  EXPECT_EQ(f.get_int_array("t.arr.i8").value(), (std::vector<int64_t>{-128, 0, 127}));
  EXPECT_EQ(f.get_uint("t.u32").value(), 4000000000u);
}

TEST(GgufReader, ValueRendering) {
  auto r = GgufFile::open(kData + "/qwen_like.gguf");
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  const GgufFile& f = r.value();
  EXPECT_EQ(f.find("tokenizer.ggml.tokens")->to_string(3),
            "[300 strings: \"!\", \"\\\"\", \"#\", ... ]");
  EXPECT_EQ(f.find("qwen3.block_count")->to_string(), "2");
  EXPECT_EQ(f.find("tokenizer.ggml.add_bos_token")->to_string(), "false");
  const std::string tmpl = f.find("tokenizer.chat_template")->to_string();
  EXPECT_NE(tmpl.find("... (343 bytes)"), std::string::npos) << tmpl;
  EXPECT_LT(tmpl.size(), 100u);
  auto all = GgufFile::open(kData + "/all_types.gguf");
  ASSERT_TRUE(all.is_ok());
  EXPECT_EQ(all->find("t.arr.nested_int")->to_string(), "[[1, 2, 3], [4], [-5, 6]]");
  EXPECT_EQ(all->find("t.arr.long_i32")->to_string(2), "[100 int32: -50, -49, ... ]");
}

TEST(GgufReader, RejectsBigEndianFileFromPythonWriter) {
  auto r = GgufFile::open(kData + "/big_endian.gguf");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kUnsupported);
  EXPECT_NE(r.status().message().find("big-endian GGUF file"), std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find("big_endian.gguf"), std::string::npos);
}

TEST(GgufReader, OpenMissingFileNamesPath) {
  auto r = GgufFile::open(kData + "/does_not_exist.gguf");
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("does_not_exist.gguf"), std::string::npos);
}

}  // namespace
}  // namespace longctx

namespace longctx {
namespace {

// A header claiming `n_tensors` and `n_kv`, followed by `zeros` zero bytes.
std::vector<uint8_t> header_then_zeros(uint64_t n_tensors, uint64_t n_kv, size_t zeros) {
  std::vector<uint8_t> b = {'G', 'G', 'U', 'F', 3, 0, 0, 0};
  for (uint64_t v : {n_tensors, n_kv}) {
    for (int i = 0; i < 8; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  b.resize(b.size() + zeros, 0);
  return b;
}

// Counts that the remaining bytes could hold but that are corrupt must fail at the first bad
// entry or at the count cap, never by first sizing tables from the count (a 4 GB sparse file
// with n_kv = 1e8 used to reserve ~12 GB before failing).
TEST(GgufReader, CorruptCountsFailBeforeAllocatingForThem) {
  auto many_keys = header_then_zeros(0, 1u << 17, 13u << 17);
  auto r = GgufFile::parse(many_keys.data(), many_keys.size());
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("supported maximum"), std::string::npos)
      << r.status().message();

  auto zero_keys = header_then_zeros(0, 50000, 13 * 50000);
  r = GgufFile::parse(zero_keys.data(), zero_keys.size());
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("#0 has an empty key"), std::string::npos)
      << r.status().message();

  auto zero_tensors = header_then_zeros(40000, 0, 33 * 40000);
  r = GgufFile::parse(zero_tensors.data(), zero_tensors.size());
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("tensor #0"), std::string::npos) << r.status().message();
}

}  // namespace
}  // namespace longctx
