// MemAvailable parsing (a real /proc/meminfo layout) and the live reading on Linux.
#include <gtest/gtest.h>

#include "core/system_memory.h"

namespace longctx {
namespace {

TEST(SystemMemory, ParsesMemAvailableInKiB) {
  const char* text =
      "MemTotal:       24522848 kB\nMemFree:        18902224 kB\n"
      "MemAvailable:   22984372 kB\nBuffers:          123456 kB\n";
  EXPECT_EQ(parse_meminfo_available(text), 22984372ull * 1024);
  EXPECT_EQ(parse_meminfo_available("MemTotal: 5 kB\n"), std::nullopt);
  EXPECT_EQ(parse_meminfo_available("MemAvailable: kB\n"), std::nullopt);
}

TEST(SystemMemory, LiveValueIsPlausible) {
  const auto avail = available_memory_bytes();
  ASSERT_TRUE(avail.has_value());  // CI runs on Linux
  EXPECT_GT(*avail, 16ull << 20);
  EXPECT_LT(*avail, 1ull << 50);
}

}  // namespace
}  // namespace longctx
