// The bandwidth probe: a small buffer gives a positive, finite rate and reports what it read;
// invalid options are errors naming the option and its value.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "core/bandwidth.h"

namespace longctx {
namespace {

TEST(Bandwidth, SmallBufferGivesAPositiveRate) {
  BandwidthOptions o;
  o.bytes = (uint64_t{8} << 20) + 40;  // rounded down to whole 64-byte lines
  o.n_threads = 2;
  o.repetitions = 2;
  auto r = measure_read_bandwidth(o);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r->bytes, uint64_t{8} << 20);
  EXPECT_EQ(r->n_threads, 2);
  EXPECT_EQ(r->repetitions, 2);
  EXPECT_TRUE(std::isfinite(r->gbps));
  // Any machine reads 8 MiB faster than 10 MB/s and slower than 100 TB/s.
  EXPECT_GT(r->gbps, 0.01);
  EXPECT_LT(r->gbps, 1e5);
}

TEST(Bandwidth, BadOptionsAreErrors) {
  BandwidthOptions o;
  o.bytes = 1000;
  auto r = measure_read_bandwidth(o);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("below 1 MiB"), std::string::npos) << r.status().message();
  o = {};
  o.bytes = uint64_t{2} << 20;
  o.repetitions = 0;
  r = measure_read_bandwidth(o);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("repetitions must be >= 1, got 0"), std::string::npos);
  o.repetitions = 1;
  o.n_threads = -3;
  r = measure_read_bandwidth(o);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("threads must be >= 0, got -3"), std::string::npos);
}

}  // namespace
}  // namespace longctx
