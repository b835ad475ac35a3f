// Thread pool: generation counter + spin-then-sleep workers.
#include "core/thread_pool.h"

#include <system_error>

namespace longctx {
namespace {

// Spin iterations (each a pause hint, tens of cycles) before a worker sleeps: about a millisecond,
// long enough to bridge the gap between two ops of a forward pass or two decoded tokens, short
// enough not to burn a core while the program waits for input.
constexpr int kSpinIterations = 1 << 15;

// A spin-wait hint: lets the sibling hyperthread run and saves power while polling.
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

}  // namespace

ThreadPool::ThreadPool(int n_threads) : n_threads_(n_threads < 1 ? 1 : n_threads) {
  for (int i = 1; i < n_threads_; ++i) {
    try {
      workers_.emplace_back([this, i] { worker(i); });
    } catch (const std::system_error&) {
      // The system will not start more threads: run with those that did start.
      n_threads_ = i;
      break;
    }
  }
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_.store(true);
    generation_.fetch_add(1);
  }
  cv_.notify_all();
  for (std::thread& t : workers_) t.join();
}

int ThreadPool::default_threads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

void ThreadPool::run_impl(void* fn, JobFn call) {
  // One job at a time: two sessions of one engine on different threads take turns per op.
  std::lock_guard<std::mutex> job_lock(run_mu_);
  if (n_threads_ == 1) {
    call(fn, 0, 1);
    return;
  }
  job_fn_ = fn;
  job_call_ = call;
  pending_.store(n_threads_ - 1, std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(mu_);
    generation_.fetch_add(1, std::memory_order_release);
  }
  cv_.notify_all();
  call(fn, 0, n_threads_);
  // The other threads usually finish within microseconds of this one: poll, and only give the
  // core away (yield) when they are late, e.g. preempted on a busy machine.
  for (int spins = 0; pending_.load(std::memory_order_acquire) != 0; ++spins) {
    if (spins < kSpinIterations) {
      cpu_relax();
    } else {
      std::this_thread::yield();
    }
  }
  job_fn_ = nullptr;
}

void ThreadPool::worker(int ith) {
  uint64_t seen = 0;
  for (;;) {
    int spins = 0;
    while (generation_.load(std::memory_order_acquire) == seen && spins < kSpinIterations) {
      ++spins;
      cpu_relax();  // never yield here: on a busy machine a yield can give the core away for a
                    // whole time slice while the next op is already waiting for this thread
    }
    if (generation_.load(std::memory_order_acquire) == seen) {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen; });
    }
    seen = generation_.load(std::memory_order_acquire);
    if (stop_.load()) return;
    job_call_(job_fn_, ith, n_threads_);
    pending_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

}  // namespace longctx
