// /proc/meminfo parsing (a real layout) and the live reading on Linux.
#include <gtest/gtest.h>

#include "core/system_memory.h"

namespace longctx {
namespace {

TEST(SystemMemory, ParsesTotalAndAvailableInKiB) {
  const char* text =
      "MemTotal:       24522848 kB\nMemFree:        18902224 kB\n"
      "MemAvailable:   22984372 kB\nBuffers:          123456 kB\n";
  auto m = parse_meminfo(text);
  ASSERT_TRUE(m.is_ok());
  EXPECT_EQ(m->total, 24522848ull * 1024);
  EXPECT_EQ(m->available, 22984372ull * 1024);
  EXPECT_EQ(parse_meminfo("MemTotal: 1024 kB\n")->available, 1024ull * 1024);
  EXPECT_FALSE(parse_meminfo("MemFree: 5 kB\n").is_ok());
  EXPECT_FALSE(parse_meminfo("MemTotal: lots\n").is_ok());
}

TEST(SystemMemory, LiveValueIsPlausible) {
  const auto avail = available_memory_bytes();
  ASSERT_TRUE(avail.has_value());  // CI runs on Linux
  EXPECT_GT(*avail, 16ull << 20);
  EXPECT_LT(*avail, 1ull << 50);
}

}  // namespace
}  // namespace longctx
