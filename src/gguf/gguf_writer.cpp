// GGUF writer: validates metadata and tensor declarations, serialises the header little-endian,
// streams tensor bytes with alignment padding, and publishes the file atomically.
#include "gguf/gguf_writer.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <unordered_set>

#include "gguf/gguf_limits.h"

namespace longctx {
namespace {

namespace lim = gguf_limits;

GgufValue scalar(GgufType t) {
  GgufValue v;
  v.type = t;
  return v;
}

uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

// Checks a value's structure recursively: scalar ranges, array element types, nesting depth.
Status validate_value(const GgufValue& v, const std::string& key, int depth) {
  auto out_of_range = [&](const std::string& val) {
    return invalid_argument("key '" + key + "': value " + val + " does not fit in " +
                            gguf_type_name(v.type));
  };
  switch (v.type) {
    case GgufType::UINT8:
      if (v.u > 0xff) return out_of_range(std::to_string(v.u));
      break;
    case GgufType::UINT16:
      if (v.u > 0xffff) return out_of_range(std::to_string(v.u));
      break;
    case GgufType::UINT32:
      if (v.u > 0xffffffffu) return out_of_range(std::to_string(v.u));
      break;
    case GgufType::BOOL:
      if (v.u > 1) return out_of_range(std::to_string(v.u));
      break;
    case GgufType::INT8:
      if (v.i < -128 || v.i > 127) return out_of_range(std::to_string(v.i));
      break;
    case GgufType::INT16:
      if (v.i < -32768 || v.i > 32767) return out_of_range(std::to_string(v.i));
      break;
    case GgufType::INT32:
      if (v.i < std::numeric_limits<int32_t>::min() || v.i > std::numeric_limits<int32_t>::max())
        return out_of_range(std::to_string(v.i));
      break;
    case GgufType::ARRAY:
      if (depth >= lim::kMaxArrayDepth) {
        return invalid_argument("key '" + key + "': arrays nested deeper than " +
                                std::to_string(lim::kMaxArrayDepth) + " levels");
      }
      if (v.elem_type == GgufType::ARRAY || !v.nested.empty()) {
        for (size_t k = 0; k < v.nested.size(); ++k) {
          if (v.nested[k].type != v.elem_type) {
            return invalid_argument("key '" + key + "': element " + std::to_string(k) +
                                    " has type " + gguf_type_name(v.nested[k].type) +
                                    " in an array of " + gguf_type_name(v.elem_type));
          }
          LONGCTX_RETURN_IF_ERROR(validate_value(v.nested[k], key, depth + 1));
        }
      } else if (v.elem_type == GgufType::STRING) {
        for (size_t k = 0; k < v.ends.size(); ++k) {
          if (v.ends[k] < (k ? v.ends[k - 1] : 0) || v.ends[k] > v.packed.size()) {
            return invalid_argument("key '" + key + "': string element " + std::to_string(k) +
                                    " ends outside the packed bytes");
          }
        }
        if ((v.ends.empty() ? 0 : v.ends.back()) != v.packed.size()) {
          return invalid_argument("key '" + key + "': packed string bytes past the last element");
        }
      } else {
        const size_t w = gguf_elem_size(v.elem_type);
        if (w == 0 || v.packed.size() % w != 0) {
          return invalid_argument("key '" + key + "': " + std::to_string(v.packed.size()) +
                                  " packed bytes are not whole " + gguf_type_name(v.elem_type) +
                                  " elements");
        }
        for (size_t k = 0; v.elem_type == GgufType::BOOL && k < v.packed.size(); ++k) {
          if (static_cast<uint8_t>(v.packed[k]) > 1) {
            return invalid_argument("key '" + key + "': bool element " + std::to_string(k) +
                                    " is not 0 or 1");
          }
        }
      }
      break;
    default:
      if (static_cast<uint32_t>(v.type) > static_cast<uint32_t>(GgufType::FLOAT64)) {
        return invalid_argument("key '" + key + "': unknown value type " +
                                std::to_string(static_cast<uint32_t>(v.type)));
      }
      break;
  }
  return Status::ok();
}

// Serialises values into a byte buffer, little-endian (the host order on x86-64 and aarch64).
class Encoder {
 public:
  std::string bytes;
  template <class T>
  void put(T v) {
    bytes.append(reinterpret_cast<const char*>(&v), sizeof(v));
  }
  void put_string(const std::string& s) {
    put<uint64_t>(s.size());
    bytes += s;
  }
  void put_value(const GgufValue& v) {
    switch (v.type) {
      case GgufType::UINT8:
        put<uint8_t>(static_cast<uint8_t>(v.u));
        break;
      case GgufType::INT8:
        put<int8_t>(static_cast<int8_t>(v.i));
        break;
      case GgufType::UINT16:
        put<uint16_t>(static_cast<uint16_t>(v.u));
        break;
      case GgufType::INT16:
        put<int16_t>(static_cast<int16_t>(v.i));
        break;
      case GgufType::UINT32:
        put<uint32_t>(static_cast<uint32_t>(v.u));
        break;
      case GgufType::INT32:
        put<int32_t>(static_cast<int32_t>(v.i));
        break;
      case GgufType::UINT64:
        put<uint64_t>(v.u);
        break;
      case GgufType::INT64:
        put<int64_t>(v.i);
        break;
      case GgufType::FLOAT32:
        put<float>(static_cast<float>(v.f));
        break;
      case GgufType::FLOAT64:
        put<double>(v.f);
        break;
      case GgufType::BOOL:
        put<uint8_t>(v.u ? 1 : 0);
        break;
      case GgufType::STRING:
        put_string(v.str);
        break;
      case GgufType::ARRAY:
        put<uint32_t>(static_cast<uint32_t>(v.elem_type));
        put<uint64_t>(v.size());
        if (v.elem_type == GgufType::ARRAY || !v.nested.empty()) {
          for (const GgufValue& e : v.nested) put_value(e);
        } else if (v.elem_type == GgufType::STRING) {
          for (size_t k = 0; k < v.ends.size(); ++k) {
            const std::string_view e = v.string_element(k);
            put<uint64_t>(e.size());
            bytes += e;
          }
        } else {
          bytes += v.packed;  // already the little-endian element bytes
        }
        break;
    }
  }
};

}  // namespace

GgufValue gguf_u8(uint8_t v) {
  auto r = scalar(GgufType::UINT8);
  r.u = v;
  return r;
}
GgufValue gguf_i8(int8_t v) {
  auto r = scalar(GgufType::INT8);
  r.i = v;
  return r;
}
GgufValue gguf_u16(uint16_t v) {
  auto r = scalar(GgufType::UINT16);
  r.u = v;
  return r;
}
GgufValue gguf_i16(int16_t v) {
  auto r = scalar(GgufType::INT16);
  r.i = v;
  return r;
}
GgufValue gguf_u32(uint32_t v) {
  auto r = scalar(GgufType::UINT32);
  r.u = v;
  return r;
}
GgufValue gguf_i32(int32_t v) {
  auto r = scalar(GgufType::INT32);
  r.i = v;
  return r;
}
GgufValue gguf_u64(uint64_t v) {
  auto r = scalar(GgufType::UINT64);
  r.u = v;
  return r;
}
GgufValue gguf_i64(int64_t v) {
  auto r = scalar(GgufType::INT64);
  r.i = v;
  return r;
}
GgufValue gguf_f32(float v) {
  auto r = scalar(GgufType::FLOAT32);
  r.f = v;
  return r;
}
GgufValue gguf_f64(double v) {
  auto r = scalar(GgufType::FLOAT64);
  r.f = v;
  return r;
}
GgufValue gguf_bool(bool v) {
  auto r = scalar(GgufType::BOOL);
  r.u = v ? 1 : 0;
  return r;
}
GgufValue gguf_string(std::string v) {
  auto r = scalar(GgufType::STRING);
  r.str = std::move(v);
  return r;
}
GgufValue gguf_array(GgufType elem_type, std::vector<GgufValue> elems) {
  auto r = scalar(GgufType::ARRAY);
  r.elem_type = elem_type;
  // Packed (see GgufValue) when every element has the array's type and fits it; otherwise the
  // elements stay values in `nested`, so that GgufWriter::set names the one that does not.
  bool packable = elem_type != GgufType::ARRAY;
  for (const GgufValue& e : elems) {
    if (!packable) break;
    packable = e.type == elem_type && validate_value(e, "", 1).is_ok();
  }
  if (!packable) {
    r.nested = std::move(elems);
    return r;
  }
  if (elem_type == GgufType::STRING) {
    r.ends.reserve(elems.size());
    for (const GgufValue& e : elems) {
      r.packed += e.str;
      r.ends.push_back(r.packed.size());
    }
    return r;
  }
  Encoder enc;
  for (const GgufValue& e : elems) enc.put_value(e);
  r.packed = std::move(enc.bytes);
  return r;
}
GgufValue gguf_string_array(const std::vector<std::string>& v) {
  auto r = scalar(GgufType::ARRAY);
  r.elem_type = GgufType::STRING;
  r.ends.reserve(v.size());
  for (const std::string& s : v) {
    r.packed += s;
    r.ends.push_back(r.packed.size());
  }
  return r;
}

GgufWriter::GgufWriter(GgufWriterOptions options) : options_(options) {
  if (options_.version != 2 && options_.version != 3) {
    options_status_ = invalid_argument("GGUF writer: version " + std::to_string(options_.version) +
                                       " (must be 2 or 3)");
  } else if (options_.alignment == 0 || (options_.alignment & (options_.alignment - 1)) != 0 ||
             options_.alignment > lim::kMaxAlignment) {
    options_status_ =
        invalid_argument("GGUF writer: alignment " + std::to_string(options_.alignment) +
                         " (must be a power of two <= " + std::to_string(lim::kMaxAlignment) + ")");
  } else if (options_.alignment != lim::kDefaultAlignment) {
    kv_.push_back({"general.alignment", gguf_u32(static_cast<uint32_t>(options_.alignment))});
  }
}

GgufWriter::~GgufWriter() { discard(); }

void GgufWriter::discard() {
  if (file_) {
    std::fclose(file_);
    file_ = nullptr;
  }
  if (!tmp_path_.empty() && phase_ != Phase::kFinished) std::remove(tmp_path_.c_str());
}

Status GgufWriter::fail(Status s) {
  phase_ = Phase::kFailed;
  discard();
  return s;
}

Status GgufWriter::set(std::string key, GgufValue value) {
  LONGCTX_RETURN_IF_ERROR(options_status_);
  if (phase_ != Phase::kDeclaring)
    return invalid_argument("GGUF writer: set('" + key + "') after begin()");
  if (key == "general.alignment") {
    return invalid_argument("GGUF writer: set general.alignment through GgufWriterOptions");
  }
  for (const GgufKV& kv : kv_) {
    if (kv.key == key) return invalid_argument("GGUF writer: duplicate metadata key '" + key + "'");
  }
  LONGCTX_RETURN_IF_ERROR(validate_value(value, key, 0));
  kv_.push_back({std::move(key), std::move(value)});
  return Status::ok();
}

Status GgufWriter::add_tensor(std::string name, std::vector<uint64_t> dims, TensorType type) {
  LONGCTX_RETURN_IF_ERROR(options_status_);
  if (phase_ != Phase::kDeclaring) {
    return invalid_argument("GGUF writer: add_tensor('" + name + "') after begin()");
  }
  const std::string tn = "GGUF writer: tensor '" + name + "'";
  if (name.empty() || name.size() > lim::kMaxTensorName) {
    return invalid_argument(tn + ": name length " + std::to_string(name.size()) +
                            " (must be 1 to " + std::to_string(lim::kMaxTensorName) + ")");
  }
  for (const GgufTensorInfo& t : tensors_) {
    if (t.name == name) return invalid_argument(tn + " declared twice");
  }
  if (dims.empty() || dims.size() > lim::kMaxDims) {
    return invalid_argument(tn + ": " + std::to_string(dims.size()) + " dimensions (must be 1 to " +
                            std::to_string(lim::kMaxDims) + ")");
  }
  const uint64_t kMaxElems = std::numeric_limits<int64_t>::max();
  uint64_t n = 1;
  for (size_t d = 0; d < dims.size(); ++d) {
    if (dims[d] == 0 || dims[d] > kMaxElems / n) {
      return invalid_argument(tn + ": dimension " + std::to_string(d) + " is " +
                              std::to_string(dims[d]) + " (zero, or the element count overflows)");
    }
    n *= dims[d];
  }
  const TypeTraits& tr = traits(type);
  if (dims[0] % tr.block_size != 0) {
    return invalid_argument(tn + ": row length " + std::to_string(dims[0]) +
                            " is not a multiple of the " + tr.name + " block size " +
                            std::to_string(tr.block_size));
  }
  // n / block_size * block_bytes cannot overflow: n < 2^63 and block_bytes <= 8 * block_size.
  GgufTensorInfo t;
  t.name = std::move(name);
  t.dims = std::move(dims);
  t.type = type;
  t.n_elements = n;
  t.n_bytes = n / tr.block_size * tr.block_bytes;
  t.offset = data_bytes_;
  const uint64_t padded = align_up(t.n_bytes, options_.alignment);
  if (padded > std::numeric_limits<uint64_t>::max() - data_bytes_ || padded < t.n_bytes) {
    return invalid_argument(tn + ": data section size overflows");
  }
  data_bytes_ += padded;
  tensors_.push_back(std::move(t));
  return Status::ok();
}

Status GgufWriter::write_bytes(const void* data, size_t n) {
  if (n > 0 && std::fwrite(data, 1, n, file_) != n) {
    return fail(io_error("cannot write '" + tmp_path_ + "': " + std::strerror(errno)));
  }
  return Status::ok();
}

Status GgufWriter::write_padding(uint64_t n) {
  static const char kZeros[256] = {};
  while (n > 0) {
    const size_t chunk = n < sizeof(kZeros) ? n : sizeof(kZeros);
    LONGCTX_RETURN_IF_ERROR(write_bytes(kZeros, chunk));
    n -= chunk;
  }
  return Status::ok();
}

Status GgufWriter::begin(const std::string& path) {
  LONGCTX_RETURN_IF_ERROR(options_status_);
  if (phase_ != Phase::kDeclaring) return invalid_argument("GGUF writer: begin() called twice");
  Encoder e;
  e.put<uint32_t>(lim::kMagic);
  e.put<uint32_t>(options_.version);
  e.put<uint64_t>(tensors_.size());
  e.put<uint64_t>(kv_.size());
  for (const GgufKV& kv : kv_) {
    e.put_string(kv.key);
    e.put<uint32_t>(static_cast<uint32_t>(kv.value.type));
    e.put_value(kv.value);
  }
  for (const GgufTensorInfo& t : tensors_) {
    e.put_string(t.name);
    e.put<uint32_t>(static_cast<uint32_t>(t.dims.size()));
    for (uint64_t d : t.dims) e.put<uint64_t>(d);
    e.put<uint32_t>(static_cast<uint32_t>(t.type));
    e.put<uint64_t>(t.offset);
  }
  path_ = path;
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    return fail(io_error("'" + path + "' is a directory"));
  }
  tmp_path_ = path + ".tmp." + std::to_string(::getpid());
  file_ = std::fopen(tmp_path_.c_str(), "wb");
  if (!file_) {
    const std::string err = std::strerror(errno);
    tmp_path_.clear();  // nothing was created, so nothing to remove
    return fail(
        io_error("cannot create '" + path + ".tmp." + std::to_string(::getpid()) + "': " + err));
  }
  // A 1 MiB buffer keeps small streamed chunks (a row at a time) from becoming small writes.
  std::setvbuf(file_, nullptr, _IOFBF, size_t{1} << 20);
  phase_ = Phase::kWriting;
  LONGCTX_RETURN_IF_ERROR(write_bytes(e.bytes.data(), e.bytes.size()));
  return write_padding(align_up(e.bytes.size(), options_.alignment) - e.bytes.size());
}

