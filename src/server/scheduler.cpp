// Scheduler: sequences advanced together in batched steps (see scheduler.h).
#include "server/scheduler.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>

#include <malloc.h>
#include <unistd.h>

#include "runtime/session_file.h"

namespace longctx::server {
namespace {

GenerateResult cancelled_result() {
  GenerateResult r;
  r.finish = FinishReason::kCancelled;
  return r;
}

double seconds_now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

size_t common_prefix(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
  size_t c = 0;
  while (c < a.size() && c < b.size() && a[c] == b[c]) ++c;
  return c;
}

}  // namespace

bool RopeChoice::operator==(const RopeChoice& o) const {
  const ref::RopeScaling &a = params.scaling, &b = o.params.scaling;
  return adaptive == o.adaptive && orig_ctx == o.orig_ctx && params.theta == o.params.theta &&
         a.type == b.type && a.factor == b.factor && a.original_context == b.original_context;
}

void Channel::post(Event e) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    events_.push_back(std::move(e));
  }
  cv_.notify_all();
}

bool Channel::wait(std::vector<Event>* out, int timeout_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return !events_.empty(); });
  const bool any = !events_.empty();
  for (Event& e : events_) out->push_back(std::move(e));
  events_.clear();
  return any;
}

Job::Job() : channel(std::make_shared<Channel>()) {}

void Job::finish(Result<GenerateResult> r) {
  result_ = std::move(r);
  finished_.store(true, std::memory_order_release);
  Channel::Event e;
  e.kind = Channel::Event::kDone;
  e.index = index;
  channel->post(std::move(e));
}

Result<std::unique_ptr<Scheduler>> Scheduler::create(Engine& engine,
                                                     std::vector<std::unique_ptr<Session>> slots,
                                                     const SchedulerOptions& options) {
  if (slots.empty()) return invalid_argument("the server needs at least one sequence");
  for (const auto& s : slots) {
    if (!s || &s->engine() != &engine) {
      return invalid_argument("every sequence must be a session of the server's engine");
    }
  }
  if (options.max_queue < 0) return invalid_argument("the queue bound must be >= 0");
  if (options.sleep_idle_ms < 0) {
    return invalid_argument("the idle time before sleeping must be >= 0");
  }
  if (options.sleep_idle_ms > 0 && engine.cuda_weights() != nullptr) {
    return unsupported("sleeping when idle is not supported with the CUDA backend yet");
  }
  if (!options.spill_dir.empty()) {
    std::error_code ec;
    if (!std::filesystem::is_directory(options.spill_dir, ec)) {
      return invalid_argument("the session directory " + options.spill_dir +
                              " does not exist or is not a directory");
    }
  }
  // A step holds one row per decoding sequence; the rest goes to prompt chunks.
  const int64_t rows = std::max<int64_t>(options.n_batch, static_cast<int64_t>(slots.size()));
  auto runner = BatchRunner::create(engine, rows, static_cast<int64_t>(slots.size()));
  if (!runner) return runner.status();
  return std::unique_ptr<Scheduler>(
      new Scheduler(engine, std::move(slots), std::move(runner.value()), options));
}

Scheduler::Scheduler(Engine& engine, std::vector<std::unique_ptr<Session>> slots,
                     BatchRunner runner, SchedulerOptions options)
    : engine_(engine), opt_(std::move(options)), cells_(slots.size()), runner_(std::move(runner)) {
  for (size_t i = 0; i < slots.size(); ++i) cells_[i] = slots[i]->n_past();
  // The configuration the sequences were created with is every request's default.
  const Session& s0 = *slots.front();
  default_config_.experts = s0.expert_count();
  RopeChoice rope;
  rope.adaptive = s0.adaptive_rope();
  rope.orig_ctx = s0.rope_original_context();
  rope.params = s0.rope_params();
  if (rope.adaptive) rope.params.scaling = ref::RopeScaling{};  // adaptive starts unscaled
  default_config_.rope = rope;
  for (auto& s : slots) {
    n_ctx_ = s->n_ctx();
    Slot slot;
    slot.session = std::move(s);
    slot.config = default_config_;
    slots_.push_back(std::move(slot));
  }
  totals_.slots = static_cast<int64_t>(slots_.size());
  thread_ = std::thread([this] { loop(); });
}

Scheduler::~Scheduler() { stop(); }

