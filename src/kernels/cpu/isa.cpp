// CPU feature detection (GCC/Clang's __builtin_cpu_supports reads CPUID and XGETBV once; F16C from
// CPUID directly) and the per-path kernel tables.
#include "kernels/cpu/isa.h"

#include <cstdlib>
#include <string>

#if defined(LONGCTX_X86_KERNELS)
#include <cpuid.h>
#endif

namespace longctx::cpu {

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::kScalar:
      return "scalar";
    case Isa::kAvx2:
      return "avx2";
    case Isa::kAvx512:
      return "avx512";
  }
  return "?";
}

std::optional<Isa> parse_isa(std::string_view name) {
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
    if (name == isa_name(isa)) return isa;
  }
  return std::nullopt;
}

namespace {

#if defined(LONGCTX_X86_KERNELS)
// F16C is CPUID leaf 1, ECX bit 29, read directly: clang 14's __builtin_cpu_supports does not
// know "f16c" (and refuses to compile it), GCC's does.
bool has_f16c() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  return __get_cpuid(1, &eax, &ebx, &ecx, &edx) != 0 && (ecx & bit_F16C) != 0;
}

// The features a path needs that this CPU lacks, comma-separated ("" when it has them all).
std::string missing_features(Isa isa) {
  std::string missing;
  auto need = [&](bool has, const char* name) {
    if (has) return;
    if (!missing.empty()) missing += ", ";
    missing += name;
  };
  __builtin_cpu_init();
  if (isa == Isa::kAvx2 || isa == Isa::kAvx512) {
    need(__builtin_cpu_supports("avx2"), "avx2");
    need(__builtin_cpu_supports("fma"), "fma");
    need(has_f16c(), "f16c");
  }
  if (isa == Isa::kAvx512) {
    need(__builtin_cpu_supports("avx512f"), "avx512f");
    need(__builtin_cpu_supports("avx512bw"), "avx512bw");
    need(__builtin_cpu_supports("avx512vl"), "avx512vl");
    need(__builtin_cpu_supports("avx512dq"), "avx512dq");
    need(__builtin_cpu_supports("avx512vnni"), "avx512vnni");
    need(__builtin_cpu_supports("avx512bf16"), "avx512bf16");
  }
  return missing;
}
#else
std::string missing_features(Isa isa) { return isa == Isa::kScalar ? "" : "an x86-64 build"; }
#endif

KernelTable build_table(Isa isa) {
  KernelTable t;
  t.isa = isa;
  // Scalar first: the faster paths overwrite what they provide.
  register_legacy_scalar(&t);
  register_kquant_scalar(&t);
  register_q6k_scalar(&t);
  register_elementwise_scalar(&t);
#if defined(LONGCTX_X86_KERNELS)
  if (isa == Isa::kAvx2 || isa == Isa::kAvx512) {
    register_legacy_avx2(&t);
    register_kquant_avx2(&t);
    register_q6k_avx2(&t);
    register_elementwise_avx2(&t);
  }
  if (isa == Isa::kAvx512) {
    register_legacy_avx512(&t);
    register_kquant_avx512(&t);
    register_kquant_x16_avx512(&t);
    register_legacy_x16_avx512(&t);
    register_q6k_avx512(&t);
    register_elementwise_avx512(&t);
  }
#endif
  return t;
}

}  // namespace

bool isa_supported(Isa isa) { return missing_features(isa).empty(); }

Isa best_isa() {
  if (isa_supported(Isa::kAvx512)) return Isa::kAvx512;
  if (isa_supported(Isa::kAvx2)) return Isa::kAvx2;
  return Isa::kScalar;
}

Result<Isa> select_isa(std::string_view requested) {
  std::string_view source = "--isa";
  if (requested.empty() || requested == "auto") {
    const char* env = std::getenv("LONGCTX_ISA");
    if (env == nullptr || *env == '\0' || std::string_view(env) == "auto") return best_isa();
    requested = env;
    source = "LONGCTX_ISA";
  }
  const std::optional<Isa> isa = parse_isa(requested);
  if (!isa) {
    return invalid_argument(std::string(source) + ": unknown instruction-set path '" +
                            std::string(requested) + "' (known: auto, scalar, avx2, avx512)");
  }
  const std::string missing = missing_features(*isa);
  if (!missing.empty()) {
    return invalid_argument(std::string(source) + ": this CPU cannot run the " + isa_name(*isa) +
                            " path (it lacks " + missing + ")");
  }
  return *isa;
}

const KernelTable& kernel_table(Isa isa) {
  // Only a supported path's table is built: the register functions of a path are compiled for
  // its instruction set and may use it even to fill the table. Function-local statics are built
  // on first use, thread-safely.
  LONGCTX_CHECK(isa_supported(isa));
  switch (isa) {
    case Isa::kAvx512: {
      static const KernelTable t = build_table(Isa::kAvx512);
      return t;
    }
    case Isa::kAvx2: {
      static const KernelTable t = build_table(Isa::kAvx2);
      return t;
    }
    case Isa::kScalar:
      break;
  }
  static const KernelTable t = build_table(Isa::kScalar);
  return t;
}

}  // namespace longctx::cpu
