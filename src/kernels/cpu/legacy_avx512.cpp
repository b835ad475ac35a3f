// Placeholder: the avx512 legacy kernels are added here.
#include "kernels/cpu/cpu_kernels.h"

namespace longctx::cpu {

void register_legacy_avx512(KernelTable*) {}

}  // namespace longctx::cpu
