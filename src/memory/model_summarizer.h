// The summariser on the model itself: the request (summary_prompt.h) as a user message under a
// short system instruction, rendered with the model's chat template in non-thinking mode, and
// generated at a low temperature on the given session (a compaction changes the prompt's system
// message, so the session's cached prefix is lost either way).
#pragma once

#include <atomic>

#include "memory/memory_loop.h"
#include "runtime/engine.h"
#include "runtime/session.h"

namespace longctx::memory {

// on_start (may be empty) is called before the generation starts, e.g. to say so on a terminal.
Summarizer model_summarizer(const Engine& engine, Session& session, std::atomic<bool>* cancel,
                            std::function<void()> on_start = {});

}  // namespace longctx::memory
