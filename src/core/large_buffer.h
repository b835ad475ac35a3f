// A large zero-filled buffer straight from the kernel (anonymous mmap), advised to use transparent
// huge pages: the KV cache is streamed end to end on every decoded token, and with 2 MiB pages the
// hardware prefetchers run across what would be 4 KiB page boundaries and the TLB covers it.
// Pages are committed on first touch.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/status.h"

namespace longctx {

class LargeBuffer {
 public:
  LargeBuffer() = default;
  ~LargeBuffer();
  LargeBuffer(LargeBuffer&& other) noexcept;
  LargeBuffer& operator=(LargeBuffer&& other) noexcept;
  LargeBuffer(const LargeBuffer&) = delete;
  LargeBuffer& operator=(const LargeBuffer&) = delete;

  // size bytes of zeros (size 0: an empty buffer). Error if the system refuses the mapping.
  static Result<LargeBuffer> allocate(size_t size);

  // Gives the pages back to the system (they read as zeros afterwards and are committed again
  // on first touch); the mapping stays. A sleeping server releases its weights and caches so.
  void release();

  uint8_t* data() { return data_; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  void reset();
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// Gives back the whole pages inside [p, p + n) (madvise(MADV_DONTNEED); advice: a kernel that
// refuses it leaves the pages resident, which costs memory only). Anonymous memory (heap or
// mapping) reads as zeros afterwards: for buffers whose contents are no longer needed (scratch);
// a private file map's pages come back from the file (MappedFile::release).
void release_pages(void* p, size_t n);

}  // namespace longctx
