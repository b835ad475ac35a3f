// Streaming writer of NumPy .npy files (format 1.0, little-endian float32, C order), for logit
// dumps that oracle scripts read with numpy.load. Rows are appended as they are computed, so a
// dump of [100000][151936] never sits in memory; the file appears atomically when finished.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "core/status.h"

namespace longctx {

class NpyWriter {
 public:
  // Starts `path` (written as path + ".tmp", renamed by finish()) for a float32 array of shape
  // [n_rows][n_cols]; n_rows >= 0, n_cols >= 1.
  static Result<NpyWriter> create(const std::string& path, int64_t n_rows, int64_t n_cols);
  NpyWriter(NpyWriter&& other) noexcept;
  NpyWriter& operator=(NpyWriter&& other) noexcept;
  NpyWriter(const NpyWriter&) = delete;
  NpyWriter& operator=(const NpyWriter&) = delete;
  ~NpyWriter();  // an unfinished file is removed, never left half-written under `path`

  // Appends n rows of n_cols floats; more rows than declared is kInvalidArgument.
  Status append_rows(const float* data, int64_t n);
  // Checks that all n_rows were written, flushes, closes and renames into place.
  Status finish();

 private:
  NpyWriter() = default;
  std::string path_;
  std::FILE* f_ = nullptr;
  int64_t n_rows_ = 0, n_cols_ = 0, written_ = 0;
};

// Reads a float32 .npy written by NpyWriter or numpy (format 1.0/2.0, '<f4', C order, 1-D or
// 2-D): the shape and the values. For tests and tools; bounded by the file's size.
struct NpyArray {
  std::vector<int64_t> shape;
  std::vector<float> data;
};
Result<NpyArray> read_npy_f32(const std::string& path);

}  // namespace longctx
