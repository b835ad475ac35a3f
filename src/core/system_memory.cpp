// /proc/meminfo reader.
#include "core/system_memory.h"

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

std::optional<uint64_t> available_memory_bytes() {
  std::ifstream in("/proc/meminfo");
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_meminfo_available(ss.str());
}

}  // namespace longctx