bool Scheduler::submit_all(std::vector<std::shared_ptr<Job>> jobs) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return false;
    int64_t idle = 0;
    for (const Slot& s : slots_) idle += s.job ? 0 : 1;
    // Waiting jobs beyond the idle sequences count against the bound.
    if (static_cast<int64_t>(queue_.size() + jobs.size()) > idle + opt_.max_queue) return false;
    for (const auto& j : jobs) {
      if (j->slot_pin >= static_cast<int>(slots_.size())) return false;
    }
    for (auto& j : jobs) {
      j->options.cancel = &j->cancel;
      queue_.push_back(std::move(j));
    }
  }
  cv_.notify_all();
  return true;
}

Status Scheduler::with_idle_slot(int slot, const std::function<Status(Session&)>& fn) {
  if (slot < 0 || slot >= static_cast<int>(slots_.size())) {
    return invalid_argument("no slot " + std::to_string(slot) + " (the server has " +
                            std::to_string(slots_.size()) + ")");
  }
  Task t{slot, &fn, Status::ok(), false};
  std::unique_lock<std::mutex> lock(mu_);
  if (stopping_) return unsupported("the server is stopping");
  tasks_.push_back(&t);
  cv_.notify_all();
  task_cv_.wait(lock, [&] { return t.done; });
  return t.result;
}

void Scheduler::run_tasks() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!tasks_.empty()) {
    Task* t = tasks_.front();
    tasks_.pop_front();
    Slot& s = slots_[static_cast<size_t>(t->slot)];
    if (stopping_) {
      t->result = unsupported("the server is stopping");
    } else if (s.job) {
      t->result = unsupported("slot " + std::to_string(t->slot) + " is busy with a request");
    } else {
      lock.unlock();  // the slot is idle and only this thread gives it a job
      // What the sequence held before the server slept comes back first, so a save writes it
      // and an erase forgets it.
      if (!s.asleep_spill.empty()) {
        const std::string path = std::move(s.asleep_spill);
        s.asleep_spill.clear();
        if (s.session->n_past() == 0) restore_spill(s, path);
      }
      // A session file is checked against the sequence's current RoPE and cache settings, so
      // the configuration it was computed under stays the sequence's.
      t->result = (*t->fn)(*s.session);
      cells_[static_cast<size_t>(t->slot)] = s.session->n_past();
      lock.lock();
    }
    t->done = true;
  }
  task_cv_.notify_all();
}

void Scheduler::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
    for (auto& j : queue_) j->cancel = true;
    for (Slot& s : slots_) {
      if (s.job) s.job->cancel = true;
    }
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  run_tasks();  // answers tasks that arrived while stopping
}

SchedulerStats Scheduler::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  SchedulerStats st = totals_;
  st.queued = static_cast<int64_t>(queue_.size());
  st.sleeping = sleeping_.load(std::memory_order_relaxed);
  st.busy = 0;
  st.cells_used = st.cells_total = 0;
  for (size_t i = 0; i < slots_.size(); ++i) {
    const int64_t cells = cells_[i].load(std::memory_order_relaxed);
    st.busy += slots_[i].job ? 1 : 0;
    st.cells_used += cells;
    st.cells_total += n_ctx_;
    st.slot_busy.push_back(slots_[i].job != nullptr);
    st.slot_cells.push_back(cells);
    st.slot_job_index.push_back(slots_[i].job ? slots_[i].job->index : -1);
  }
  return st;
}

bool Scheduler::same_config(const SeqConfig& a, const SeqConfig& b) {
  return a.experts == b.experts && a.rope.has_value() == b.rope.has_value() &&
         (!a.rope || *a.rope == *b.rope);
}

SeqConfig Scheduler::resolve(const SeqConfig& c) const {
  SeqConfig r = c;
  if (r.experts == 0) r.experts = default_config_.experts;
  if (!r.rope) r.rope = default_config_.rope;
  return r;
}

Status Scheduler::apply_config(Slot& s, const SeqConfig& want) {
  if (same_config(s.config, want)) return Status::ok();
  // Another configuration: nothing cached is valid for it.
  s.session->reset();
  if (want.experts != s.session->expert_count()) {
    LONGCTX_RETURN_IF_ERROR(s.session->set_expert_count(want.experts));
  }
  LONGCTX_RETURN_IF_ERROR(
      s.session->init_rope(want.rope->params, want.rope->adaptive, want.rope->orig_ctx));
  s.config = want;
  return Status::ok();
}

