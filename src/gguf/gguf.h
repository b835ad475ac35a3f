// GGUF v2/v3 reader: validates the whole header (metadata, tensor infos, offsets) against the
// file size before trusting any of it, then exposes metadata and zero-copy tensor views into a
// read-only memory map. Writer: see gguf/gguf_writer.h.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/file_io.h"
#include "core/status.h"
#include "quant/types.h"

namespace longctx {

// Metadata value types, numbered as in the GGUF specification.
enum class GgufType : uint32_t {
  UINT8 = 0,
  INT8 = 1,
  UINT16 = 2,
  INT16 = 3,
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  UINT64 = 10,
  INT64 = 11,
  FLOAT64 = 12,
};
const char* gguf_type_name(GgufType t);

// One metadata value. Scalars are widened into u/i/f; strings own their bytes. Arrays are kept
// packed, because a vocabulary is 151,936 strings and 151,387 merges: one value object per
// element cost 96 bytes each (44 MiB for a Qwen3 file), the packed form about 9 bytes per string.
//  - scalar elements: their little-endian bytes in `packed`, gguf_elem_size(elem_type) each;
//  - string elements: their bytes concatenated in `packed`, element k ending at ends[k];
//  - array elements (nested arrays): one value each in `nested`; also any array that
//    gguf_array could not pack (an element of another type or out of range, which
//    GgufWriter::set then names).
// element(k) decodes one element back into a value.
struct GgufValue {
  GgufType type = GgufType::UINT8;
  uint64_t u = 0;                        // UINT8/16/32/64 and BOOL
  int64_t i = 0;                         // INT8/16/32/64
  double f = 0;                          // FLOAT32/64
  std::string str;                       // STRING
  GgufType elem_type = GgufType::UINT8;  // ARRAY: element type
  std::string packed;                    // ARRAY of scalars or strings: the element bytes
  std::vector<uint64_t> ends;            // ARRAY of strings: end offset of each in `packed`
  std::vector<GgufValue> nested;         // ARRAY of arrays: the elements

  bool is_integer() const;  // any of the eight integer types
  bool is_float() const { return type == GgufType::FLOAT32 || type == GgufType::FLOAT64; }
  // Number of elements of an ARRAY (0 for other types).
  size_t size() const;
  // Element k (< size()) of an ARRAY as a value of type elem_type.
  GgufValue element(size_t k) const;
  // Bytes of element k (< size()) of an ARRAY of strings.
  std::string_view string_element(size_t k) const {
    const uint64_t begin = k == 0 ? 0 : ends[k - 1];
    return std::string_view(packed).substr(begin, ends[k] - begin);
  }
  // Human-readable rendering for `longctx info`; arrays longer than max_elems are abbreviated.
  std::string to_string(size_t max_elems = 8) const;
};

// Bytes of one packed scalar element (1, 2, 4 or 8); 0 for STRING and ARRAY.
size_t gguf_elem_size(GgufType t);

struct GgufKV {
  std::string key;
  GgufValue value;
};

struct GgufTensorInfo {
  std::string name;
  std::vector<uint64_t> dims;  // ne[0] (contiguous, row length) first, as in ggml; 1..4 dims
  TensorType type = TensorType::F32;
  uint64_t offset = 0;  // relative to the start of the data section
  uint64_t n_elements = 0;
  uint64_t n_bytes = 0;
};

class GgufFile {
 public:
  // Maps and validates `path`. Every failure names the key or tensor and the numbers involved.
  static Result<GgufFile> open(const std::string& path);
  // Parses a file held in memory (the caller keeps `data` alive); used by the fuzzer and tests.
  static Result<GgufFile> parse(const uint8_t* data, size_t size);

  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }  // absolute file offset of tensor data
  uint64_t file_size() const { return size_; }
  // The file's bytes (the mapping, or the caller's buffer): the header is [0, data_offset()).
  const uint8_t* bytes() const { return base_; }

  const std::vector<GgufKV>& metadata() const { return kv_; }
  const GgufValue* find(std::string_view key) const;
  // Removes `key` and frees its value (a no-op when absent); returns the bytes of the value's
  // storage that went back to the heap. For values a caller has turned into its own tables
  // (the tokenizer's vocabulary and merges: megabytes of strings nothing reads again).
  size_t drop_metadata(std::string_view key);

  // Typed getters: an error names the key when it is missing or has the wrong type.
  Result<std::string> get_string(std::string_view key) const;
  Result<uint64_t> get_uint(std::string_view key) const;  // any non-negative integer type
  Result<int64_t> get_int(std::string_view key) const;    // any integer type that fits
  Result<double> get_float(std::string_view key) const;   // float or integer types
  Result<bool> get_bool(std::string_view key) const;
  Result<std::vector<std::string>> get_string_array(std::string_view key) const;
  Result<std::vector<int64_t>> get_int_array(std::string_view key) const;
  Result<std::vector<double>> get_float_array(std::string_view key) const;

  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo* find_tensor(std::string_view name) const;
  // Start of a tensor's bytes inside the mapping (valid while this GgufFile lives).
  const uint8_t* tensor_data(const GgufTensorInfo& t) const {
    return base_ + data_offset_ + t.offset;
  }

  // True when the bytes are this object's own private map of a file (open), not a caller's
  // buffer (parse).
  bool is_mapped() const { return map_.data() != nullptr; }
  // Lets a mapped file's pages inside [p, p + n) (bytes of this file) leave resident memory:
  // see MappedFile::release. Nothing for a caller's buffer.
  void release(const uint8_t* p, size_t n) const {
    if (is_mapped()) map_.release(p, n);
  }

  // "general.architecture", or "" when absent.
  std::string architecture() const;

 private:
  MappedFile map_;  // owns the bytes when opened from a path
  const uint8_t* base_ = nullptr;
  size_t size_ = 0;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::vector<GgufKV> kv_;
  std::vector<GgufTensorInfo> tensors_;
};

}  // namespace longctx
