// Random tensor data written straight in a GGUF block format, with no float quantization pass:
// what `synth --random-blocks` uses to write a multi-GB model in about the time the disk takes.
// The blocks are valid (every field in its range) and their values are zero-mean with a chosen
// standard deviation and bounded scales, so a forward pass through such weights stays finite.
#pragma once

#include <cstdint>

#include "quant/types.h"

namespace longctx {

// Whether random_blocks can write type t (the legacy 32-blocks Q4_0 ... Q8_0, Q4_K, Q5_K, Q6_K,
// F32, F16, BF16). Other types take the quantize path.
bool has_random_blocks(TensorType t);

// Fills n elements (a multiple of t's block size) of type t at dst with random blocks whose
// dequantized values have mean ~0 and standard deviation ~std, drawn from a generator seeded with
// `seed` (the same seed gives the same bytes). t must satisfy has_random_blocks.
void random_blocks(TensorType t, uint64_t seed, float std, void* dst, int64_t n);

}  // namespace longctx