void Scheduler::finish(Slot& s, Result<GenerateResult> r) {
  if (r.is_ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    ++totals_.requests;
    // The choices of one request share their prompt: count it once.
    if (!s.job->leader) {
      totals_.prompt_tokens += r->n_prompt;
      totals_.cached_tokens += r->n_reused;
      totals_.prompt_seconds += r->prompt_seconds;
    }
    totals_.generated_tokens += static_cast<int64_t>(r->ids.size());
    totals_.gen_seconds += r->gen_seconds;
  }
  s.job->finish(std::move(r));
  cells_[static_cast<size_t>(&s - slots_.data())] = s.session->n_past();
  s.gen.reset();
  s.pending = false;
  s.stepped = false;
  std::lock_guard<std::mutex> lock(mu_);
  s.job.reset();
}

// Writes an idle sequence's state to the spill directory before a request overwrites it, so a
// later prompt that continues it reads it back instead of prefilling it again.
std::string Scheduler::spill(Slot& s, const std::string& keep, int64_t min_tokens) {
  if (min_tokens < 0) min_tokens = opt_.spill_min_tokens;
  if (opt_.spill_dir.empty() || s.session->n_past() == 0 || s.session->n_past() < min_tokens) {
    return "";
  }
  for (const Spill& sp : spills_) {  // already on disk (it was restored from there, unchanged)
    if (sp.tokens == s.session->tokens() && same_config(sp.config, s.config)) return sp.path;
  }
  char name[64];
  std::snprintf(name, sizeof name, "spill-%d-%llu.lcs", static_cast<int>(getpid()),
                static_cast<unsigned long long>(++spill_serial_));
  const std::string path = (std::filesystem::path(opt_.spill_dir) / name).string();
  auto f = SessionFile::save_as(path, *s.session, "");
  if (!f) {
    std::fprintf(stderr, "longctx serve: could not spill a sequence to %s: %s\n", path.c_str(),
                 f.status().message().c_str());
    return "";
  }
  spills_.push_back(Spill{path, s.session->tokens(), s.config, ++use_clock_});
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++totals_.spilled;
  }
  // Over the bound: the least recently used go first, never the one about to be read back.
  while (static_cast<int64_t>(spills_.size()) > std::max<int64_t>(0, opt_.spill_max_files)) {
    auto oldest = spills_.end();
    for (auto it = spills_.begin(); it != spills_.end(); ++it) {
      if (it->path != keep && (oldest == spills_.end() || it->last_used < oldest->last_used)) {
        oldest = it;
      }
    }
    if (oldest == spills_.end()) break;
    std::error_code ec;
    std::filesystem::remove(oldest->path, ec);
    spills_.erase(oldest);
  }
  return path;
}

std::shared_ptr<Job> Scheduler::next_admissible() {
  for (auto it = queue_.begin(); it != queue_.end(); ++it) {
    Job& j = **it;
    bool ok = false;
    if (j.cancel) {
      ok = true;  // finished at once
    } else if (j.slot_pin >= 0) {
      ok = !slots_[static_cast<size_t>(j.slot_pin)].job;
    } else {
      for (const Slot& s : slots_) ok = ok || !s.job;
    }
    if (ok) {
      std::shared_ptr<Job> job = std::move(*it);
      queue_.erase(it);
      return job;
    }
  }
  return nullptr;
}

