// Memory-bandwidth probe: a STREAM-style multithreaded read of a buffer much larger than the
// caches, the ceiling for decode speed (tokens/s <= bandwidth / bytes read per token).
#pragma once

#include <cstdint>

#include "core/status.h"

namespace longctx {

struct BandwidthOptions {
  uint64_t bytes = uint64_t{1} << 30;  // buffer size; capped at a quarter of the free memory
  int n_threads = 0;                   // 0 = all cores
  int repetitions = 5;                 // the best read pass counts
};

struct BandwidthResult {
  double gbps = 0;     // best pass: bytes / seconds / 1e9
  uint64_t bytes = 0;  // buffer actually read per pass
  int n_threads = 0;
  int repetitions = 0;
};

// Fills the buffer (each thread touches its own slice first, so pages sit near the thread that
// reads them), then times `repetitions` passes in which every thread sums its slice as 64-bit
// words. A buffer below 1 MiB, threads < 0 or repetitions < 1 is kInvalidArgument; a failed
// allocation is kResourceExhausted naming the size.
Result<BandwidthResult> measure_read_bandwidth(const BandwidthOptions& options);

}  // namespace longctx
