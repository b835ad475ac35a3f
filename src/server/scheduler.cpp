// Scheduler: sequences advanced together in batched steps (see scheduler.h).
#include "server/scheduler.h"

#include <algorithm>
#include <chrono>

namespace longctx::server {
namespace {

GenerateResult cancelled_result() {
  GenerateResult r;
  r.finish = FinishReason::kCancelled;
  return r;
}

Job::Event event(Job::Event::Kind kind, std::string text = {}, int64_t done = 0,
                 int64_t total = 0) {
  Job::Event e;
  e.kind = kind;
  e.text = std::move(text);
  e.done = done;
  e.total = total;
  return e;
}

}  // namespace

void Job::post(Event e) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    events_.push_back(std::move(e));
  }
  cv_.notify_all();
}

void Job::finish(Result<GenerateResult> r) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    result_ = std::move(r);
    events_.push_back(event(Event::kDone));
  }
  cv_.notify_all();
}

bool Job::wait(std::vector<Event>* out, int timeout_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
               [&] { return !events_.empty() || result_.has_value(); });
  const bool any = !events_.empty();
  for (Event& e : events_) out->push_back(std::move(e));
  events_.clear();
  return any || result_.has_value();
}

bool Job::finished() const {
  std::lock_guard<std::mutex> lock(mu_);
  return result_.has_value();
}

Result<std::unique_ptr<Scheduler>> Scheduler::create(Engine& engine,
                                                     std::vector<std::unique_ptr<Session>> slots,
                                                     int64_t n_batch, int64_t max_queue) {
  if (slots.empty()) return invalid_argument("the server needs at least one sequence");
  for (const auto& s : slots) {
    if (!s || &s->engine() != &engine) {
      return invalid_argument("every sequence must be a session of the server's engine");
    }
  }
  if (max_queue < 0) return invalid_argument("the queue bound must be >= 0");
  // A step holds one row per decoding sequence; the rest goes to prompt chunks.
  const int64_t rows = std::max<int64_t>(n_batch, static_cast<int64_t>(slots.size()));
  auto runner = BatchRunner::create(engine, rows, static_cast<int64_t>(slots.size()));
  if (!runner) return runner.status();
  return std::unique_ptr<Scheduler>(
      new Scheduler(engine, std::move(slots), std::move(runner.value()), max_queue));
}

Scheduler::Scheduler(Engine& engine, std::vector<std::unique_ptr<Session>> slots,
                     BatchRunner runner, int64_t max_queue)
    : engine_(engine), cells_(slots.size()), runner_(std::move(runner)), max_queue_(max_queue) {
  for (size_t i = 0; i < slots.size(); ++i) cells_[i] = slots[i]->n_past();
  for (auto& s : slots) {
    n_ctx_ = s->n_ctx();
    slots_.push_back(Slot{std::move(s), nullptr, std::nullopt, false, 0});
  }
  totals_.slots = static_cast<int64_t>(slots_.size());
  thread_ = std::thread([this] { loop(); });
}

Scheduler::~Scheduler() { stop(); }

bool Scheduler::submit(std::shared_ptr<Job> job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return false;
    int64_t idle = 0;
    for (const Slot& s : slots_) idle += s.job ? 0 : 1;
    // Waiting jobs beyond the idle sequences count against the bound.
    if (static_cast<int64_t>(queue_.size()) >= idle + max_queue_) return false;
    job->options.cancel = &job->cancel;
    queue_.push_back(std::move(job));
  }
  cv_.notify_all();
  return true;
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
}

SchedulerStats Scheduler::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  SchedulerStats st = totals_;
  st.queued = static_cast<int64_t>(queue_.size());
  st.busy = 0;
  st.cells_used = st.cells_total = 0;
  for (size_t i = 0; i < slots_.size(); ++i) {
    const int64_t cells = cells_[i].load(std::memory_order_relaxed);
    st.busy += slots_[i].job ? 1 : 0;
    st.cells_used += cells;
    st.cells_total += n_ctx_;
    st.slot_busy.push_back(slots_[i].job != nullptr);
    st.slot_cells.push_back(cells);
  }
  return st;
}

void Scheduler::finish(Slot& s, Result<GenerateResult> r) {
  if (r.is_ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    ++totals_.requests;
    totals_.prompt_tokens += r->n_prompt;
    totals_.cached_tokens += r->n_reused;
    totals_.generated_tokens += static_cast<int64_t>(r->ids.size());
    totals_.prompt_seconds += r->prompt_seconds;
    totals_.gen_seconds += r->gen_seconds;
  }
  s.job->finish(std::move(r));
  cells_[static_cast<size_t>(&s - slots_.data())] = s.session->n_past();
  s.gen.reset();
  s.pending = false;
  std::lock_guard<std::mutex> lock(mu_);
  s.job.reset();
}

