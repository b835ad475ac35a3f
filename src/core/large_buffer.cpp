// LargeBuffer: mmap(MAP_ANONYMOUS) + madvise(MADV_HUGEPAGE).
#include "core/large_buffer.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

namespace longctx {

LargeBuffer::~LargeBuffer() { reset(); }

LargeBuffer::LargeBuffer(LargeBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

LargeBuffer& LargeBuffer::operator=(LargeBuffer&& other) noexcept {
  if (this != &other) {
    reset();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

void LargeBuffer::reset() {
  if (data_ != nullptr) ::munmap(data_, size_);
  data_ = nullptr;
  size_ = 0;
}

Result<LargeBuffer> LargeBuffer::allocate(size_t size) {
  LargeBuffer b;
  if (size == 0) return b;
  void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    return Status(ErrorCode::kIo, "cannot map " + std::to_string(size) +
                                      " bytes of memory: " + std::strerror(errno));
  }
#ifdef MADV_HUGEPAGE
  // Advice only: where transparent huge pages are off, the buffer simply keeps 4 KiB pages.
  ::madvise(p, size, MADV_HUGEPAGE);
#endif
  b.data_ = static_cast<uint8_t*>(p);
  b.size_ = size;
  return b;
}

}  // namespace longctx
