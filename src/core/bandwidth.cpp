// STREAM-style read-bandwidth probe over a thread pool.
#include "core/bandwidth.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <new>
#include <vector>

#include "core/system_memory.h"
#include "core/thread_pool.h"

namespace longctx {
namespace {

volatile uint64_t g_sink = 0;

// Sums words [begin, end) with four independent accumulators, so the loop is bound by loads
// (and the compiler can vectorise it) rather than by one long addition chain.
uint64_t sum_words(const uint64_t* p, int64_t begin, int64_t end) {
  uint64_t a = 0, b = 0, c = 0, d = 0;
  int64_t i = begin;
  for (; i + 4 <= end; i += 4) {
    a += p[i];
    b += p[i + 1];
    c += p[i + 2];
    d += p[i + 3];
  }
  for (; i < end; ++i) a += p[i];
  return a + b + c + d;
}

}  // namespace

Result<BandwidthResult> measure_read_bandwidth(const BandwidthOptions& options) {
  constexpr uint64_t kMinBytes = uint64_t{1} << 20;
  if (options.n_threads < 0) {
    return invalid_argument("bandwidth probe: threads must be >= 0, got " +
                            std::to_string(options.n_threads));
  }
  if (options.repetitions < 1) {
    return invalid_argument("bandwidth probe: repetitions must be >= 1, got " +
                            std::to_string(options.repetitions));
  }
  uint64_t bytes = options.bytes;
  // Never push the machine into swap: a quarter of the free memory is plenty to defeat caches.
  if (auto avail = available_memory_bytes()) bytes = std::min(bytes, *avail / 4);
  bytes &= ~uint64_t{63};
  if (bytes < kMinBytes) {
    return invalid_argument("bandwidth probe: buffer of " + std::to_string(bytes) +
                            " bytes is below 1 MiB (requested " + std::to_string(options.bytes) +
                            ", limited by free memory)");
  }
  const int64_t n_words = static_cast<int64_t>(bytes / sizeof(uint64_t));
  std::unique_ptr<uint64_t[]> buf(new (std::nothrow) uint64_t[static_cast<size_t>(n_words)]);
  if (!buf) {
    return Status(ErrorCode::kOutOfMemory,
                  "bandwidth probe: cannot allocate " + std::to_string(bytes) + " bytes");
  }
  const int n_threads = options.n_threads > 0 ? options.n_threads : ThreadPool::default_threads();
  ThreadPool pool(n_threads);
  uint64_t* const data = buf.get();
  pool.run([&](int ith, int nth) {
    int64_t b, e;
    split_range(n_words, ith, nth, &b, &e);
    for (int64_t i = b; i < e; ++i) data[i] = static_cast<uint64_t>(i) * 0x9E3779B97F4A7C15ull;
  });

  std::vector<uint64_t> sums(static_cast<size_t>(n_threads));
  double best = 0;
  for (int r = 0; r < options.repetitions; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    pool.run([&](int ith, int nth) {
      int64_t b, e;
      split_range(n_words, ith, nth, &b, &e);
      sums[static_cast<size_t>(ith)] += sum_words(data, b, e);
    });
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (s > 0) best = std::max(best, static_cast<double>(bytes) / s / 1e9);
  }
  // Publishing the sums through a volatile store keeps the compiler from dropping the reads.
  uint64_t total = 0;
  for (uint64_t s : sums) total += s;
  g_sink = total;

  BandwidthResult out;
  out.gbps = best;
  out.bytes = bytes;
  out.n_threads = n_threads;
  out.repetitions = options.repetitions;
  return out;
}

}  // namespace longctx
