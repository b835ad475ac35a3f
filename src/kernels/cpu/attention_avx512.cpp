// Placeholder: the avx512 attention tile kernels are added here.
#include "kernels/cpu/cpu_kernels.h"

namespace longctx::cpu {}  // namespace longctx::cpu
