// NumPy .npy float32 files: a streaming writer whose bytes match numpy.save for the same array,
// and a reader that checks every header field against the file's size before allocating.
// Format: "\x93NUMPY", major, minor, header length (u16 in 1.0, u32 in 2.0), a Python dict
// literal padded with spaces and '\n' so the data starts at a multiple of 64 bytes, then the data.
#include "core/npy.h"

#include <unistd.h>

#include <bit>
#include <cctype>
#include <cstring>
#include <string_view>
#include <utility>

#include "core/file_io.h"

namespace longctx {
namespace {

static_assert(std::endian::native == std::endian::little, "npy: '<f4' data is written as-is");

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicLen = 6;
constexpr size_t kAlign = 64;
// numpy pads the dict with spaces after the shape so the header can later be rewritten in
// place with a first dimension of up to 21 digits; byte-identical output needs the same.
constexpr size_t kGrowthAxisDigits = 21;
// Largest data size the reader accepts (bytes): far above any dump, far below size_t overflow.
constexpr uint64_t kMaxDataBytes = uint64_t{1} << 50;

// Unique per process, so two runs dumping to the same path never write one temporary file.
std::string tmp_path(const std::string& path) {
  return path + ".tmp." + std::to_string(static_cast<long>(::getpid()));
}

// The 1.0 header numpy writes for a C-order float32 array of shape (rows, cols).
std::string make_header(int64_t n_rows, int64_t n_cols) {
  const std::string rows = std::to_string(n_rows);
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + rows + ", " +
                     std::to_string(n_cols) + "), }";
  if (rows.size() < kGrowthAxisDigits) dict.append(kGrowthAxisDigits - rows.size(), ' ');
  // hlen counts the dict, the padding and the final '\n'; 10 + hlen is a multiple of 64 and
  // the padding is never empty (numpy adds a full 64 when the sum is already aligned).
  const size_t unpadded = kMagicLen + 4 + dict.size() + 1;
  const size_t pad = kAlign - unpadded % kAlign;
  const size_t hlen = dict.size() + pad + 1;
  std::string out(kMagic, kMagicLen);
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(hlen & 0xff);
  out += static_cast<char>((hlen >> 8) & 0xff);
  out += dict;
  out.append(pad, ' ');
  out += '\n';
  return out;
}

}  // namespace

Result<NpyWriter> NpyWriter::create(const std::string& path, int64_t n_rows, int64_t n_cols) {
  if (n_rows < 0 || n_cols < 1) {
    return invalid_argument("npy: shape must have n_rows >= 0 and n_cols >= 1, got (" +
                            std::to_string(n_rows) + ", " + std::to_string(n_cols) + ")");
  }
  if (static_cast<uint64_t>(n_cols) > kMaxDataBytes / 4 ||
      static_cast<uint64_t>(n_rows) > kMaxDataBytes / 4 / static_cast<uint64_t>(n_cols)) {
    return invalid_argument("npy: shape (" + std::to_string(n_rows) + ", " +
                            std::to_string(n_cols) + ") is too large");
  }
  NpyWriter w;
  w.path_ = path;
  w.n_rows_ = n_rows;
  w.n_cols_ = n_cols;
  w.f_ = std::fopen(tmp_path(path).c_str(), "wb");
  if (w.f_ == nullptr) return io_error("npy: cannot create " + tmp_path(path));
  const std::string header = make_header(n_rows, n_cols);
  if (std::fwrite(header.data(), 1, header.size(), w.f_) != header.size()) {
    return io_error("npy: cannot write the header of " + tmp_path(path));
  }
  return w;
}

NpyWriter::NpyWriter(NpyWriter&& other) noexcept
    : path_(std::move(other.path_)),
      f_(std::exchange(other.f_, nullptr)),
      n_rows_(other.n_rows_),
      n_cols_(other.n_cols_),
      written_(other.written_) {}

NpyWriter& NpyWriter::operator=(NpyWriter&& other) noexcept {
  if (this != &other) {
    if (f_ != nullptr) {  // drop this writer's unfinished file, as the destructor would
      std::fclose(f_);
      std::remove(tmp_path(path_).c_str());
    }
    path_ = std::move(other.path_);
    f_ = std::exchange(other.f_, nullptr);
    n_rows_ = other.n_rows_;
    n_cols_ = other.n_cols_;
    written_ = other.written_;
  }
  return *this;
}

NpyWriter::~NpyWriter() {
  if (f_ != nullptr) {
    std::fclose(f_);
    f_ = nullptr;
    std::remove(tmp_path(path_).c_str());
  }
}

Status NpyWriter::append_rows(const float* data, int64_t n) {
  if (f_ == nullptr) return invalid_argument("npy: append_rows on a finished writer: " + path_);
  if (n < 0 || n > n_rows_ - written_) {
    return invalid_argument("npy: appending " + std::to_string(n) + " rows to " + path_ + " with " +
                            std::to_string(written_) + " of " + std::to_string(n_rows_) +
                            " rows written");
  }
  const size_t count = static_cast<size_t>(n) * static_cast<size_t>(n_cols_);
  if (std::fwrite(data, sizeof(float), count, f_) != count) {
    return io_error("npy: write failed on " + tmp_path(path_));
  }
  written_ += n;
  return Status::ok();
}

Status NpyWriter::finish() {
  if (f_ == nullptr) return invalid_argument("npy: finish on a finished writer: " + path_);
  if (written_ != n_rows_) {
    return invalid_argument("npy: " + path_ + " has " + std::to_string(written_) + " of " +
                            std::to_string(n_rows_) + " rows written");
  }
  const bool flushed = std::fflush(f_) == 0;
  const bool closed = std::fclose(f_) == 0;
  f_ = nullptr;
  const std::string tmp = tmp_path(path_);
  if (!flushed || !closed) {
    std::remove(tmp.c_str());
    return io_error("npy: cannot flush " + tmp);
  }
  if (std::rename(tmp.c_str(), path_.c_str()) != 0) {
    std::remove(tmp.c_str());
    return io_error("npy: cannot rename " + tmp + " to " + path_);
  }
  return Status::ok();
}

namespace {

// A cursor over the header dict, e.g. {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
// (keys in any order, either quote style, optional trailing commas, free whitespace). Only the
// literals numpy writes for these three keys are accepted.
class DictParser {
 public:
  explicit DictParser(std::string_view text) : s_(text) {}

