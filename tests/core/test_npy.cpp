// Tests of the .npy writer and reader against files written by numpy (tests/core/data, made by
// tools/npy_make_fixture.py): values read back, byte-identical output, and bad files rejected.
#include <gtest/gtest.h>
#include <unistd.h>

#include "common/temp_path.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "core/file_io.h"
#include "core/npy.h"

namespace longctx {
namespace {

std::string data_path(const std::string& name) {
  return std::string(LONGCTX_TEST_DATA_DIR) + "/" + name;
}

bool exists(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f != nullptr) std::fclose(f);
  return f != nullptr;
}

// The arrays tools/npy_make_fixture.py saves, recomputed here from the same formulas.
std::vector<float> halves(int n) {  // 0, 0.5, 1, ...
  std::vector<float> v(n);
  for (int i = 0; i < n; ++i) v[i] = 0.5f * static_cast<float>(i);
  return v;
}
std::vector<float> mod97(int n) {  // (i mod 97) * 0.25 - 12
  std::vector<float> v(n);
  for (int i = 0; i < n; ++i) v[i] = static_cast<float>(i % 97) * 0.25f - 12.0f;
  return v;
}

TEST(Npy, ReadsNumpyFiles) {
  auto a = read_npy_f32(data_path("npy_numpy.npy"));
  ASSERT_TRUE(a.is_ok()) << a.status().message();
  EXPECT_EQ(a->shape, (std::vector<int64_t>{3, 4}));
  EXPECT_EQ(a->data, halves(12));

  auto v2 = read_npy_f32(data_path("npy_numpy_v2.npy"));
  ASSERT_TRUE(v2.is_ok()) << v2.status().message();
  EXPECT_EQ(v2->shape, (std::vector<int64_t>{3, 4}));
  EXPECT_EQ(v2->data, halves(12));

  auto d1 = read_npy_f32(data_path("npy_numpy_1d.npy"));
  ASSERT_TRUE(d1.is_ok()) << d1.status().message();
  EXPECT_EQ(d1->shape, (std::vector<int64_t>{5}));
  EXPECT_EQ(d1->data, (std::vector<float>{-2, -1, 0, 1, 2}));

  auto empty = read_npy_f32(data_path("npy_numpy_empty.npy"));
  ASSERT_TRUE(empty.is_ok()) << empty.status().message();
  EXPECT_EQ(empty->shape, (std::vector<int64_t>{0, 5}));
  EXPECT_TRUE(empty->data.empty());

  auto big = read_npy_f32(data_path("npy_numpy_1000x3.npy"));
  ASSERT_TRUE(big.is_ok()) << big.status().message();
  EXPECT_EQ(big->shape, (std::vector<int64_t>{1000, 3}));
  EXPECT_EQ(big->data, mod97(3000));
}

// Writes `values` as [rows][cols] in chunks of 1, 2, 3, ... rows and returns the file's bytes.
std::string write_chunked(const std::string& name, const std::vector<float>& values, int64_t rows,
                          int64_t cols) {
  const std::string path = testing_util::unique_temp_path(name);
  auto w = NpyWriter::create(path, rows, cols);
  EXPECT_TRUE(w.is_ok()) << w.status().message();
  if (!w.is_ok()) return {};
  int64_t done = 0;
  for (int64_t chunk = 1; done < rows; ++chunk) {
    const int64_t n = std::min(chunk, rows - done);
    EXPECT_TRUE(w->append_rows(values.data() + done * cols, n).is_ok());
    done += n;
  }
  EXPECT_FALSE(exists(path)) << "the file must appear only at finish()";
  Status st = w->finish();
  EXPECT_TRUE(st.is_ok()) << st.message();
  EXPECT_FALSE(exists(path + ".tmp." + std::to_string(::getpid())));
  auto bytes = read_file(path);
  EXPECT_TRUE(bytes.is_ok());
  std::remove(path.c_str());
  return bytes.is_ok() ? *bytes : std::string();
}

TEST(Npy, WriterMatchesNumpyBytes) {
  struct Case {
    const char* fixture;
    std::vector<float> values;
    int64_t rows, cols;
  };
  const Case cases[] = {{"npy_numpy.npy", halves(12), 3, 4},
                        {"npy_numpy_empty.npy", {}, 0, 5},
                        {"npy_numpy_1000x3.npy", mod97(3000), 1000, 3}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.fixture);
    auto expected = read_file(data_path(c.fixture));
    ASSERT_TRUE(expected.is_ok());
    EXPECT_EQ(write_chunked(std::string("w_") + c.fixture, c.values, c.rows, c.cols), *expected);
  }
}

