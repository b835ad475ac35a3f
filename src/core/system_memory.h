// How much memory this machine has and can give this process now: /proc/meminfo (Linux), with
// the available figure capped by the cgroup v2 limit when running in a container. The engine
// refuses a KV cache that could only end with the out-of-memory killer; the planner sizes plans.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace longctx {

struct MemInfo {
  uint64_t total = 0;      // bytes (MemTotal)
  uint64_t available = 0;  // bytes (MemAvailable, <= total; capped by a cgroup limit)
};

// Parses /proc/meminfo text ("MemTotal:  24522848 kB" lines). MemTotal is required; a missing
// or larger-than-total MemAvailable is taken as MemTotal.
Result<MemInfo> parse_meminfo(std::string_view text);

// This machine's memory; nullopt where /proc/meminfo cannot be read.
std::optional<MemInfo> system_memory();
// Bytes available for new allocations without swapping; nullopt where unknown.
std::optional<uint64_t> available_memory_bytes();

// The bytes malloc has handed out and not yet taken back (glibc's mallinfo2: arena chunks in
// use plus mmap'd chunks); nullopt where unknown.
std::optional<uint64_t> heap_in_use_bytes();
// A bound of what the program itself can come to hold: its anonymous resident memory now
// (heap, stacks) plus the whole size of every file it maps (the binary and its libraries:
// their pages become resident as code runs). Meant to be read before a model file is mapped.
std::optional<uint64_t> program_bytes();
// The same from the text of /proc/self/maps and /proc/self/status (for tests).
std::optional<uint64_t> parse_program_bytes(std::string_view maps, std::string_view status);

// The CPU's model name from /proc/cpuinfo ("AMD EPYC"), or "unknown" (benchmarks' cpu_info,
// the speed probe's cache key).
std::string cpu_model_name();
// The CPU's family, model and stepping from /proc/cpuinfo ("family 25 model 17 stepping 1"), or
// "" where it has none: VMs often name every EPYC alike, and Zen 4 and Zen 5 differ in speed.
std::string cpu_signature();
// An identity of this build of the program: the size and modification time of the executable
// (/proc/self/exe), or "" where unknown. Figures measured by one build (the speed probe's)
// need not hold for another.
std::string program_identity();

}  // namespace longctx
