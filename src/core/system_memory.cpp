// /proc/meminfo and cgroup v2 readers.
#include "core/system_memory.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>
#include <string>

namespace longctx {
namespace {

constexpr uint64_t kMaxKiB = uint64_t{1} << 40;  // 1 PiB: anything larger is not a real reading

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

// The value of "name  123 kB" in bytes; 0 when absent or malformed.
uint64_t kib_field(std::string_view text, std::string_view name) {
  const size_t at = text.find(name);
  if (at == std::string_view::npos) return 0;
  const std::string_view rest = trim(text.substr(at + name.size()));
  uint64_t kb = 0;
  auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), kb);
  if (ec != std::errc() || kb > kMaxKiB) return 0;
  return kb << 10;
}

std::optional<std::string> read_small(const char* path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str().substr(0, 1 << 16);
}

std::optional<uint64_t> parse_u64(const std::string& s) {
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc()) return std::nullopt;  // "max" (no limit) or garbage
  return v;
}

}  // namespace

Result<MemInfo> parse_meminfo(std::string_view text) {
  MemInfo m;
  m.total = kib_field(text, "MemTotal:");
  m.available = kib_field(text, "MemAvailable:");
  if (m.total == 0) return invalid_format("/proc/meminfo has no valid MemTotal line");
  if (m.available == 0 || m.available > m.total) m.available = m.total;
  return m;
}

std::optional<MemInfo> system_memory() {
  auto text = read_small("/proc/meminfo");
  if (!text) return std::nullopt;
  auto m = parse_meminfo(*text);
  if (!m) return std::nullopt;
  // In a container the cgroup limit can be far below what the host has free.
  auto limit = read_small("/sys/fs/cgroup/memory.max");
  auto used = read_small("/sys/fs/cgroup/memory.current");
  if (limit && used) {
    const auto l = parse_u64(*limit), u = parse_u64(*used);
    if (l && u) m->available = std::min(m->available, *l > *u ? *l - *u : 0);
  }
  return *m;
}

std::optional<uint64_t> available_memory_bytes() {
  auto m = system_memory();
  if (!m) return std::nullopt;
  return m->available;
}

}  // namespace longctx
