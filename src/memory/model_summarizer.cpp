// The summariser on the model (model_summarizer.h).
#include "memory/model_summarizer.h"

#include "runtime/chat_prompt.h"
#include "runtime/generate.h"

namespace longctx::memory {

Summarizer model_summarizer(const Engine& engine, Session& session, std::atomic<bool>* cancel,
                            std::function<void()> on_start) {
  return [&engine, &session, cancel, on_start](const std::string& request,
                                               int64_t max_tokens) -> Result<std::string> {
    const chat::Json msgs = chat::Json::array(
        {{{"role", "system"}, {"content", "You summarise conversations faithfully."}},
         {{"role", "user"}, {"content", request}}});
    auto p = render_chat_prompt(engine, msgs, {.enable_thinking = false});
    if (!p) return p.status();
    const std::vector<int32_t> ids = engine.tokenizer()->encode(p->text, true);
    if (static_cast<int64_t>(ids.size()) + max_tokens > session.n_ctx()) {
      return invalid_argument("the summariser's prompt (" + std::to_string(ids.size()) +
                              " tokens) does not fit the context");
    }
    if (on_start) on_start();
    GenerateOptions go;
    go.max_tokens = max_tokens;
    go.sampling.temperature = 0.3f;
    go.sampling.top_p = 0.9f;
    go.cancel = cancel;
    auto res = generate(session, ids, go, [](std::string_view) { return true; });
    if (!res) return res.status();
    if (res->finish == FinishReason::kCancelled) return io_error("the summary was stopped");
    return res->text;
  };
}

}  // namespace longctx::memory
