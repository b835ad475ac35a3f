// The interleaved ("x16") layout of Q4_K, and its conversion in place from and back to GGUF rows.
// Portable code: the layout is written once at load and read by the AVX-512 kernels of
// kquant_x16_avx512.cpp.
//
// Why: a GGUF Q4_K row keeps each super-block's scales packed in 6 bits and its nibbles in a
// per-row order, so a kernel that dots one row at a time spends as many instructions on
// unpacking one row's scales and summing across lanes as on the products. With 16 rows
// interleaved, one 512-bit vector holds the same 4 bytes of 16 rows: a VNNI dpbusd then adds
// 4 products into each row's own lane (no horizontal sums), and the scales of all 16 rows are
// unpacked with a handful of vector operations.
//
// Layout of a group of 16 rows r = 0..15, super-block b (2304 bytes = 16 x sizeof(BlockQ4_K),
// so the group occupies exactly the bytes of its 16 rows, super-blocks in order):
//   [0, 32)        d of rows 0..15 (fp16)
//   [32, 64)       dmin of rows 0..15 (fp16)
//   [64 + 64k + 4r, +4)   k = 0..2: bytes 4k..4k+3 of row r's 12 packed scale bytes
//   [256 + 64k + 4r, +4)  k = 0..31: bytes 4k..4k+3 of row r's 128 nibble bytes (qs)
#include <cstring>
#include <vector>

#include "kernels/cpu/cpu_kernels.h"
#include "quant/blocks.h"

namespace longctx::cpu {
namespace {

constexpr size_t kBlockBytes = sizeof(BlockQ4_K);
constexpr size_t kGroupBlockBytes = kX16Rows * kBlockBytes;  // 2304
static_assert(kGroupBlockBytes == 64 + 3 * 64 + 32 * 64);

// Byte offset inside a group super-block of row r's word k of each part.
constexpr size_t scale_word(int k, int r) { return 64 + 64 * k + 4 * r; }
constexpr size_t qs_word(int k, int r) { return 256 + 64 * k + 4 * r; }

// One group super-block from 16 GGUF blocks (src[r] = row r's block) into dst.
void interleave(const uint8_t* const* src, uint8_t* dst) {
  for (int r = 0; r < kX16Rows; ++r) {
    const uint8_t* s = src[r];
    std::memcpy(dst + 2 * r, s, 2);
    std::memcpy(dst + 32 + 2 * r, s + 2, 2);
    for (int k = 0; k < 3; ++k) std::memcpy(dst + scale_word(k, r), s + 4 + 4 * k, 4);
    for (int k = 0; k < 32; ++k) std::memcpy(dst + qs_word(k, r), s + 16 + 4 * k, 4);
  }
}

void deinterleave(const uint8_t* src, uint8_t* const* dst) {
  for (int r = 0; r < kX16Rows; ++r) {
    uint8_t* d = dst[r];
    std::memcpy(d, src + 2 * r, 2);
    std::memcpy(d + 2, src + 32 + 2 * r, 2);
    for (int k = 0; k < 3; ++k) std::memcpy(d + 4 + 4 * k, src + scale_word(k, r), 4);
    for (int k = 0; k < 32; ++k) std::memcpy(d + 16 + 4 * k, src + qs_word(k, r), 4);
  }
}

// Each group's bytes are copied out once (16 rows: 16 * w_stride bytes) and written back in the
// other order; the copy is the only extra memory.
template <bool kPack>
void convert(int64_t n, void* w, size_t w_stride, int64_t nr) {
  const int64_t nb = n / kQKK;
  const size_t group_bytes = kX16Rows * w_stride;
  std::vector<uint8_t> copy(group_bytes);
  auto* base = static_cast<uint8_t*>(w);
  for (int64_t g = 0; g + kX16Rows <= nr; g += kX16Rows) {
    uint8_t* grp = base + g * w_stride;
    std::memcpy(copy.data(), grp, group_bytes);
    for (int64_t b = 0; b < nb; ++b) {
      const uint8_t* rows_in[kX16Rows];
      uint8_t* rows_out[kX16Rows];
      for (int r = 0; r < kX16Rows; ++r) {
        rows_in[r] = copy.data() + r * w_stride + b * kBlockBytes;
        rows_out[r] = grp + r * w_stride + b * kBlockBytes;
      }
      if (kPack) {
        interleave(rows_in, grp + b * kGroupBlockBytes);
      } else {
        deinterleave(copy.data() + b * kGroupBlockBytes, rows_out);
      }
    }
  }
}

}  // namespace

// Rows must be packed back to back (w_stride = the row's bytes): a group's super-blocks fill the
// bytes of its rows in order. nr is a multiple of 16.
void repack_q4k_x16(int64_t n, void* w, size_t w_stride, int64_t nr) {
  convert<true>(n, w, w_stride, nr);
}

void unpack_q4k_x16(int64_t n, void* w, size_t w_stride, int64_t nr) {
  convert<false>(n, w, w_stride, nr);
}

}  // namespace longctx::cpu
