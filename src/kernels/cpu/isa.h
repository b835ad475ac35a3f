// Instruction-set paths of the cpu backend: which ones this binary and this CPU can run, the
// one chosen at start-up (the best available, or LONGCTX_ISA / --isa to force any of them so one
// machine tests every path), and the kernel table of each.
#pragma once

#include <optional>
#include <string_view>

#include "core/status.h"
#include "kernels/cpu/cpu_kernels.h"

namespace longctx::cpu {

// "scalar", "avx2", "avx512".
const char* isa_name(Isa isa);
std::optional<Isa> parse_isa(std::string_view name);

// True when the binary holds the path (x86-64 builds hold all three) and the CPU has every
// feature it uses: avx2 = AVX2 + FMA + F16C; avx512 = AVX-512 F/BW/VL/DQ + VNNI + BF16 (Zen 4,
// Sapphire Rapids and later; older AVX-512 CPUs take the avx2 path).
bool isa_supported(Isa isa);
Isa best_isa();

// The path to use: "auto" (or empty) means the LONGCTX_ISA environment variable when set, else
// the best supported path; a named path must be supported. Errors name the path and what the CPU
// lacks.
Result<Isa> select_isa(std::string_view requested);

// The kernel table of a path, built once (thread-safe). The scalar path is complete; others fall
// back to the scalar kernel for any type they do not speed up.
const KernelTable& kernel_table(Isa isa);

}  // namespace longctx::cpu
