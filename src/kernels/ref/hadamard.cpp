// Fast Walsh-Hadamard transform over the blocks of each row.
#include "kernels/ref/hadamard.h"

#include <cmath>

namespace longctx::ref {

int64_t hadamard_block(int64_t dim) { return dim > 0 ? (dim & -dim) : 1; }

void hadamard_rows(float* x, int64_t n_rows, int64_t dim) {
  const int64_t b = hadamard_block(dim);
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(b)));
  for (int64_t r = 0; r < n_rows; ++r) {
    for (int64_t o = 0; o < dim; o += b) {
      float* v = x + r * dim + o;
      // Stage h pairs element i with i + h inside each run of 2h; the inner loop is contiguous
      // for h >= 4, so it vectorises.
      for (int64_t h = 1; h < b; h *= 2) {
        for (int64_t i0 = 0; i0 < b; i0 += 2 * h) {
          for (int64_t i = i0; i < i0 + h; ++i) {
            const float a = v[i], c = v[i + h];
            v[i] = a + c;
            v[i + h] = a - c;
          }
        }
      }
      for (int64_t i = 0; i < b; ++i) v[i] *= scale;
    }
  }
}

}  // namespace longctx::ref
