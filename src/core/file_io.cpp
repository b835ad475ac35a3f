// Whole-file I/O, zstd decompression and read-only memory maps.
#include "core/file_io.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/large_buffer.h"

namespace longctx {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string errno_text() { return std::strerror(errno); }

}  // namespace

Result<std::string> zstd_decompress(const void* data, size_t size, size_t max_bytes) {
  ZSTD_DCtx* dctx = ZSTD_createDCtx();
  if (!dctx) return Status(ErrorCode::kOutOfMemory, "cannot create a zstd context");
  std::string out;
  std::string buf(ZSTD_DStreamOutSize(), '\0');
  ZSTD_inBuffer in{data, size, 0};
  size_t last = 1;
  while (in.pos < in.size) {
    ZSTD_outBuffer o{buf.data(), buf.size(), 0};
    last = ZSTD_decompressStream(dctx, &o, &in);
    if (ZSTD_isError(last)) {
      std::string msg = ZSTD_getErrorName(last);
      ZSTD_freeDCtx(dctx);
      return invalid_format("zstd: " + msg);
    }
    if (out.size() + o.pos > max_bytes) {
      ZSTD_freeDCtx(dctx);
      return invalid_format("zstd: output exceeds " + std::to_string(max_bytes) + " bytes");
    }
    out.append(buf.data(), o.pos);
  }
  ZSTD_freeDCtx(dctx);
  if (last != 0) return invalid_format("zstd: truncated frame");
  return out;
}

Result<std::string> read_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return io_error("cannot open '" + path + "': " + errno_text());
  if (!S_ISREG(st.st_mode)) return io_error("'" + path + "' is not a regular file");
  std::ifstream f(path, std::ios::binary);
  if (!f) return io_error("cannot open '" + path + "': " + errno_text());
  std::ostringstream ss;
  ss << f.rdbuf();
  if (f.bad()) return io_error("cannot read '" + path + "'");
  std::string data = std::move(ss).str();
  if (ends_with(path, ".zst")) {
    auto r = zstd_decompress(data.data(), data.size());
    if (!r) return r.status().with_context(path);
    return std::move(r).value();
  }
  return data;
}

Status write_file_atomic(const std::string& path, const std::string& data) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) return io_error("cannot create '" + tmp + "': " + errno_text());
    f.write(data.data(), static_cast<std::streamsize>(data.size()));
    f.flush();
    if (!f) {
      std::remove(tmp.c_str());
      return io_error("cannot write '" + tmp + "'");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string err = errno_text();
    std::remove(tmp.c_str());
    return io_error("cannot rename '" + tmp + "' to '" + path + "': " + err);
  }
  return Status::ok();
}

MappedFile::~MappedFile() { reset(); }

MappedFile::MappedFile(MappedFile&& o) noexcept
    : data_(o.data_), size_(o.size_), path_(std::move(o.path_)) {
  o.data_ = nullptr;
  o.size_ = 0;
}

MappedFile& MappedFile::operator=(MappedFile&& o) noexcept {
  if (this != &o) {
    reset();
    data_ = o.data_;
    size_ = o.size_;
    path_ = std::move(o.path_);
    o.data_ = nullptr;
    o.size_ = 0;
  }
  return *this;
}

void MappedFile::reset() {
  if (data_ && size_ > 0) ::munmap(const_cast<uint8_t*>(data_), size_);
  data_ = nullptr;
  size_ = 0;
}

void MappedFile::release(const uint8_t* p, size_t n) const {
  LONGCTX_CHECK(p >= data_ && n <= size_ && static_cast<size_t>(p - data_) <= size_ - n);
  // The map is private and never written: its pages come back from the file when read again.
  release_pages(const_cast<uint8_t*>(p), n);
}

Result<MappedFile> MappedFile::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return io_error("cannot open '" + path + "': " + errno_text());
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    std::string err = errno_text();
    ::close(fd);
    return io_error("cannot stat '" + path + "': " + err);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return io_error("'" + path + "' is not a regular file");
  }
  MappedFile m;
  m.path_ = path;
  m.size_ = static_cast<size_t>(st.st_size);
  if (m.size_ > 0) {
    void* p = ::mmap(nullptr, m.size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      std::string err = errno_text();
      ::close(fd);
      m.size_ = 0;
      return io_error("cannot map '" + path + "': " + err);
    }
    m.data_ = static_cast<const uint8_t*>(p);
  }
  ::close(fd);
  return m;
}

}  // namespace longctx
