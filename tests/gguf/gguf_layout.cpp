// Walks a valid GGUF header recording the position of every numeric field (see gguf_layout.h).
#include "gguf_layout.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace longctx::testing_util {
namespace {

class Walker {
 public:
  explicit Walker(const std::vector<uint8_t>& f) : f_(f) {}

  uint64_t field(FieldKind kind, int width, std::string what) {
    if (pos_ + width > f_.size()) {
      std::fprintf(stderr, "map_header: file ends inside %s\n", what.c_str());
      std::abort();
    }
    const uint64_t v = peek(f_, pos_, width);
    out.push_back({kind, pos_, width, std::move(what)});
    pos_ += width;
    return v;
  }
  std::string string(FieldKind kind, const std::string& what) {
    const uint64_t n = field(kind, 8, what);
    std::string s(reinterpret_cast<const char*>(f_.data() + pos_), n);
    pos_ += n;
    return s;
  }
  // Element sizes of the fixed-size GGUF value types, by type id.
  static int scalar_size(uint32_t t) {
    static const int kSize[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
    return t < 13 ? kSize[t] : 0;
  }
  void value(uint32_t type, const std::string& key) {
    if (type == 8) {
      string(FieldKind::kStringLength, "key '" + key + "' string length");
    } else if (type == 9) {
      const uint32_t elem =
          static_cast<uint32_t>(field(FieldKind::kArrayType, 4, "key '" + key + "' array type"));
      const uint64_t n = field(FieldKind::kArrayCount, 8, "key '" + key + "' array count");
      for (uint64_t k = 0; k < n; ++k) value(elem, key);
    } else if (key == "general.alignment") {
      field(FieldKind::kAlignmentValue, 4, "general.alignment value");
    } else {
      pos_ += scalar_size(type);
    }
  }
  void walk() {
    pos_ = 4;
    field(FieldKind::kVersion, 4, "version");
    const uint64_t n_tensors = field(FieldKind::kTensorCount, 8, "tensor count");
    const uint64_t n_kv = field(FieldKind::kKvCount, 8, "metadata count");
    for (uint64_t k = 0; k < n_kv; ++k) {
      const std::string key =
          string(FieldKind::kKeyLength, "key #" + std::to_string(k) + " length");
      const uint32_t type =
          static_cast<uint32_t>(field(FieldKind::kValueType, 4, "key '" + key + "' type"));
      value(type, key);
    }
    for (uint64_t k = 0; k < n_tensors; ++k) {
      const std::string name =
          string(FieldKind::kTensorNameLength, "tensor #" + std::to_string(k) + " name length");
      const uint64_t n_dims = field(FieldKind::kNDims, 4, "tensor '" + name + "' n_dims");
      for (uint64_t d = 0; d < n_dims; ++d) {
        field(FieldKind::kDim, 8, "tensor '" + name + "' dim " + std::to_string(d));
      }
      field(FieldKind::kTensorType, 4, "tensor '" + name + "' type");
      field(FieldKind::kTensorOffset, 8, "tensor '" + name + "' offset");
    }
  }

  std::vector<HeaderField> out;

 private:
  const std::vector<uint8_t>& f_;
  uint64_t pos_ = 0;
};

}  // namespace

std::vector<HeaderField> map_header(const std::vector<uint8_t>& file) {
  Walker w(file);
  w.walk();
  return std::move(w.out);
}

void poke(std::vector<uint8_t>& file, uint64_t pos, int width, uint64_t value) {
  std::memcpy(file.data() + pos, &value, width);  // little-endian host
}

uint64_t peek(const std::vector<uint8_t>& file, uint64_t pos, int width) {
  uint64_t v = 0;
  std::memcpy(&v, file.data() + pos, width);
  return v;
}

}  // namespace longctx::testing_util
