// Evaluator of the Jinja2 subset's syntax tree with jinja2 semantics: scopes (a for-loop
// iteration is a scope; namespaces carry state out of it), default Undefined, Python operators.
// Bounded work: steps, output size and recursion depth are capped (RenderLimits).
#pragma once

#include <string>

#include "chat/jinja_ast.h"
#include "chat/value.h"
#include "core/status.h"

namespace longctx::chat {

struct RenderLimits {
  size_t max_output_bytes = size_t{64} << 20;  // also caps any single string a template builds
  uint64_t max_steps = 2'000'000;  // statements run + loop iterations (~30 per message for Qwen3)
  int max_depth = 400;             // nested evaluation (expressions, blocks, calls)
  int max_call_depth = 48;         // nested macro calls
};

// Renders `body` with the variables of `context` (a dict) over the global functions.
Result<std::string> render_template(const Body& body, const Value& context,
                                    const RenderLimits& limits);

}  // namespace longctx::chat
