// Device catalog, size/rate parsing and the parsers behind detection (nvidia-smi output as the
// driver prints it, /proc/meminfo).
#include <gtest/gtest.h>

#include "plan/device.h"

namespace longctx {
namespace {

TEST(DeviceParse, SizesInDecimalAndBinaryUnits) {
  EXPECT_EQ(*parse_size("96GiB", "--mem"), 96ull << 30);
  EXPECT_EQ(*parse_size("24GB", "--mem"), 24000000000ull);
  EXPECT_EQ(*parse_size("512 MiB", "--mem"), 512ull << 20);
  EXPECT_EQ(*parse_size("1.5TiB", "--mem"), 3ull << 39);
  EXPECT_EQ(*parse_size("24g", "--mem"), 24ull << 30);  // single letters are binary
  EXPECT_EQ(*parse_size("80000000000", "--mem"), 80000000000ull);
  EXPECT_EQ(*parse_size("100TiB", "--mem"), 100ull << 40);
}

TEST(DeviceParse, NonsenseSizesAreErrorsNamingTheOption) {
  for (const char* bad : {"0", "0GB", "-8GB", "GB", "", "12 parsecs", "101TiB", "1e30", "nan"}) {
    auto r = parse_size(bad, "--mem");
    ASSERT_FALSE(r.is_ok()) << bad;
    EXPECT_NE(r.status().message().find("--mem"), std::string::npos) << bad;
  }
  EXPECT_NE(parse_size("101TiB", "--mem").status().message().find("100 TiB"), std::string::npos);
  EXPECT_NE(parse_size("3 bananas", "--mem").status().message().find("unit"), std::string::npos);
}

TEST(DeviceParse, Rates) {
  EXPECT_DOUBLE_EQ(*parse_rate("1792GB/s", "--bw"), 1792e9);
  EXPECT_DOUBLE_EQ(*parse_rate("1.8 TB/s", "--bw"), 1.8e12);
  EXPECT_DOUBLE_EQ(*parse_rate("936", "--bw"), 936e9);  // bare numbers are GB/s
  EXPECT_DOUBLE_EQ(*parse_rate("100GiB/s", "--bw"), 100.0 * (1ull << 30));
  for (const char* bad : {"0", "-5GB/s", "fast", "5 furlongs/s", "2000TB/s"}) {
    EXPECT_FALSE(parse_rate(bad, "--bw").is_ok()) << bad;
  }
}

TEST(DeviceCatalog, HasTheIssueDevicesWithTheirFigures) {
  for (const char* name :
       {"rtx-3090", "rtx-4090", "rtx-5090", "rtx-a6000",     "rtx-6000-ada", "rtx-pro-6000",
        "l4",       "l40s",     "a10",      "a100-40gb",     "a100-80gb",    "h100-pcie",
        "h100-sxm", "h200",     "b200",     "mi300x",        "m2-max",       "m2-ultra",
        "m3-max",   "m3-ultra", "m4-max",   "cpu-ddr4-3200", "cpu-ddr5-5600"}) {
    EXPECT_NE(find_device(name), nullptr) << name;
  }
  const DeviceSpec* d = find_device("RTX 4090");  // the label, any case and spacing
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->memory_gib, 24);
  EXPECT_EQ(d->bandwidth_gbs, 1008);
  EXPECT_EQ(d->fp16_tflops, 165);
  EXPECT_EQ(find_device("RTX_PRO_6000")->memory_gib, 96);
  EXPECT_EQ(find_device("H100-SXM")->bandwidth_gbs, 3350);
  EXPECT_EQ(find_device("rtx-4080"), nullptr);
  const auto near = nearest_device_names("rtx4080");
  ASSERT_FALSE(near.empty());
  EXPECT_EQ(near[0], "rtx-4090");
  EXPECT_EQ(nearest_device_names("h100")[0], "h100-pcie");
}

TEST(DeviceCatalog, SetupsFromTheCatalog) {
  const MemInfo ram{64ull << 30, 60ull << 30};
  const DeviceSetup two = setup_from_catalog(*find_device("h100-sxm"), 2, ram);
  EXPECT_EQ(two.count, 2);
  EXPECT_EQ(two.memory, 80ull << 30);
  EXPECT_EQ(two.total_memory(), 160ull << 30);
  EXPECT_DOUBLE_EQ(two.total_bandwidth(), 6700e9);
  EXPECT_EQ(two.host_memory, 60ull << 30);
  const DeviceSetup cpu = setup_from_catalog(*find_device("cpu-ddr5-6400"), 1, ram);
  EXPECT_EQ(cpu.count, 0);
  EXPECT_EQ(cpu.memory, 60ull << 30);  // what is available, not the total
  EXPECT_DOUBLE_EQ(cpu.bandwidth, 102.4e9);
}

TEST(DeviceDetect, NvidiaSmiOutput) {
  auto gpus = parse_nvidia_smi("NVIDIA GeForce RTX 4090, 24564\nNVIDIA H100 80GB HBM3, 81559\n");
  ASSERT_TRUE(gpus.is_ok()) << gpus.status().message();
  ASSERT_EQ(gpus->size(), 2u);
  EXPECT_EQ((*gpus)[0].name, "NVIDIA GeForce RTX 4090");
  EXPECT_EQ((*gpus)[0].memory, 24564ull << 20);
  EXPECT_EQ((*gpus)[1].memory, 81559ull << 20);
  EXPECT_TRUE(parse_nvidia_smi("").is_ok());
  EXPECT_TRUE(parse_nvidia_smi("")->empty());
  for (const char* bad :
       {"NVIDIA L4\n", "NVIDIA L4, lots\n", "NVIDIA L4, 0\n", "NVIDIA L4, 99999999999999\n"}) {
    EXPECT_FALSE(parse_nvidia_smi(bad).is_ok()) << bad;
  }
}

TEST(DeviceDetect, GpuNamesMapToTheCatalog) {
  const std::pair<const char*, const char*> cases[] = {
      {"NVIDIA GeForce RTX 4090", "rtx-4090"},
      {"NVIDIA GeForce RTX 3090", "rtx-3090"},
      {"NVIDIA GeForce RTX 5090", "rtx-5090"},
      {"NVIDIA RTX A6000", "rtx-a6000"},
      {"NVIDIA RTX 6000 Ada Generation", "rtx-6000-ada"},
      {"NVIDIA RTX PRO 6000 Blackwell Workstation Edition", "rtx-pro-6000"},
      {"NVIDIA H100 80GB HBM3", "h100-sxm"},
      {"NVIDIA H100 PCIe", "h100-pcie"},
      {"NVIDIA H200", "h200"},
      {"NVIDIA A100-SXM4-80GB", "a100-80gb"},
      {"NVIDIA A100 80GB PCIe", "a100-80gb-pcie"},
      {"NVIDIA A100-SXM4-40GB", "a100-40gb"},
      {"NVIDIA L4", "l4"},
      {"NVIDIA L40S", "l40s"},
      {"NVIDIA A10", "a10"},
  };
  for (auto [smi, name] : cases) {
    const DeviceSpec* d = match_gpu_name(smi);
    ASSERT_NE(d, nullptr) << smi;
    EXPECT_STREQ(d->name, name) << smi;
  }
  EXPECT_EQ(match_gpu_name("NVIDIA GeForce GTX 1080"), nullptr);
}

}  // namespace
}  // namespace longctx
