// The interleaved ("x16") layouts of Q4_K and Q8_0, and their conversion in place from and back
// to GGUF rows. Portable code: a layout is written once at load and read by the AVX-512 kernels
// of kquant_x16_avx512.cpp / legacy_x16_avx512.cpp.
//
// Why: a GGUF row keeps each block's scales (and, for Q4_K, 6-bit packed scales and mins) with
// the row, so a kernel that dots one row at a time spends as many instructions on unpacking one
// row's scales and summing across lanes as on the products. With 16 rows interleaved, one
// 512-bit vector holds the same 4 bytes of 16 rows: a VNNI dpbusd then adds 4 products into each
// row's own lane (no horizontal sums), and the scales of all 16 rows are unpacked with a handful
// of vector operations.
//
// A group of 16 rows r = 0..15 stores its blocks in order, block b taking exactly the bytes of
// the 16 GGUF blocks it replaces, so the group occupies the bytes of its 16 rows. Within a block
// every field is stored for rows 0..15 side by side, in 2-byte (scales) or 4-byte (the rest)
// words:
//   Q4_K (2304 bytes): [0, 32) d, [32, 64) dmin, [64 + 64k + 4r, +4) k = 0..2: packed scale
//     bytes 4k..4k+3 of row r, [256 + 64k + 4r, +4) k = 0..31: nibble bytes 4k..4k+3 (qs).
//   Q8_0 (544 bytes): [0, 32) d, [32 + 64k + 4r, +4) k = 0..7: quants 4k..4k+3 of row r, each
//     with its sign bit flipped (q + 128 as an unsigned byte: VNNI's dpbusd takes the weights
//     as its unsigned operand, legacy_x16_avx512.cpp).
#include <cstring>
#include <vector>

#include "kernels/cpu/cpu_kernels.h"
#include "quant/blocks.h"
#include "quant/types.h"

namespace longctx::cpu {
namespace {

// A block layout: GGUF block bytes, and the fields as (offset in the GGUF block, word size,
// words, offset of the field in the group block, whether its bytes are stored xor 0x80).
struct Field {
  size_t src, word, words, dst;
  bool flip = false;
};
struct Layout {
  int64_t block_elems;
  size_t block_bytes;
  Field fields[4];
  int n_fields;
};

constexpr Layout kQ4K{
    kQKK, sizeof(BlockQ4_K), {{0, 2, 1, 0}, {2, 2, 1, 32}, {4, 4, 3, 64}, {16, 4, 32, 256}}, 4};
constexpr Layout kQ8_0{kQK, sizeof(BlockQ8_0), {{0, 2, 1, 0}, {2, 4, 8, 32, true}}, 2};

// Copies one word, flipping the sign bit of every byte when the field says so (the same in
// both directions).
inline void copy_word(uint8_t* dst, const uint8_t* src, const Field& fd) {
  std::memcpy(dst, src, fd.word);
  if (fd.flip) {
    for (size_t i = 0; i < fd.word; ++i) dst[i] ^= 0x80;
  }
}
static_assert(sizeof(BlockQ4_K) * kX16Rows == 256 + 32 * 64);
static_assert(sizeof(BlockQ8_0) * kX16Rows == 32 + 8 * 64);

// Each group's bytes are copied out once (16 rows: 16 * w_stride bytes) and written back in the
// other order; the copy is the only extra memory. Word k of row r of a field sits at
// dst + 16 * word * k + word * r in the group block.
template <bool kPack>
void convert(const Layout& lay, int64_t n, void* w, size_t w_stride, int64_t nr) {
  const int64_t nb = n / lay.block_elems;
  const size_t group_block = kX16Rows * lay.block_bytes;
  const size_t group_bytes = kX16Rows * w_stride;
  std::vector<uint8_t> copy(group_bytes);
  auto* base = static_cast<uint8_t*>(w);
  for (int64_t g = 0; g + kX16Rows <= nr; g += kX16Rows) {
    uint8_t* grp = base + g * w_stride;
    std::memcpy(copy.data(), grp, group_bytes);
    uint8_t* rows = kPack ? copy.data() : grp;   // GGUF layout
    uint8_t* inter = kPack ? grp : copy.data();  // interleaved
    for (int64_t b = 0; b < nb; ++b) {
      uint8_t* gb = inter + b * group_block;
      for (int r = 0; r < kX16Rows; ++r) {
        uint8_t* blk = rows + r * w_stride + b * lay.block_bytes;
        for (int f = 0; f < lay.n_fields; ++f) {
          const Field& fd = lay.fields[f];
          for (size_t k = 0; k < fd.words; ++k) {
            uint8_t* x = gb + fd.dst + kX16Rows * fd.word * k + fd.word * r;
            uint8_t* y = blk + fd.src + fd.word * k;
            copy_word(kPack ? x : y, kPack ? y : x, fd);
          }
        }
      }
    }
  }
}

// Copies row `lane` of the group starting at grp back into GGUF block order at out (w_stride
// bytes).
void extract(const Layout& lay, int64_t n, const uint8_t* grp, int lane, uint8_t* out) {
  const int64_t nb = n / lay.block_elems;
  const size_t group_block = kX16Rows * lay.block_bytes;
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* gb = grp + b * group_block;
    uint8_t* blk = out + b * lay.block_bytes;
    for (int f = 0; f < lay.n_fields; ++f) {
      const Field& fd = lay.fields[f];
      for (size_t k = 0; k < fd.words; ++k) {
        copy_word(blk + fd.src + fd.word * k, gb + fd.dst + kX16Rows * fd.word * k + fd.word * lane,
                  fd);
      }
    }
  }
}

}  // namespace

bool x16_row(uint32_t type, int64_t n, const void* w, size_t w_stride, int64_t row, void* out) {
  const Layout* lay = type == static_cast<uint32_t>(TensorType::Q4_K)   ? &kQ4K
                      : type == static_cast<uint32_t>(TensorType::Q8_0) ? &kQ8_0
                                                                        : nullptr;
  if (lay == nullptr) return false;
  const auto* grp = static_cast<const uint8_t*>(w) + (row / kX16Rows) * kX16Rows * w_stride;
  extract(*lay, n, grp, static_cast<int>(row % kX16Rows), static_cast<uint8_t*>(out));
  return true;
}

// nr is a multiple of 16.
void repack_q4k_x16(int64_t n, void* w, size_t w_stride, int64_t nr) {
  convert<true>(kQ4K, n, w, w_stride, nr);
}
void unpack_q4k_x16(int64_t n, void* w, size_t w_stride, int64_t nr) {
  convert<false>(kQ4K, n, w, w_stride, nr);
}
void repack_q8_0_x16(int64_t n, void* w, size_t w_stride, int64_t nr) {
  convert<true>(kQ8_0, n, w, w_stride, nr);
}
void unpack_q8_0_x16(int64_t n, void* w, size_t w_stride, int64_t nr) {
  convert<false>(kQ8_0, n, w, w_stride, nr);
}

}  // namespace longctx::cpu