// Called with a job taken from the queue. A follower (n > 1) takes any idle sequence and waits
// for its leader's prompt. Otherwise: the idle sequence with the longest common prefix; among
// equals (typically none shares anything) an empty one, else the least recently used, so a new
// conversation does not overwrite a cached one while another sequence is free. A spilled state
// that shares more than every idle sequence is read back into the chosen one.
void Scheduler::admit(std::shared_ptr<Job> job) {
  const SeqConfig want = resolve(job->config);
  Slot* best = nullptr;
  size_t best_common = 0;
  auto better_victim = [](const Slot& a, const Slot& b) {  // a is cheaper to overwrite than b
    const bool ea = a.session->n_past() == 0, eb = b.session->n_past() == 0;
    if (ea != eb) return ea;
    return a.last_used < b.last_used;
  };
  for (Slot& s : slots_) {
    if (s.job) continue;
    if (job->slot_pin >= 0 && &s != &slots_[static_cast<size_t>(job->slot_pin)]) continue;
    const size_t c = (job->leader || !same_config(s.config, want))
                         ? 0
                         : common_prefix(s.session->tokens(), job->prompt);
    if (!best || c > best_common || (c == best_common && better_victim(s, *best))) {
      best = &s;
      best_common = c;
    }
  }
  LONGCTX_CHECK(best != nullptr);
  best->last_used = ++use_clock_;
  best->asleep_spill.clear();
  {
    std::lock_guard<std::mutex> lock(mu_);
    best->job = job;
  }
  job->slot_ = static_cast<int>(best - slots_.data());
  // A spilled state that continues this prompt further than any idle sequence (and is long
  // enough to have been worth a file) is read back instead of prefilling it again.
  std::string from;
  if (!job->leader) {
    size_t spill_common = best_common;
    for (Spill& sp : spills_) {
      if (!same_config(sp.config, want)) continue;
      const size_t c = common_prefix(sp.tokens, job->prompt);
      if (c > spill_common &&
          c >= static_cast<size_t>(std::max<int64_t>(1, opt_.spill_min_tokens))) {
        spill_common = c;
        from = sp.path;
      }
    }
  }
  // A request that keeps less than half of the sequence's state is another conversation: what
  // it does not continue is about to be dropped, so keep it on disk. (A client resending its
  // conversation keeps almost all of it and writes nothing.)
  if (static_cast<int64_t>(best_common) * 2 < best->session->n_past()) spill(*best, from);
  if (Status st = apply_config(*best, want); !st.is_ok()) return finish(*best, st);
  if (!from.empty()) restore_spill(*best, from);
  if (job->leader) return;  // started when its leader's prompt is in (start_follower)
  start(*best);
}

// Nothing runs: keeps what is worth keeping of the idle sequences on disk (with a spill
// directory), then gives back the memory of every cache and buffer and of the weights.
void Scheduler::go_to_sleep() {
  const double t0 = seconds_now();
  // Every state, however short (a request that continues one reads it back by its prompt, a
  // slot action by asleep_spill).
  for (Slot& s : slots_) s.asleep_spill = spill(s, "", 1);
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (Status st = slots_[i].session->release_memory(); !st.is_ok()) {
      std::fprintf(stderr, "longctx serve: cannot sleep: %s\n", st.message().c_str());
      return;
    }
    cells_[i] = 0;
  }
  runner_.release_memory();
  if (Status st = engine_.release_weights(); !st.is_ok()) {
    std::fprintf(stderr, "longctx serve: cannot sleep: %s\n", st.message().c_str());
    return;
  }
  malloc_trim(0);
  {
    std::lock_guard<std::mutex> lock(mu_);  // stats() sees both or neither
    ++totals_.sleeps;
    sleeping_ = true;
  }
  std::fprintf(stderr,
               "longctx serve: idle for %.0f s: sleeping (weights and caches released in %.2f s; "
               "the next request reloads them)\n",
               static_cast<double>(opt_.sleep_idle_ms) / 1000.0, seconds_now() - t0);
  std::fflush(stderr);
}

void Scheduler::wake_up() {
  const double t0 = seconds_now();
  if (Status st = engine_.restore_weights(); !st.is_ok()) {
    // Not expected (the memory was only advised away); said, and the requests run on.
    std::fprintf(stderr, "longctx serve: restoring the weights: %s\n", st.message().c_str());
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    sleeping_ = false;
  }
  std::fprintf(stderr, "longctx serve: waking up (weights placed again in %.2f s)\n",
               seconds_now() - t0);
  std::fflush(stderr);
}

// Reads spilled state `path` into the sequence; a file that went missing or fails its checks
// leaves the sequence empty and is forgotten.
void Scheduler::restore_spill(Slot& s, const std::string& path) {
  auto entry = std::find_if(spills_.begin(), spills_.end(),
                            [&](const Spill& sp) { return sp.path == path; });
  if (entry == spills_.end()) return;
  std::error_code ec;
  Result<std::unique_ptr<SessionFile>> f = not_found("the spill file went missing");
  if (std::filesystem::is_regular_file(path, ec)) {
    std::string app;
    f = SessionFile::open(path, *s.session, &app);
  }
  if (f) {
    entry->last_used = ++use_clock_;
    std::lock_guard<std::mutex> lock(mu_);
    ++totals_.restored;
    return;
  }
  std::fprintf(stderr, "longctx serve: could not read back %s: %s\n", path.c_str(),
               f.status().message().c_str());
  s.session->reset();
  std::filesystem::remove(path, ec);
  spills_.erase(entry);
}