TEST(Npy, RoundTripKeepsEveryBitPattern) {
  // NaN payloads, infinities, -0 and subnormals must come back bit for bit.
  const uint32_t patterns[] = {0x7fc00001u, 0xff800000u, 0x7f800000u, 0x80000000u,
                               0x00000001u, 0x3f800000u, 0xc2f6e979u};
  const int64_t rows = 7, cols = 33;
  std::vector<float> values(rows * cols);
  for (size_t i = 0; i < values.size(); ++i) {
    uint32_t bits = patterns[i % 7] ^ static_cast<uint32_t>(i << 1 & 0xfe);
    std::memcpy(&values[i], &bits, 4);
  }
  const std::string path = testing_util::unique_temp_path("roundtrip.npy");
  auto w = NpyWriter::create(path, rows, cols);
  ASSERT_TRUE(w.is_ok());
  ASSERT_TRUE(w->append_rows(values.data(), rows).is_ok());
  ASSERT_TRUE(w->finish().is_ok());
  auto a = read_npy_f32(path);
  ASSERT_TRUE(a.is_ok()) << a.status().message();
  EXPECT_EQ(a->shape, (std::vector<int64_t>{rows, cols}));
  ASSERT_EQ(a->data.size(), values.size());
  EXPECT_EQ(std::memcmp(a->data.data(), values.data(), values.size() * 4), 0);
  std::remove(path.c_str());
}

TEST(Npy, UnfinishedWriterLeavesNoFile) {
  const std::string path = testing_util::unique_temp_path("unfinished.npy");
  const std::vector<float> row(8, 1.0f);
  {
    auto w = NpyWriter::create(path, 3, 8);
    ASSERT_TRUE(w.is_ok());
    ASSERT_TRUE(w->append_rows(row.data(), 1).is_ok());
    EXPECT_TRUE(exists(path + ".tmp." + std::to_string(::getpid())));
    Status st = w->finish();  // 1 of 3 rows: refused
    EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(st.message().find("1 of 3 rows"), std::string::npos) << st.message();
  }
  EXPECT_FALSE(exists(path));
  EXPECT_FALSE(exists(path + ".tmp." + std::to_string(::getpid())));
  {
    // Moving a writer hands over the file: only the destination's destructor removes it.
    auto w = NpyWriter::create(path, 1, 8);
    ASSERT_TRUE(w.is_ok());
    NpyWriter moved = std::move(*w);
    ASSERT_TRUE(moved.append_rows(row.data(), 1).is_ok());
    EXPECT_TRUE(exists(path + ".tmp." + std::to_string(::getpid())));
  }
  EXPECT_FALSE(exists(path + ".tmp." + std::to_string(::getpid())));
}

