// `longctx tokenize` (placeholder until its module lands).
#include <CLI/CLI.hpp>

#include <cstdio>

#include "cli/commands.h"

namespace longctx::cli {

CommandFn add_tokenize_command(CLI::App& app) {
  (void)app;
  return [] {
    std::fprintf(stderr, "longctx tokenize: not implemented yet\n");
    return 2;
  };
}

}  // namespace longctx::cli
