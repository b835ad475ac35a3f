// The CUDA interface on any machine (unit tier): a build without CUDA, or a machine without a
// usable GPU, gets an error naming the reason from every query, never a crash.
#include <gtest/gtest.h>

#include <string>

#include "kernels/cuda/cuda_api.h"

namespace longctx {
namespace {

// Runs everywhere: a build without CUDA, or a machine without a GPU, answers with an error that
// says which, and does not crash.
TEST(CudaPresence, NoDeviceIsAnErrorNamingTheReason) {
  auto d = cuda::devices();
  if (!cuda::built_with_cuda()) {
    ASSERT_FALSE(d.is_ok());
    EXPECT_NE(d.status().message().find("without CUDA"), std::string::npos);
    EXPECT_FALSE(cuda::DeviceBuffer::allocate(16).is_ok());
    return;
  }
  if (d.is_ok()) {
    ASSERT_FALSE(d->empty());
    EXPECT_FALSE((*d)[0].name.empty());
    EXPECT_GT((*d)[0].total_memory, 0u);
  } else {
    EXPECT_NE(d.status().message().find("CUDA"), std::string::npos) << d.status().message();
  }
}

}  // namespace
}  // namespace longctx
