// Runs the built `longctx template` binary on OpenAI request bodies: the prompt and token ids
// must equal what jinja2 + HF `tokenizers` produced (cli_requests.json), from the default
// tokenizer, a tokenizer directory and a GGUF file; bad input gives a clear error.
#include <gtest/gtest.h>

#include "common/run_cli.h"
#include "common/temp_path.h"

#include <sys/wait.h>

#include <cstdio>
#include <string>

#include "chat/chat_template.h"
#include "core/file_io.h"

namespace longctx::chat {
namespace {

std::string tmp_path(const std::string& name) {
  return testing_util::unique_temp_path("chat_cli_" + name);
}

testing_util::RunResult run_cli(const std::string& args) {
  return testing_util::run_longctx("template " + args);
}

Json cli_cases() {
  auto text = read_file(std::string(LONGCTX_TEST_DATA_DIR) + "/cli_requests.json");
  EXPECT_TRUE(text.is_ok());
  return text.is_ok() ? Json::parse(*text)["cases"] : Json::array();
}

std::string write_request(const Json& c) {
  std::string path = tmp_path(c["name"].get<std::string>() + ".json");
  EXPECT_TRUE(write_file_atomic(path, c["request"].dump()).is_ok());
  return path;
}

void expect_json_output(const std::string& source_args) {
  Json cases = cli_cases();
  ASSERT_GE(cases.size(), 4u);
  for (const auto& c : cases) {
    SCOPED_TRACE(c["name"].get<std::string>() + " with " + source_args);
    testing_util::RunResult r = run_cli(source_args + " --json --request " + write_request(c));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "");
    Json out = Json::parse(r.out);
    EXPECT_EQ(out["prompt"], c["prompt"]);
    EXPECT_EQ(out["ids"], c["ids"]);
  }
}

TEST(TemplateCli, DefaultTokenizerMatchesOracle) { expect_json_output(""); }

TEST(TemplateCli, TokenizerDirectoryMatchesOracle) {
  expect_json_output("--tokenizer " + std::string(LONGCTX_SOURCE_DIR) + "/data/qwen3-tokenizer");
}

TEST(TemplateCli, GgufTemplateMatchesOracle) {
  // The tokenizer module's vocab-only Qwen3 GGUF carries the same tokenizer.chat_template.
  auto gguf =
      read_file(std::string(LONGCTX_SOURCE_DIR) + "/tests/tokenizer/data/qwen3-vocab.gguf.zst");
  ASSERT_TRUE(gguf.is_ok()) << gguf.status().message();
  const std::string path = tmp_path("qwen3-vocab.gguf");
  ASSERT_TRUE(write_file_atomic(path, *gguf).is_ok());
  expect_json_output("-m " + path);
}

TEST(TemplateCli, PlainOutputIsTheExactPrompt) {
  for (const auto& c : cli_cases()) {
    testing_util::RunResult r = run_cli("--request " + write_request(c));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, c["prompt"].get<std::string>()) << c["name"];
  }
}

TEST(TemplateCli, BadInputIsAClearError) {
  const std::string bad_json = tmp_path("bad.json");
  ASSERT_TRUE(write_file_atomic(bad_json, "{\"messages\": [").is_ok());
  testing_util::RunResult r = run_cli("--request " + bad_json);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("invalid JSON"), std::string::npos) << r.err;

  const std::string bad_role = tmp_path("bad_role.json");
  ASSERT_TRUE(
      write_file_atomic(bad_role, R"({"messages": [{"role": 7, "content": "x"}]})").is_ok());
  r = run_cli("--request " + bad_role);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("bad request: messages[0].role must be a string"), std::string::npos)
      << r.err;

  r = run_cli("--request " + tmp_path("does_not_exist.json"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("does_not_exist.json"), std::string::npos) << r.err;

  r = run_cli("-m x.gguf --tokenizer y --request " + bad_role);
  EXPECT_NE(r.exit_code, 0);

  // Tool parameters nested 20k deep: a clear error, not a stack overflow (exit code -1).
  const std::string deep = tmp_path("deep.json");
  const std::string body = R"({"messages": [{"role": "user", "content": "x"}], "tools": [{"type":
      "function", "function": {"name": "f", "parameters": )" +
                           std::string(20000, '[') + std::string(20000, ']') + "}}]}";
  ASSERT_TRUE(write_file_atomic(deep, body).is_ok());
  r = run_cli("--request " + deep);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("bad request: request: 'tools[0].function.parameters[0][0]"),
            std::string::npos)
      << r.err;
}

TEST(TemplateCli, UnsupportedTemplateWarnsAndFallsBackToChatML) {
  const std::string config = tmp_path("tokenizer_config.json");
  ASSERT_TRUE(write_file_atomic(
                  config, R"({"chat_template": "{% include 'x.j2' %}", "eos_token": "<|im_end|>"})")
                  .is_ok());
  const std::string req = tmp_path("fallback.json");
  ASSERT_TRUE(
      write_file_atomic(req, R"({"messages": [{"role": "user", "content": "hi"}]})").is_ok());
  testing_util::RunResult r = run_cli("--tokenizer " + config + " --request " + req);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_NE(r.err.find("warning: chat template not supported"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace longctx::chat
