// /proc/meminfo parsing (a real layout) and the live readings on Linux: available memory, this
// process's program figure and heap.
#include <gtest/gtest.h>

#include <string>
#include <vector>

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

// The program's bound: every file mapping's whole size (not anonymous ones, not [heap]) plus the
// anonymous and shared resident memory of the status text.
TEST(SystemMemory, ProgramBytesAreFileMappingsPlusAnonymousResidentMemory) {
  const std::string maps =
      "55d0c0000000-55d0c0300000 r-xp 00000000 08:01 123  /usr/bin/longctx\n"
      "55d0c0300000-55d0c0301000 rw-p 00300000 08:01 123  /usr/bin/longctx\n"
      "55d0c1000000-55d0c2000000 rw-p 00000000 00:00 0    [heap]\n"
      "7f0000000000-7f0000200000 r-xp 00000000 08:01 456  /usr/lib/libc.so.6\n"
      "7f0000400000-7f0000500000 rw-p 00000000 00:00 0 \n"
      "7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0    [stack]\n";
  const std::string status =
      "Name:\tlongctx\nRssAnon:\t    2048 kB\nRssFile:\t 4000 kB\n"
      "RssShmem:\t       4 kB\n";
  const auto b = parse_program_bytes(maps, status);
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(*b, 0x300000ull + 0x1000 + 0x200000 + (2048 + 4) * 1024ull);
  EXPECT_FALSE(parse_program_bytes(maps, "Name: x\n").has_value());  // no RssAnon
  EXPECT_FALSE(parse_program_bytes("zz-55 r-xp 0 0 0 /x\n", status).has_value());
  // This process: at least a megabyte (its binary alone is larger), less than a gigabyte.
  const auto live = program_bytes();
  ASSERT_TRUE(live.has_value());
  EXPECT_GT(*live, 1ull << 20);
  EXPECT_LT(*live, 1ull << 30);
}

// The program figure counts anonymous resident memory, so it grows by what a new buffer touches;
// the heap figure by what malloc hands out (where the allocator reports it: glibc's, not
// AddressSanitizer's).
TEST(SystemMemory, ProgramAndHeapFollowAnAllocation) {
  const auto prog0 = program_bytes();
  ASSERT_TRUE(prog0.has_value());  // CI runs on Linux
  const auto heap0 = heap_in_use_bytes();
  constexpr size_t kBytes = 32u << 20;
  std::vector<unsigned char> v(kBytes, 1);  // value-initialised: every page touched
  const auto prog1 = program_bytes();
  ASSERT_TRUE(prog1.has_value());
  EXPECT_GE(*prog1, *prog0 + kBytes * 3 / 4) << "program " << *prog0 << " -> " << *prog1;
  if (heap0) {
    const auto heap1 = heap_in_use_bytes();
    ASSERT_TRUE(heap1.has_value());
    EXPECT_GE(*heap1, *heap0 + kBytes);
    EXPECT_LT(*heap1, *heap0 + kBytes + (1u << 20));
  }
  EXPECT_EQ(v[kBytes - 1], 1);
}

}  // namespace
}  // namespace longctx
