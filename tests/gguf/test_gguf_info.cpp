// `longctx info` report tests: unit formatting and the report of the Python-written fixture,
// whose totals are recomputed here from tests/gguf/data/fixtures.json.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "core/file_io.h"
#include "gguf/gguf_info.h"

namespace longctx {
namespace {

const std::string kData = LONGCTX_TEST_DATA_DIR;

TEST(GgufInfo, HumanUnits) {
  EXPECT_EQ(human_count(596049920), "596M");   // Qwen3-0.6B
  EXPECT_EQ(human_count(7615616512), "7.6B");  // Qwen2.5-7B
  EXPECT_EQ(human_count(30532122624), "30.5B");
  EXPECT_EQ(human_count(235093634560), "235B");
  EXPECT_EQ(human_count(1500), "1.5K");
  EXPECT_EQ(human_count(999), "999");
  EXPECT_EQ(human_bytes(512), "512 B");
  EXPECT_EQ(human_bytes(3 * 1024 * 1024 / 2), "1.50 MiB");
  EXPECT_EQ(human_bytes(uint64_t{12} << 30), "12.00 GiB");
}

TEST(GgufInfo, FloatValuesPrintShortest) {
  GgufValue v;
  v.type = GgufType::FLOAT32;
  v.f = static_cast<double>(1e-6f);
  EXPECT_EQ(v.to_string(), "1e-06");
  v.type = GgufType::FLOAT64;
  v.f = 0.1;
  EXPECT_EQ(v.to_string(), "0.1");
}

TEST(GgufInfo, ReportMatchesFixtureTotals) {
  auto f = GgufFile::open(kData + "/qwen_like.gguf");
  ASSERT_TRUE(f.is_ok()) << f.status().message();
  const std::string report = format_gguf_info(f.value(), 62624, {.list_tensors = true});

  // Expected totals from the fixture manifest (written by the Python gguf package).
  const auto manifest = nlohmann::json::parse(read_file(kData + "/fixtures.json").value());
  const auto& fx = manifest.at("fixtures").at(1);
  ASSERT_EQ(fx.at("file"), "qwen_like.gguf");
  uint64_t params = 0, bytes = 0;
  std::map<int, uint64_t> bytes_by_type;
  for (const auto& t : fx.at("tensors")) {
    params += t.at("n_elements").get<uint64_t>();
    bytes += t.at("n_bytes").get<uint64_t>();
    bytes_by_type[t.at("type").get<int>()] += t.at("n_bytes").get<uint64_t>();
  }
  EXPECT_NE(report.find("parameters:    " + std::to_string(params) + " (60K)"), std::string::npos)
      << report;
  EXPECT_NE(report.find("tensor bytes:  " + std::to_string(bytes)), std::string::npos);
  EXPECT_NE(report.find("architecture:  qwen3"), std::string::npos);
  EXPECT_NE(report.find("metadata: 12 keys"), std::string::npos);
  EXPECT_NE(report.find("tensors:       8"), std::string::npos);
  // q4_K row: 2 tensors, 2 x 256 x 64 parameters, share of bytes to one decimal.
  char share[16];
  std::snprintf(share, sizeof(share), "%.1f%%", 100.0 * bytes_by_type[12] / bytes);
  EXPECT_NE(report.find("q4_K           2          32768            " +
                        std::to_string(bytes_by_type[12]) + "   " + share),
            std::string::npos)
      << report;
  EXPECT_NE(report.find("[300 strings: \"!\", \"\\\"\", \"#\""), std::string::npos);
  EXPECT_NE(report.find("(343 bytes)"), std::string::npos);  // truncated chat template
  EXPECT_NE(report.find("1e-06"), std::string::npos);        // rms epsilon, shortest form
  // Tensor table: one row per tensor with its offset from the manifest.
  for (const auto& t : fx.at("tensors")) {
    const std::string name = t.at("name").get<std::string>();
    const size_t row = report.find("\n  " + name + " ");
    ASSERT_NE(row, std::string::npos) << name;
    const std::string line = report.substr(row + 1, report.find('\n', row + 1) - row - 1);
    const std::string offset = std::to_string(t.at("offset").get<uint64_t>());
    EXPECT_EQ(line.substr(line.size() - offset.size()), offset) << line;
  }
  // Without --tensors there is no table.
  const std::string brief = format_gguf_info(f.value(), 62624, {});
  EXPECT_EQ(brief.find("blk.0.attn_q.weight"), std::string::npos);
}

}  // namespace
}  // namespace longctx
