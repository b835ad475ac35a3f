// `longctx run` as a user sees it: the logits it dumps equal transformers' (end to end through
// the CLI), -n 0 evaluates only, --ids prints the prompt's ids, greedy output is reproducible,
// and every bad input is a non-zero exit with a message naming the problem.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "common/run_cli.h"
#include "common/temp_path.h"
#include "core/file_io.h"
#include "core/npy.h"
#include "gguf/gguf.h"
#include "kernels/cpu/isa.h"
#include "tokenizer/tokenizer.h"

namespace longctx {
namespace {

using testing_util::run_longctx;
using testing_util::unique_temp_path;

const std::string kData = std::string(LONGCTX_SOURCE_DIR) + "/tests/model/data";

const nlohmann::json& oracle_case() {
  static const nlohmann::json c = [] {
    auto text = read_file(kData + "/model_oracle.json.zst");
    LONGCTX_CHECK(text.is_ok());
    const nlohmann::json all = nlohmann::json::parse(*text);
    for (const auto& c : all["cases"]) {
      if (c["name"] == "qwen3_untied_f32") return c;
    }
    return nlohmann::json();
  }();
  return c;
}

const std::string& model() {
  static const std::string p = [] {
    const std::string path = testing_util::remove_at_exit(unique_temp_path("run_untied.gguf"));
    auto bytes = read_file(kData + "/qwen3_untied_f32.gguf.zst");
    LONGCTX_CHECK(bytes.is_ok());
    LONGCTX_CHECK(write_file_atomic(path, *bytes).is_ok());
    return path;
  }();
  return p;
}

std::string write_text(const std::string& name, const std::string& text) {
  const std::string path = testing_util::remove_at_exit(unique_temp_path(name));
  LONGCTX_CHECK(write_file_atomic(path, text).is_ok());
  return path;
}

double max_rel_diff(const float* got, const std::vector<float>& want) {
  const auto [lo, hi] = std::minmax_element(want.begin(), want.end());
  double m = 0;
  for (size_t i = 0; i < want.size(); ++i) m = std::max(m, double(std::fabs(got[i] - want[i])));
  return m / (*hi - *lo);
}

TEST(CliRun, DumpLogitsEqualsTransformersForEveryPosition) {
  const auto& c = oracle_case();
  const std::string ids = write_text("run_ids.json", c["prompt_ids"].dump());
  const std::string npy = testing_util::remove_at_exit(unique_temp_path("run_logits.npy"));
  auto r = run_longctx("run -q -m " + model() + " --prompt-ids " + ids +
                       " -n 0 --kv-type f32 --batch 7 --dump-logits " + npy);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto a = read_npy_f32(npy);
  ASSERT_TRUE(a.is_ok()) << a.status().message();
  const size_t n = c["prompt_ids"].size();
  ASSERT_EQ(a->shape, (std::vector<int64_t>{int64_t(n), 300}));
  for (size_t p = 0; p < n; ++p) {
    // Same bound as the library oracle test (tests/model/test_forward_oracle.cpp).
    EXPECT_LT(max_rel_diff(a->data.data() + p * 300, c["logits"][p]), 1e-5) << "position " << p;
  }
  // Only the last position.
  r = run_longctx("run -q -m " + model() + " --prompt-ids " + ids +
                  " -n 0 --kv-type f32 --dump-logits-last --dump-logits " + npy);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  a = read_npy_f32(npy);
  ASSERT_TRUE(a.is_ok());
  ASSERT_EQ(a->shape, (std::vector<int64_t>{1, 300}));
  EXPECT_LT(max_rel_diff(a->data.data(), c["logits"][n - 1]), 1e-5);
}

TEST(CliRun, IdsGreedyGenerationAndTimingSummary) {
  auto r = run_longctx("run -q -m " + model() + " -p 'hello world' --ids -n 0");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto ids = nlohmann::json::parse(r.out);
  auto gguf = GgufFile::open(model());
  ASSERT_TRUE(gguf.is_ok());
  auto tok = Tokenizer::from_gguf(*gguf);
  ASSERT_TRUE(tok.is_ok());
  EXPECT_EQ(ids.get<std::vector<int32_t>>(), tok->encode("hello world"));
  auto a = run_longctx("run -q -m " + model() + " -p 'hello world' --temp 0 -n 12 --ignore-eos");
  auto b = run_longctx("run -q -m " + model() + " -p 'hello world' --temp 0 -n 12 --ignore-eos");
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_EQ(a.out, b.out);
  EXPECT_NE(a.err.find("generated 12 tokens"), std::string::npos) << a.err;
  EXPECT_NE(a.err.find("tok/s"), std::string::npos) << a.err;
  // Seeded sampling is reproducible too.
  auto s1 = run_longctx("run -q -m " + model() + " -p hi -n 10 --ignore-eos --seed 7");
  auto s2 = run_longctx("run -q -m " + model() + " -p hi -n 10 --ignore-eos --seed 7");
  EXPECT_EQ(s1.out, s2.out);
  // A token limit far beyond the context is just "until the context is full".
  auto big = run_longctx("run -q -m " + model() + " -p hi --temp 0 --ctx 16 -n 1000000000000");
  EXPECT_EQ(big.exit_code, 0) << big.err;
  EXPECT_NE(big.err.find("stop: length (context full)"), std::string::npos) << big.err;
  // Every instruction-set path generates the same greedy text here (they round activations
  // alike and differ only in summation order, far below this model's top-1 margins).
  for (const char* isa : {"scalar", "avx2", "avx512"}) {
    if (!cpu::isa_supported(*cpu::parse_isa(isa))) continue;
    auto p = run_longctx(std::string("run -m ") + model() +
                         " -p 'hello world' --temp 0 -n 12 --ignore-eos --isa " + isa);
    ASSERT_EQ(p.exit_code, 0) << p.err;
    EXPECT_EQ(p.out, a.out) << isa;
    EXPECT_NE(p.err.find(std::string("backend cpu ") + isa), std::string::npos) << p.err;
  }
  // The chat template of the GGUF is applied with --chat.
  auto c = run_longctx("run -q -m " + model() + " --chat -p hi --ids -n 0");
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_GT(nlohmann::json::parse(c.out).size(), 10u);
}

struct BadCase {
  std::string args;
  std::string message;  // must appear in stderr
};

// Quantized caches from the command line, with llama.cpp's -ctk / -ctv spellings: the run says
// what it holds (types, rotation) and generates.
TEST(CliRun, QuantizedKvCacheTypesAndLlamaAliases) {
  const std::string base = "run -m " + model() + " --prompt-ids " +
                           write_text("kv_ids.json", "[1, 2, 3, 4, 5, 6, 7, 8]") +
                           " -n 6 --temp 0 --ids";
  auto f16 = run_longctx(base);
  ASSERT_EQ(f16.exit_code, 0) << f16.err;
  auto q8 = run_longctx(base + " -ctk q8_0 -ctv q8_0");
  ASSERT_EQ(q8.exit_code, 0) << q8.err;
  EXPECT_NE(q8.err.find("KV q8_0/q8_0 (rotated)"), std::string::npos) << q8.err;
  auto mixed = run_longctx(base + " --cache-type-k q4_0 --kv-type-v q8_0 --kv-rotation off");
  ASSERT_EQ(mixed.exit_code, 0) << mixed.err;
  EXPECT_NE(mixed.err.find("KV q4_0/q8_0 0 MiB"), std::string::npos) << mixed.err;
  auto q4 = run_longctx(base + " --kv-type q4_0");
  ASSERT_EQ(q4.exit_code, 0) << q4.err;
  EXPECT_NE(q4.err.find("KV q4_0/q4_0 (rotated)"), std::string::npos) << q4.err;
}

// --session as a prompt cache: the same command again prefills nothing and prints the same
// (greedy) output; a longer prompt prefills only its new suffix; --dump-logits does not combine.
TEST(CliRun, SessionFileIsAPromptCache) {
  const std::string path = unique_temp_path("run_session.lcs");
  std::remove(path.c_str());
  const std::string base = "run -m " + model() + " -n 6 --temp 0 --session " + path;
  const std::string ids8 = write_text("s_ids8.json", "[1, 2, 3, 4, 5, 6, 7, 8]");
  const std::string ids11 = write_text("s_ids11.json", "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]");
  auto a = run_longctx(base + " --prompt-ids " + ids8);
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_NE(a.err.find("prompt 8 tokens (0 reused, 8 prefilled"), std::string::npos) << a.err;
  auto b = run_longctx(base + " --prompt-ids " + ids8);
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_NE(b.err.find("session " + path + ": 14 tokens cached (loaded in"), std::string::npos)
      << b.err;
  EXPECT_NE(b.err.find("prompt 8 tokens (8 reused, 0 prefilled"), std::string::npos) << b.err;
  EXPECT_EQ(a.out, b.out);
  auto c = run_longctx(base + " --prompt-ids " + ids11);
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_NE(c.err.find("prompt 11 tokens (8 reused, 3 prefilled"), std::string::npos) << c.err;
  auto d =
      run_longctx(base + " --prompt-ids " + ids8 + " --dump-logits " + unique_temp_path("x.npy"));
  EXPECT_NE(d.exit_code, 0);
  EXPECT_NE(d.err.find("--session and --dump-logits"), std::string::npos) << d.err;
  std::remove(path.c_str());
}

// --on-full: stop says so (finish reason length), error exits non-zero with the counts, shift
// keeps generating to -n and reports what it dropped.
TEST(CliRun, FullContextPolicies) {
  const std::string base = "run -m " + model() + " --prompt-ids " +
                           write_text("full_ids.json", "[1, 2, 3, 4, 5, 6]") +
                           " --ctx 16 -n 30 --temp 0 --ignore-eos";
  auto stop = run_longctx(base);
  ASSERT_EQ(stop.exit_code, 0) << stop.err;
  EXPECT_NE(stop.err.find("stop: length (context full)"), std::string::npos) << stop.err;
  EXPECT_NE(stop.err.find("the context is full (16 tokens)"), std::string::npos) << stop.err;
  auto err = run_longctx(base + " --on-full error");
  EXPECT_NE(err.exit_code, 0);
  EXPECT_NE(err.err.find("the context is full: 16 of 16 positions (prompt 6, generated"),
            std::string::npos)
      << err.err;
  auto shift = run_longctx(base + " --on-full shift --keep 2");
  ASSERT_EQ(shift.exit_code, 0) << shift.err;
  EXPECT_NE(shift.err.find("context full: dropped tokens 2..8 (7 tokens)"), std::string::npos)
      << shift.err;
  EXPECT_NE(shift.err.find("generated 30 tokens"), std::string::npos) << shift.err;
  auto bad = run_longctx(base + " --on-full wrap");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("--on-full must be stop, error or shift"), std::string::npos) << bad.err;
}

TEST(CliRun, BadInputIsANonZeroExitNamingTheProblem) {
  const std::string m = " -q -m " + model();
  const std::string bad_ids = write_text("bad_ids.json", "[1, 2, 300]");
  const std::string not_json = write_text("not_json.json", "[1, 2");
  const std::string long_ids =
      write_text("long_ids.json", nlohmann::json(std::vector<int>(40, 5)).dump());
  const std::vector<BadCase> cases = {
      {"run" + m, "exactly one of"},
      {"run" + m + " -p a --prompt-ids " + bad_ids, "exactly one of"},
      {"run" + m + " --prompt-ids " + bad_ids, "element 2"},
      {"run" + m + " --prompt-ids " + not_json, "JSON array"},
      {"run" + m + " --prompt-ids " + long_ids + " --ctx 16", "--ctx"},
      {"run" + m + " -p a --kv-type q9", "q9"},
      {"run" + m + " -p a --kv-type q5_1", "f16, bf16, f32, q8_0, q4_0"},
      {"run" + m + " -p a -ctk q4_K", "q4_K"},
      {"run" + m + " -p a --kv-rotation maybe", "--kv-rotation must be on or off"},
      {"run" + m + " -p a --rope-scaling ntk", "ntk"},
      {"run" + m + " -p a --rope-factor 4", "scaling type"},
      {"run" + m + " -p a --experts 2", "MoE"},
      {"run" + m + " -p a --dump-logits-last", "--dump-logits"},
      {"run" + m + " -p a --top-p 0", "top_p"},
      {"run" + m + " -p a --batch 0", "batch"},
      {"run" + m + " -p ''", "empty"},
      {"run" + m + " -p a -t 5000", "threads"},
      {"run" + m + " -p a --isa sse9", "unknown instruction-set path 'sse9'"},
      {"run" + m + " -p a --backend cpu-sse9", "sse9"},
      {"run" + m + " -p a --experts 0", "--experts"},
      {"run -q -m " + unique_temp_path("missing.gguf") + " -p a", "missing.gguf"},
      {"run" + m + " --prompt-file " + unique_temp_path("missing.txt"), "missing.txt"},
  };
  for (const BadCase& c : cases) {
    auto r = run_longctx(c.args);
    EXPECT_NE(r.exit_code, 0) << c.args;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << c.args << "\n" << r.err;
  }
}

}  // namespace
}  // namespace longctx
