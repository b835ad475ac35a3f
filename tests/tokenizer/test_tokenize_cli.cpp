// Runs the built `longctx tokenize` binary: JSON output against the HF goldens, the table,
// --no-special, --batch (including a bad line), -m with the vocab-only GGUF, and errors.
#include <gtest/gtest.h>

#include "common/run_cli.h"
#include "common/temp_path.h"

#include <nlohmann/json.hpp>

#include <sys/wait.h>
#include <cstdio>

#include "core/file_io.h"
#include "tokenizer_test_util.h"

namespace longctx {
namespace {

std::string tmp_path(const std::string& name) { return testing_util::unique_temp_path(name); }

testing_util::RunResult run_cli(const std::string& args) {
  return testing_util::run_longctx("tokenize " + args);
}

void write(const std::string& path, const std::string& data) {
  ASSERT_TRUE(write_file_atomic(path, data).is_ok()) << path;
}

// The first golden case with the given text (the fixtures are the oracle for the CLI too).
const testing_util::GoldenCase& golden(const std::string& text) {
  for (const auto& c : testing_util::golden_cases()) {
    if (c.text == text) return c;
  }
  ADD_FAILURE() << "no golden case " << text;
  static testing_util::GoldenCase none;
  return none;
}

TEST(TokenizeCli, JsonMatchesGoldens) {
  const std::string text = "<|im_start|>user\nhi<|im_end|>";
  write(tmp_path("in.txt"), text);
  testing_util::RunResult r = run_cli("--json --file " + tmp_path("in.txt"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["ids"].get<std::vector<int32_t>>(), golden(text).ids);
  EXPECT_EQ(j["pieces"][0], "<|im_start|>");
  EXPECT_EQ(j["pieces"].size(), j["ids"].size());

  r = run_cli("--json --no-special --file " + tmp_path("in.txt"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["ids"].get<std::vector<int32_t>>(),
            golden(text).ids_no_special);
}

TEST(TokenizeCli, TableShowsIdsAndVisiblePieces) {
  testing_util::RunResult r = run_cli("'Hello world'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("9707  \"Hello\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1879  \" world\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("2 tokens"), std::string::npos) << r.out;
}

TEST(TokenizeCli, BatchPrintsOneLinePerStringAndNamesBadLines) {
  // Blank lines (a trailing newline, an empty line between records) are skipped.
  write(tmp_path("batch.jsonl"), "\"Hello world\"\n\n\"<think>\"\n \n");
  testing_util::RunResult r = run_cli("--batch " + tmp_path("batch.jsonl"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"ids\":[9707,1879]}\n{\"ids\":[151667]}\n");

  write(tmp_path("bad.jsonl"), "\"ok\"\n{\"not\": \"a string\"}\n");
  r = run_cli("--batch " + tmp_path("bad.jsonl"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("line 2"), std::string::npos) << r.err;
}

TEST(TokenizeCli, ModelGgufGivesTheSameIds) {
  Result<std::string> gguf =
      read_file(std::string(LONGCTX_TEST_DATA_DIR) + "/qwen3-vocab.gguf.zst");
  ASSERT_TRUE(gguf.is_ok());
  write(tmp_path("vocab.gguf"), *gguf);
  const std::string text = "The quick brown fox jumps over the lazy dog.";
  testing_util::RunResult r = run_cli("--json -m " + tmp_path("vocab.gguf") + " '" + text + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["ids"].get<std::vector<int32_t>>(), golden(text).ids);
}

TEST(TokenizeCli, ErrorsGoToStderrWithExitCode1) {
  testing_util::RunResult r = run_cli("-m /nonexistent/model.gguf x");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("/nonexistent/model.gguf"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
  r = run_cli("--tokenizer /nonexistent x");
  EXPECT_EQ(r.exit_code, 1);
  r = run_cli("");  // no input at all
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("exactly one"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace longctx
