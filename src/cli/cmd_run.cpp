// `longctx run -m FILE -p TEXT`: one completion (raw, or --chat through the model's template),
// streamed to stdout, with a timing summary on stderr. --dump-logits writes the prompt's logits
// as a .npy array for oracle comparisons; -n 0 evaluates the prompt only; --session FILE keeps
// the session on disk as a prompt cache.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/engine_args.h"
#include "cli/sampling_args.h"
#include "core/file_io.h"
#include "core/npy.h"
#include "runtime/chat_prompt.h"
#include "runtime/generate.h"
#include "runtime/session.h"
#include "runtime/session_file.h"

namespace longctx::cli {
namespace {

std::atomic<bool> g_cancel{false};
extern "C" void on_sigint(int) { g_cancel.store(true); }

struct RunArgs {
  EngineArgs engine;
  std::optional<std::string> prompt;  // set even when empty, so -p "" is "empty", not "missing"
  std::string prompt_file, prompt_ids, system, dump_logits, session;
  bool chat = false, no_think = false, dump_last = false, print_ids = false, ignore_eos = false;
  int64_t n_predict = 256;
  SamplingArgs sampling;
  ContextArgs context;
  std::vector<std::string> stop;
};

int fail(const std::string& msg) {
  std::fprintf(stderr, "longctx run: %s\n", msg.c_str());
  return 1;
}

Result<std::vector<int32_t>> read_ids(const std::string& path, int64_t n_vocab) {
  auto text = read_file(path);
  if (!text) return text.status();
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_array()) {
    return invalid_argument(path + ": expected a JSON array of token ids");
  }
  std::vector<int32_t> ids;
  for (size_t i = 0; i < j.size(); ++i) {
    if (!j[i].is_number_integer() || j[i].get<int64_t>() < 0 || j[i].get<int64_t>() >= n_vocab) {
      return invalid_argument(path + ": element " + std::to_string(i) +
                              " is not a token id in [0, " + std::to_string(n_vocab) + ")");
    }
    ids.push_back(j[i].get<int32_t>());
  }
  if (ids.empty()) return invalid_argument(path + ": no token ids");
  return ids;
}

int run(const RunArgs& a) {
  const int n_sources = a.prompt.has_value() + !a.prompt_file.empty() + !a.prompt_ids.empty();
  if (n_sources != 1) return fail("give exactly one of -p, --prompt-file, --prompt-ids");
  if (a.chat && !a.prompt_ids.empty()) return fail("--chat needs a text prompt, not --prompt-ids");
  if (a.n_predict < -1) return fail("-n must be >= -1");
  if (a.dump_last && a.dump_logits.empty()) return fail("--dump-logits-last needs --dump-logits");
  auto on_full = parse_on_full(a.context);
  if (!on_full) return fail(on_full.status().message());

  if (!a.session.empty() && !a.dump_logits.empty()) {
    return fail("--session and --dump-logits do not combine (a dump evaluates every position)");
  }
  auto loaded = load_engine(a.engine, "run");
  if (!loaded) return fail(loaded.status().message());
  Engine& engine = *loaded->engine;
  Session& session = *loaded->session;
  // The session file: its state (a prompt cache) replaces the empty session.
  std::unique_ptr<SessionFile> file;
  if (!a.session.empty()) {
    ProgressLine progress("loading session", !a.engine.quiet);
    SessionFileOptions so;
    so.progress = [&](uint64_t d, uint64_t t) { progress.update(d, t); };
    const auto t0 = std::chrono::steady_clock::now();
    auto f = SessionFile::open(a.session, session, nullptr, so);
    const double load_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    progress.finish();
    if (!f) return fail(f.status().message());
    file = std::move(f.value());
    file->set_progress(nullptr);  // `progress` ends with this block
    if (!a.engine.quiet) {
      std::fprintf(stderr, "longctx run: session %s: %lld tokens cached (loaded in %.2f s)\n",
                   a.session.c_str(), static_cast<long long>(file->loaded_tokens()), load_s);
    }
  }
  auto save_session = [&]() -> bool {
    if (!file) return true;
    const Status st = file->save(session, "");
    if (!st.is_ok()) {
      std::fprintf(stderr, "longctx run: %s\n", st.message().c_str());
      return false;
    }
    if (!a.engine.quiet) {
      std::fprintf(stderr, "longctx run: session saved: %lld tokens (%.1f MiB written)\n",
                   static_cast<long long>(session.n_past()),
                   static_cast<double>(file->last_save_bytes()) / (1 << 20));
    }
    return true;
  };
  const Tokenizer* tok = engine.tokenizer();
  const int64_t n_vocab = engine.hparams().n_vocab;

  // 1. The prompt as token ids (and, with --chat --system, the system prompt's length: a context
  //    shift keeps it).
  std::vector<int32_t> ids;
  int64_t n_system = 0;
  if (!a.prompt_ids.empty()) {
    auto r = read_ids(a.prompt_ids, n_vocab);
    if (!r) return fail(r.status().message());
    ids = std::move(r.value());
  } else {
    std::string text = a.prompt.value_or("");
    if (!a.prompt_file.empty()) {
      auto r = read_file(a.prompt_file);
      if (!r) return fail(r.status().message());
      text = std::move(r.value());
    }
    if (!tok) return fail("the model has no tokenizer; give --tokenizer DIR or --prompt-ids");
    if (a.chat) {
      chat::Json messages = chat::Json::array();
      if (!a.system.empty()) {
        messages.push_back({{"role", "system"}, {"content", a.system}});
        auto sys = render_chat_prompt(
            engine, messages, {.enable_thinking = !a.no_think, .add_generation_prompt = false});
        if (sys) n_system = static_cast<int64_t>(tok->encode(sys->text, true).size());
      }
      messages.push_back({{"role", "user"}, {"content", text}});
      auto p = render_chat_prompt(engine, messages, {.enable_thinking = !a.no_think});
      if (!p) return fail(p.status().message());
      if (!p->warning.empty())
        std::fprintf(stderr, "longctx run: warning: %s\n", p->warning.c_str());
      text = std::move(p->text);
    }
    ids = tok->encode(text, /*parse_special=*/a.chat);
    if (ids.empty()) return fail("the prompt is empty");
  }
  if (a.print_ids) {
    std::string line = "[";
    for (size_t i = 0; i < ids.size(); ++i) line += (i ? ", " : "") + std::to_string(ids[i]);
    std::printf("%s]\n", line.c_str());
    std::fflush(stdout);
  }
  if (static_cast<int64_t>(ids.size()) > session.n_ctx()) {
    return fail("the prompt has " + std::to_string(ids.size()) + " tokens but the context only " +
                std::to_string(session.n_ctx()) + " (raise --ctx)");
  }

  std::signal(SIGINT, on_sigint);
  ProgressLine prefill_progress("prompt", !a.engine.quiet && ids.size() > 256);

  // 2. Logit dump: evaluate the prompt here, every position (or the last) into the .npy file.
  if (!a.dump_logits.empty()) {
    const int64_t rows = a.dump_last ? 1 : static_cast<int64_t>(ids.size());
    auto npy = NpyWriter::create(a.dump_logits, rows, n_vocab);
    if (!npy) return fail(npy.status().message());
    Status write_status;
    EvalOptions eo;
    eo.cancel = &g_cancel;
    eo.progress = [&](int64_t d, int64_t t) { prefill_progress.update(d, t); };
    if (!a.dump_last) {
      eo.on_logits = [&](int64_t, const float* row) {
        if (write_status.is_ok()) write_status = npy->append_rows(row, 1);
      };
    }
    auto ok = session.eval(ids, eo);
    prefill_progress.finish();
    if (!ok) return fail(ok.status().message());
    if (!*ok) return fail("cancelled");
    if (a.dump_last) write_status = npy->append_rows(session.logits(), 1);
    if (write_status.is_ok()) write_status = npy->finish();
    if (!write_status.is_ok()) return fail(write_status.message());
  }
  if (a.n_predict == 0) {
    if (a.dump_logits.empty()) {
      // The cached prefix is kept (a session file's prompt cache); the rest is evaluated.
      size_t common = 0;
      const std::vector<int32_t>& cached = session.tokens();
      while (common < cached.size() && common < ids.size() && cached[common] == ids[common]) {
        ++common;
      }
      common = std::min(common, ids.size() - 1);
      session.truncate(static_cast<int64_t>(common));
      auto ok = session.eval(std::span<const int32_t>(ids).subspan(common));
      if (!ok) return fail(ok.status().message());
      session.snapshot_logits();
      if (!a.engine.quiet) {
        std::fprintf(stderr, "longctx run: prompt %zu tokens: %zu reused, %zu prefilled\n",
                     ids.size(), common, ids.size() - common);
      }
    }
    return save_session() ? 0 : 1;
  }

  // 3. Generate, streaming text to stdout.
  if (!tok) return fail("the model has no tokenizer; give --tokenizer DIR to generate text");
  GenerateOptions go;
  go.max_tokens = a.n_predict;
  go.sampling = sampling_params(a.sampling, /*thinking=*/!a.no_think);
  go.stop = a.stop;
  go.ignore_eog = a.ignore_eos;
  go.cancel = &g_cancel;
  go.on_full = *on_full;
  go.n_keep = n_system + a.context.keep;
  go.on_shift = [&](const ShiftRange& r) {
    if (a.engine.quiet) return;
    std::fprintf(stderr,
                 "\n[longctx run: context full: dropped tokens %lld..%lld (%lld tokens); the "
                 "later keys were turned to their new positions, no prefill]\n",
                 static_cast<long long>(r.begin), static_cast<long long>(r.end - 1),
                 static_cast<long long>(r.end - r.begin));
  };
  go.prefill_progress = [&](int64_t d, int64_t t) {
    prefill_progress.update(d, t);
    if (d == t) prefill_progress.finish();
  };
  auto res = generate(session, ids, go, [](std::string_view s) {
    std::fwrite(s.data(), 1, s.size(), stdout);
    std::fflush(stdout);
    return true;
  });
  prefill_progress.finish();
  if (!res) {
    save_session();  // what was evaluated before the failure is kept
    return fail(res.status().message());
  }
  std::printf("\n");
  if (res->finish == FinishReason::kContextFull && !a.engine.quiet) {
    std::fprintf(stderr,
                 "longctx run: the context is full (%lld tokens): the reply stopped; "
                 "--on-full shift keeps going by dropping the oldest tokens\n",
                 static_cast<long long>(session.n_ctx()));
  }
  if (res->n_shifts > 0 && !a.engine.quiet) {
    std::fprintf(stderr, "longctx run: %d context shift(s) dropped %lld tokens in %.1f ms\n",
                 res->n_shifts, static_cast<long long>(res->n_dropped), 1e3 * res->shift_seconds);
  }
  const int64_t n_eval = res->n_prompt - res->n_reused;
  const int64_t n_gen = static_cast<int64_t>(res->ids.size());
  std::fprintf(stderr,
               "\nlongctx run: prompt %lld tokens (%lld reused, %lld prefilled in %.2f s, %.1f "
               "tok/s) | generated %lld tokens "
               "in %.2f s (%.1f tok/s) | first token after %.2f s | stop: %s\n",
               static_cast<long long>(res->n_prompt), static_cast<long long>(res->n_reused),
               static_cast<long long>(n_eval), res->prompt_seconds,
               res->prompt_seconds > 0 && n_eval > 0 ? n_eval / res->prompt_seconds : 0.0,
               static_cast<long long>(n_gen), res->gen_seconds,
               res->gen_seconds > 0 ? n_gen / res->gen_seconds : 0.0, res->ttft_seconds,
               finish_reason_name(res->finish));
  return save_session() ? 0 : 1;
}

}  // namespace

