// `longctx template`: renders an OpenAI chat-completions request body with a model's own chat
// template (GGUF `tokenizer.chat_template`, or a Hugging Face tokenizer_config.json) and prints
// the exact prompt, or with --json the prompt and its token ids.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <optional>
#include <string>

#include "chat/chat_template.h"
#include "cli/commands.h"
#include "core/file_io.h"
#include "gguf/gguf.h"
#include "tokenizer/tokenizer.h"

namespace longctx::cli {
namespace {

namespace fs = std::filesystem;

struct TemplateOptions {
  std::string model_path;      // -m: GGUF file
  std::string tokenizer_path;  // --tokenizer: HF directory or its tokenizer_config.json
  std::string request_path;    // --request: JSON body, "-" for stdin
  bool json = false;           // print {"prompt", "ids"}
};

// The template, its special tokens and (for --json) the tokenizer, from one source.
struct Loaded {
  chat::TemplateSource source;
  std::optional<Tokenizer> tokenizer;
};

Result<Loaded> load_from_gguf(const std::string& path, bool need_tokenizer) {
  auto f = GgufFile::open(path);
  if (!f.is_ok()) return f.status();  // already names the file
  Loaded l;
  auto tmpl = f->get_string("tokenizer.chat_template");
  if (!tmpl.is_ok()) return tmpl.status().with_context(path);
  l.source.chat_template = *tmpl;
  // The special tokens the template may print come from the model's own vocabulary.
  auto tok = Tokenizer::from_gguf(*f);
  if (tok.is_ok()) {
    auto piece = [&](const char* key) -> std::string {
      auto id = f->get_int(key);
      return id.is_ok() ? tok->token_piece(static_cast<int32_t>(*id)) : "";
    };
    l.source.bos_token = piece("tokenizer.ggml.bos_token_id");
    l.source.eos_token = piece("tokenizer.ggml.eos_token_id");
    l.source.pad_token = piece("tokenizer.ggml.padding_token_id");
    l.tokenizer = std::move(*tok);
  } else if (need_tokenizer) {
    return tok.status().with_context(path);
  }
  return l;
}

Result<Loaded> load_from_hf(const std::string& path, bool need_tokenizer) {
  std::error_code ec;
  const bool is_dir = fs::is_directory(path, ec);
  const std::string dir = is_dir ? path : fs::path(path).parent_path().string();
  const std::string config_path =
      is_dir ? (fs::path(path) / "tokenizer_config.json").string() : path;
  auto text = read_file(config_path);
  if (!text.is_ok()) return text.status();
  chat::Json config = chat::Json::parse(*text, nullptr, false);
  if (config.is_discarded()) return invalid_format(config_path + ": not valid JSON");
  auto source = chat::template_source_from_config(config);
  if (!source.is_ok()) return source.status().with_context(config_path);
  Loaded l;
  l.source = std::move(*source);
  if (need_tokenizer) {
    auto tok = Tokenizer::from_hf_path(dir.empty() ? "." : dir);
    if (!tok.is_ok()) return tok.status();
    l.tokenizer = std::move(*tok);
  }
  return l;
}

Result<std::string> read_request(const std::string& path) {
  if (path == "-") return std::string(std::istreambuf_iterator<char>(std::cin), {});
  return read_file(path);
}

int fail(const std::string& msg) {
  std::fprintf(stderr, "longctx template: %s\n", msg.c_str());
  return 1;
}

int run_template(const TemplateOptions& o) {
  if (!o.model_path.empty() && !o.tokenizer_path.empty())
    return fail("give either -m or --tokenizer, not both");
  Result<Loaded> loaded =
      !o.model_path.empty() ? load_from_gguf(o.model_path, o.json)
                            : load_from_hf(o.tokenizer_path.empty()
                                               ? std::string(LONGCTX_DATA_DIR) + "/qwen3-tokenizer"
                                               : o.tokenizer_path,
                                           o.json);
  if (!loaded.is_ok()) return fail(loaded.status().message());

  auto body = read_request(o.request_path);
  if (!body.is_ok()) return fail(body.status().message());
  chat::Json request;
  try {
    request = chat::Json::parse(*body);
  } catch (const chat::Json::parse_error& e) {
    return fail(o.request_path + ": invalid JSON: " + e.what());
  }
  auto ctx = chat::context_from_request(request, loaded->source);
  if (!ctx.is_ok()) return fail("bad request: " + ctx.status().message());
  auto prompt = chat::render_prompt(loaded->source.chat_template, *ctx);
  if (!prompt.is_ok()) return fail(prompt.status().message());
  if (prompt->used_fallback)
    std::fprintf(stderr, "longctx template: warning: %s\n", prompt->warning.c_str());

  if (!o.json) {
    std::fwrite(prompt->text.data(), 1, prompt->text.size(), stdout);
    return 0;
  }
  nlohmann::ordered_json out;
  out["prompt"] = prompt->text;
  out["ids"] = loaded->tokenizer->encode(prompt->text, /*parse_special=*/true);
  std::string text =
      out.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
  std::fwrite(text.data(), 1, text.size(), stdout);
  return 0;
}

}  // namespace

CommandFn add_template_command(CLI::App& app) {
  auto o = std::make_shared<TemplateOptions>();
  auto* model = app.add_option("-m,--model", o->model_path,
                               "GGUF model whose tokenizer.chat_template to use");
  app.add_option("--tokenizer", o->tokenizer_path,
                 "Hugging Face tokenizer directory or its tokenizer_config.json (default: the "
                 "shipped Qwen3)")
      ->excludes(model);
  app.add_option("--request", o->request_path,
                 "OpenAI chat-completions request body (JSON file, - for stdin)")
      ->required();
  app.add_flag("--json", o->json, "Print {\"prompt\": ..., \"ids\": [...]} instead of the prompt");
  return [o] { return run_template(*o); };
}

}  // namespace longctx::cli
