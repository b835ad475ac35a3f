// Writer tests: write -> read round trips of every metadata type and several tensor types,
// streaming in odd chunk sizes, v2 headers, alignments, and rejection of misuse. Also emits
// build/gguf_writer_check.gguf for tools/gguf_check_writer.py (the Python gguf reader's check).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>

#include "gguf/gguf.h"
#include "gguf/gguf_writer.h"

namespace longctx {
namespace {

namespace fs = std::filesystem;

std::string temp_path(const std::string& name) {
  return (fs::path(LONGCTX_BINARY_DIR) / ("test_gguf_writer_" + name)).string();
}

// Tensor bytes: a pattern tools/gguf_check_writer.py recomputes independently.
uint8_t pattern_byte(size_t tensor_index, uint64_t k) {
  return static_cast<uint8_t>((k * 131 + tensor_index * 17 + 7) & 0xff);
}

struct TensorSpec {
  const char* name;
  std::vector<uint64_t> dims;
  TensorType type;
};

// The content written by WritesFileForPythonCheck; keep in sync with tools/gguf_check_writer.py.
const std::vector<TensorSpec>& check_tensors() {
  static const std::vector<TensorSpec> specs = {
      {"token_embd.weight", {64, 7}, TensorType::Q8_0},
      {"blk.0.attn_norm.weight", {33}, TensorType::F32},
      {"blk.0.attn_q.weight", {64, 3, 2}, TensorType::F16},
      {"blk.0.ffn_down.weight", {256, 3}, TensorType::Q4_K},
      {"blk.0.ffn_up.weight", {256, 2}, TensorType::Q6_K},
      {"blk.0.bf16", {5, 1, 2, 3}, TensorType::BF16},
  };
  return specs;
}

void set_all_types(GgufWriter& w) {
  auto ok = [](const Status& s) { ASSERT_TRUE(s.is_ok()) << s.message(); };
  ok(w.set("general.architecture", gguf_string("qwen3")));
  ok(w.set("w.u8", gguf_u8(250)));
  ok(w.set("w.i8", gguf_i8(-7)));
  ok(w.set("w.u16", gguf_u16(65535)));
  ok(w.set("w.i16", gguf_i16(-32768)));
  ok(w.set("w.u32", gguf_u32(4294967295u)));
  ok(w.set("w.i32", gguf_i32(-123456789)));
  ok(w.set("w.u64", gguf_u64(std::numeric_limits<uint64_t>::max())));
  ok(w.set("w.i64", gguf_i64(std::numeric_limits<int64_t>::min())));
  ok(w.set("w.f32", gguf_f32(0.25f)));
  ok(w.set("w.f64", gguf_f64(-1e300)));
  ok(w.set("w.bool", gguf_bool(true)));
  ok(w.set("w.str", gguf_string("héllo \"wörld\" 🎉")));
  ok(w.set("w.str_empty", gguf_string("")));
  ok(w.set("w.ключ", gguf_string("unicode key")));
  ok(w.set("w.arr.str", gguf_string_array({"<|im_start|>", "", "ü", "a b"})));
  ok(w.set("w.arr.i32", gguf_array(GgufType::INT32, {gguf_i32(-1), gguf_i32(0), gguf_i32(7)})));
  ok(w.set("w.arr.f32", gguf_array(GgufType::FLOAT32, {gguf_f32(1.5f), gguf_f32(-2.0f)})));
  ok(w.set("w.arr.bool", gguf_array(GgufType::BOOL, {gguf_bool(false), gguf_bool(true)})));
  ok(w.set("w.arr.u64", gguf_array(GgufType::UINT64, {gguf_u64(1), gguf_u64(1ull << 40)})));
  ok(w.set("w.arr.empty", gguf_array(GgufType::UINT8, {})));
  ok(w.set("w.arr.nested",
           gguf_array(GgufType::ARRAY, {gguf_array(GgufType::INT16, {gguf_i16(1), gguf_i16(-2)}),
                                        gguf_string_array({"x", "yz"})})));
}

// Writes the check file's tensors through the streaming interface in chunks of `chunk` bytes.
void write_check_tensors(GgufWriter& w, const std::string& path, size_t chunk) {
  for (const TensorSpec& t : check_tensors()) {
    ASSERT_TRUE(w.add_tensor(t.name, t.dims, t.type).is_ok()) << t.name;
  }
  ASSERT_TRUE(w.begin(path).is_ok());
  std::vector<uint8_t> all;
  for (size_t j = 0; j < w.tensors().size(); ++j) {
    for (uint64_t k = 0; k < w.tensors()[j].n_bytes; ++k) all.push_back(pattern_byte(j, k));
  }
  for (size_t off = 0; off < all.size(); off += chunk) {
    const size_t n = std::min(chunk, all.size() - off);
    ASSERT_TRUE(w.write_tensor_data(all.data() + off, n).is_ok());
  }
  Status s = w.finish();
  ASSERT_TRUE(s.is_ok()) << s.message();
}

// Reads `path` back and checks every value and tensor byte written by set_all_types and
// write_check_tensors.
void expect_round_trip(const std::string& path, uint32_t version, uint64_t alignment) {
  auto r = GgufFile::open(path);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  const GgufFile& f = r.value();
  EXPECT_EQ(f.version(), version);
  EXPECT_EQ(f.alignment(), alignment);
  EXPECT_EQ(f.data_offset() % alignment, 0u);
  EXPECT_EQ(f.architecture(), "qwen3");
  EXPECT_EQ(f.get_uint("w.u8").value(), 250u);
  EXPECT_EQ(f.get_int("w.i8").value(), -7);
  EXPECT_EQ(f.get_uint("w.u16").value(), 65535u);
  EXPECT_EQ(f.get_int("w.i16").value(), -32768);
  EXPECT_EQ(f.get_uint("w.u32").value(), 4294967295u);
  EXPECT_EQ(f.get_int("w.i32").value(), -123456789);
  EXPECT_EQ(f.get_uint("w.u64").value(), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(f.get_int("w.i64").value(), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(f.get_float("w.f32").value(), 0.25);
  EXPECT_EQ(f.get_float("w.f64").value(), -1e300);
  EXPECT_TRUE(f.get_bool("w.bool").value());
  EXPECT_EQ(f.get_string("w.str").value(), "héllo \"wörld\" 🎉");
  EXPECT_EQ(f.get_string("w.str_empty").value(), "");
  EXPECT_EQ(f.get_string("w.ключ").value(), "unicode key");
  EXPECT_EQ(f.get_string_array("w.arr.str").value(),
            (std::vector<std::string>{"<|im_start|>", "", "ü", "a b"}));
  EXPECT_EQ(f.get_int_array("w.arr.i32").value(), (std::vector<int64_t>{-1, 0, 7}));
  EXPECT_EQ(f.get_float_array("w.arr.f32").value(), (std::vector<double>{1.5, -2.0}));
  EXPECT_EQ(f.find("w.arr.bool")->to_string(), "[false, true]");
  EXPECT_EQ(f.get_int_array("w.arr.u64").value(), (std::vector<int64_t>{1, 1ll << 40}));
  EXPECT_EQ(f.find("w.arr.empty")->size(), 0u);
  EXPECT_EQ(f.find("w.arr.nested")->to_string(), "[[1, -2], [\"x\", \"yz\"]]");

  const auto& specs = check_tensors();
  ASSERT_EQ(f.tensors().size(), specs.size());
  for (size_t j = 0; j < specs.size(); ++j) {
    const GgufTensorInfo& t = f.tensors()[j];
    EXPECT_EQ(t.name, specs[j].name);
    EXPECT_EQ(t.dims, specs[j].dims);
    EXPECT_EQ(t.type, specs[j].type);
    EXPECT_EQ(t.offset % alignment, 0u) << t.name;
    const uint8_t* p = f.tensor_data(t);
    uint64_t mismatches = 0;
    for (uint64_t k = 0; k < t.n_bytes; ++k) mismatches += p[k] != pattern_byte(j, k);
    EXPECT_EQ(mismatches, 0u) << t.name;
  }
}

TEST(GgufWriter, RoundTripEveryTypeStreamedInOddChunks) {
  // Chunk sizes that split tensors mid-block, span several tensors, and write one byte at a time.
  for (size_t chunk : {size_t{1}, size_t{7}, size_t{1000}, size_t{1} << 20}) {
    SCOPED_TRACE(chunk);
    const std::string path = temp_path("chunks.gguf");
    GgufWriter w;
    set_all_types(w);
    write_check_tensors(w, path, chunk);
    expect_round_trip(path, 3, 32);
    fs::remove(path);
  }
}

TEST(GgufWriter, VocabularySizedStringArrayRoundTripsPacked) {
  // A vocabulary's shape: 150,000 strings of 0..19 bytes, any byte value, some empty.
  std::vector<std::string> tokens(150000);
  uint64_t total = 0;
  for (size_t k = 0; k < tokens.size(); ++k) {
    tokens[k].assign(k % 20, static_cast<char>(k * 7));
    total += tokens[k].size();
  }
  const std::string path = temp_path("vocab.gguf");
  {
    GgufWriter w;
    ASSERT_TRUE(w.set("tokenizer.ggml.tokens", gguf_string_array(tokens)).is_ok());
    ASSERT_TRUE(
        w.set("types", gguf_array(GgufType::INT32, {gguf_i32(-5), gguf_i32(1 << 30)})).is_ok());
    ASSERT_TRUE(w.begin(path).is_ok());
    ASSERT_TRUE(w.finish().is_ok());
  }
  auto f = GgufFile::open(path);
  ASSERT_TRUE(f.is_ok()) << f.status().message();
  const GgufValue* v = f->find("tokenizer.ggml.tokens");
  ASSERT_NE(v, nullptr);
  ASSERT_EQ(v->size(), tokens.size());
  // One blob of exactly the strings' bytes and one offset each: no per-element objects.
  EXPECT_EQ(v->packed.size(), total);
  EXPECT_LT(v->packed.capacity(), total + total / 8);  // sized first, not grown by doubling
  EXPECT_TRUE(v->nested.empty());
  for (size_t k = 0; k < tokens.size(); ++k) {
    ASSERT_EQ(v->string_element(k), tokens[k]) << k;
  }
  EXPECT_EQ(v->element(19).str, tokens[19]);
  auto types = f->get_int_array("types");
  ASSERT_TRUE(types.is_ok());
  EXPECT_EQ(*types, (std::vector<int64_t>{-5, 1 << 30}));
  std::remove(path.c_str());
}

TEST(GgufWriter, RoundTripVersion2AndAlignments) {
  for (uint64_t alignment : {uint64_t{1}, uint64_t{8}, uint64_t{32}, uint64_t{4096}}) {
    for (uint32_t version : {2u, 3u}) {
      SCOPED_TRACE("alignment " + std::to_string(alignment) + " v" + std::to_string(version));
      const std::string path = temp_path("align.gguf");
      GgufWriter w({.version = version, .alignment = alignment});
      set_all_types(w);
      write_check_tensors(w, path, 4096);
      expect_round_trip(path, version, alignment);
      // general.alignment is written only when it differs from the default.
      auto f = GgufFile::open(path);
      ASSERT_TRUE(f.is_ok());
      EXPECT_EQ(f->find("general.alignment") != nullptr, alignment != 32);
      fs::remove(path);
    }
  }
}

TEST(GgufWriter, WritesFileForPythonCheck) {
  // Checked by: python3 tools/gguf_check_writer.py build/gguf_writer_check.gguf
  const std::string path = (fs::path(LONGCTX_BINARY_DIR) / "gguf_writer_check.gguf").string();
  GgufWriter w({.version = 3, .alignment = 64});
  set_all_types(w);
  write_check_tensors(w, path, 333);
  expect_round_trip(path, 3, 64);
}

TEST(GgufWriter, WriteTensorChecksOrderAndSize) {
  const std::string path = temp_path("order.gguf");
  GgufWriter w;
  ASSERT_TRUE(w.add_tensor("a", {4}, TensorType::F32).is_ok());
  ASSERT_TRUE(w.add_tensor("b", {2}, TensorType::F16).is_ok());
  ASSERT_TRUE(w.begin(path).is_ok());
  const float a[4] = {1, 2, 3, 4};
  Status s = w.write_tensor("b", a, 4);
  EXPECT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("expected 'a'"), std::string::npos) << s.message();
  EXPECT_FALSE(fs::exists(path));

  GgufWriter w2;
  ASSERT_TRUE(w2.add_tensor("a", {4}, TensorType::F32).is_ok());
  ASSERT_TRUE(w2.begin(path).is_ok());
  s = w2.write_tensor("a", a, 12);
  EXPECT_NE(s.message().find("declared size is 16"), std::string::npos) << s.message();

  GgufWriter w3;
  ASSERT_TRUE(w3.add_tensor("a", {4}, TensorType::F32).is_ok());
  ASSERT_TRUE(w3.begin(path).is_ok());
  ASSERT_TRUE(w3.write_tensor("a", a, 16).is_ok());
  ASSERT_TRUE(w3.finish().is_ok());
  auto f = GgufFile::open(path);
  ASSERT_TRUE(f.is_ok()) << f.status().message();
  const float* back = reinterpret_cast<const float*>(f->tensor_data(f->tensors()[0]));
  EXPECT_EQ(back[3], 4.0f);
  fs::remove(path);
}

TEST(GgufWriter, IncompleteWriteLeavesNoFile) {
  const std::string path = temp_path("incomplete.gguf");
  fs::remove(path);
  {
    GgufWriter w;
    ASSERT_TRUE(w.add_tensor("a", {256}, TensorType::F32).is_ok());
    ASSERT_TRUE(w.begin(path).is_ok());
    const uint8_t bytes[100] = {};
    ASSERT_TRUE(w.write_tensor_data(bytes, sizeof(bytes)).is_ok());
    Status s = w.finish();
    EXPECT_NE(s.message().find("100 of 1024 bytes"), std::string::npos) << s.message();
  }
  {
    GgufWriter w;  // abandoned without finish(): the destructor removes the temporary file
    ASSERT_TRUE(w.add_tensor("a", {4}, TensorType::F32).is_ok());
    ASSERT_TRUE(w.begin(path).is_ok());
  }
  EXPECT_FALSE(fs::exists(path));
  for (const auto& e : fs::directory_iterator(fs::path(path).parent_path())) {
    EXPECT_EQ(e.path().filename().string().find("test_gguf_writer_incomplete.gguf.tmp"),
              std::string::npos)
        << "leftover " << e.path();
  }
}

TEST(GgufWriter, RejectsBadDeclarations) {
  GgufWriter w;
  ASSERT_TRUE(w.set("k", gguf_u8(1)).is_ok());
  EXPECT_NE(w.set("k", gguf_u8(2)).message().find("duplicate metadata key 'k'"), std::string::npos);
  EXPECT_FALSE(w.set("general.alignment", gguf_u32(64)).is_ok());
  const GgufValue mixed = gguf_array(GgufType::INT32, {gguf_i32(1), gguf_string("x")});
  EXPECT_NE(w.set("mixed", mixed).message().find("element 1 has type string"), std::string::npos);
  // Left unpacked, it still reads back element by element (as `info` would show it).
  ASSERT_EQ(mixed.size(), 2u);
  EXPECT_EQ(mixed.element(1).str, "x");
  EXPECT_EQ(mixed.to_string(), "[1, \"x\"]");
  GgufValue big = gguf_u8(0);
  big.u = 300;
  EXPECT_NE(w.set("big", big).message().find("300 does not fit in uint8"), std::string::npos);
  // An array element that does not fit its type is named too (not truncated into the array).
  EXPECT_NE(w.set("bigs", gguf_array(GgufType::UINT8, {gguf_u8(1), big}))
                .message()
                .find("300 does not fit in uint8"),
            std::string::npos);
  GgufValue torn = gguf_string_array({"ab", "c"});
  torn.ends[0] = 7;  // past the packed bytes
  EXPECT_NE(w.set("torn", torn).message().find("string element 0 ends outside"), std::string::npos);

  EXPECT_FALSE(w.add_tensor("", {4}, TensorType::F32).is_ok());
  EXPECT_FALSE(w.add_tensor(std::string(64, 'n'), {4}, TensorType::F32).is_ok());
  EXPECT_FALSE(w.add_tensor("t", {}, TensorType::F32).is_ok());
  EXPECT_FALSE(w.add_tensor("t", {1, 1, 1, 1, 1}, TensorType::F32).is_ok());
  EXPECT_FALSE(w.add_tensor("t", {4, 0}, TensorType::F32).is_ok());
  EXPECT_FALSE(w.add_tensor("t", {1ull << 32, 1ull << 32}, TensorType::F32).is_ok());
  Status s = w.add_tensor("t", {100}, TensorType::Q4_K);
  EXPECT_NE(s.message().find("row length 100 is not a multiple of the q4_K block size 256"),
            std::string::npos)
      << s.message();
  ASSERT_TRUE(w.add_tensor("t", {4}, TensorType::F32).is_ok());
  EXPECT_NE(w.add_tensor("t", {4}, TensorType::F32).message().find("declared twice"),
            std::string::npos);

  GgufWriter bad_version({.version = 1});
  EXPECT_NE(bad_version.set("k", gguf_u8(1)).message().find("version 1"), std::string::npos);
  GgufWriter bad_align({.alignment = 48});
  EXPECT_NE(bad_align.begin(temp_path("x")).message().find("alignment 48"), std::string::npos);
}

}  // namespace
}  // namespace longctx
