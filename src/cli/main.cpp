// Entry point of the longctx binary: parses the command line and dispatches to a subcommand.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "cli/commands.h"
#include "cli/engine_args.h"
#include "cli/serve_aliases.h"

int main(int argc, char** argv) {
  CLI::App app{"longctx: run Qwen3-family models at long context on your own hardware"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "longctx 0.1.0");

  std::vector<std::pair<CLI::App*, longctx::cli::CommandFn>> commands;
  auto add = [&](const char* name, const char* help, auto adder) {
    CLI::App* sub = app.add_subcommand(name, help);
    commands.emplace_back(sub, adder(*sub));
  };
  add("plan", "How much context fits: memory, speed and RoPE plan of a model on a device",
      longctx::cli::add_plan_command);
  add("info", "Print a GGUF file's metadata and tensor summary", longctx::cli::add_info_command);
  add("tokenize", "Tokenize text with a model's or a Hugging Face tokenizer",
      longctx::cli::add_tokenize_command);
  add("synth", "Write a random-weight GGUF of a Qwen3-family shape (for demos and benchmarks)",
      longctx::cli::add_synth_command);
  add("run", "Generate a completion from a prompt (raw, or --chat with the model's template)",
      longctx::cli::add_run_command);
  add("chat", "Chat interactively with a model (streamed replies, /help for commands)",
      longctx::cli::add_chat_command);
  add("bench",
      "Measure prefill and decode speed (llama-bench style), with GB/s and bandwidth share",
      longctx::cli::add_bench_command);
  add("eval",
      "Quality at length: perplexity by position, KL divergence against a baseline "
      "configuration, passkey retrieval",
      longctx::cli::add_eval_command);
  add("serve", "An OpenAI-compatible HTTP server: sequences decoded together in batches",
      longctx::cli::add_serve_command);
  add("memory",
      "Conversation memory store: import a conversation, search it as the recall does, show, "
      "export, list",
      longctx::cli::add_memory_command);
  add("template", "Render a chat-completions request with the model's chat template",
      longctx::cli::add_template_command);

  // Arguments as strings, llama.cpp's multi-letter single-dash aliases spelled out (engine_args.h).
  std::vector<std::string> args(argv + 1, argv + argc);
  longctx::cli::rewrite_serve_aliases(&args);
  longctx::cli::rewrite_llama_aliases(&args);
  std::reverse(args.begin(), args.end());  // CLI11 takes a vector in reverse order
  try {
    app.parse(std::move(args));
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    for (auto& [sub, run] : commands) {
      if (sub->parsed()) return run();
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "longctx: error: %s\n", e.what());
    return 1;
  }
  return 1;
}
