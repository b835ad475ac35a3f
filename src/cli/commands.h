// The longctx subcommands. Each registers its options on a CLI11 subcommand and returns the
// function that runs it (its exit code); main.cpp parses and calls the one that was chosen.
#pragma once

#include <functional>

namespace CLI {
class App;
}

namespace longctx::cli {

using CommandFn = std::function<int()>;

CommandFn add_info_command(CLI::App& app);
CommandFn add_tokenize_command(CLI::App& app);
CommandFn add_template_command(CLI::App& app);
CommandFn add_synth_command(CLI::App& app);
CommandFn add_run_command(CLI::App& app);
CommandFn add_chat_command(CLI::App& app);
CommandFn add_plan_command(CLI::App& app);
CommandFn add_bench_command(CLI::App& app);
CommandFn add_eval_command(CLI::App& app);
CommandFn add_serve_command(CLI::App& app);
CommandFn add_memory_command(CLI::App& app);

}  // namespace longctx::cli
