// The server's scheduler: a pool of sequences (one Session each, --parallel of them) advanced by
// one thread in batched steps (runtime/batch.h). Each step takes one token from every sequence
// that is decoding and fills the rest of the batch with prompt chunks of sequences still
// prefilling, so a long prompt never stalls the others' decode (continuous batching: requests
// join and leave between steps). A new request takes the idle sequence whose cached tokens share
// the longest prefix with its prompt, so a client that resends a conversation prefills only
// what is new. More requests than sequences wait in a bounded queue; past it they are refused.
//
// Requests talk to their HTTP handler through a Job: the scheduler thread posts text, prefill
// progress and the final result; the handler waits on it and sets `cancel` when its client
// goes away, which frees the sequence at the next step.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"
#include "runtime/batch.h"
#include "runtime/engine.h"
#include "runtime/generate.h"
#include "runtime/generation.h"
#include "runtime/session.h"

namespace longctx::server {

// One request's exchange with the scheduler. The handler fills prompt and options, submits,
// then waits for events.
class Job {
 public:
  std::vector<int32_t> prompt;
  GenerateOptions options;  // options.cancel is pointed at `cancel` by the scheduler
  std::atomic<bool> cancel{false};

  struct Event {
    enum Kind { kText, kProgress, kDone } kind = kText;
    std::string text;             // kText
    int64_t done = 0, total = 0;  // kProgress: prompt tokens evaluated of those to evaluate
  };
  // Waits up to `timeout_ms` for events and moves them into *out; true when any arrived (or
  // the job is finished).
  bool wait(std::vector<Event>* out, int timeout_ms);
  bool finished() const;
  // After the kDone event: the reply or the error that ended it, the sequence it ran on.
  const Result<GenerateResult>& result() const { return *result_; }
  int slot() const { return slot_; }

 private:
  friend class Scheduler;
  void post(Event e);
  void finish(Result<GenerateResult> r);

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Event> events_;
  std::optional<Result<GenerateResult>> result_;
  int slot_ = -1;
};

struct SchedulerStats {
  int64_t slots = 0, busy = 0, queued = 0;
  int64_t cells_used = 0, cells_total = 0;  // KV positions held / available over all sequences
  int64_t prompt_tokens = 0, cached_tokens = 0, generated_tokens = 0;  // since start
  int64_t requests = 0;
  double prompt_seconds = 0, gen_seconds = 0;
  std::vector<bool> slot_busy;      // [slot]
  std::vector<int64_t> slot_cells;  // [slot] positions its cache holds
};

class Scheduler {
 public:
  // slots: the sequences (same engine, created by the caller within the memory plan);
  // n_batch: rows per step; max_queue: requests that may wait for a sequence.
  static Result<std::unique_ptr<Scheduler>> create(Engine& engine,
                                                   std::vector<std::unique_ptr<Session>> slots,
                                                   int64_t n_batch, int64_t max_queue);
  ~Scheduler();  // stop()

  // Queues a job; false when the queue is full (the caller answers 503).
  bool submit(std::shared_ptr<Job> job);
  // Cancels every queued and running job and joins the thread.
  void stop();
  SchedulerStats stats() const;
  int64_t n_ctx() const { return n_ctx_; }

 private:
  Scheduler(Engine& engine, std::vector<std::unique_ptr<Session>> slots, BatchRunner runner,
            int64_t max_queue);
  struct Slot {
    std::unique_ptr<Session> session;
    std::shared_ptr<Job> job;
    std::optional<Generation> gen;
    bool pending = false;    // gen->token() is to be evaluated
    uint64_t last_used = 0;  // use_clock_ when it last took a job
  };
  void loop();
  void admit(std::shared_ptr<Job> job);
  void finish(Slot& s, Result<GenerateResult> r);

  Engine& engine_;
  std::vector<Slot> slots_;
  std::vector<std::atomic<int64_t>> cells_;  // [slot] positions held, for stats() from any thread
  BatchRunner runner_;
  int64_t max_queue_;
  int64_t n_ctx_ = 0;
  uint64_t use_clock_ = 0;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Job>> queue_;
  bool stopping_ = false;
  SchedulerStats totals_;
  std::thread thread_;
};

}  // namespace longctx::server
