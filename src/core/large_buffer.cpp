// LargeBuffer: mmap(MAP_ANONYMOUS) + madvise(MADV_HUGEPAGE).
#include "core/large_buffer.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
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

void LargeBuffer::release() {
  // Advice: a kernel that refuses it leaves the pages resident, which costs memory only.
  if (data_ != nullptr) ::madvise(data_, size_, MADV_DONTNEED);
}

void release_pages(void* p, size_t n) {
  const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(p) + page - 1) / page * page;
  const uintptr_t end = (reinterpret_cast<uintptr_t>(p) + n) / page * page;
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

}  // namespace longctx
