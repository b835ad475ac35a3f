// The scheduler's sleep (SchedulerOptions::sleep_idle_ms, the server's --sleep-idle-seconds):
// after the idle time it releases the weights and every sequence's cache, the next request
// wakes it and gets the reply it got before; with a spill directory the idle sequences go to
// disk first, so a conversation that continues after a sleep is read back, not prefilled.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "server/scheduler.h"
#include "server/scheduler_test_util.h"
#include "server/server_fixture.h"

namespace longctx::server {
namespace {

using namespace sched_test;  // NOLINT: the helpers of these tests

TEST(SchedulerSleep, SleepsWhenIdleAndTheNextRequestWakesIt) {
  auto e = testing_util::load_test_engine(testing::tok_model());
  ASSERT_NE(e, nullptr);
  SchedulerOptions o;
  o.sleep_idle_ms = 150;
  auto s = make(*e, 2, 256, o);
  ASSERT_NE(s, nullptr);
  const std::vector<int32_t> A = prompt_of(40, 1000);
  auto a = job(A, 8);
  ASSERT_TRUE(s->submit(a));
  wait_one(a);
  EXPECT_GT(s->stats().cells_used, 0);
  ASSERT_TRUE(eventually([&] { return s->stats().sleeping; }, 5000)) << "never went to sleep";
  const SchedulerStats st = s->stats();
  EXPECT_EQ(st.sleeps, 1);
  EXPECT_EQ(st.cells_used, 0);
  EXPECT_TRUE(e->weights_released());

  auto a2 = job(A, 8);
  ASSERT_TRUE(s->submit(a2));
  wait_one(a2);
  EXPECT_EQ(ok_result(*a2).ids, ok_result(*a).ids) << "another reply after waking up";
  EXPECT_EQ(ok_result(*a2).n_reused, 0);  // no spill directory: the cache was dropped
  EXPECT_FALSE(e->weights_released());
  // Awake until idle again, then asleep a second time.
  ASSERT_TRUE(eventually([&] { return s->stats().sleeps == 2; }, 5000));
  EXPECT_TRUE(s->stats().sleeping);
}

TEST(SchedulerSleep, IdleSequencesAreSpilledAndReadBackAfterWaking) {
  auto e = testing_util::load_test_engine(testing::tok_model());
  ASSERT_NE(e, nullptr);
  TempDir dir("sleep-spill");
  SchedulerOptions o;
  o.sleep_idle_ms = 150;
  o.spill_dir = dir.path.string();
  o.spill_min_tokens = 16;
  auto s = make(*e, 2, 512, o);
  ASSERT_NE(s, nullptr);
  const std::vector<int32_t> A = prompt_of(100, 1000), B = prompt_of(60, 9000);
  auto a = job(A, 8);
  auto b = job(B, 8);
  ASSERT_TRUE(s->submit(a));
  ASSERT_TRUE(s->submit(b));
  wait_one(a);
  wait_one(b);
  ASSERT_TRUE(eventually([&] { return s->stats().sleeping; }, 5000));
  EXPECT_EQ(s->stats().spilled, 2);
  EXPECT_EQ(dir.spill_files().size(), 2u);

  // Each conversation continues from its spilled state (the prompt and the reply cached).
  for (const auto& [prompt, first] : {std::pair{A, a}, std::pair{B, b}}) {
    std::vector<int32_t> next = prompt;
    next.insert(next.end(), ok_result(*first).ids.begin(), ok_result(*first).ids.end());
    const std::vector<int32_t> turn = prompt_of(5, 20000);
    next.insert(next.end(), turn.begin(), turn.end());
    auto j = job(next, 4);
    ASSERT_TRUE(s->submit(j));
    wait_one(j);
    EXPECT_GE(ok_result(*j).n_reused, static_cast<int64_t>(prompt.size()));
  }
  EXPECT_EQ(s->stats().restored, 2);
}

// A slot action after the sleep sees what the sequence held before it (read back from its spill
// file, however short), and does not wake the weights.
TEST(SchedulerSleep, ASlotActionAfterTheSleepSeesTheSequencesState) {
  auto e = testing_util::load_test_engine(testing::tok_model());
  ASSERT_NE(e, nullptr);
  TempDir dir("sleep-slot");
  SchedulerOptions o;
  o.sleep_idle_ms = 150;
  o.spill_dir = dir.path.string();  // spill_min_tokens stays 256: the sleep spills anyway
  auto s = make(*e, 2, 256, o);
  ASSERT_NE(s, nullptr);
  auto a = job(prompt_of(30, 1000), 6);
  ASSERT_TRUE(s->submit(a));
  wait_one(a);
  const int slot = a->slot();
  const int64_t held = s->stats().slot_cells[static_cast<size_t>(slot)];
  ASSERT_GT(held, 30);
  ASSERT_TRUE(eventually([&] { return s->stats().sleeping; }, 5000));
  EXPECT_EQ(s->stats().slot_cells[static_cast<size_t>(slot)], 0);
  int64_t seen = -1;
  std::vector<int32_t> tokens;
  ASSERT_TRUE(s->with_idle_slot(slot, [&](Session& ses) {
                 seen = ses.n_past();
                 tokens = ses.tokens();
                 return Status::ok();
               }).is_ok());
  EXPECT_EQ(seen, held);
  ASSERT_GE(tokens.size(), 30u);
  EXPECT_EQ(std::vector<int32_t>(tokens.begin(), tokens.begin() + 30), prompt_of(30, 1000));
  EXPECT_TRUE(s->stats().sleeping);
  EXPECT_TRUE(e->weights_released());
}

TEST(SchedulerSleep, ANegativeIdleTimeIsRefused) {
  // A small vocabulary without a tokenizer: nothing is generated here.
  auto e = testing_util::load_test_engine(
      testing_util::write_tiny_model({.seed = 5}, "sleep_refused.gguf"));
  ASSERT_NE(e, nullptr);
  std::vector<std::unique_ptr<Session>> slots;
  auto x = e->new_session({.n_ctx = 64, .n_batch = 32});
  ASSERT_TRUE(x.is_ok());
  slots.push_back(std::move(x.value()));
  SchedulerOptions o;
  o.sleep_idle_ms = -1;
  auto sc = Scheduler::create(*e, std::move(slots), o);
  ASSERT_FALSE(sc.is_ok());
  EXPECT_EQ(sc.status().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace longctx::server
