// Tests of core file I/O: zstd round trip through the shipped tokenizer, atomic writes, mmap.
#include <gtest/gtest.h>

#include "common/temp_path.h"

#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>

#include "core/file_io.h"

namespace longctx {
namespace {

TEST(FileIo, ReadsShippedZstdTokenizer) {
  auto r = read_file(std::string(LONGCTX_SOURCE_DIR) + "/data/qwen3-tokenizer/tokenizer.json.zst");
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_GT(r->size(), 10u * 1000 * 1000);  // 11.4 MB decompressed
  EXPECT_EQ(r->front(), '{');
}

TEST(FileIo, CorruptZstdIsAnError) {
  std::string junk = "\x28\xb5\x2f\xfd garbage";
  auto r = zstd_decompress(junk.data(), junk.size());
  EXPECT_FALSE(r.is_ok());
}

TEST(FileIo, MissingFileIsAnError) {
  auto r = read_file("/nonexistent/longctx/file");
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("/nonexistent/longctx/file"), std::string::npos);
  auto m = MappedFile::open("/nonexistent/longctx/file");
  EXPECT_FALSE(m.is_ok());
}

TEST(FileIo, AtomicWriteThenMap) {
  std::string path = testing_util::unique_temp_path("atomic_write.bin");
  ASSERT_TRUE(write_file_atomic(path, "hello").is_ok());
  auto m = MappedFile::open(path);
  ASSERT_TRUE(m.is_ok());
  ASSERT_EQ(m->size(), 5u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(m->data()), m->size()), "hello");
  std::remove(path.c_str());
}

}  // namespace
}  // namespace longctx

namespace longctx {
namespace {

TEST(FileIo, ReleasedPagesReadBackFromTheFile) {
  // release() only drops resident pages: the map stays valid and reads the file's bytes again,
  // for ranges at and off page boundaries, empty, and the whole map.
  std::string bytes(5 * 4096 + 123, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 7 + i / 4096);
  std::string path = testing_util::unique_temp_path("release.bin");
  ASSERT_TRUE(write_file_atomic(path, bytes).is_ok());
  auto m = MappedFile::open(path);
  ASSERT_TRUE(m.is_ok());
  const std::string first(reinterpret_cast<const char*>(m->data()), m->size());
  ASSERT_EQ(first, bytes);
  for (auto [at, n] : {std::pair<size_t, size_t>{100, 9000},
                       {4096, 8192},
                       {0, 0},
                       {bytes.size(), 0},
                       {0, bytes.size()}}) {
    m->release(m->data() + at, n);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(m->data()), m->size()), bytes)
        << "after releasing " << n << " bytes at " << at;
  }
  std::remove(path.c_str());
}

TEST(FileIo, DirectoryIsNotAFile) {
  auto r = read_file(::testing::TempDir());
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("not a regular file"), std::string::npos)
      << r.status().message();
}

TEST(FileIo, ZstdOutputIsCapped) {
  // The shipped tokenizer decompresses to ~11.4 MB: a 1 MiB cap must stop it with an error.
  auto packed = MappedFile::open(std::string(LONGCTX_SOURCE_DIR) +
                                 "/data/qwen3-tokenizer/tokenizer.json.zst");
  ASSERT_TRUE(packed.is_ok());
  auto capped = zstd_decompress(packed->data(), packed->size(), size_t{1} << 20);
  ASSERT_FALSE(capped.is_ok());
  EXPECT_NE(capped.status().message().find("exceeds 1048576"), std::string::npos);
  auto full = zstd_decompress(packed->data(), packed->size());
  ASSERT_TRUE(full.is_ok());
  EXPECT_GT(full->size(), size_t{10} << 20);
}

}  // namespace
}  // namespace longctx