TEST(Npy, MoreRowsThanDeclaredIsAnError) {
  const std::string path = testing_util::unique_temp_path("overflow.npy");
  const std::vector<float> rows(3 * 2, 0.0f);
  auto w = NpyWriter::create(path, 2, 3);
  ASSERT_TRUE(w.is_ok());
  ASSERT_TRUE(w->append_rows(rows.data(), 1).is_ok());
  Status st = w->append_rows(rows.data(), 2);
  EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(st.message().find("2 rows"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("1 of 2"), std::string::npos) << st.message();
  EXPECT_EQ(w->append_rows(rows.data(), -1).code(), ErrorCode::kInvalidArgument);
  ASSERT_TRUE(w->append_rows(rows.data(), 1).is_ok());  // the refused appends wrote nothing
  ASSERT_TRUE(w->finish().is_ok());
  EXPECT_EQ(w->append_rows(rows.data(), 1).code(), ErrorCode::kInvalidArgument);
  auto a = read_npy_f32(path);
  ASSERT_TRUE(a.is_ok()) << a.status().message();
  EXPECT_EQ(a->shape, (std::vector<int64_t>{2, 3}));
  std::remove(path.c_str());
}

TEST(Npy, BadShapesAreRefusedByCreate) {
  const std::string path = testing_util::unique_temp_path("bad_shape.npy");
  EXPECT_EQ(NpyWriter::create(path, -1, 4).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(NpyWriter::create(path, 4, 0).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(NpyWriter::create(path, int64_t{1} << 40, int64_t{1} << 40).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_FALSE(exists(path + ".tmp." + std::to_string(::getpid())));
}

// A version-1.0 file with this dict text (padded the way numpy pads) followed by `data`; built
// here by hand so the corrupt variants do not depend on our writer.
std::string npy_bytes(const std::string& dict, const std::string& data) {
  std::string header = dict;
  header.append(64 - (10 + header.size() + 1) % 64, ' ');
  header += '\n';
  std::string out = "\x93NUMPY\x01";
  out += '\0';
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  return out + header + data;
}

// Reads `bytes` from a file and expects kInvalidFormat with `needle` in the message.
void expect_bad(const std::string& bytes, const std::string& needle) {
  const std::string path = testing_util::unique_temp_path("bad.npy");
  ASSERT_TRUE(write_file_atomic(path, bytes).is_ok());
  auto a = read_npy_f32(path);
  std::remove(path.c_str());
  ASSERT_FALSE(a.is_ok()) << "accepted a file that should fail with '" << needle << "'";
  EXPECT_EQ(a.status().code(), ErrorCode::kInvalidFormat);
  EXPECT_NE(a.status().message().find(needle), std::string::npos) << a.status().message();
}

TEST(Npy, CorruptHeadersAreErrors) {
  const std::string data12(48, '\0');  // 12 floats
  const std::string good = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }";
  {
    // The hand-built good file is accepted, so each failure below is due to its one change.
    const std::string path = testing_util::unique_temp_path("handmade.npy");
    ASSERT_TRUE(write_file_atomic(path, npy_bytes(good, data12)).is_ok());
    EXPECT_TRUE(read_npy_f32(path).is_ok());
    std::remove(path.c_str());
  }
  std::string bad_magic = npy_bytes(good, data12);
  bad_magic[1] = 'M';
  expect_bad(bad_magic, "magic");
  std::string v3 = npy_bytes(good, data12);
  v3[6] = 3;
  expect_bad(v3, "version 3.0");
  std::string long_header = npy_bytes(good, data12);
  long_header[8] = 0x40;
  long_header[9] = 0x7f;  // header length 0x7f40 > file
  expect_bad(long_header, "header length 32576");
  std::string no_newline = npy_bytes(good, "");
  no_newline.back() = ' ';
  expect_bad(no_newline + data12, "newline");
  expect_bad(npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }", data12),
             "'<f8'");
  expect_bad(npy_bytes("{'descr': '<f4', 'fortran_order': True, 'shape': (3, 4), }", data12),
             "fortran_order");
  expect_bad(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2, 2), }", data12),
             "3 dimensions");
  expect_bad(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", ""),
             "0 dimensions");
  expect_bad(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (-3, 4), }", data12),
             "'shape'");
  expect_bad(npy_bytes("{'descr': '<f4', 'shape': (3, 4), }", data12), "lacks");
  expect_bad(npy_bytes(good.substr(0, good.size() - 1) + "'x': 1, }", data12), "'x'");
  expect_bad(npy_bytes("{'descr': '<f4', 'descr': '<f4', 'shape': (3, 4), }", data12), "repeated");
  expect_bad(npy_bytes(good + " x", data12), "after the header");
  expect_bad(npy_bytes(good, data12.substr(1)), "data is 47 bytes, the shape needs 48");
  expect_bad(npy_bytes(good, data12 + "x"), "data is 49 bytes");
  // A shape whose data would be 2^62 bytes: refused from the header, before any allocation.
  expect_bad(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1073741824, "
                       "1073741824), }",
                       data12),
             "too large");
}

TEST(Npy, EveryTruncationIsAnError) {
  auto full = read_file(data_path("npy_numpy.npy"));
  ASSERT_TRUE(full.is_ok());
  const std::string path = testing_util::unique_temp_path("truncated.npy");
  for (size_t len = 0; len < full->size(); ++len) {
    ASSERT_TRUE(write_file_atomic(path, full->substr(0, len)).is_ok());
    auto a = read_npy_f32(path);
    EXPECT_FALSE(a.is_ok()) << "accepted the first " << len << " bytes";
  }
  std::remove(path.c_str());
}

}  // namespace
}  // namespace longctx
