// Temporary file paths unique to this test process: CTest runs each test case as its own
// process, several at once, so fixed names in the temp directory would collide.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

namespace longctx::testing_util {

// Deletes `path` (a file, or a directory with everything in it) when the test process exits: for
// files a test binary shares between its cases (e.g. a model written once into a function-local
// static) and for per-process scratch directories.
inline std::vector<std::string>& paths_removed_at_exit() {
  static auto* paths = [] {
    std::atexit([] {
      for (const std::string& p : paths_removed_at_exit()) {
        std::error_code ec;
        std::filesystem::remove_all(p, ec);
      }
    });
    return new std::vector<std::string>();  // never destroyed: used by the atexit handler
  }();
  return *paths;
}
inline std::string remove_at_exit(const std::string& path) {
  paths_removed_at_exit().push_back(path);
  return path;
}

// A path unique to this test process; whatever the test leaves there is removed at exit.
inline std::string unique_temp_path(const std::string& name) {
  return remove_at_exit(::testing::TempDir() + "/longctx-" + std::to_string(::getpid()) + "-" +
                        name);
}

// A directory unique to this test process, created now and removed with its contents at exit.
inline std::string unique_temp_dir(const std::string& name) {
  const std::string dir = unique_temp_path(name);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace longctx::testing_util