Status GgufWriter::write_tensor_data(const void* data, size_t n) {
  if (phase_ != Phase::kWriting)
    return invalid_argument("GGUF writer: tensor data outside begin()/finish()");
  const uint8_t* p = static_cast<const uint8_t*>(data);
  while (n > 0) {
    if (current_ >= tensors_.size()) {
      return fail(invalid_argument("GGUF writer: " + std::to_string(n) +
                                   " bytes of tensor data beyond the last tensor"));
    }
    const GgufTensorInfo& t = tensors_[current_];
    const uint64_t left = t.n_bytes - current_done_;
    const size_t chunk = n < left ? n : static_cast<size_t>(left);
    LONGCTX_RETURN_IF_ERROR(write_bytes(p, chunk));
    p += chunk;
    n -= chunk;
    current_done_ += chunk;
    if (current_done_ == t.n_bytes) {
      LONGCTX_RETURN_IF_ERROR(write_padding(align_up(t.n_bytes, options_.alignment) - t.n_bytes));
      ++current_;
      current_done_ = 0;
    }
  }
  return Status::ok();
}

Status GgufWriter::write_tensor(std::string_view name, const void* data, size_t n) {
  if (phase_ != Phase::kWriting)
    return invalid_argument("GGUF writer: tensor data outside begin()/finish()");
  if (current_ >= tensors_.size() || current_done_ != 0 || tensors_[current_].name != name) {
    const std::string expected =
        current_ < tensors_.size() ? "'" + tensors_[current_].name + "'" : "no more tensors";
    return fail(invalid_argument("GGUF writer: tensor '" + std::string(name) +
                                 "' written out of order (expected " + expected + ")"));
  }
  if (n != tensors_[current_].n_bytes) {
    return fail(invalid_argument("GGUF writer: tensor '" + std::string(name) + "' given " +
                                 std::to_string(n) + " bytes, declared size is " +
                                 std::to_string(tensors_[current_].n_bytes)));
  }
  return write_tensor_data(data, n);
}

Status GgufWriter::finish() {
  if (phase_ != Phase::kWriting) return invalid_argument("GGUF writer: finish() without begin()");
  if (current_ < tensors_.size()) {
    return fail(invalid_argument("GGUF writer: tensor '" + tensors_[current_].name + "' has " +
                                 std::to_string(current_done_) + " of " +
                                 std::to_string(tensors_[current_].n_bytes) +
                                 " bytes written; file discarded"));
  }
  // Flush and sync before the rename, so the new name never points at incomplete data.
  const bool ok = std::fflush(file_) == 0 && ::fsync(::fileno(file_)) == 0;
  const std::string err = std::strerror(errno);
  const bool closed = std::fclose(file_) == 0;
  file_ = nullptr;
  if (!ok || !closed) return fail(io_error("cannot write '" + tmp_path_ + "': " + err));
  if (std::rename(tmp_path_.c_str(), path_.c_str()) != 0) {
    return fail(
        io_error("cannot rename '" + tmp_path_ + "' to '" + path_ + "': " + std::strerror(errno)));
  }
  phase_ = Phase::kFinished;
  return Status::ok();
}

}  // namespace longctx
