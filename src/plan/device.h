// Devices for the planner: a built-in catalog (memory, bandwidth, dense FP16 throughput, from
// shared/data/qwen3-family.md), parsing of --mem/--bw sizes and rates, and detection of this
// machine (nvidia-smi for GPUs, /proc/meminfo for RAM).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/system_memory.h"

namespace longctx {

struct DeviceSpec {
  const char* name;      // catalog name, e.g. "rtx-4090"
  const char* label;     // as sold, e.g. "RTX 4090"
  double memory_gib;     // as sold ("24 GB" cards hold 24 GiB); 0 = system RAM (CPU entries)
  double bandwidth_gbs;  // peak GB/s (10^9 bytes/s)
  double fp16_tflops;    // dense FP16/BF16 tensor throughput
  bool is_cpu;
};

std::span<const DeviceSpec> device_catalog();
// Case-insensitive, ignoring spaces, '-' and '_' ("RTX 4090" == "rtx-4090"); nullptr if absent.
const DeviceSpec* find_device(std::string_view name);
std::vector<std::string> nearest_device_names(std::string_view name, size_t max_results = 3);
// The catalog entry of a name nvidia-smi prints ("NVIDIA GeForce RTX 4090", "NVIDIA H100 80GB
// HBM3"), or nullptr.
const DeviceSpec* match_gpu_name(std::string_view smi_name);

// What the plan runs on: `count` identical accelerators (memory adds up: tensor-parallel
// capacity) or, when count is 0, the CPU with system RAM; plus the host for MoE offload.
struct DeviceSetup {
  std::string label;
  int count = 0;              // accelerators; 0 = CPU only
  uint64_t memory = 0;        // bytes per accelerator (or system RAM when count == 0)
  double bandwidth = 0;       // bytes/s per accelerator (or RAM)
  double flops = 0;           // FLOP/s per accelerator (or CPU)
  uint64_t host_memory = 0;   // system RAM for MoE expert offload (0 = unknown)
  double host_bandwidth = 0;  // bytes/s
  std::string source;         // "catalog", "explicit", "detected"

  uint64_t total_memory() const { return memory * static_cast<uint64_t>(count ? count : 1); }
  double total_bandwidth() const { return bandwidth * (count ? count : 1); }
  double total_flops() const { return flops * (count ? count : 1); }
};

// Default CPU assumptions when nothing is known (documented in docs/PLAN.md): dual-channel
// DDR5-5600 peak and 1 TFLOP/s.
inline constexpr double kDefaultCpuBandwidth = 89.6e9;
inline constexpr double kDefaultCpuFlops = 1.0e12;
inline constexpr uint64_t kMaxDeviceMemory = 100ull << 40;  // 100 TiB: anything above is a typo

// "96GiB", "24GB", "512 MiB", "1.5T", "80000000000" (bytes); zero, negative, malformed or above
// 100 TiB is an error naming `what` and the text.
Result<uint64_t> parse_size(std::string_view text, std::string_view what);
// "1792GB/s", "1.8TB/s", "900 GiB/s", "936" (GB/s) -> bytes/s.
Result<double> parse_rate(std::string_view text, std::string_view what);

struct GpuInfo {
  std::string name;
  uint64_t memory = 0;  // bytes
};
// `nvidia-smi --query-gpu=name,memory.total --format=csv,noheader,nounits` output (MiB).
Result<std::vector<GpuInfo>> parse_nvidia_smi(std::string_view text);

// The setup of a catalog device (CPU entries take `ram` as their memory), n of them.
DeviceSetup setup_from_catalog(const DeviceSpec& d, int n, const MemInfo& ram);
// This machine: the GPUs nvidia-smi reports (mixed models: the smallest memory counts for
// each, the first's bandwidth), else the CPU with MemAvailable.
DeviceSetup detect_device();
MemInfo detect_ram();

}  // namespace longctx