// Called with a job taken from the queue: the idle sequence with the longest common prefix;
// among equals (typically none shares anything) an empty one, else the least recently used, so
// a new conversation does not overwrite a cached one while another sequence is free.
void Scheduler::admit(std::shared_ptr<Job> job) {
  Slot* best = nullptr;
  size_t best_common = 0;
  auto better_victim = [](const Slot& a, const Slot& b) {  // a is cheaper to overwrite than b
    const bool ea = a.session->n_past() == 0, eb = b.session->n_past() == 0;
    if (ea != eb) return ea;
    return a.last_used < b.last_used;
  };
  for (Slot& s : slots_) {
    if (s.job) continue;
    const std::vector<int32_t>& t = s.session->tokens();
    size_t c = 0;
    while (c < t.size() && c < job->prompt.size() && t[c] == job->prompt[c]) ++c;
    if (!best || c > best_common || (c == best_common && better_victim(s, *best))) {
      best = &s;
      best_common = c;
    }
  }
  best->last_used = ++use_clock_;
  LONGCTX_CHECK(best != nullptr);
  {
    std::lock_guard<std::mutex> lock(mu_);
    best->job = job;
  }
  job->slot_ = static_cast<int>(best - slots_.data());
  auto g = Generation::start(*best->session, job->prompt, job->options);
  if (!g) {
    finish(*best, g.status());
    return;
  }
  best->gen.emplace(std::move(g.value()));
}

void Scheduler::loop() {
  std::vector<BatchItem> items;
  std::vector<Slot*> in_step;
  std::vector<int32_t> one_token(slots_.size());
  items.reserve(slots_.size());
  in_step.reserve(slots_.size());
  for (;;) {
    // 1. Wait for work; take queued jobs into idle sequences.
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] {
        if (stopping_) return true;
        bool idle = false;
        for (const Slot& s : slots_) {
          if (s.job) return true;  // something runs
          idle = true;
        }
        return idle && !queue_.empty();
      });
      if (stopping_) break;
    }
    for (;;) {
      std::shared_ptr<Job> job;
      {
        std::lock_guard<std::mutex> lock(mu_);
        bool idle = false;
        for (const Slot& s : slots_) idle = idle || !s.job;
        if (!idle || queue_.empty()) break;
        job = std::move(queue_.front());
        queue_.pop_front();
      }
      if (job->cancel) {
        job->finish(cancelled_result());
        continue;
      }
      admit(std::move(job));
    }
    // 2. Every sequence whose prompt is in and whose last token was evaluated samples.
    for (Slot& s : slots_) {
      if (!s.job || !s.gen || s.pending || !s.gen->prompt_left().empty()) continue;
      Job& job = *s.job;
      auto next = s.gen->step([&job](std::string_view t) {
        if (job.cancel) return false;
        job.post(event(Job::Event::kText, std::string(t)));
        return true;
      });
      if (!next) {
        finish(s, next.status());
      } else if (*next == Generation::Next::kDone) {
        finish(s, s.gen->result());
      } else {
        s.pending = true;
      }
    }
    // 3. One step: a row for each decoding sequence, prompt chunks in what is left.
    items.clear();
    in_step.clear();
    int64_t rows = 0;
    for (size_t i = 0; i < slots_.size(); ++i) {
      Slot& s = slots_[i];
      if (!s.job || !s.pending) continue;
      one_token[i] = s.gen->token();
      items.push_back({s.session.get(), std::span<const int32_t>(&one_token[i], 1)});
      in_step.push_back(&s);
      ++rows;
    }
    for (Slot& s : slots_) {
      if (!s.job || !s.gen || s.pending || s.gen->prompt_left().empty()) continue;
      if (s.job->cancel) {
        s.gen->prompt_cancelled();
        finish(s, s.gen->result());
        continue;
      }
      const int64_t room = std::min(runner_.n_batch() - rows, s.session->n_batch());
      if (room <= 0) continue;
      const std::span<const int32_t> left = s.gen->prompt_left();
      const int64_t m = std::min<int64_t>(room, static_cast<int64_t>(left.size()));
      items.push_back({s.session.get(), left.first(static_cast<size_t>(m))});
      in_step.push_back(&s);
      rows += m;
    }
    if (items.empty()) continue;
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
        const int64_t total = s.gen->result().n_prompt - s.gen->result().n_reused;
        const int64_t done = total - static_cast<int64_t>(s.gen->prompt_left().size());
        s.job->post(event(Job::Event::kProgress, {}, done, total));
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