  void skip_space() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  bool eat(char c) {
    skip_space();
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  bool at_end() {
    skip_space();
    return i_ == s_.size();
  }
  bool string(std::string* out) {
    skip_space();
    if (i_ >= s_.size() || (s_[i_] != '\'' && s_[i_] != '"')) return false;
    const char quote = s_[i_++];
    const size_t end = s_.find(quote, i_);
    if (end == std::string_view::npos) return false;
    *out = std::string(s_.substr(i_, end - i_));
    i_ = end + 1;
    return true;
  }
  bool word(std::string_view w) {
    skip_space();
    if (s_.substr(i_, w.size()) != w) return false;
    i_ += w.size();
    return true;
  }
  // A non-negative decimal integer below 2^62.
  bool integer(int64_t* out) {
    skip_space();
    const size_t start = i_;
    int64_t v = 0;
    while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_]))) {
      if (v > (int64_t{1} << 62) / 10) return false;
      v = v * 10 + (s_[i_++] - '0');
    }
    *out = v;
    return i_ > start;
  }
  // "(a,)", "(a, b)" or "(a, b,)"; at most 8 entries are read, the caller checks the rank.
  bool shape(std::vector<int64_t>* out) {
    if (!eat('(')) return false;
    out->clear();
    while (!eat(')')) {
      int64_t v = 0;
      if (out->size() >= 8 || !integer(&v)) return false;
      out->push_back(v);
      if (!eat(',')) return eat(')');
    }
    return true;
  }

 private:
  std::string_view s_;
  size_t i_ = 0;
};

