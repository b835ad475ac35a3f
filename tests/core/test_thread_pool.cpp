// The thread pool runs every share exactly once per job, across many consecutive jobs (the
// pattern of a forward pass), and split_range partitions any n into contiguous near-equal parts.
#include <gtest/gtest.h>

#include <atomic>
#include <vector>

#include "core/thread_pool.h"

namespace longctx {
namespace {

TEST(ThreadPool, EveryThreadRunsEachJobOnce) {
  for (int n : {1, 2, 3, 5}) {
    ThreadPool pool(n);
    EXPECT_EQ(pool.size(), n);
    std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
    for (int job = 0; job < 200; ++job) {
      pool.run([&](int ith, int nth) {
        EXPECT_EQ(nth, n);
        hits[static_cast<size_t>(ith)].fetch_add(1);
      });
    }
    for (auto& h : hits) EXPECT_EQ(h.load(), 200);
  }
}

TEST(ThreadPool, JobsSeeEachOthersWrites) {
  ThreadPool pool(3);
  std::vector<int64_t> data(999, 0);
  for (int round = 1; round <= 50; ++round) {
    pool.run([&](int ith, int nth) {
      int64_t b, e;
      split_range(static_cast<int64_t>(data.size()), ith, nth, &b, &e);
      for (int64_t i = b; i < e; ++i) data[static_cast<size_t>(i)] += i;
    });
  }
  for (size_t i = 0; i < data.size(); ++i) ASSERT_EQ(data[i], 50 * static_cast<int64_t>(i));
}

TEST(SplitRange, PartitionsContiguouslyWithSizesDifferingByAtMostOne) {
  for (int64_t n : {0, 1, 7, 64, 1000}) {
    for (int nth : {1, 2, 3, 8}) {
      int64_t expect_begin = 0;
      for (int i = 0; i < nth; ++i) {
        int64_t b, e;
        split_range(n, i, nth, &b, &e);
        EXPECT_EQ(b, expect_begin);
        EXPECT_TRUE(e - b == n / nth || e - b == n / nth + 1);
        expect_begin = e;
      }
      EXPECT_EQ(expect_begin, n);
    }
  }
}

}  // namespace
}  // namespace longctx
