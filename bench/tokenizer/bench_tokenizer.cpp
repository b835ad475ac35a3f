// Single-thread encode throughput of the Qwen3 tokenizer on a deterministic mixed-language
// corpus (the golden fixture texts repeated to a target size; tools/tokenizer_bench_hf.py builds
// the same corpus for Hugging Face `tokenizers`). Prints MB/s and tokens/s for the whole text as
// one string and for a line-by-line batch.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/file_io.h"
#include "tokenizer/tokenizer.h"

namespace {

using Clock = std::chrono::steady_clock;

// The texts of the valid-UTF-8 golden cases joined by "\n", repeated until >= target bytes.
std::string build_corpus(const std::string& cases_path, size_t target) {
  longctx::Result<std::string> text = longctx::read_file(cases_path);
  if (!text.is_ok()) {
    std::fprintf(stderr, "%s\n", text.status().message().c_str());
    std::exit(1);
  }
  const nlohmann::json j = nlohmann::json::parse(*text);
  std::string unit;
  for (const auto& c : j.at("cases")) {
    if (c.contains("text")) unit += c.at("text").get<std::string>() + "\n";
  }
  if (unit.empty()) {
    std::fprintf(stderr, "%s: no text cases\n", cases_path.c_str());
    std::exit(1);
  }
  std::string corpus;
  while (corpus.size() < target) corpus += unit;
  return corpus;
}

std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == '\n') {
      if (i > start) lines.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return lines;
}

// Best of `reps` runs of fn (returns the token count), in seconds.
template <class F>
double best_time(int reps, F&& fn, size_t* tokens) {
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = Clock::now();
    *tokens = fn();
    best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
  }
  return best;
}

void report(const char* name, size_t bytes, size_t tokens, double sec) {
  std::printf("%-22s %10zu bytes %9zu tokens %8.3f s %8.2f MB/s %12.0f tokens/s\n", name, bytes,
              tokens, sec, bytes / sec / 1e6, tokens / sec);
}

}  // namespace

int main(int argc, char** argv) {
  const double mb = argc > 1 ? std::atof(argv[1]) : 4.0;
  const int reps = argc > 2 ? std::atoi(argv[2]) : 3;
  const std::string src = LONGCTX_SOURCE_DIR;
  longctx::Result<longctx::Tokenizer> tok =
      longctx::Tokenizer::from_hf_path(src + "/data/qwen3-tokenizer");
  if (!tok.is_ok()) {
    std::fprintf(stderr, "%s\n", tok.status().message().c_str());
    return 1;
  }
  const std::string corpus =
      build_corpus(src + "/tests/tokenizer/data/encode_cases.json", static_cast<size_t>(mb * 1e6));
  const std::vector<std::string> lines = split_lines(corpus);

  size_t tokens = 0;
  double sec = best_time(
      reps, [&] { return tok->encode(corpus).size(); }, &tokens);
  report("longctx whole-text", corpus.size(), tokens, sec);
  sec = best_time(
      reps,
      [&] {
        size_t n = 0;
        for (const auto& l : lines) n += tok->encode(l).size();
        return n;
      },
      &tokens);
  size_t line_bytes = 0;
  for (const auto& l : lines) line_bytes += l.size();
  report("longctx line-by-line", line_bytes, tokens, sec);
  return 0;
}
