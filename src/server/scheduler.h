// The server's scheduler: a pool of sequences (one Session each, --parallel of them) advanced by
// one thread in batched steps (runtime/batch.h). Each step takes one token from every sequence
// that is decoding and adds prompt chunks of sequences still prefilling (up to prefill_chunk
// rows while others decode, the whole batch otherwise), so a long prompt never stalls the
// others' decode (continuous batching: requests join and leave between steps). A new request takes
// the idle sequence whose cached tokens share the longest prefix with its prompt, so a client that
// resends a conversation prefills only what is new; with a spill directory, an idle sequence's
// state is written there before another request overwrites it and read back when a later prompt
// continues it. More requests than sequences wait in a bounded queue; past it they are refused.
//
// Requests talk to their HTTP handler through Jobs posting to a Channel: the scheduler thread
// posts text, token log-probabilities, prefill progress and the final result; the handler waits
// on the channel and sets a job's `cancel` when its client goes away, which frees the sequence
// at the next step. A request for n choices is n jobs on one channel: the first evaluates the
// prompt, the others copy its cache (Session::copy_prefix_from) and sample on their own.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"
#include "kernels/ref/rope.h"
#include "runtime/batch.h"
#include "runtime/engine.h"
#include "runtime/generate.h"
#include "runtime/generation.h"
#include "runtime/session.h"

namespace longctx::server {

// RoPE of a sequence: a static setting, or length-adaptive YaRN over `orig_ctx`.
struct RopeChoice {
  ref::RopeParams params;
  bool adaptive = false;
  int64_t orig_ctx = 0;
  bool operator==(const RopeChoice& o) const;
};

// What a sequence's cached state depends on besides its tokens; a request that asks for another
// configuration starts from an empty cache.
struct SeqConfig {
  int64_t experts = 0;             // MoE experts per token; 0: the server's default
  std::optional<RopeChoice> rope;  // unset: the server's default
};

// Events of one request, from all its jobs (choices), in the order they happened.
class Channel {
 public:
  struct Event {
    enum Kind { kText, kProgress, kDone } kind = kText;
    int index = 0;                // the job (choice) it belongs to
    std::string text;             // kText
    bool has_probs = false;       // kText: the token this text belongs to was sampled now
    TokenProbs probs;             // kText with has_probs
    int64_t done = 0, total = 0;  // kProgress: prompt tokens evaluated of those to evaluate
  };
  // Waits up to `timeout_ms` for events and moves them into *out; true when any arrived.
  bool wait(std::vector<Event>* out, int timeout_ms);
  void post(Event e);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Event> events_;
};

// One generation (one choice of a request). The handler fills the public fields, submits,
// then waits on its channel.
class Job {
 public:
  Job();
  std::vector<int32_t> prompt;
  GenerateOptions options;  // options.cancel is pointed at `cancel` by the scheduler
  SeqConfig config;
  int index = 0;                // choice index within its request
  std::shared_ptr<Job> leader;  // n > 1: the choice whose prompt evaluation this one copies
  int slot_pin = -1;            // llama-server's id_slot: run on this sequence (waits for it)
  bool reuse = true;            // false (llama-server's cache_prompt: false): no cached prefix
  std::atomic<bool> cancel{false};
  std::shared_ptr<Channel> channel;  // shared by the jobs of one request (a new one by default)

  // Single-job convenience: waits on the channel.
  bool wait(std::vector<Channel::Event>* out, int timeout_ms) {
    return channel->wait(out, timeout_ms);
  }
  bool finished() const { return finished_.load(std::memory_order_acquire); }
  // After the kDone event: the reply or the error that ended it, the sequence it ran on.
  const Result<GenerateResult>& result() const { return *result_; }
  int slot() const { return slot_; }

 private:
  friend class Scheduler;
  void finish(Result<GenerateResult> r);

  std::optional<Result<GenerateResult>> result_;
  std::atomic<bool> finished_{false};
  int slot_ = -1;
};

struct SchedulerStats {
  int64_t slots = 0, busy = 0, queued = 0;
  int64_t cells_used = 0, cells_total = 0;  // KV positions held / available over all sequences
  int64_t prompt_tokens = 0, cached_tokens = 0, generated_tokens = 0;  // since start
  int64_t requests = 0;
  int64_t spilled = 0, restored = 0;  // sequence states written to / read from the spill dir
  bool sleeping = false;              // the weights and caches are released (sleep_idle_ms)
  int64_t sleeps = 0;                 // times the server went to sleep since start
  double prompt_seconds = 0, gen_seconds = 0;
  std::vector<bool> slot_busy;      // [slot]
  std::vector<int64_t> slot_cells;  // [slot] positions its cache holds
  std::vector<int> slot_job_index;  // [slot]
};

struct SchedulerOptions {
  int64_t n_batch = 512;  // rows per step
  // Prompt rows a step takes while other sequences are decoding (0: up to n_batch); a prompt
  // alone goes in n_batch chunks.
  int64_t prefill_chunk = 128;
  int64_t max_queue = 64;  // requests that may wait for a sequence
  // Where idle sequences' states go before another request overwrites them ("" = dropped), and
  // at most how many such files are kept (oldest removed first). States shorter than
  // spill_min_tokens are not worth a file.
  std::string spill_dir;
  int64_t spill_max_files = 16;
  int64_t spill_min_tokens = 256;
  // After this long with nothing queued or running (0: never), the server sleeps: idle
  // sequences are spilled (with spill_dir), then every cache, buffer and the weights give their
  // memory back to the system; the next request wakes it (the weights are placed again first).
  int64_t sleep_idle_ms = 0;
};

class Scheduler {
 public:
  // slots: the sequences (same engine, created by the caller within the memory plan).
  static Result<std::unique_ptr<Scheduler>> create(Engine& engine,
                                                   std::vector<std::unique_ptr<Session>> slots,
                                                   const SchedulerOptions& options);
  static Result<std::unique_ptr<Scheduler>> create(Engine& engine,
                                                   std::vector<std::unique_ptr<Session>> slots,
                                                   int64_t n_batch, int64_t max_queue) {
    SchedulerOptions o;
    o.n_batch = n_batch;
    o.max_queue = max_queue;
    return create(engine, std::move(slots), o);
  }
  ~Scheduler();  // stop()

