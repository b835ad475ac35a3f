// GGUF reader: parses and validates the header (metadata, tensor infos, offsets) of a GGUF v2/v3
// file held in memory or mapped from disk. Every count is checked against the bytes that remain
// before anything is reserved, so a hostile count fails fast instead of allocating.
#include "gguf/gguf.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <unordered_set>

#include "gguf/gguf_limits.h"

namespace longctx {
namespace {

namespace lim = gguf_limits;

// Bytes a single element of a metadata type takes at minimum in the file (used to bound counts
// by the remaining bytes): strings need their u64 length, arrays their u32 type + u64 count.
uint64_t min_value_bytes(GgufType t) {
  if (t == GgufType::STRING) return 8;
  if (t == GgufType::ARRAY) return 12;
  const size_t w = gguf_elem_size(t);
  return w == 0 ? 1 : w;
}

bool valid_type_id(uint32_t id) { return id <= static_cast<uint32_t>(GgufType::FLOAT64); }

// Reads little-endian values from a byte range, never past its end. Failed reads return false and
// leave the cursor unchanged; the caller turns them into a Status naming what it was reading.
class Cursor {
 public:
  Cursor(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  uint64_t pos() const { return pos_; }
  uint64_t remaining() const { return size_ - pos_; }

  template <class T>
  bool read(T* out) {
    if (remaining() < sizeof(T)) return false;
    // GGUF is little-endian, as is every host longctx builds for (x86-64, aarch64).
    std::memcpy(out, data_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  bool read_string(std::string* out) {
    std::string_view v;
    if (!read_string_view(&v)) return false;
    out->assign(v);
    return true;
  }
  // The string at the cursor as a view into the bytes (valid while they are).
  bool read_string_view(std::string_view* out) {
    uint64_t len = 0;
    if (remaining() < sizeof(len)) return false;
    std::memcpy(&len, data_ + pos_, sizeof(len));
    if (len > remaining() - sizeof(len)) return false;
    *out = std::string_view(reinterpret_cast<const char*>(data_ + pos_ + sizeof(len)), len);
    pos_ += sizeof(len) + len;
    return true;
  }
  bool read_bytes(uint64_t n, std::string* out) {
    if (n > remaining()) return false;
    out->assign(reinterpret_cast<const char*>(data_ + pos_), n);
    pos_ += n;
    return true;
  }
  // Length field of the string at the cursor (for error messages), or 0 if unreadable.
  uint64_t peek_u64() const {
    uint64_t v = 0;
    if (remaining() >= sizeof(v)) std::memcpy(&v, data_ + pos_, sizeof(v));
    return v;
  }

 private:
  const uint8_t* data_;
  uint64_t size_;
  uint64_t pos_ = 0;
};

std::string at(const Cursor& c) { return " at byte " + std::to_string(c.pos()); }

Status string_error(const Cursor& c, const std::string& what) {
  return invalid_format(
      what + at(c) + ": string of length " + std::to_string(c.peek_u64()) + " exceeds the " +
      std::to_string(c.remaining() < 8 ? 0 : c.remaining() - 8) + " bytes left in the file");
}

// Parses one value of type `type` into `out`. `key` names the entry for errors; `depth` counts
// array nesting; `budget` is the number of array elements the file may still declare.
Status read_value(Cursor& c, GgufType type, const std::string& key, int depth, uint64_t* budget,
                  GgufValue* out) {
  out->type = type;
  auto truncated = [&](const char* what) {
    return invalid_format("key '" + key + "': truncated " + what + " value" + at(c) + " (" +
                          std::to_string(c.remaining()) + " bytes left)");
  };
  switch (type) {
    case GgufType::UINT8: {
      uint8_t v;
      if (!c.read(&v)) return truncated("uint8");
      out->u = v;
      return Status::ok();
    }
    case GgufType::INT8: {
      int8_t v;
      if (!c.read(&v)) return truncated("int8");
      out->i = v;
      return Status::ok();
    }
    case GgufType::UINT16: {
      uint16_t v;
      if (!c.read(&v)) return truncated("uint16");
      out->u = v;
      return Status::ok();
    }
    case GgufType::INT16: {
      int16_t v;
      if (!c.read(&v)) return truncated("int16");
      out->i = v;
      return Status::ok();
    }
    case GgufType::UINT32: {
      uint32_t v;
      if (!c.read(&v)) return truncated("uint32");
      out->u = v;
      return Status::ok();
    }
    case GgufType::INT32: {
      int32_t v;
      if (!c.read(&v)) return truncated("int32");
      out->i = v;
      return Status::ok();
    }
    case GgufType::UINT64: {
      if (!c.read(&out->u)) return truncated("uint64");
      return Status::ok();
    }
    case GgufType::INT64: {
      if (!c.read(&out->i)) return truncated("int64");
      return Status::ok();
    }
    case GgufType::FLOAT32: {
      float v;
      if (!c.read(&v)) return truncated("float32");
      out->f = v;
      return Status::ok();
    }
    case GgufType::FLOAT64: {
      if (!c.read(&out->f)) return truncated("float64");
      return Status::ok();
    }
    case GgufType::BOOL: {
      uint8_t v;
      if (!c.read(&v)) return truncated("bool");
      if (v > 1) {
        return invalid_format("key '" + key + "': bool value is " + std::to_string(v) +
                              " (must be 0 or 1)" + at(c));
      }
      out->u = v;
      return Status::ok();
    }
    case GgufType::STRING:
      if (!c.read_string(&out->str)) return string_error(c, "key '" + key + "'");
      return Status::ok();
    case GgufType::ARRAY: {
      if (depth >= lim::kMaxArrayDepth) {
        return invalid_format("key '" + key + "': arrays nested deeper than " +
                              std::to_string(lim::kMaxArrayDepth) + " levels");
      }
      uint32_t elem_id = 0;
      uint64_t count = 0;
      if (!c.read(&elem_id)) return truncated("array type of");
      if (!valid_type_id(elem_id)) {
        return invalid_format("key '" + key + "': unknown array element type " +
                              std::to_string(elem_id));
      }
      if (!c.read(&count)) return truncated("array count of");
      const GgufType elem = static_cast<GgufType>(elem_id);
      // Division instead of count * size: the product can overflow for hostile counts.
      const uint64_t max_fit = c.remaining() / min_value_bytes(elem);
      if (count > max_fit) {
        return invalid_format("key '" + key + "': array of " + std::to_string(count) + " " +
                              gguf_type_name(elem) + " needs at least " +
                              std::to_string(min_value_bytes(elem)) + " bytes each but only " +
                              std::to_string(c.remaining()) + " bytes are left" + at(c));
      }
      // A nested array is a whole GgufValue (~160 bytes) per element, so it weighs more.
      const uint64_t cost = elem == GgufType::ARRAY ? lim::kNestedArrayCost : 1;
      if (count > *budget / cost) {
        return invalid_format("key '" + key + "': array of " + std::to_string(count) +
                              " elements exceeds the limit of " +
                              std::to_string(lim::kMaxMetadataElements) +
                              " array elements per file (a nested array counts " +
                              std::to_string(lim::kNestedArrayCost) + ")");
      }
      *budget -= count * cost;
      out->elem_type = elem;
      if (elem == GgufType::ARRAY) {
        out->nested.resize(count);
        for (uint64_t k = 0; k < count; ++k) {
          LONGCTX_RETURN_IF_ERROR(read_value(c, elem, key, depth + 1, budget, &out->nested[k]));
        }
        return Status::ok();
      }
      if (elem == GgufType::STRING) {
        // One blob and the end offsets (see GgufValue); each length is checked by the cursor. A
        // first pass over a copy of the cursor sizes the blob exactly.
        Cursor sizing = c;
        uint64_t total = 0;
        std::string_view s;
        for (uint64_t k = 0; k < count && sizing.read_string_view(&s); ++k) total += s.size();
        out->packed.reserve(total);
        out->ends.resize(count);
        for (uint64_t k = 0; k < count; ++k) {
          if (!c.read_string_view(&s)) {
            return string_error(c, "key '" + key + "' element " + std::to_string(k));
          }
          out->packed += s;
          out->ends[k] = out->packed.size();
        }
        return Status::ok();
      }
      // Scalars: the element bytes as they are (count * size fits: checked above).
      const uint64_t start = c.pos();
      if (!c.read_bytes(count * gguf_elem_size(elem), &out->packed)) {
        return truncated("array");
      }
      if (elem == GgufType::BOOL) {
        for (uint64_t k = 0; k < count; ++k) {
          const auto v = static_cast<uint8_t>(out->packed[k]);
          if (v > 1) {
            return invalid_format("key '" + key + "': bool element " + std::to_string(k) + " is " +
                                  std::to_string(v) + " (must be 0 or 1) at byte " +
                                  std::to_string(start + k));
          }
        }
      }
      return Status::ok();
    }
  }
  return invalid_format("key '" + key + "': unknown value type " +
                        std::to_string(static_cast<uint32_t>(type)));
}

// a * b, or false on uint64 overflow.
bool mul_ok(uint64_t a, uint64_t b, uint64_t* out) {
  if (a != 0 && b > std::numeric_limits<uint64_t>::max() / a) return false;
  *out = a * b;
  return true;
}

// Reads one tensor info and checks everything that does not depend on the data section.
Status read_tensor_info(Cursor& c, uint64_t index, GgufTensorInfo* t) {
  const std::string which = "tensor #" + std::to_string(index);
  if (!c.read_string(&t->name)) return string_error(c, which + " name");
  if (t->name.empty()) return invalid_format(which + ": empty name");
  if (t->name.size() > lim::kMaxTensorName) {
    return invalid_format(which + ": name of " + std::to_string(t->name.size()) +
                          " bytes is longer than " + std::to_string(lim::kMaxTensorName));
  }
  const std::string tn = "tensor '" + t->name + "'";
  uint32_t n_dims = 0;
  if (!c.read(&n_dims)) return invalid_format(tn + ": truncated dimension count" + at(c));
  if (n_dims < 1 || n_dims > lim::kMaxDims) {
    return invalid_format(tn + ": " + std::to_string(n_dims) + " dimensions (must be 1 to " +
                          std::to_string(lim::kMaxDims) + ")");
  }
  t->dims.resize(n_dims);
  uint64_t n = 1;
  for (uint32_t d = 0; d < n_dims; ++d) {
    if (!c.read(&t->dims[d])) return invalid_format(tn + ": truncated dimensions" + at(c));
    // ggml stores dims as int64, so anything above INT64_MAX would read back negative.
    if (t->dims[d] == 0 || t->dims[d] > uint64_t{std::numeric_limits<int64_t>::max()}) {
      return invalid_format(tn + ": dimension " + std::to_string(d) + " is " +
                            std::to_string(t->dims[d]) + " (must be positive)");
    }
    if (!mul_ok(n, t->dims[d], &n) || n > uint64_t{std::numeric_limits<int64_t>::max()}) {
      return invalid_format(tn + ": element count overflows at dimension " + std::to_string(d));
    }
  }
  uint32_t type_id = 0;
  if (!c.read(&type_id)) return invalid_format(tn + ": truncated type" + at(c));
  const auto tr = type_traits(type_id);
  if (!tr) return invalid_format(tn + ": unknown tensor type id " + std::to_string(type_id));
  t->type = tr->type;
  if (t->dims[0] % tr->block_size != 0) {
    return invalid_format(tn + ": row length " + std::to_string(t->dims[0]) +
                          " is not a multiple of the " + tr->name + " block size " +
                          std::to_string(tr->block_size));
  }
  t->n_elements = n;
  if (!mul_ok(n / tr->block_size, tr->block_bytes, &t->n_bytes)) {
    return invalid_format(tn + ": byte size overflows (" + std::to_string(n) + " elements)");
  }
  if (!c.read(&t->offset)) return invalid_format(tn + ": truncated offset" + at(c));
  return Status::ok();
}

}  // namespace

Result<GgufFile> GgufFile::open(const std::string& path) {
  auto m = MappedFile::open(path);
  if (!m) return m.status();
  auto parsed = parse(m->data(), m->size());
  if (!parsed) return parsed.status().with_context(path);
  GgufFile f = std::move(parsed).value();
  // A private read-only mapping keeps its address when moved, so base_ stays valid.
  f.map_ = std::move(m).value();
  // Everything in the header now has its own copy: its pages (5 MiB for a Qwen3 vocabulary)
  // need not stay resident.
  f.release(f.base_, std::min<uint64_t>(f.data_offset_, f.size_));
  return f;
}

Result<GgufFile> GgufFile::parse(const uint8_t* data, size_t size) {
  Cursor c(data, size);
  uint32_t magic = 0;
  if (!c.read(&magic) || magic != lim::kMagic) {
    return invalid_format("not a GGUF file: the first 4 bytes are not \"GGUF\" (file size " +
                          std::to_string(size) + ")");
  }
  GgufFile f;
  f.base_ = data;
  f.size_ = size;
  if (!c.read(&f.version_)) return invalid_format("truncated header: no version");
  // A big-endian file stores its small version number byte-swapped: 3 reads as 0x03000000.
  if ((f.version_ & 0xffff) == 0 && f.version_ != 0) {
    return unsupported("big-endian GGUF file (version field reads " + std::to_string(f.version_) +
                       "); only little-endian files are supported");
  }
  if (f.version_ == 1) {
    return unsupported("GGUF version 1 (32-bit counts) is not supported; convert it to v3");
  }
  if (f.version_ != 2 && f.version_ != 3) {
    return unsupported("GGUF version " + std::to_string(f.version_) +
                       " is not supported (supported: 2, 3)");
  }
  uint64_t n_tensors = 0, n_kv = 0;
  if (!c.read(&n_tensors) || !c.read(&n_kv)) {
    return invalid_format("truncated header: no tensor/metadata counts (file size " +
                          std::to_string(size) + ")");
  }
  // Minimum encodings: a key-value is an 8-byte key length + 4-byte type + a 1-byte value; a
  // tensor info is 8 + 1 (name) + 4 (n_dims) + 8 (one dim) + 4 (type) + 8 (offset).
  constexpr uint64_t kMinKvBytes = 13, kMinTensorInfoBytes = 33;
  if (n_kv > c.remaining() / kMinKvBytes) {
    return invalid_format("metadata count " + std::to_string(n_kv) + " cannot fit in the " +
                          std::to_string(c.remaining()) + " bytes left after the header");
  }
  if (n_tensors > c.remaining() / kMinTensorInfoBytes) {
    return invalid_format("tensor count " + std::to_string(n_tensors) + " cannot fit in the " +
                          std::to_string(c.remaining()) + " bytes left after the header");
  }

  if (n_kv > lim::kMaxKeys || n_tensors > lim::kMaxTensors) {
    return invalid_format("metadata count " + std::to_string(n_kv) + " / tensor count " +
                          std::to_string(n_tensors) + " above the supported maximum (" +
                          std::to_string(lim::kMaxKeys) + " / " + std::to_string(lim::kMaxTensors) +
                          ")");
  }
  // Entries are appended as they parse (never sized from the counts up front): a corrupt count
  // fails at the first bad entry instead of first allocating memory for all of them.
  f.kv_.reserve(std::min<uint64_t>(n_kv, 256));
  std::unordered_set<std::string> keys;
  uint64_t budget = lim::kMaxMetadataElements;
  for (uint64_t k = 0; k < n_kv; ++k) {
    GgufKV& kv = f.kv_.emplace_back();
    if (!c.read_string(&kv.key))
      return string_error(c, "metadata entry #" + std::to_string(k) + " key");
    if (kv.key.empty()) {
      return invalid_format("metadata entry #" + std::to_string(k) + " has an empty key" + at(c));
    }
    if (!keys.insert(kv.key).second)
      return invalid_format("duplicate metadata key '" + kv.key + "'");
    uint32_t type_id = 0;
    if (!c.read(&type_id)) return invalid_format("key '" + kv.key + "': truncated type" + at(c));
    if (!valid_type_id(type_id)) {
      return invalid_format("key '" + kv.key + "': unknown value type " + std::to_string(type_id));
    }
    LONGCTX_RETURN_IF_ERROR(
        read_value(c, static_cast<GgufType>(type_id), kv.key, 0, &budget, &kv.value));
  }

  if (const GgufValue* a = f.find("general.alignment")) {
    if (a->type != GgufType::UINT32) {
      return invalid_format(std::string("key 'general.alignment' has type ") +
                            gguf_type_name(a->type) + " (must be uint32)");
    }
    if (a->u == 0 || (a->u & (a->u - 1)) != 0 || a->u > lim::kMaxAlignment) {
      return invalid_format("key 'general.alignment' is " + std::to_string(a->u) +
                            " (must be a power of two <= " + std::to_string(lim::kMaxAlignment) +
                            ")");
    }
    f.alignment_ = a->u;
  }

  f.tensors_.reserve(std::min<uint64_t>(n_tensors, 4096));
  std::unordered_set<std::string> names;
  for (uint64_t k = 0; k < n_tensors; ++k) {
    LONGCTX_RETURN_IF_ERROR(read_tensor_info(c, k, &f.tensors_.emplace_back()));
    if (!names.insert(f.tensors_[k].name).second) {
      return invalid_format("duplicate tensor name '" + f.tensors_[k].name + "'");
    }
  }

  // The data section starts at the first multiple of the alignment after the tensor infos. A
  // file with no tensors may end before that padding.
  const uint64_t info_end = c.pos();
  f.data_offset_ = (info_end + f.alignment_ - 1) / f.alignment_ * f.alignment_;
  if (n_tensors > 0 && f.data_offset_ > size) {
    return invalid_format("data section offset " + std::to_string(f.data_offset_) +
                          " is past the end of the file (size " + std::to_string(size) + ")");
  }
  const uint64_t data_size = n_tensors > 0 ? size - f.data_offset_ : 0;
  for (const GgufTensorInfo& t : f.tensors_) {
    if (t.offset % f.alignment_ != 0) {
      return invalid_format("tensor '" + t.name + "': offset " + std::to_string(t.offset) +
                            " is not a multiple of the alignment " + std::to_string(f.alignment_));
    }
    // offset + n_bytes <= data_size, written so that neither side can overflow.
    if (t.offset > data_size || t.n_bytes > data_size - t.offset) {
      return invalid_format("tensor '" + t.name + "': data [offset " +
                            std::to_string(f.data_offset_) + " + " + std::to_string(t.offset) +
                            ", size " + std::to_string(t.n_bytes) +
                            "] extends past end of file (size " + std::to_string(size) + ")");
    }
  }
  // Overlap check: sort by offset, then each tensor must start at or after the previous end.
  std::vector<const GgufTensorInfo*> by_offset;
  by_offset.reserve(f.tensors_.size());
  for (const GgufTensorInfo& t : f.tensors_) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(),
            [](const GgufTensorInfo* a, const GgufTensorInfo* b) { return a->offset < b->offset; });
  for (size_t k = 1; k < by_offset.size(); ++k) {
    const GgufTensorInfo& prev = *by_offset[k - 1];
    const GgufTensorInfo& cur = *by_offset[k];
    if (cur.offset < prev.offset + prev.n_bytes) {
      return invalid_format("tensor '" + cur.name + "' (offset " + std::to_string(cur.offset) +
                            ") overlaps tensor '" + prev.name + "' (offset " +
                            std::to_string(prev.offset) + ", size " + std::to_string(prev.n_bytes) +
                            ")");
    }
  }
  return f;
}

const GgufValue* GgufFile::find(std::string_view key) const {
  for (const GgufKV& kv : kv_) {
    if (kv.key == key) return &kv.value;
  }
  return nullptr;
}

size_t GgufFile::drop_metadata(std::string_view key) {
  for (auto it = kv_.begin(); it != kv_.end(); ++it) {
    if (it->key != key) continue;
    const GgufValue& v = it->value;
    const size_t bytes = v.str.capacity() + v.packed.capacity() +
                         v.ends.capacity() * sizeof(uint64_t) +
                         v.nested.capacity() * sizeof(GgufValue);
    kv_.erase(it);
    return bytes;
  }
  return 0;
}

const GgufTensorInfo* GgufFile::find_tensor(std::string_view name) const {
  for (const GgufTensorInfo& t : tensors_) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

std::string GgufFile::architecture() const {
  const GgufValue* v = find("general.architecture");
  return v && v->type == GgufType::STRING ? v->str : std::string();
}

}  // namespace longctx
