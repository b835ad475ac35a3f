// /proc/meminfo and cgroup v2 readers; this process's own memory (program, heap).
#include "core/system_memory.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#ifdef __GLIBC__
#include <malloc.h>
#include <sys/stat.h>
#endif

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

std::optional<std::string> read_small(const char* path, size_t max_bytes = 1 << 16) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str().substr(0, max_bytes);
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

std::optional<uint64_t> parse_program_bytes(std::string_view maps, std::string_view status) {
  uint64_t files = 0;
  while (!maps.empty()) {
    const size_t nl = maps.find('\n');
    std::string_view line = maps.substr(0, nl);
    maps = nl == std::string_view::npos ? std::string_view() : maps.substr(nl + 1);
    // "start-end perms offset dev inode   path": file-backed when the path starts with '/'.
    const size_t slash = line.find(" /");
    const size_t dash = line.find('-');
    const size_t space = line.find(' ');
    if (slash == std::string_view::npos || dash == std::string_view::npos || space < dash) {
      continue;
    }
    uint64_t begin = 0, end = 0;
    const auto a = std::from_chars(line.data(), line.data() + dash, begin, 16);
    const auto b = std::from_chars(line.data() + dash + 1, line.data() + space, end, 16);
    if (a.ec != std::errc() || b.ec != std::errc() || end < begin) return std::nullopt;
    files += end - begin;
  }
  const uint64_t anon = kib_field(status, "RssAnon:");
  const uint64_t shmem = kib_field(status, "RssShmem:");
  if (anon == 0) return std::nullopt;  // not a status text
  return files + anon + shmem;
}

std::optional<uint64_t> program_bytes() {
  const auto maps = read_small("/proc/self/maps", 1 << 20);
  const auto status = read_small("/proc/self/status");
  if (!maps || !status) return std::nullopt;
  return parse_program_bytes(*maps, *status);
}

std::optional<uint64_t> heap_in_use_bytes() {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
  const struct mallinfo2 mi = ::mallinfo2();
  const uint64_t bytes = static_cast<uint64_t>(mi.uordblks) + static_cast<uint64_t>(mi.hblkhd);
  // A replaced allocator (AddressSanitizer's) answers with zeros: unknown, not empty.
  if (bytes == 0) return std::nullopt;
  return bytes;
#else
  return std::nullopt;
#endif
}

std::string cpu_model_name() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const size_t c = line.find(':');
      if (c != std::string::npos) return line.substr(std::min(line.size(), c + 2));
    }
  }
  return "unknown";
}

std::string cpu_signature() {
  std::ifstream in("/proc/cpuinfo");
  std::string line, family, model, stepping;
  const auto value = [&](const char* key, std::string& out) {
    if (!out.empty() || line.rfind(key, 0) != 0) return;
    // "model" must not take "model name": the key is followed by blanks and a colon.
    const size_t c = line.find(':');
    if (c == std::string::npos || line.find_first_not_of(" \t", std::strlen(key)) != c) return;
    out = line.substr(std::min(line.size(), c + 2));
  };
  while (std::getline(in, line) && (family.empty() || model.empty() || stepping.empty())) {
    value("cpu family", family);
    value("model", model);
    value("stepping", stepping);
  }
  if (family.empty() && model.empty()) return "";
  return "family " + family + " model " + model + " stepping " + stepping;
}

std::string program_identity() {
  struct stat st {};
  if (::stat("/proc/self/exe", &st) != 0) return "";
  return std::to_string(static_cast<long long>(st.st_size)) + "-" +
         std::to_string(static_cast<long long>(st.st_mtime));
}

}  // namespace longctx