  // Queues one job; false when the queue is full (the caller answers 503).
  bool submit(std::shared_ptr<Job> job) { return submit_all({std::move(job)}); }
  // A job pinned to a sequence that does not exist is refused the same way (the caller checks
  // slot_pin against n_slots() first to answer 400).
  // Queues the jobs of one request together, or none of them.
  bool submit_all(std::vector<std::shared_ptr<Job>> jobs);
  // Runs fn on sequence `slot` in the scheduler's thread between steps, while no job holds it
  // (slot save / restore / erase). kInvalidArgument when there is no such sequence; kUnsupported
  // ("busy") when a job holds it; else fn's status. Blocks until done.
  Status with_idle_slot(int slot, const std::function<Status(Session&)>& fn);
  // Cancels every queued and running job and joins the thread.
  void stop();
  SchedulerStats stats() const;
  int64_t n_ctx() const { return n_ctx_; }
  int64_t n_slots() const { return static_cast<int64_t>(slots_.size()); }

 private:
  Scheduler(Engine& engine, std::vector<std::unique_ptr<Session>> slots, BatchRunner runner,
            SchedulerOptions options);
  struct Slot {
    std::unique_ptr<Session> session;
    std::shared_ptr<Job> job;
    std::optional<Generation> gen;
    SeqConfig config;        // what the cached state was computed under (resolved)
    bool pending = false;    // gen->token() is to be evaluated
    bool stepped = false;    // gen->step() ran at least once (the prompt's logits are used)
    uint64_t last_used = 0;  // use_clock_ when it last took a job
    // The spill file of what the sequence held when the server went to sleep (read back before
    // a slot action; a request finds it by its prompt like any spilled state).
    std::string asleep_spill;
  };
  struct Spill {
    std::string path;
    std::vector<int32_t> tokens;
    SeqConfig config;
    uint64_t last_used = 0;
  };
  struct Task {
    int slot;
    const std::function<Status(Session&)>* fn;
    Status result;
    bool done = false;
  };
  void loop();
  void run_tasks();
  void admit(std::shared_ptr<Job> job);
  std::shared_ptr<Job> next_admissible();  // under mu_: the first queued job a sequence can take
  void start(Slot& s);
  bool start_follower(Slot& s);
  Status apply_config(Slot& s, const SeqConfig& want);
  SeqConfig resolve(const SeqConfig& c) const;
  // Writes the sequence's state to the spill directory (states under min_tokens, default
  // spill_min_tokens, are not worth a file); returns the file that holds it ("" when none).
  std::string spill(Slot& s, const std::string& keep, int64_t min_tokens = -1);
  void restore_spill(Slot& s, const std::string& path);
  void go_to_sleep();
  void wake_up();
  void finish(Slot& s, Result<GenerateResult> r);
  void post_text(Job& job, std::string_view text, const TokenProbs* probs);
  // Prompt tokens evaluated of those this request evaluates (the reused prefix excluded).
  void post_progress(Slot& s);
  static bool same_config(const SeqConfig& a, const SeqConfig& b);

  Engine& engine_;
  SchedulerOptions opt_;
  std::vector<Slot> slots_;
  std::vector<std::atomic<int64_t>> cells_;  // [slot] positions held, for stats() from any thread
  BatchRunner runner_;
  int64_t n_ctx_ = 0;
  uint64_t use_clock_ = 0;
  SeqConfig default_config_;
  std::deque<Spill> spills_;  // scheduler thread only
  uint64_t spill_serial_ = 0;
  size_t expert_rr_ = 0;          // which expert-count group goes first in a mixed step
  bool busy_since_trim_ = false;  // a job ran since the heap was last trimmed
  std::atomic<bool> sleeping_{false};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable task_cv_;
  std::deque<std::shared_ptr<Job>> queue_;
  std::deque<Task*> tasks_;
  bool stopping_ = false;
  SchedulerStats totals_;
  std::thread thread_;
};

}  // namespace longctx::server
