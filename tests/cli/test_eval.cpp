// `longctx eval` as a user sees it on a tiny synth model with the real tokenizer: the perplexity
// table with position bins, KL against a baseline configuration (and via a baseline file), JSON,
// passkey accuracy per depth, and bad arguments as errors naming them.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <string>

#include "common/run_cli.h"
#include "common/temp_path.h"
#include "core/file_io.h"

namespace longctx {
namespace {

using testing_util::run_longctx;
using testing_util::unique_temp_path;

class EvalCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    model_ = new std::string(unique_temp_path("eval_cli.gguf"));
    auto r = run_longctx("synth --shape qwen3-tiny --type q8_0 -q -o " + *model_);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    text_ = new std::string(unique_temp_path("eval_text.txt"));
    std::string t;
    for (int i = 0; i < 200; ++i) t += "Sentence number " + std::to_string(i) + " of a long text. ";
    ASSERT_TRUE(write_file_atomic(*text_, t).is_ok());
  }
  static void TearDownTestSuite() {
    std::remove(model_->c_str());
    std::remove(text_->c_str());
    delete model_;
    delete text_;
  }
  static testing_util::RunResult eval(const std::string& extra) {
    return run_longctx("eval -q -m " + *model_ + " " + extra);
  }
  static std::string* model_;
  static std::string* text_;
};
std::string* EvalCli::model_ = nullptr;
std::string* EvalCli::text_ = nullptr;

TEST_F(EvalCli, PerplexityTableAndKlAgainstABaseline) {
  auto r = eval("--text " + *text_ +
                " --ctx 128 --chunks 2 --bins 4 -ctk q4_0 -ctv q4_0 "
                "--kl-base kv=f32");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("2 chunks of 128 tokens"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("| KL divergence mean / p99 / max |"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("| 1-32 |"), std::string::npos) << r.out;
  const std::string file = unique_temp_path("eval_cli_base.bin");
  auto w = eval("--text " + *text_ +
                " --ctx 128 --chunks 2 -o json -ctk q4_0 -ctv q4_0 "
                "--kl-base kv=f32 --kl-base-file " +
                file);
  ASSERT_EQ(w.exit_code, 0) << w.err;
  const auto j = nlohmann::json::parse(w.out);
  EXPECT_EQ(j["n_chunks"], 2);
  EXPECT_EQ(j["n_scored"], 2 * 63);
  EXPECT_GT(j["kl_mean"].get<double>(), 0.0);
  auto rd = eval("--text " + *text_ +
                 " --ctx 128 --chunks 2 -o json -ctk q4_0 -ctv q4_0 "
                 "--kl-base-file " +
                 file);
  ASSERT_EQ(rd.exit_code, 0) << rd.err;
  const auto k = nlohmann::json::parse(rd.out);
  EXPECT_NEAR(k["kl_mean"].get<double>(), j["kl_mean"].get<double>(),
              0.05 * j["kl_mean"].get<double>() + 1e-4);
  std::remove(file.c_str());
}

TEST_F(EvalCli, PasskeyTable) {
  auto r = eval("--passkey --depth 150,300 --trials 2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("| depth | trials | found | accuracy |"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("| 300 | 2 |"), std::string::npos) << r.out;
}

TEST_F(EvalCli, BadArgumentsAreErrors) {
  struct Bad {
    std::string args, message;
  };
  const Bad cases[] = {
      {"", "--text FILE"},
      {"--text " + unique_temp_path("none.txt"), "none.txt"},
      {"--text " + *text_ + " --ctx 100000", "fewer than one chunk"},
      {"--text " + *text_ + " --ctx 64 --kl-base kv=q9", "q9"},
      {"--text " + *text_ + " --ctx 64 --kl-base color=red", "unknown setting 'color'"},
      {"--text " + *text_ + " --ctx 64 --kl-base rope=yarn:0", "factor"},
      {"--text " + *text_ + " --ctx 64 --kl-base-file " + unique_temp_path("nofile.bin"),
       "does not exist"},
      {"--passkey", "--depth"},
      {"--passkey --depth 4q", "'4q' is not a token count"},
  };
  for (const Bad& c : cases) {
    auto r = eval(c.args);
    EXPECT_NE(r.exit_code, 0) << c.args;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << c.args << "\n" << r.err;
  }
}

}  // namespace
}  // namespace longctx
