// Temporary file paths unique to this test process: CTest runs each test case as its own
// process, several at once, so fixed names in the temp directory would collide.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

namespace longctx::testing_util {

inline std::string unique_temp_path(const std::string& name) {
  return ::testing::TempDir() + "/longctx-" + std::to_string(::getpid()) + "-" + name;
}

}  // namespace longctx::testing_util
