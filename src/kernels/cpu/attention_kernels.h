// Tile kernels of the cpu attention (kernels/cpu/attention.h drives them): one query block of all
// kv heads against a key range, updating a running online-softmax state per query row. Plain types
// and declarations only: the avx2 / avx512 definitions live in files built with -mavx* flags.
#pragma once

#include <cstdint>

namespace longctx::cpu {

// Keys per tile: the score row of one query row for one tile is 16 floats (one zmm, two ymm).
inline constexpr int64_t kAttnKeyTile = 16;

// Element types of K and V in a job.
inline constexpr int kKvF32 = 0, kKvF16 = 1, kKvBF16 = 2, kKvQ8_0 = 3, kKvQ4_0 = 4;
static inline bool kv_code_is_block(int code) { return code >= kKvQ8_0; }

// One job: n_heads consecutive kv heads, each with n_rows query rows; row r of a head is (query
// r / group, query head r % group of that kv head's group). Scores are in the log2 domain: q rows
// are pre-multiplied by scale * log2(e), so the softmax weights are 2^(s - m). The state per row
// is the running max m, the running sum l = sum 2^(s_j - m) and acc[:] = sum 2^(s_j - m) v_j
// over the keys seen so far.
struct AttnTileJob {
  int64_t head_dim = 0;
  int64_t n_heads = 1;
  int64_t n_rows = 0;
  int64_t group = 1;
  const float* q = nullptr;  // [n_heads][n_rows][head_dim], scaled
  int64_t pos0 = 0;          // row r sees keys j <= pos0 + r / group (causal)
  int kv_type = 0;           // float kernels: element type of K and V (kKvF32, kKvF16, kKvBF16)
  // Element (j, d) of head h at k + j * kv_stride + h * head_dim + d elements (same for v).
  const void* k = nullptr;
  const void* v = nullptr;
  int64_t kv_stride = 0;   // elements between consecutive tokens
  int64_t j0 = 0, j1 = 0;  // key range [j0, j1)
  float* m = nullptr;      // [n_heads][n_rows], -inf before the first key
  float* l = nullptr;      // [n_heads][n_rows], 0 before the first key
  float* acc = nullptr;    // [n_heads][n_rows][head_dim], 0 before the first key
  float* work = nullptr;   // attn_work_floats(head_dim, n_rows, n_heads) floats of scratch
  // The quantized-KV kernels (attention_quant_*): K and V types of their own (any kKv* code,
  // at least one of them a block type), strides in bytes, and the query side. With a block-type
  // K the queries come as Q8_0 blocks of the unscaled q rows (q8: [n_heads][n_rows][head_dim /
  // 32] blocks of 34 bytes, bit for bit quantize_row(Q8_0)) and scores are multiplied by
  // qscale; with a float K the kernel reads q (scaled) as the float kernels do.
  int k_type = 0, v_type = 0;
  int64_t k_token_bytes = 0, v_token_bytes = 0;  // bytes between consecutive tokens
  int64_t k_head_bytes = 0, v_head_bytes = 0;    // bytes of one head's row
  const uint8_t* q8 = nullptr;
  float qscale = 1.0f;
};

// Rows before the returned one are masked for the whole tile starting at key jt (their causal
// limit is below jt): the first row that sees key jt is the first of query jt - pos0. Internal
// linkage: this header is included by the per-ISA files too (the build rule in KERNELS.md).
static inline int64_t first_live_row(const AttnTileJob& jb, int64_t jt) {
  const int64_t t = jt - jb.pos0;
  return t <= 0 ? 0 : t * jb.group;
}

// Query rows from which the AVX-512 path runs the rows-as-lanes kernel (attention_rows_avx512),
// and its keys per tile (more keys per load and store of the output accumulators).
inline constexpr int64_t kAttnWideRows = 16;
inline constexpr int64_t kAttnWideKeyTile = 64;

// Scratch floats a job of n_heads kv heads x n_rows query rows needs: the small-rows kernels keep
// K and V tiles converted to f32 plus the score tile; the rows-as-lanes kernel also keeps Q
// transposed ([n_heads][head_dim][rows rounded up to 16]), the per-row rescale factors and causal
// limits (plus 16 floats to align it to a cache line).
static constexpr int64_t attn_work_floats(int64_t head_dim, int64_t n_rows, int64_t n_heads) {
  const int64_t rp = (n_rows + 15) / 16 * 16;
  return 2 * kAttnWideKeyTile * head_dim + kAttnWideKeyTile * rp + n_heads * head_dim * rp +
         2 * rp + 16;
}

// Scratch floats of a quantized-KV job (attention_quant_*), for every path: per-row query block
// scales and offsets, the key tile transposed to keys-as-lanes integers (up to 2 planes of 16
// lanes) with its scales, a float key tile (float K), the value tile in f32, the weights of the
// tile per row and the rescale factors, the integer P V's weights and scales, both tiles' block
// scales as stored (plus padding to align each area to a cache line).
static constexpr int64_t attn_quant_work_floats(int64_t head_dim, int64_t n_rows, int64_t n_heads) {
  const int64_t nb = head_dim / 32, lanes = 16;
  const int64_t areas[] = {n_heads * n_rows * nb,
                           n_heads * n_rows * nb,
                           nb * 8 * 2 * lanes,
                           nb * lanes,
                           lanes * head_dim,
                           lanes * head_dim,
                           n_rows * lanes,
                           n_rows,
                           lanes,
                           n_rows * nb * lanes / 2,
                           n_rows * nb,
                           nb * lanes,
                           nb,
                           nb * lanes / 2,
                           nb * lanes / 2,
                           2 * lanes,
                           2 * lanes};
  int64_t total = 16;
  for (int64_t a : areas) total += (a + 15) / 16 * 16;
  return total;
}

// Any head_dim.
void attention_tile_scalar(const AttnTileJob& job);
// head_dim a multiple of 8; jobs of kAttnWideRows rows or more go to attention_rows_avx2.
void attention_tile_avx2(const AttnTileJob& job);
// head_dim a multiple of 8, any n_rows (built for many: prefill; the AVX-512 path's few-row jobs
// of 5..15 rows too).
void attention_rows_avx2(const AttnTileJob& job);
// head_dim a multiple of 16; jobs of kAttnWideRows rows or more go to attention_rows_avx512.
void attention_tile_avx512(const AttnTileJob& job);
// head_dim a multiple of 16, any n_rows (built for many: prefill).
void attention_rows_avx512(const AttnTileJob& job);
// Jobs of 2 to 8 rows that all see every key of [j0, j1) (decode), run as blocks of 2, 4 or 8
// rows, head_dim a multiple of 256 / block rows: attention_decode_avx512_fits says whether a job
// qualifies.
bool attention_decode_avx512_fits(const AttnTileJob& job);
void attention_decode_avx512(const AttnTileJob& job);
// Quantized KV (at least one of K, V a block type; head_dim a multiple of 32), any job: the key
// tile as keys-as-lanes integers against Q8_0 queries, block-type values transposed to meet
// per-tile quantized weights (a float V converted per tile) (attention_quant_inl.h). One template,
// three instruction sets.
void attention_quant_scalar(const AttnTileJob& job);
void attention_quant_avx2(const AttnTileJob& job);
void attention_quant_avx512(const AttnTileJob& job);

}  // namespace longctx::cpu
