// `longctx chat --memory DB [--conversation NAME]`: the chat on the memory loop. Every turn is
// stored in the database before it is answered, the prompt is assembled under the memory
// budgets (pinned facts, rolling summary, recent turns, recalled earlier turns), and the KV cache
// is kept in a session file beside the database, used only as far as its tokens match the
// assembled prompt (the database is the record, the cache only saves prefill).
#pragma once

#include <atomic>
#include <string>

#include "cli/sampling_args.h"
#include "memory/memory_loop.h"
#include "runtime/engine.h"
#include "runtime/session.h"

namespace longctx::cli {

struct MemoryChatOptions {
  std::string db;
  std::string conversation = "default";
  std::string system;  // --system: replaces the stored one when given
  bool system_given = false;
  std::string summary_prompt_file;  // --summary-prompt FILE
  memory::MemoryBudgets budgets;    // ctx is taken from the session
  SamplingArgs sampling;
  bool thinking = true;
  bool hide_reasoning = false;
  bool dump_prompt = false;
  bool quiet = false;
  int64_t n_predict = -1;
};

int run_memory_chat(const MemoryChatOptions& options, Engine& engine, Session& session,
                    std::atomic<bool>* interrupt);

}  // namespace longctx::cli
