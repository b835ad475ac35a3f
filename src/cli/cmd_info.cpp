// `longctx info` (placeholder until its module lands).
#include <CLI/CLI.hpp>

#include <cstdio>

#include "cli/commands.h"

namespace longctx::cli {

CommandFn add_info_command(CLI::App& app) {
  (void)app;
  return [] {
    std::fprintf(stderr, "longctx info: not implemented yet\n");
    return 2;
  };
}

}  // namespace longctx::cli
