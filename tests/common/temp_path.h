// Temporary file paths unique to this test process: CTest runs each test case as its own
// process, several at once, so fixed names in the temp directory would collide.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace longctx::testing_util {

inline std::string unique_temp_path(const std::string& name) {
  return ::testing::TempDir() + "/longctx-" + std::to_string(::getpid()) + "-" + name;
}

// Deletes `path` when the test process exits: for files a test binary shares between its cases
// (e.g. a model written once into a function-local static).
inline std::vector<std::string>& paths_removed_at_exit() {
  static auto* paths = [] {
    std::atexit([] {
      for (const std::string& p : paths_removed_at_exit()) std::remove(p.c_str());
    });
    return new std::vector<std::string>();  // never destroyed: used by the atexit handler
  }();
  return *paths;
}
inline std::string remove_at_exit(const std::string& path) {
  paths_removed_at_exit().push_back(path);
  return path;
}

}  // namespace longctx::testing_util
