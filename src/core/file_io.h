// Whole-file reads and writes, and read-only memory maps. Files ending in ".zst" are
// decompressed transparently (the repo ships its tokenizer zstd-compressed).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/status.h"

namespace longctx {

// Largest output zstd_decompress / read_file produce from a compressed file: the biggest file
// the project reads this way is an 11 MB tokenizer, and a small crafted frame must not be able
// to expand into gigabytes.
inline constexpr size_t kMaxDecompressedBytes = size_t{256} << 20;

// Reads a whole regular file (a directory or device is an error); decompresses it when the name
// ends in ".zst".
Result<std::string> read_file(const std::string& path);

// Writes `data` to `path` atomically (temporary file + rename), so a failure never leaves a
// half-written file in place of a good one.
Status write_file_atomic(const std::string& path, const std::string& data);

// Decompresses a zstd frame held in memory; output beyond max_bytes is an error.
Result<std::string> zstd_decompress(const void* data, size_t size,
                                    size_t max_bytes = kMaxDecompressedBytes);

// A read-only private mapping of a whole file. Movable, not copyable.
class MappedFile {
 public:
  MappedFile() = default;
  ~MappedFile();
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  static Result<MappedFile> open(const std::string& path);

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  // Drops this process's pages that lie wholly inside [p, p + n), a range inside the map, from
  // its resident memory (once their bytes were copied elsewhere). The map stays valid: a later
  // read faults the page back in from the file (the map is read-only, so no write is lost).
  void release(const uint8_t* p, size_t n) const;
  const std::string& path() const { return path_; }

 private:
  void reset();
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  std::string path_;
};

}  // namespace longctx
