// Placeholder: the avx2 legacy kernels are added here.
#include "kernels/cpu/cpu_kernels.h"

namespace longctx::cpu {

void register_legacy_avx2(KernelTable*) {}

}  // namespace longctx::cpu
