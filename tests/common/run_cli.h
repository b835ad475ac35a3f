// Runs the built longctx binary with a command line and captures exit code, stdout and stderr,
// for tests of the CLI as a user sees it (optionally feeding stdin).
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <string>

#include "common/temp_path.h"
#include "core/file_io.h"

namespace longctx::testing_util {

struct RunResult {
  int exit_code = -1;  // -1 when the process did not exit normally
  std::string out;     // stdout
  std::string err;     // stderr
};

// `args` is appended to "<build>/src/longctx " and run by the shell.
inline RunResult run_longctx(const std::string& args) {
  const std::string err_path = unique_temp_path("cli_stderr.txt");
  const std::string cmd =
      std::string(LONGCTX_BINARY_DIR) + "/src/longctx " + args + " 2>" + err_path;
  RunResult r;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) r.out.append(buf, n);
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  Result<std::string> err = read_file(err_path);
  if (err.is_ok()) r.err = *err;
  std::remove(err_path.c_str());
  return r;
}

// As run_longctx, with `input` as the process's stdin (a file, so it is not a terminal).
inline RunResult run_longctx_stdin(const std::string& args, const std::string& input) {
  const std::string in_path = unique_temp_path("cli_stdin.txt");
  RunResult r;
  if (!write_file_atomic(in_path, input).is_ok()) return r;
  r = run_longctx(args + " <" + in_path);
  std::remove(in_path.c_str());
  return r;
}

}  // namespace longctx::testing_util
