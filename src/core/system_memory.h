// How much memory the system can give this process now: MemAvailable from /proc/meminfo (Linux),
// capped by the cgroup v2 limit when running in a container, for refusing an allocation that
// could only end with the out-of-memory killer.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace longctx {

// Bytes available for new allocations without swapping; nullopt where unknown.
std::optional<uint64_t> available_memory_bytes();

// Parses the "MemAvailable:  123456 kB" line of a /proc/meminfo text; nullopt if absent.
std::optional<uint64_t> parse_meminfo_available(std::string_view meminfo);

}  // namespace longctx
