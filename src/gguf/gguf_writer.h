// GGUF writer: metadata of every type, tensors declared up front, then tensor bytes streamed in
// declaration order (a multi-GB model never has to be in memory). Output goes to a temporary
// file renamed into place by finish(), so a failure never leaves a half-written file behind.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "gguf/gguf.h"

namespace longctx {

// Builders for metadata values of each GGUF type.
GgufValue gguf_u8(uint8_t v);
GgufValue gguf_i8(int8_t v);
GgufValue gguf_u16(uint16_t v);
GgufValue gguf_i16(int16_t v);
GgufValue gguf_u32(uint32_t v);
GgufValue gguf_i32(int32_t v);
GgufValue gguf_u64(uint64_t v);
GgufValue gguf_i64(int64_t v);
GgufValue gguf_f32(float v);
GgufValue gguf_f64(double v);
GgufValue gguf_bool(bool v);
GgufValue gguf_string(std::string v);
// An array of `elem_type`; every element must have that type (checked by GgufWriter::set).
GgufValue gguf_array(GgufType elem_type, std::vector<GgufValue> elems);
GgufValue gguf_string_array(const std::vector<std::string>& v);

struct GgufWriterOptions {
  uint32_t version = 3;     // 2 or 3 (same layout; v3 added big-endian files, which we never write)
  uint64_t alignment = 32;  // power of two; written as general.alignment when not 32
};

class GgufWriter {
 public:
  explicit GgufWriter(GgufWriterOptions options = {});
  ~GgufWriter();  // discards the temporary file unless finish() succeeded
  GgufWriter(const GgufWriter&) = delete;
  GgufWriter& operator=(const GgufWriter&) = delete;

  // Phase 1 (before begin): metadata in the order it will be written, and tensor declarations.
  // Duplicate keys/names, malformed values (array elements of the wrong type, out-of-range
  // scalars) and invalid tensor shapes are rejected with a Status naming the key or tensor.
  Status set(std::string key, GgufValue value);
  Status add_tensor(std::string name, std::vector<uint64_t> dims, TensorType type);

  // Phase 2: writes the header to a temporary file next to `path`.
  Status begin(const std::string& path);
  // Streams the next `n` bytes of tensor data; chunks may split or span tensors freely, and
  // alignment padding is inserted between tensors.
  Status write_tensor_data(const void* data, size_t n);
  // Writes all bytes of tensor `name`, which must be the next tensor and exactly n_bytes long.
  Status write_tensor(std::string_view name, const void* data, size_t n);
  // Checks every tensor byte was written, flushes, syncs and renames the file into place.
  Status finish();

  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  uint64_t alignment() const { return options_.alignment; }

 private:
  enum class Phase { kDeclaring, kWriting, kFinished, kFailed };
  Status write_bytes(const void* data, size_t n);
  Status write_padding(uint64_t n);
  Status fail(Status s);
  void discard();

  GgufWriterOptions options_;
  Status options_status_;
  Phase phase_ = Phase::kDeclaring;
  std::vector<GgufKV> kv_;
  std::vector<GgufTensorInfo> tensors_;
  uint64_t data_bytes_ = 0;  // data section size including padding after each tensor
  std::string path_, tmp_path_;
  std::FILE* file_ = nullptr;
  size_t current_ = 0;         // index of the tensor being written
  uint64_t current_done_ = 0;  // bytes of it written so far
};

}  // namespace longctx
