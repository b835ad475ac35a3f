// Walsh-Hadamard rotation of KV-cache heads: an orthonormal transform that spreads a head's
// outlier channels over all its dimensions before the head is quantized to 4 or 8 bits, and
// leaves every dot product unchanged (H^T H = I), so attention computes the same scores.
#pragma once

#include <cstdint>

namespace longctx::ref {

// The block the rotation acts on: the largest power of two dividing dim (all of a 128-wide
// Qwen head; 32 of a 96-wide one).
int64_t hadamard_block(int64_t dim);

// In place on each of n_rows rows of dim floats: every block of b = hadamard_block(dim)
// consecutive elements becomes H_b x / sqrt(b), H_b the Sylvester Hadamard matrix
// (H_b[i][j] = (-1)^popcount(i & j)). The transform is its own inverse. Computed as the fast
// transform (log2 b butterfly stages x_i, x_{i+h} -> x_i + x_{i+h}, x_i - x_{i+h}), then the scale.
void hadamard_rows(float* x, int64_t n_rows, int64_t dim);

}  // namespace longctx::ref
