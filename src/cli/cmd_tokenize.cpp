// `longctx tokenize`: encodes text with a GGUF model's tokenizer, a Hugging Face tokenizer, or
// the shipped Qwen3 tokenizer, and prints ids with their pieces (table or JSON), or encodes a
// JSONL batch of strings.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "cli/commands.h"
#include "core/file_io.h"
#include "gguf/gguf.h"
#include "tokenizer/tokenizer.h"

namespace longctx::cli {
namespace {

struct TokenizeOptions {
  std::string model_path;      // -m: GGUF file
  std::string tokenizer_path;  // --tokenizer: HF directory or tokenizer.json
  std::string text;            // positional
  bool has_text = false;       // TEXT was given (it may be empty)
  std::string text_file;       // --file
  std::string batch_file;      // --batch: JSONL, one string per line
  bool json = false;
  bool no_special = false;
};

Result<Tokenizer> load_tokenizer(const TokenizeOptions& o) {
  if (!o.model_path.empty()) {
    Result<GgufFile> f = GgufFile::open(o.model_path);
    if (!f.is_ok()) return f.status();  // already names the file
    Result<Tokenizer> t = Tokenizer::from_gguf(*f);
    if (!t.is_ok()) return t.status().with_context(o.model_path);
    return t;
  }
  if (!o.tokenizer_path.empty()) return Tokenizer::from_hf_path(o.tokenizer_path);
  return Tokenizer::from_hf_path(std::string(LONGCTX_DATA_DIR) + "/qwen3-tokenizer");
}

// A piece with its bytes made visible: quoted, with C-style escapes for control characters,
// backslash and quote, and \xNN for bytes that are not part of a valid UTF-8 character.
std::string visible(const std::string& piece) {
  std::string out = "\"";
  for (size_t i = 0; i < piece.size();) {
    const unsigned char c = static_cast<unsigned char>(piece[i]);
    char buf[8];
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\\' || c == '"') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c >= 0x20 && c < 0x7F) {
      out += static_cast<char>(c);
    } else {
      // Keep a complete multi-byte character (piece boundaries may split one).
      size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
      bool whole = n > 0 && i + n <= piece.size();
      for (size_t k = 1; whole && k < n; ++k) {
        whole = (static_cast<unsigned char>(piece[i + k]) & 0xC0) == 0x80;
      }
      if (whole && c < 0xF5) {
        out.append(piece, i, n);
        i += n;
        continue;
      }
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    }
    ++i;
  }
  return out + "\"";
}

std::string dump(const nlohmann::json& j) {
  // Pieces can hold partial UTF-8; replace ill-formed bytes rather than fail.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

int run_batch(const Tokenizer& tok, const TokenizeOptions& o) {
  std::ifstream in(o.batch_file, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "longctx tokenize: cannot open %s\n", o.batch_file.c_str());
    return 1;
  }
  std::string line;
  size_t line_no = 0;
  std::string out;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;  // blank line
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_string()) {
      std::fprintf(stderr, "longctx tokenize: %s line %zu: expected one JSON string\n",
                   o.batch_file.c_str(), line_no);
      return 1;
    }
    const std::vector<int32_t> ids = tok.encode(j.get<std::string>(), !o.no_special);
    out += dump(nlohmann::json{{"ids", ids}}) + "\n";
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

int run_tokenize(const TokenizeOptions& o) {
  if (!o.model_path.empty() && !o.tokenizer_path.empty()) {
    std::fprintf(stderr, "longctx tokenize: give either -m or --tokenizer, not both\n");
    return 1;
  }
  const int n_inputs = o.has_text + !o.text_file.empty() + !o.batch_file.empty();
  if (n_inputs != 1) {
    std::fprintf(stderr, "longctx tokenize: give exactly one of TEXT, --file or --batch\n");
    return 1;
  }
  Result<Tokenizer> tok = load_tokenizer(o);
  if (!tok.is_ok()) {
    std::fprintf(stderr, "longctx tokenize: %s\n", tok.status().message().c_str());
    return 1;
  }
  if (!o.batch_file.empty()) return run_batch(*tok, o);

  std::string text = o.text;
  if (!o.text_file.empty()) {
    Result<std::string> r = read_file(o.text_file);
    if (!r.is_ok()) {
      std::fprintf(stderr, "longctx tokenize: %s\n", r.status().message().c_str());
      return 1;
    }
    text = std::move(r).value();
  }
  const std::vector<int32_t> ids = tok->encode(text, !o.no_special);
  if (o.json) {
    nlohmann::json pieces = nlohmann::json::array();
    for (int32_t id : ids) pieces.push_back(tok->token_piece(id));
    std::printf("%s\n", dump(nlohmann::json{{"ids", ids}, {"pieces", pieces}}).c_str());
    return 0;
  }
  std::printf("%8s  %s\n", "id", "piece");
  for (int32_t id : ids) std::printf("%8d  %s\n", id, visible(tok->token_piece(id)).c_str());
  std::printf("%zu tokens, %zu bytes\n", ids.size(), text.size());
  return 0;
}

}  // namespace

CommandFn add_tokenize_command(CLI::App& app) {
  auto o = std::make_shared<TokenizeOptions>();
  app.add_option("-m,--model", o->model_path, "GGUF model whose tokenizer to use");
  app.add_option("--tokenizer", o->tokenizer_path,
                 "Hugging Face tokenizer directory or tokenizer.json[.zst] (default: the shipped "
                 "Qwen3 tokenizer)");
  CLI::Option* text = app.add_option("text", o->text, "Text to tokenize");
  app.add_option("--file", o->text_file, "Read the text from a file");
  app.add_option("--batch", o->batch_file,
                 "JSONL file with one JSON string per line; prints {\"ids\": [...]} per line");
  app.add_flag("--json", o->json, "Print {\"ids\": [...], \"pieces\": [...]}");
  app.add_flag("--no-special", o->no_special,
               "Treat special tokens such as <|im_start|> as plain text");
  return [o, text] {
    o->has_text = text->count() > 0;
    return run_tokenize(*o);
  };
}

}  // namespace longctx::cli