uint32_t read_le(const uint8_t* p, size_t n) {
  uint32_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= static_cast<uint32_t>(p[i]) << (8 * i);
  return v;
}

}  // namespace

Result<NpyArray> read_npy_f32(const std::string& path) {
  Result<MappedFile> mapped = MappedFile::open(path);
  if (!mapped) return mapped.status().with_context("npy");
  const uint8_t* p = mapped->data();
  const size_t size = mapped->size();
  auto bad = [&path](const std::string& what) {
    return invalid_format("npy " + path + ": " + what);
  };

  if (size < kMagicLen + 2 || std::memcmp(p, kMagic, kMagicLen) != 0) {
    return bad("not a .npy file (no \\x93NUMPY magic)");
  }
  const int major = p[6], minor = p[7];
  if ((major != 1 && major != 2) || minor != 0) {
    return bad("unsupported format version " + std::to_string(major) + "." + std::to_string(minor) +
               " (1.0 and 2.0 are read)");
  }
  const size_t len_bytes = major == 1 ? 2 : 4;
  const size_t prefix = kMagicLen + 2 + len_bytes;
  if (size < prefix) return bad("file of " + std::to_string(size) + " bytes ends in the prefix");
  const uint64_t hlen = read_le(p + kMagicLen + 2, len_bytes);
  if (hlen > size - prefix) {
    return bad("header length " + std::to_string(hlen) + " exceeds the " +
               std::to_string(size - prefix) + " bytes after the prefix");
  }
  const size_t data_offset = prefix + static_cast<size_t>(hlen);
  const std::string_view header(reinterpret_cast<const char*>(p + prefix), hlen);
  if (hlen == 0 || header.back() != '\n') return bad("header does not end in a newline");

  DictParser dict(header);
  std::string descr;
  bool have_descr = false, have_fortran = false, have_shape = false;
  NpyArray out;
  if (!dict.eat('{')) return bad("header is not a dict");
  while (!dict.eat('}')) {
    std::string key;
    if (!dict.string(&key) || !dict.eat(':')) return bad("malformed header dict");
    if (key == "descr" && !have_descr) {
      if (!dict.string(&descr)) return bad("'descr' is not a string");
      have_descr = true;
    } else if (key == "fortran_order" && !have_fortran) {
      if (dict.word("True")) return bad("'fortran_order' is True (only C order is read)");
      if (!dict.word("False")) return bad("'fortran_order' is not True or False");
      have_fortran = true;
    } else if (key == "shape" && !have_shape) {
      if (!dict.shape(&out.shape)) return bad("'shape' is not a tuple of non-negative ints");
      have_shape = true;
    } else {
      return bad("unexpected or repeated header key '" + key + "'");
    }
    if (!dict.eat(',')) {
      if (!dict.eat('}')) return bad("malformed header dict");
      break;
    }
  }
  if (!dict.at_end()) return bad("text after the header dict");
  if (!have_descr || !have_fortran || !have_shape) {
    return bad("header lacks one of 'descr', 'fortran_order', 'shape'");
  }
  if (descr != "<f4") return bad("descr '" + descr + "' is not '<f4' (little-endian float32)");
  if (out.shape.empty() || out.shape.size() > 2) {
    return bad("shape has " + std::to_string(out.shape.size()) + " dimensions (1 or 2 are read)");
  }
  // Each dimension is below 2^62, so the running product is bounded before it can overflow.
  uint64_t n_values = 1;
  for (int64_t d : out.shape) {
    if (d != 0 && n_values > kMaxDataBytes / 4 / static_cast<uint64_t>(d)) {
      return bad("shape is too large");
    }
    n_values *= static_cast<uint64_t>(d);
  }
  const uint64_t data_bytes = size - data_offset;
  if (data_bytes != n_values * 4) {
    return bad("data is " + std::to_string(data_bytes) + " bytes, the shape needs " +
               std::to_string(n_values * 4));
  }
  out.data.resize(static_cast<size_t>(n_values));
  if (n_values > 0) std::memcpy(out.data.data(), p + data_offset, data_bytes);
  return out;
}

}  // namespace longctx