void Scheduler::start(Slot& s) {
  if (!s.job->reuse) s.session->reset();
  auto g = Generation::start(*s.session, s.job->prompt, s.job->options);
  if (!g) return finish(s, g.status());
  s.gen.emplace(std::move(g.value()));
  // The first progress report (nothing evaluated yet, the reused prefix counted as cached), as
  // llama-server sends when a sequence starts on a request; one follows each prompt chunk.
  post_progress(s);
}

void Scheduler::post_progress(Slot& s) {
  Channel::Event e;
  e.kind = Channel::Event::kProgress;
  e.index = s.job->index;
  e.total = s.gen->result().n_prompt - s.gen->result().n_reused;
  e.done = e.total - static_cast<int64_t>(s.gen->prompt_left().size());
  s.job->channel->post(std::move(e));
}

// A follower's leader has evaluated the prompt (its logits after it are the last ones, or its
// snapshot): copy that state and start sampling. When the leader is gone or failed, the
// follower evaluates the prompt itself. False while the leader is still prefilling.
bool Scheduler::start_follower(Slot& s) {
  const std::shared_ptr<Job>& lead = s.job->leader;
  const int ls = lead->slot_;
  Slot* l = ls >= 0 ? &slots_[static_cast<size_t>(ls)] : nullptr;
  if (l && l->job == lead && l->gen && !l->gen->prompt_left().empty()) return false;
  if (l && l->job == lead && l->gen) {
    const int64_t n = static_cast<int64_t>(lead->prompt.size());
    if (s.session->copy_prefix_from(*l->session, n).is_ok()) s.config = l->config;
  } else if (!lead->finished()) {
    return false;  // the leader is still queued (it was submitted first)
  }
  start(s);
  return true;
}

void Scheduler::post_text(Job& job, std::string_view text, const TokenProbs* probs) {
  Channel::Event e;
  e.kind = Channel::Event::kText;
  e.index = job.index;
  e.text = std::string(text);
  if (probs && job.options.n_probs >= 0) {
    e.has_probs = true;
    e.probs = *probs;
  }
  job.channel->post(std::move(e));
}

