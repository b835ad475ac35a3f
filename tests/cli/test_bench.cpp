// `longctx bench` as a user sees it on a tiny synth model: the markdown table and the JSON array
// hold every test with llama-bench's names and fields and positive figures, the bandwidth limit
// is either given or measured, and bad arguments exit non-zero with a message naming them.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <set>
#include <string>

#include "common/run_cli.h"
#include "common/temp_path.h"

namespace longctx {
namespace {

using testing_util::run_longctx;
using testing_util::unique_temp_path;

class BenchCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    model_ = new std::string(unique_temp_path("bench_tiny.gguf"));
    auto r = run_longctx("synth --shape qwen3-tiny --type q8_0 -q -o " + *model_);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  static void TearDownTestSuite() {
    std::remove(model_->c_str());
    delete model_;
  }
  // One repetition unless `extra` gives -r.
  static testing_util::RunResult bench(const std::string& extra) {
    const bool reps = extra.find("-r ") != std::string::npos;
    return run_longctx("bench -q -m " + *model_ + " -t 2 " + (reps ? "" : "-r 1 ") + extra);
  }
  static std::string* model_;
};
std::string* BenchCli::model_ = nullptr;

TEST_F(BenchCli, MarkdownTableHasEveryTest) {
  auto r = bench("-p 8 -n 4 -d 0,16 --bw 10");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("depth fill: synthetic"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("bandwidth limit: 10.0 GB/s (given with --bw)"), std::string::npos);
  EXPECT_NE(r.out.find("| model | size | params | backend | threads | test | t/s | GB/s | "
                       "% of limit | GFLOP/s | plan t/s | t/s / plan |"),
            std::string::npos)
      << r.out;
  for (const char* t : {"| pp8 |", "| pp8 @ d16 |", "| tg4 |", "| tg4 @ d16 |"}) {
    EXPECT_NE(r.out.find(t), std::string::npos) << t << "\n" << r.out;
  }
  EXPECT_NE(r.out.find("| qwen3 10M Q8_0 |"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("memory: peak RSS "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("runtime "), std::string::npos) << r.out;
}

// KV type lists sweep as llama-bench does: -ctk x -ctv, or --kv-type alone pairing each type
// with itself; the table gains type_k / type_v columns, the JSON rows carry their pair.
TEST_F(BenchCli, KvTypeListsSweepEveryPair) {
  auto r = bench("-p 8 -n 4 --bw 10 -o json -ctk f16,q8_0 -ctv q4_0,q8_0");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  std::multiset<std::string> pairs;
  for (const auto& o : j)
    pairs.insert(o["type_k"].get<std::string>() + "/" + o["type_v"].get<std::string>());
  // Two tests (pp8, tg4) per pair.
  EXPECT_EQ(pairs,
            (std::multiset<std::string>{"f16/q4_0", "f16/q4_0", "f16/q8_0", "f16/q8_0", "q8_0/q4_0",
                                        "q8_0/q4_0", "q8_0/q8_0", "q8_0/q8_0"}));
  auto same = bench("-p 8 -n 4 --bw 10 --kv-type q8_0,q4_0");
  ASSERT_EQ(same.exit_code, 0) << same.err;
  EXPECT_NE(same.out.find("| type_k | type_v | test |"), std::string::npos) << same.out;
  EXPECT_NE(same.out.find("| q4_0 | q4_0 | tg4 |"), std::string::npos) << same.out;
  EXPECT_EQ(same.out.find("| q8_0 | q4_0 |"), std::string::npos) << same.out;
  auto bad = bench("-p 8 -n 4 --bw 10 -ctk f16,q3_K");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("q3_K"), std::string::npos) << bad.err;
}

TEST_F(BenchCli, JsonHasLlamaBenchFieldsAndPositiveFigures) {
  auto r = bench("-p 8 -n 4 -d 0,16 --bw 10 -o json --depth-fill prefill");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);  // throws (fails) on invalid JSON
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 4u);
  std::set<std::string> seen;
  for (const auto& o : j) {
    for (const char* f :
         {"n_prompt",      "n_gen",          "n_depth",    "n_threads",      "n_batch",
          "type_k",        "type_v",         "avg_ns",     "stddev_ns",      "avg_ts",
          "stddev_ts",     "samples_ns",     "samples_ts", "model_filename", "model_type",
          "model_size",    "model_n_params", "backends",   "test_time",      "gbps",
          "bw_limit_gbps", "bw_share"}) {
      ASSERT_TRUE(o.contains(f)) << f << " missing in " << o.dump();
    }
    seen.insert(std::to_string(o["n_prompt"].get<int>()) + "/" +
                std::to_string(o["n_gen"].get<int>()) + "/" +
                std::to_string(o["n_depth"].get<int>()));
    EXPECT_EQ(o["n_threads"], 2);
    EXPECT_EQ(o["type_k"], "f16");
    EXPECT_EQ(o["depth_fill"], "prefill");
    EXPECT_GT(o["avg_ns"].get<double>(), 0);
    EXPECT_GT(o["avg_ts"].get<double>(), 0);
    EXPECT_GT(o["model_size"].get<double>(), 0);
    EXPECT_GT(o["model_n_params"].get<double>(), 0);
    ASSERT_EQ(o["samples_ts"].size(), 1u);
    EXPECT_GT(o["samples_ns"][0].get<double>(), 0);
    EXPECT_EQ(o["bw_limit_gbps"].get<double>(), 10.0);
    // The backend names its instruction-set path; memory: the plan (weights + KV + compute +
    // runtime) exceeds the weights and the runtime together (the program alone is megabytes),
    // and the peak resident set was read.
    EXPECT_EQ(o["backends"].get<std::string>().rfind("cpu ", 0), 0u) << o["backends"];
    EXPECT_GT(o["planned_runtime_bytes"].get<double>(), 1 << 20);
    EXPECT_GT(o["planned_bytes"].get<double>(),
              o["model_size"].get<double>() + o["planned_runtime_bytes"].get<double>());
    EXPECT_GT(o["peak_rss_bytes"].get<double>(), 0);
    if (o["n_gen"].get<int>() > 0) {
      EXPECT_GT(o["gbps"].get<double>(), 0);
      EXPECT_DOUBLE_EQ(o["bw_share"].get<double>(), o["gbps"].get<double>() / 10);
    } else {
      EXPECT_GT(o["gflops"].get<double>(), 0);
    }
  }
  EXPECT_EQ(seen, (std::set<std::string>{"8/0/0", "8/0/16", "0/4/0", "0/4/16"}));
}

