// The README's main job end to end (synth a model, then info on it) and the dispatcher's
// handling of bad command lines, run through the built binary.
#include <gtest/gtest.h>

#include "core/file_io.h"

#include <cstdio>
#include <string>

#include "common/run_cli.h"
#include "common/temp_path.h"

namespace longctx {
namespace {

using testing_util::run_longctx;

TEST(Cli, SynthThenInfoDescribesTheModel) {
  const std::string path = testing_util::unique_temp_path("cli_tiny.gguf");
  auto r = run_longctx("synth --shape qwen3-tiny --type q8_0 -o " + path);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_longctx("info " + path);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("architecture:  qwen3"), std::string::npos) << r.out;
  // By hand: embeddings 151936*64 = 9,723,904; per layer q 64*512 + k,v 2*64*256 + o 512*64
  // + q/k norms 2*128 + norms 2*64 + FFN 3*64*192 = 135,552; x2 layers + output_norm 64.
  EXPECT_NE(r.out.find("parameters:    9995072"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("qwen3.attention.key_length"), std::string::npos);
  EXPECT_NE(r.out.find("151936 strings"), std::string::npos);  // the tokens array, abbreviated
  std::remove(path.c_str());
}

// --random-blocks and -t from the command line: the file is the same with one thread or two, it
// loads, and the summary line says which writer made it.
TEST(Cli, SynthRandomBlocksOnAnyThreadCount) {
  const std::string a = testing_util::unique_temp_path("cli_rb1.gguf");
  const std::string b = testing_util::unique_temp_path("cli_rb2.gguf");
  auto r = run_longctx("synth --shape qwen3moe-tiny --type Q4_K_M --random-blocks -t 1 -q -o " + a);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("random blocks"), std::string::npos) << r.err;
  r = run_longctx("synth --shape qwen3moe-tiny --type Q4_K_M --random-blocks -t 2 -q -o " + b);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto fa = read_file(a), fb = read_file(b);
  ASSERT_TRUE(fa.is_ok() && fb.is_ok());
  EXPECT_TRUE(*fa == *fb);
  r = run_longctx("info " + a);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = run_longctx("synth --shape qwen3-tiny -t -1 -o /dev/null");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--threads"), std::string::npos) << r.err;
  std::remove(a.c_str());
  std::remove(b.c_str());
}

TEST(Cli, BadCommandLinesFailWithAReason) {
  auto r = run_longctx("synth --shape qwen3-9b -o /dev/null");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("qwen3-8b"), std::string::npos) << r.err;  // nearest names suggested
  r = run_longctx("synth --shape qwen3-tiny --type iq2_xs -o /dev/null");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("supported:"), std::string::npos) << r.err;
  r = run_longctx("synth --shape qwen3-tiny --layers 3 -o /dev/null");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("exceeds"), std::string::npos) << r.err;
  r = run_longctx("synth --shape qwen3-tiny -o /nonexistent-dir/x.gguf");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("/nonexistent-dir/"), std::string::npos) << r.err;
  r = run_longctx("synth --shape qwen3-tiny -q -o " + ::testing::TempDir());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("is a directory"), std::string::npos) << r.err;
  r = run_longctx("info --max-array 0 /nonexistent.gguf");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--max-array"), std::string::npos) << r.err;
  r = run_longctx("tokenize --file " + ::testing::TempDir());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("not a regular file"), std::string::npos) << r.err;
  r = run_longctx("info /nonexistent.gguf");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("/nonexistent.gguf"), std::string::npos) << r.err;
  r = run_longctx("no-such-command");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_FALSE(r.err.empty());
}

}  // namespace
}  // namespace longctx
