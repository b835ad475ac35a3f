// Device catalog (figures from shared/data/qwen3-family.md), size/rate parsing and detection.
#include "plan/device.h"

#include "kernels/cuda/cuda_api.h"
#include "plan/names.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <string>

#include "core/file_io.h"

namespace longctx {
namespace {

// Memory in GiB as sold (a "24 GB" card reports 24564 MiB), peak bandwidth in GB/s, dense
// FP16/BF16 tensor TFLOPS. Apple TFLOPS are estimates (GPU FP16); CPU rows use system RAM and
// the default CPU throughput. DDR4-3200 dual channel: 2 x 8 bytes x 3200 MT/s = 51.2 GB/s.
// clang-format off
constexpr DeviceSpec kDevices[] = {
    {"rtx-3090", "RTX 3090", 24, 936, 71, false},
    {"rtx-4090", "RTX 4090", 24, 1008, 165, false},
    {"rtx-5090", "RTX 5090", 32, 1792, 210, false},
    {"rtx-a6000", "RTX A6000", 48, 768, 155, false},
    {"rtx-6000-ada", "RTX 6000 Ada", 48, 960, 364, false},
    {"rtx-pro-6000", "RTX PRO 6000 Blackwell 96 GB", 96, 1792, 504, false},
    {"l4", "L4", 24, 300, 121, false},
    {"l40s", "L40S", 48, 864, 362, false},
    {"a10", "A10", 24, 600, 125, false},
    {"a100-40gb", "A100 40GB", 40, 1555, 312, false},
    {"a100-80gb", "A100 80GB SXM", 80, 2039, 312, false},
    {"a100-80gb-pcie", "A100 80GB PCIe", 80, 1935, 312, false},
    {"h100-pcie", "H100 PCIe", 80, 2000, 756, false},
    {"h100-sxm", "H100 SXM", 80, 3350, 989, false},
    {"h200", "H200", 141, 4800, 989, false},
    {"b200", "B200", 180, 8000, 2250, false},
    {"mi300x", "MI300X", 192, 5300, 1307, false},
    {"m2-max", "Apple M2 Max (96 GB)", 96, 400, 14, false},
    {"m2-ultra", "Apple M2 Ultra (192 GB)", 192, 800, 27, false},
    {"m3-max", "Apple M3 Max (128 GB)", 128, 400, 15, false},
    {"m3-ultra", "Apple M3 Ultra (512 GB)", 512, 819, 30, false},
    {"m4-max", "Apple M4 Max (128 GB)", 128, 546, 17, false},
    {"cpu-ddr4-3200", "CPU, dual-channel DDR4-3200", 0, 51.2, 1, true},
    {"cpu-ddr5-4800", "CPU, dual-channel DDR5-4800", 0, 76.8, 1, true},
    {"cpu-ddr5-5600", "CPU, dual-channel DDR5-5600", 0, 89.6, 1, true},
    {"cpu-ddr5-6400", "CPU, dual-channel DDR5-6400", 0, 102.4, 1, true},
};
// clang-format on

// Lower case without spaces, '-' and '_': the form names are compared in.
std::string key(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == ' ' || c == '-' || c == '_') continue;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Splits "96GiB" into 96 and "gib" (lower case); false if no number leads.
bool split_number(std::string_view text, double* value, std::string* unit) {
  text = trim(text);
  size_t i = 0;
  while (i < text.size() &&
         (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.' || text[i] == '-' ||
          text[i] == '+' || text[i] == 'e' || text[i] == 'E')) {
    // An 'e' only continues the number when a digit follows (so "5e9" parses, "1EB" does not).
    if ((text[i] == 'e' || text[i] == 'E') &&
        (i + 1 >= text.size() || !std::isdigit(static_cast<unsigned char>(text[i + 1])))) {
      break;
    }
    ++i;
  }
  const std::string num(text.substr(0, i));
  if (num.empty()) return false;
  char* end = nullptr;
  *value = std::strtod(num.c_str(), &end);
  if (end != num.c_str() + num.size()) return false;
  *unit = key(trim(text.substr(i)));
  return true;
}

std::string quoted(std::string_view text) {
  std::string s(1, '\'');
  s.append(text);
  s.push_back('\'');
  return s;
}

}  // namespace

std::span<const DeviceSpec> device_catalog() { return kDevices; }

const DeviceSpec* find_device(std::string_view name) {
  const std::string k = key(name);
  for (const DeviceSpec& d : kDevices) {
    if (key(d.name) == k || key(d.label) == k) return &d;
  }
  return nullptr;
}

std::vector<std::string> nearest_device_names(std::string_view name, size_t max_results) {
  const std::string k = key(name);
  std::vector<std::pair<size_t, std::string>> scored;
  for (const DeviceSpec& d : kDevices) {
    const std::string dk = key(d.name);
    // A name contained in the query or the other way round is as good as one edit.
    const bool contains =
        !k.empty() && (dk.find(k) != std::string::npos || k.find(dk) != std::string::npos);
    scored.emplace_back(contains ? 1 : edit_distance(k, dk), d.name);
  }
  std::stable_sort(scored.begin(), scored.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> out;
  for (size_t i = 0; i < scored.size() && i < max_results; ++i) out.push_back(scored[i].second);
  return out;
}

const DeviceSpec* match_gpu_name(std::string_view smi_name) {
  const std::string k = key(smi_name);
  auto has = [&](const char* s) { return k.find(s) != std::string::npos; };
  auto ends = [&](const char* s) {
    const std::string_view e(s);
    return k.size() >= e.size() && k.compare(k.size() - e.size(), e.size(), e) == 0;
  };
  const char* name = nullptr;
  if (has("rtxpro6000"))
    name = "rtx-pro-6000";
  else if (has("6000ada"))
    name = "rtx-6000-ada";
  else if (has("rtxa6000"))
    name = "rtx-a6000";
  else if (has("5090"))
    name = "rtx-5090";
  else if (has("4090"))
    name = "rtx-4090";
  else if (has("3090"))
    name = "rtx-3090";
  else if (has("h200"))
    name = "h200";
  else if (has("b200"))
    name = "b200";
  else if (has("h100"))
    name = has("pcie") ? "h100-pcie" : "h100-sxm";
  else if (has("a100"))
    name = has("80gb") ? (has("pcie") ? "a100-80gb-pcie" : "a100-80gb") : "a100-40gb";
  else if (has("l40s"))
    name = "l40s";
  else if (ends("l4"))
    name = "l4";
  else if (ends("a10"))
    name = "a10";
  else if (has("mi300x"))
    name = "mi300x";
  return name ? find_device(name) : nullptr;
}

Result<uint64_t> parse_size(std::string_view text, std::string_view what) {
  double v = 0;
  std::string unit;
  const std::string shown = quoted(text);
  if (!split_number(text, &v, &unit)) {
    return invalid_argument(std::string(what) + ": " + shown +
                            " is not a size (examples: 96GiB, 24GB, 512MiB)");
  }
  double scale = 0;
  if (unit.empty() || unit == "b")
    scale = 1;
  else if (unit == "kb")
    scale = 1e3;
  else if (unit == "mb")
    scale = 1e6;
  else if (unit == "gb")
    scale = 1e9;
  else if (unit == "tb")
    scale = 1e12;
  else if (unit == "k" || unit == "kib")
    scale = 0x1p10;
  else if (unit == "m" || unit == "mib")
    scale = 0x1p20;
  else if (unit == "g" || unit == "gib")
    scale = 0x1p30;
  else if (unit == "t" || unit == "tib")
    scale = 0x1p40;
  if (scale == 0) {
    return invalid_argument(std::string(what) + ": unknown unit in " + shown +
                            " (use B, KB, MB, GB, TB or KiB, MiB, GiB, TiB)");
  }
  const double bytes = v * scale;
  if (!std::isfinite(bytes) || bytes < 1) {
    return invalid_argument(std::string(what) + ": " + shown + " must be a positive size");
  }
  if (bytes > static_cast<double>(kMaxDeviceMemory)) {
    return invalid_argument(std::string(what) + ": " + shown +
                            " is above 100 TiB, which no device has");
  }
  return static_cast<uint64_t>(bytes);
}

Result<double> parse_rate(std::string_view text, std::string_view what) {
  double v = 0;
  std::string unit;
  const std::string shown = quoted(text);
  if (!split_number(text, &v, &unit)) {
    return invalid_argument(std::string(what) + ": " + shown +
                            " is not a rate (examples: 1792GB/s, 1.8TB/s, 936)");
  }
  if (unit.size() > 2 && unit.compare(unit.size() - 2, 2, "/s") == 0) {
    unit.resize(unit.size() - 2);
  }
  double scale = 0;
  if (unit.empty() || unit == "gb")
    scale = 1e9;
  else if (unit == "mb")
    scale = 1e6;
  else if (unit == "tb")
    scale = 1e12;
  else if (unit == "mib")
    scale = 0x1p20;
  else if (unit == "gib")
    scale = 0x1p30;
  else if (unit == "tib")
    scale = 0x1p40;
  if (scale == 0) {
    return invalid_argument(std::string(what) + ": unknown unit in " + shown +
                            " (use MB/s, GB/s, TB/s, GiB/s; a bare number is GB/s)");
  }
  const double rate = v * scale;
  if (!std::isfinite(rate) || rate <= 0) {
    return invalid_argument(std::string(what) + ": " + shown + " must be a positive rate");
  }
  if (rate > 1e15) {
    return invalid_argument(std::string(what) + ": " + shown +
                            " is above 1 PB/s, which no device reaches");
  }
  return rate;
}

Result<std::vector<GpuInfo>> parse_nvidia_smi(std::string_view text) {
  std::vector<GpuInfo> gpus;
  size_t line_no = 0;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    if (line.empty()) continue;
    const size_t comma = line.rfind(',');
    uint64_t mib = 0;
    const std::string_view num =
        comma == std::string_view::npos ? "" : trim(line.substr(comma + 1));
    auto [ptr, ec] = std::from_chars(num.data(), num.data() + num.size(), mib);
    if (comma == std::string_view::npos || ec != std::errc() || ptr != num.data() + num.size() ||
        mib == 0 || mib > (kMaxDeviceMemory >> 20)) {
      return invalid_format("nvidia-smi line " + std::to_string(line_no) + " '" +
                            std::string(line) + "' is not 'name, memory MiB'");
    }
    gpus.push_back({std::string(trim(line.substr(0, comma))), mib << 20});
  }
  return gpus;
}

MemInfo detect_ram() { return system_memory().value_or(MemInfo{}); }

DeviceSetup setup_from_catalog(const DeviceSpec& d, int n, const MemInfo& ram) {
  DeviceSetup s;
  s.label = d.label;
  s.source = "catalog";
  s.bandwidth = d.bandwidth_gbs * 1e9;
  s.flops = d.fp16_tflops * 1e12;
  s.host_memory = ram.available;
  s.host_bandwidth = kDefaultCpuBandwidth;
  if (d.is_cpu) {
    s.count = 0;
    s.memory = ram.available;
    s.host_bandwidth = s.bandwidth;
  } else {
    s.count = n;
    s.memory = static_cast<uint64_t>(d.memory_gib * 0x1p30);
  }
  return s;
}

DeviceSetup detect_device() {
  const MemInfo ram = detect_ram();
  std::vector<GpuInfo> gpus;
  double cuda_peak = 0;
  bool from_cuda = false;
  // The CUDA runtime first (a CUDA build on a machine with a driver): name, memory and the
  // driver's memory clock and bus width. Else nvidia-smi, which also serves CPU-only builds.
  if (auto cd = cuda::devices(); cd.is_ok()) {
    // Free memory, not the total: what another process holds is not this run's to plan with.
    for (const cuda::DeviceInfo& d : *cd) {
      gpus.push_back({d.name, d.free_memory > 0 ? d.free_memory : d.total_memory});
    }
    cuda_peak = (*cd)[0].peak_bandwidth;
    from_cuda = true;
  } else if (FILE* p =
                 popen("nvidia-smi --query-gpu=name,memory.total --format=csv,noheader,nounits "
                       "2>/dev/null",
                       "r")) {
    std::string out;
    char buf[512];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0 && out.size() < (1u << 16)) out.append(buf, n);
    if (pclose(p) == 0) {
      auto parsed = parse_nvidia_smi(out);
      if (parsed) gpus = std::move(parsed.value());
    }
  }
  DeviceSetup s;
  s.source = "detected";
  s.host_memory = ram.available;
  s.host_bandwidth = kDefaultCpuBandwidth;
  if (gpus.empty()) {
    s.label = "CPU (system RAM)";
    s.memory = ram.available;
    s.bandwidth = kDefaultCpuBandwidth;
    s.flops = kDefaultCpuFlops;
    return s;
  }
  s.count = static_cast<int>(gpus.size());
  s.label = gpus[0].name;
  s.memory = gpus[0].memory;
  for (const GpuInfo& g : gpus) s.memory = std::min(s.memory, g.memory);
  if (const DeviceSpec* d = match_gpu_name(gpus[0].name)) {
    s.bandwidth = d->bandwidth_gbs * 1e9;
    s.flops = d->fp16_tflops * 1e12;
  } else if (cuda_peak > 0) {
    s.bandwidth = cuda_peak;  // a card the catalog lacks: the driver's peak
  }
  if (from_cuda) s.source = "detected (CUDA runtime)";
  return s;
}

}  // namespace longctx
