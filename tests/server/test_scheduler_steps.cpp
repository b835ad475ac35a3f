// How the scheduler fills a step (SchedulerOptions::prefill_chunk): while a sequence decodes,
// a new prompt enters in chunks of at most prefill_chunk rows, one per step, so the decoding
// sequence gets a token every such step; a prompt alone takes whole n_batch steps. Counted
// through the prompt's progress reports, one per step it took part in.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "server/scheduler.h"
#include "server/scheduler_test_util.h"
#include "server/server_fixture.h"

namespace longctx::server {
namespace {

using namespace sched_test;  // NOLINT: the helpers of these tests

// Steps a 200-token prompt took (its progress reports after the first), with or without a
// sequence decoding beside it.
int prompt_steps(Engine& e, int64_t prefill_chunk, bool beside_decode) {
  SchedulerOptions o;
  o.prefill_chunk = prefill_chunk;
  auto s = make(e, 2, 512, o);  // steps of 32 rows
  if (!s) return -1;
  std::shared_ptr<Job> a;
  if (beside_decode) {
    a = job(prompt_of(10, 3000), 400);
    EXPECT_TRUE(s->submit(a));
    std::vector<Channel::Event> ev;
    const bool decoding = eventually([&] {
      a->wait(&ev, 10);
      for (const auto& x : ev) {
        if (x.kind == Channel::Event::kText) return true;
      }
      return false;
    });
    EXPECT_TRUE(decoding);
  }
  auto b = job(prompt_of(200, 1000), 1);
  EXPECT_TRUE(s->submit(b));
  int reports = 0;
  for (const auto& x : wait_one(b)) reports += x.kind == Channel::Event::kProgress;
  if (a) {
    EXPECT_FALSE(a->finished()) << "the decoding sequence finished before the prompt was in";
    a->cancel = true;
    wait_one(a);
  }
  return reports - 1;
}

TEST(SchedulerSteps, APromptBesideADecodingSequenceEntersInSmallChunks) {
  auto e = testing_util::load_test_engine(testing::tok_model());
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(prompt_steps(*e, 8, true), 25);  // 200 / 8
  // Without the bound: the 31 rows the decoding sequence leaves in each step.
  EXPECT_EQ(prompt_steps(*e, 0, true), 7);  // ceil(200 / 31)
  // Alone, the prompt takes whole steps whatever the bound.
  EXPECT_EQ(prompt_steps(*e, 8, false), 7);  // ceil(200 / 32)
}

}  // namespace
}  // namespace longctx::server
