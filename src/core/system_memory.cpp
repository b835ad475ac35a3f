// /proc/meminfo reader.
#include "core/system_memory.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace longctx {

std::optional<uint64_t> parse_meminfo_available(std::string_view meminfo) {
  constexpr std::string_view kKey = "MemAvailable:";
  const size_t at = meminfo.find(kKey);
  if (at == std::string_view::npos) return std::nullopt;
  const std::string rest(meminfo.substr(at + kKey.size(), 64));
  char* end = nullptr;
  const unsigned long long kb = std::strtoull(rest.c_str(), &end, 10);
  if (end == rest.c_str() || kb > (uint64_t{1} << 44)) return std::nullopt;
  return static_cast<uint64_t>(kb) * 1024;
}

namespace {

std::optional<std::string> read_small(const char* path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str().substr(0, 1 << 16);
}

std::optional<uint64_t> parse_u64(const std::string& s) {
  char* end = nullptr;
  const unsigned long long v = std::strtoull(s.c_str(), &end, 10);
  if (end == s.c_str()) return std::nullopt;  // "max" (no limit) or garbage
  return static_cast<uint64_t>(v);
}

}  // namespace

std::optional<uint64_t> available_memory_bytes() {
  std::optional<uint64_t> avail;
  if (auto text = read_small("/proc/meminfo")) avail = parse_meminfo_available(*text);
  // In a container the cgroup (v2) limit can be far below what the host has free.
  auto limit = read_small("/sys/fs/cgroup/memory.max");
  auto used = read_small("/sys/fs/cgroup/memory.current");
  if (limit && used) {
    const auto l = parse_u64(*limit), u = parse_u64(*used);
    if (l && u) {
      const uint64_t room = *l > *u ? *l - *u : 0;
      avail = avail ? std::min(*avail, room) : room;
    }
  }
  return avail;
}

}  // namespace longctx