TEST_F(BenchCli, MeasuresTheBandwidthWhenNotGiven) {
  auto r = bench("-p 0 -n 2 --bw-size 16");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("(measured: STREAM-style read of 16 MiB, 2 threads, best of 5)"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("| tg2 |"), std::string::npos);
  EXPECT_NE(r.out.find("memory: peak RSS "), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("| pp"), std::string::npos);
}

TEST_F(BenchCli, BadArgumentsAreErrors) {
  struct Case {
    std::string args, message;
  };
  const Case cases[] = {
      {"-p 0 -n 0", "nothing to measure"},
      {"-d -1", "-d (depth) must be in 0..16777216, got -1"},
      {"-p 8 -n 4 -d 16 --ctx 20", "test pp8 @ d16 needs 24 positions"},
      {"-o xml", "-o must be md or json, got 'xml'"},
      {"--bw fast", "--bw must be 'measured' or a bandwidth in GB/s > 0, got 'fast'"},
      {"--bw 0", "got '0'"},
      {"--depth-fill zero", "--depth-fill must be synthetic or prefill, got 'zero'"},
      {"-r 0 --bw 1", "-r must be >= 1, got 0"},
  };
  for (const Case& c : cases) {
    auto r = bench(c.args);
    EXPECT_NE(r.exit_code, 0) << c.args;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << c.args << ": " << r.err;
  }
  auto r = bench("-p 8 -n 4 -d 16 --ctx 20");
  EXPECT_NE(r.err.find("raise --ctx"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace longctx