void Scheduler::loop() {
  std::vector<BatchItem> items;
  std::vector<Slot*> in_step;
  std::vector<int32_t> one_token(slots_.size());
  std::string step_text;
  items.reserve(slots_.size());
  in_step.reserve(slots_.size());
  for (;;) {
    // 1. Wait for work; run slot tasks; take queued jobs into idle sequences. Going idle, the
    // heap the requests used (bodies, headers, JSON; freed but kept by malloc's arenas) goes
    // back to the system, so a server's resident memory returns to its idle level.
    {
      std::unique_lock<std::mutex> lock(mu_);
      bool running = !queue_.empty();
      for (const Slot& s : slots_) running = running || s.job != nullptr;
      if (!running && busy_since_trim_) {
        busy_since_trim_ = false;
        lock.unlock();
        malloc_trim(0);
        lock.lock();
      }
      auto has_work = [&] {
        if (stopping_ || !tasks_.empty()) return true;
        for (const Slot& s : slots_) {
          if (s.job) return true;  // something runs
        }
        return !queue_.empty();
      };
      // Idle for sleep_idle_ms: sleep, then wait on.
      if (opt_.sleep_idle_ms > 0 && !sleeping_ &&
          !cv_.wait_for(lock, std::chrono::milliseconds(opt_.sleep_idle_ms), has_work)) {
        lock.unlock();
        go_to_sleep();
        lock.lock();
      }
      cv_.wait(lock, has_work);
      if (stopping_) break;
    }
    run_tasks();
    for (;;) {
      std::shared_ptr<Job> job;
      {
        std::lock_guard<std::mutex> lock(mu_);
        job = next_admissible();
        if (!job) break;
      }
      busy_since_trim_ = true;
      if (job->cancel) {
        job->finish(cancelled_result());
        continue;
      }
      if (sleeping_) wake_up();
      admit(std::move(job));
    }
    // 2. Followers whose leader's prompt is in start; then every sequence whose prompt is in
    // and whose last token was evaluated samples.
    for (Slot& s : slots_) {
      if (s.job && !s.gen && s.job->leader) {
        if (s.job->cancel) {
          finish(s, cancelled_result());
        } else {
          start_follower(s);
        }
      }
    }
    for (Slot& s : slots_) {
      if (!s.job || !s.gen || s.pending || !s.gen->prompt_left().empty()) continue;
      Job& job = *s.job;
      step_text.clear();
      auto next = s.gen->step([&job, &step_text](std::string_view t) {
        if (job.cancel) return false;
        step_text.append(t);
        return true;
      });
      s.stepped = true;
      if (!step_text.empty() || s.gen->sampled_probs()) {
        post_text(job, step_text, s.gen->sampled_probs());
      }
      if (!next) {
        finish(s, next.status());
      } else if (*next == Generation::Next::kDone) {
        finish(s, s.gen->result());
      } else {
        s.pending = true;
      }
    }
    // 3. One step: a row for each decoding sequence, prompt chunks in what is left. A step runs
    // one expert count (BatchRunner's rule); with several in use the groups take turns.
    items.clear();
    in_step.clear();
    int64_t rows = 0;
    int64_t experts = -1;
    const size_t n = slots_.size();
    const size_t first = expert_rr_++ % n;
    for (size_t k = 0; k < n; ++k) {
      Slot& s = slots_[(first + k) % n];
      if (!s.job || !s.gen || (!s.pending && s.gen->prompt_left().empty())) continue;
      if (s.job->cancel && !s.pending) {
        s.gen->prompt_cancelled();
        finish(s, s.gen->result());
        continue;
      }
      if (experts < 0) experts = s.session->expert_count();
    }
    for (size_t i = 0; i < n; ++i) {
      Slot& s = slots_[i];
      if (!s.job || !s.pending || s.session->expert_count() != experts) continue;
      one_token[i] = s.gen->token();
      items.push_back({s.session.get(), std::span<const int32_t>(&one_token[i], 1)});
      in_step.push_back(&s);
      ++rows;
    }
    // While sequences decode, the prompts in a step get at most prefill_chunk rows: a step's
    // time is about its prompt rows' (prefill is compute-bound), so this bounds the pause a
    // long prompt puts between the decoding sequences' tokens, and they advance during it.
    const int64_t prompt_budget = rows > 0 && opt_.prefill_chunk > 0
                                      ? std::min(opt_.prefill_chunk, runner_.n_batch())
                                      : runner_.n_batch();
    int64_t prompt_rows = 0;
    for (Slot& s : slots_) {
      if (!s.job || !s.gen || s.pending || s.gen->prompt_left().empty()) continue;
      if (s.session->expert_count() != experts) continue;
      const int64_t room =
          std::min({runner_.n_batch() - rows, s.session->n_batch(), prompt_budget - prompt_rows});
      if (room <= 0) continue;
      const std::span<const int32_t> left = s.gen->prompt_left();
      const int64_t m = std::min<int64_t>(room, static_cast<int64_t>(left.size()));
      items.push_back({s.session.get(), left.first(static_cast<size_t>(m))});
      in_step.push_back(&s);
      rows += m;
      prompt_rows += m;
    }
    if (items.empty()) {
      // Only followers waiting for a leader that is itself waiting (cannot last), or nothing.
      std::this_thread::yield();
      continue;
    }
    const Status st = runner_.step(items);
    for (size_t i = 0; i < items.size(); ++i) {
      Slot& s = *in_step[i];
      cells_[static_cast<size_t>(&s - slots_.data())] = s.session->n_past();
      if (!st.is_ok()) {
        finish(s, st);
        continue;
      }
      if (s.pending) {
        s.pending = false;
      } else {
        const int64_t m = static_cast<int64_t>(items[i].tokens.size());
        s.gen->prompt_advanced(m);
        post_progress(s);
      }
    }
  }
  // Stopping: every job still queued or running ends as cancelled.
  std::deque<std::shared_ptr<Job>> left;
  {
    std::lock_guard<std::mutex> lock(mu_);
    left.swap(queue_);
  }
  for (auto& j : left) j->finish(cancelled_result());
  for (Slot& s : slots_) {
    if (!s.job) continue;
    GenerateResult r = s.gen ? s.gen->result() : GenerateResult{};
    r.finish = FinishReason::kCancelled;
    finish(s, std::move(r));
  }
}

}  // namespace longctx::server
