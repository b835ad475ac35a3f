// Helpers of the scheduler tests (no HTTP): a scheduler over the tiny test model's sequences,
// greedy jobs and multi-choice requests, waiting for their events, and a temp directory for
// spill files.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/temp_path.h"
#include "runtime/engine.h"
#include "server/scheduler.h"

namespace longctx::server::sched_test {

namespace fs = std::filesystem;

inline std::unique_ptr<Scheduler> make(Engine& e, int slots, int64_t n_ctx = 128,
                                       SchedulerOptions o = {}) {
  std::vector<std::unique_ptr<Session>> s;
  for (int i = 0; i < slots; ++i) {
    auto x = e.new_session({.n_ctx = n_ctx, .n_batch = 32});
    EXPECT_TRUE(x.is_ok()) << x.status().message();
    if (!x) return nullptr;
    s.push_back(std::move(x.value()));
  }
  o.n_batch = 32;
  if (o.max_queue == SchedulerOptions{}.max_queue) o.max_queue = 8;
  auto sc = Scheduler::create(e, std::move(s), o);
  EXPECT_TRUE(sc.is_ok()) << sc.status().message();
  return sc.is_ok() ? std::move(sc.value()) : nullptr;
}

inline std::shared_ptr<Job> job(std::vector<int32_t> prompt, int64_t max_tokens) {
  auto j = std::make_shared<Job>();
  j->prompt = std::move(prompt);
  j->options.max_tokens = max_tokens;
  j->options.sampling.temperature = 0.0f;
  j->options.ignore_eog = true;
  return j;
}

// n jobs of one request: job 0 leads, the others follow it on its channel.
inline std::vector<std::shared_ptr<Job>> request(const std::vector<int32_t>& prompt, int n,
                                                 int64_t max_tokens) {
  std::vector<std::shared_ptr<Job>> jobs;
  for (int i = 0; i < n; ++i) {
    auto j = job(prompt, max_tokens);
    j->index = i;
    if (i > 0) {
      j->leader = jobs.front();
      j->channel = jobs.front()->channel;
    }
    jobs.push_back(std::move(j));
  }
  return jobs;
}

// Prompt tokens: ordinary ids of the Qwen3 vocabulary (no special tokens), fixed by `base`.
inline std::vector<int32_t> prompt_of(int n, int32_t base) {
  std::vector<int32_t> p;
  for (int i = 0; i < n; ++i) p.push_back(base + (i * 7919 + base) % 20000);
  return p;
}

// Waits until every job of the channel posted its kDone; returns all events in order.
inline std::vector<Channel::Event> wait_all(const std::vector<std::shared_ptr<Job>>& jobs,
                                            int timeout_s = 120) {
  std::vector<Channel::Event> ev;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  auto dones = [&] {
    size_t n = 0;
    for (const auto& e : ev) n += e.kind == Channel::Event::kDone;
    return n;
  };
  while (dones() < jobs.size() && std::chrono::steady_clock::now() < deadline) {
    jobs.front()->channel->wait(&ev, 100);
  }
  EXPECT_EQ(dones(), jobs.size()) << "not every job finished in time";
  for (const auto& j : jobs) EXPECT_TRUE(j->finished());
  return ev;
}

inline std::vector<Channel::Event> wait_one(const std::shared_ptr<Job>& j) { return wait_all({j}); }

// Polls `pred` for up to `ms` milliseconds.
template <class F>
inline bool eventually(F pred, int ms = 10000) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return pred();
}

inline const GenerateResult& ok_result(const Job& j) {
  EXPECT_TRUE(j.result().is_ok()) << j.result().status().message();
  static const GenerateResult kEmpty;
  return j.result().is_ok() ? *j.result() : kEmpty;
}

// The greedy reply to `prompt` from a single job on a fresh one-sequence scheduler.
inline std::vector<int32_t> reference_ids(Engine& e, const std::vector<int32_t>& prompt,
                                          int64_t max, int64_t n_ctx = 128) {
  auto s = make(e, 1, n_ctx);
  if (!s) return {};
  auto j = job(prompt, max);
  EXPECT_TRUE(s->submit(j));
  wait_one(j);
  return ok_result(*j).ids;
}

// A temp directory removed at the end of the test.
struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name) : path(testing_util::unique_temp_path(name)) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::vector<std::string> spill_files() const {
    std::vector<std::string> out;
    for (const auto& f : fs::directory_iterator(path)) {
      const std::string n = f.path().filename().string();
      if (n.rfind("spill-", 0) == 0 && f.path().extension() == ".lcs") out.push_back(n);
    }
    return out;
  }
};

}  // namespace longctx::server::sched_test
