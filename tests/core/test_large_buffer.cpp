// LargeBuffer: zero-filled, writable over its whole size, empty for size 0, moves ownership.
#include <gtest/gtest.h>

#include <utility>

#include "core/large_buffer.h"

namespace longctx {
namespace {

TEST(LargeBuffer, IsZeroFilledAndWritableAcrossHugePages) {
  const size_t size = (5u << 20) + 123;  // spans several 2 MiB pages and a ragged end
  auto b = LargeBuffer::allocate(size);
  ASSERT_TRUE(b.is_ok()) << b.status().message();
  ASSERT_EQ(b->size(), size);
  size_t nonzero = 0;
  for (size_t i = 0; i < size; i += 4096) nonzero += b->data()[i] != 0;
  EXPECT_EQ(nonzero, 0u);
  b->data()[0] = 1;
  b->data()[size - 1] = 2;
  EXPECT_EQ(b->data()[size - 1], 2);
}

TEST(LargeBuffer, EmptyAndMoved) {
  auto empty = LargeBuffer::allocate(0);
  ASSERT_TRUE(empty.is_ok());
  EXPECT_EQ(empty->data(), nullptr);
  auto b = LargeBuffer::allocate(4096);
  ASSERT_TRUE(b.is_ok());
  uint8_t* p = b->data();
  LargeBuffer moved = std::move(b.value());
  EXPECT_EQ(moved.data(), p);
  EXPECT_EQ(b->data(), nullptr);
  LargeBuffer assigned;
  assigned = std::move(moved);
  EXPECT_EQ(assigned.data(), p);
  EXPECT_EQ(assigned.size(), 4096u);
}

TEST(LargeBuffer, ImpossibleSizeIsAnError) {
  auto b = LargeBuffer::allocate(size_t{1} << 62);
  ASSERT_FALSE(b.is_ok());
  EXPECT_NE(b.status().message().find("cannot map"), std::string::npos);
}

}  // namespace
}  // namespace longctx
