// A persistent pool of worker threads for data-parallel kernels: run(fn) calls fn(ith, nth) on
// every thread (the caller is thread 0) and returns when all have finished. Workers spin briefly
// between jobs (ops follow each other within microseconds during a forward pass), then sleep.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

namespace longctx {

class ThreadPool {
 public:
  // n_threads >= 1 (the caller counts as one; n_threads - 1 workers are started, fewer if the
  // system refuses to start more: size() tells).
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }
  // Runs fn(ith, nth) for ith in [0, nth) concurrently; calls from several threads take turns
  // (a job must not call run() itself). fn is called through a
  // plain function pointer (no std::function), so dispatching a job never allocates.
  template <class F>
  void run(F&& fn) {
    using Fn = std::remove_reference_t<F>;
    run_impl(const_cast<void*>(static_cast<const void*>(&fn)),
             [](void* f, int ith, int nth) { (*static_cast<Fn*>(f))(ith, nth); });
  }

  // Threads to use by default: the hardware concurrency (at least 1).
  static int default_threads();

 private:
  using JobFn = void (*)(void* fn, int ith, int nth);
  void run_impl(void* fn, JobFn call);
  void worker(int ith);

  int n_threads_;
  std::vector<std::thread> workers_;
  void* job_fn_ = nullptr;
  JobFn job_call_ = nullptr;
  std::atomic<uint64_t> generation_{0};  // bumped per job; workers wait for a change
  std::atomic<int> pending_{0};          // workers still running the current job
  std::atomic<bool> stop_{false};
  std::mutex mu_;      // guards the sleep / wake-up of workers
  std::mutex run_mu_;  // serialises run() calls from different threads
  std::condition_variable cv_;
};

// The [begin, end) share of n items for thread ith of nth (contiguous, sizes differ by <= 1).
inline void split_range(int64_t n, int ith, int nth, int64_t* begin, int64_t* end) {
  const int64_t base = n / nth, extra = n % nth;
  *begin = ith * base + (ith < extra ? ith : extra);
  *end = *begin + base + (ith < extra ? 1 : 0);
}

}  // namespace longctx
