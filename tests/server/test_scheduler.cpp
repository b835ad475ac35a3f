// The scheduler without HTTP: the queue bound, cancellation of a queued job, stop() ending
// running jobs as cancelled, and the longest-prefix choice of a sequence.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <vector>

#include "server/scheduler.h"
#include "server/scheduler_test_util.h"
#include "server/server_fixture.h"

namespace longctx::server {
namespace {

using sched_test::job;

// Sequences of 128 positions, steps of 32 rows, the given queue bound.
std::unique_ptr<Scheduler> with_queue(Engine& e, int slots, int64_t max_queue) {
  SchedulerOptions o;
  o.max_queue = max_queue;
  return sched_test::make(e, slots, 128, o);
}

void wait_done(Job& j) {
  std::vector<Channel::Event> ev;
  for (int i = 0; i < 600 && !j.finished(); ++i) j.wait(&ev, 100);
  ASSERT_TRUE(j.finished());
}

TEST(Scheduler, RefusesPastTheQueueBound) {
  auto e = testing_util::load_test_engine(testing::tok_model());
  ASSERT_NE(e, nullptr);
  auto s = with_queue(*e, 1, 0);
  ASSERT_NE(s, nullptr);
  auto a = job({1, 2, 3}, 100);
  ASSERT_TRUE(s->submit(a));
  // Whether or not `a` was already taken into the sequence, nothing may wait behind it.
  EXPECT_FALSE(s->submit(job({4, 5}, 1)));
  a->cancel = true;
  wait_done(*a);
  ASSERT_TRUE(a->result().is_ok());
  EXPECT_EQ(a->result()->finish, FinishReason::kCancelled);
  // Free again: a new job runs to its limit.
  auto b = job({4, 5}, 3);
  ASSERT_TRUE(s->submit(b));
  wait_done(*b);
  ASSERT_TRUE(b->result().is_ok());
  EXPECT_EQ(b->result()->ids.size(), 3u);
  EXPECT_EQ(b->result()->finish, FinishReason::kLength);
}

TEST(Scheduler, StopCancelsRunningAndQueuedJobs) {
  auto e = testing_util::load_test_engine(testing::tok_model());
  ASSERT_NE(e, nullptr);
  auto s = with_queue(*e, 1, 4);
  ASSERT_NE(s, nullptr);
  auto a = job({1, 2, 3}, 100000), b = job({7, 8}, 5);
  ASSERT_TRUE(s->submit(a));
  ASSERT_TRUE(s->submit(b));
  s->stop();
  for (auto* j : {a.get(), b.get()}) {
    ASSERT_TRUE(j->finished());
    ASSERT_TRUE(j->result().is_ok());
  }
  EXPECT_EQ(a->result()->finish, FinishReason::kCancelled);
  EXPECT_FALSE(s->submit(job({1}, 1)));  // a stopped scheduler takes nothing
}

TEST(Scheduler, ANewRequestTakesTheSequenceWithTheLongestCommonPrefix) {
  auto e = testing_util::load_test_engine(testing::tok_model());
  ASSERT_NE(e, nullptr);
  auto s = with_queue(*e, 2, 4);
  ASSERT_NE(s, nullptr);
  // Two conversations, one after the other (each lands on some sequence).
  auto a = job({10, 11, 12, 13, 14, 15}, 2), b = job({20, 21, 22, 23}, 2);
  ASSERT_TRUE(s->submit(a));
  wait_done(*a);
  ASSERT_TRUE(s->submit(b));
  wait_done(*b);
  // Continuing the first reuses its sequence and its whole prompt.
  auto a2 = job({10, 11, 12, 13, 14, 15, 16, 17}, 1);
  ASSERT_TRUE(s->submit(a2));
  wait_done(*a2);
  EXPECT_EQ(a2->slot(), a->slot());
  ASSERT_TRUE(a2->result().is_ok());
  EXPECT_EQ(a2->result()->n_reused, 6);
  auto b2 = job({20, 21, 22, 23, 24}, 1);
  ASSERT_TRUE(s->submit(b2));
  wait_done(*b2);
  EXPECT_EQ(b2->slot(), b->slot());
  EXPECT_EQ(b2->result()->n_reused, 4);
}

}  // namespace
}  // namespace longctx::server