CommandFn add_run_command(CLI::App& app) {
  auto a = std::make_shared<RunArgs>();
  add_engine_options(app, &a->engine);
  app.add_option("-p,--prompt", a->prompt, "Prompt text");
  app.add_option("--prompt-file", a->prompt_file, "Read the prompt text from a file");
  app.add_option("--prompt-ids", a->prompt_ids, "Read the prompt as a JSON array of token ids");
  app.add_flag("--chat", a->chat, "Apply the model's chat template to the prompt (a user turn)");
  app.add_option("--system", a->system, "System message (with --chat)");
  app.add_flag("--no-think", a->no_think,
               "Qwen3 non-thinking mode (empty think block; T 0.7, top-p 0.8 defaults)");
  app.add_option("-n,--n-predict", a->n_predict,
                 "Tokens to generate (-1: until the context is full; 0: evaluate the prompt only)")
      ->capture_default_str();
  add_sampling_options(app, &a->sampling);
  add_context_options(app, &a->context);
  app.add_option("--stop", a->stop, "Stop string (repeatable)");
  app.add_flag("--ignore-eos", a->ignore_eos, "Do not stop at end-of-turn tokens");
  app.add_option("--dump-logits", a->dump_logits,
                 "Write the logits of every prompt position as a float32 .npy [n_prompt, n_vocab]");
  app.add_flag("--dump-logits-last", a->dump_last,
               "Only the last position's logits ([1, n_vocab])");
  app.add_flag("--ids", a->print_ids, "Print the prompt's token ids (a JSON array) first");
  app.add_option("--session", a->session,
                 "Keep the session in FILE (created if missing): a prompt cache, so the same "
                 "prompt again prefills nothing and a longer one only its new suffix");
  return [a] { return run(*a); };
}

}  // namespace longctx::cli
