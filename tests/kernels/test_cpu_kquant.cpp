// CPU K-quant kernels on every instruction-set path this CPU runs: the Q8_K activation quantizer
// (invariants, SIMD bytes == scalar bytes) and Q4_K / Q5_K gemv / gemm against a double-precision
// oracle over odd shapes and misaligned pointers. A perf report runs with LONGCTX_KQUANT_PERF=1.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <string>
#include <vector>

#include "kernels/cpu/cpu_kernels.h"
#include "kernels/cpu/isa.h"
#include "quant/blocks.h"
#include "quant/float16.h"
#include "quant/quantize.h"
#include "quant/types.h"

namespace longctx::cpu {
namespace {

constexpr double kU = 1.0 / 16777216.0;  // fp32 unit roundoff
constexpr int kQ8K = static_cast<int>(ActType::kQ8_K);

const KernelTable* table_or_null(Isa isa) {
  return isa_supported(isa) ? &kernel_table(isa) : nullptr;
}

BlockQ8K read_q8k(const uint8_t* p) {
  BlockQ8K b;
  std::memcpy(&b, p, sizeof(b));
  return b;
}

// Random rows whose 256-blocks vary in scale (1e-3 .. 10) and offset, so the K-quant mins and
// the Q8_K scales take many values.
std::vector<float> random_row(int64_t n, std::mt19937& rng) {
  std::vector<float> x(static_cast<size_t>(n));
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::uniform_real_distribution<float> ud(-3.0f, 1.0f);
  for (int64_t b = 0; b < n / 256; ++b) {
    const float scale = std::pow(10.0f, ud(rng));
    const float offset = scale * nd(rng);
    for (int j = 0; j < 256; ++j) x[b * 256 + j] = offset + scale * nd(rng);
  }
  return x;
}

// ---------------------------------------------------------------------------------------------
// Q8_K quantizer

class Q8K : public ::testing::TestWithParam<Isa> {};

// Invariants of one quantized row against its input.
void check_q8k_row(const float* x, const uint8_t* q, int64_t n) {
  for (int64_t b = 0; b < n / 256; ++b) {
    const BlockQ8K blk = read_q8k(q + b * sizeof(BlockQ8K));
    const float* xb = x + b * 256;
    int first = 0;
    for (int j = 1; j < 256; ++j) {
      if (std::fabs(xb[j]) > std::fabs(xb[first])) first = j;
    }
    if (xb[first] == 0.0f) {
      EXPECT_EQ(blk.d, 0.0f);
      for (int j = 0; j < 256; ++j) ASSERT_EQ(blk.qs[j], 0);
      for (int g = 0; g < 16; ++g) ASSERT_EQ(blk.bsums[g], 0);
      continue;
    }
    // The extreme element maps to -127; d = max / -127 carries the opposite sign of max.
    EXPECT_EQ(blk.qs[first], -127) << "block " << b;
    EXPECT_LT(blk.d * xb[first], 0.0f);
    // q = rne(iscale * x) errs by <= 1/2 in units of d, plus the roundings of iscale, the
    // product and d = 1/iscale (a few ulp relative to |x| <= 127 |d|): 1e-4 |d| covers them.
    const double tol = std::fabs(blk.d) * (0.5 + 1e-4);
    for (int j = 0; j < 256; ++j) {
      ASSERT_LE(std::fabs(static_cast<double>(xb[j]) - static_cast<double>(blk.d) * blk.qs[j]), tol)
          << "block " << b << " j " << j;
      ASSERT_GE(blk.qs[j], -127);
    }
    for (int g = 0; g < 16; ++g) {
      int sum = 0;
      for (int l = 0; l < 16; ++l) sum += blk.qs[16 * g + l];
      ASSERT_EQ(blk.bsums[g], sum) << "block " << b << " group " << g;
    }
  }
}

TEST_P(Q8K, InvariantsAndBytesEqualScalar) {
  const KernelTable* t = table_or_null(GetParam());
  if (t == nullptr) GTEST_SKIP() << isa_name(GetParam()) << " not supported by this CPU";
  const QuantizeActFn quant = t->quantize[kQ8K];
  const QuantizeActFn ref = kernel_table(Isa::kScalar).quantize[kQ8K];
  ASSERT_NE(quant, nullptr);
  std::mt19937 rng(7);
  for (int64_t n : {256, 512, 1024, 2816, 4096}) {
    std::vector<float> x = random_row(n, rng);
    // Special blocks: all zero; +m and -m both present (the first one wins); exact ties
    // (max 127 makes iscale exactly -1, so j + 0.5 lands on a half: round half to even).
    if (n >= 1024) {
      for (int j = 0; j < 256; ++j) x[j] = 0.0f;
      x[256 + 17] = -5.0f;
      x[256 + 200] = 5.0f;
      x[512] = 127.0f;
      for (int j = 1; j < 256; ++j) x[512 + j] = static_cast<float>(j % 200 - 100) + 0.5f;
    }
    const size_t bytes = act_row_bytes(ActType::kQ8_K, n);
    std::vector<uint8_t> expect(bytes);
    for (size_t mis = 0; mis < 4; ++mis) {
      std::vector<uint8_t> out(bytes + mis, 0xcd);
      quant(x.data(), out.data() + mis, n);
      ref(x.data(), expect.data(), n);
      check_q8k_row(x.data(), out.data() + mis, n);
      ASSERT_EQ(std::memcmp(out.data() + mis, expect.data(), bytes), 0) << "n " << n;
    }
    if (n >= 1024) {
      EXPECT_EQ(read_q8k(expect.data() + sizeof(BlockQ8K)).qs[17], -127);
      EXPECT_EQ(read_q8k(expect.data() + sizeof(BlockQ8K)).qs[200], 127);
      const BlockQ8K tie = read_q8k(expect.data() + 2 * sizeof(BlockQ8K));
      EXPECT_EQ(tie.d, -1.0f);
      EXPECT_EQ(tie.qs[1], 98);  // x = -98.5: -x = 98.5 rounds to the even 98
      EXPECT_EQ(tie.qs[2], 98);  // x = -97.5: 97.5 rounds to the even 98
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Isas, Q8K, ::testing::Values(Isa::kScalar, Isa::kAvx2, Isa::kAvx512),
                         [](const auto& info) { return std::string(isa_name(info.param)); });

// ---------------------------------------------------------------------------------------------
// Q4_K / Q5_K x Q8_K matmul

struct MatmulCase {
  Isa isa;
  TensorType type;
};

class KQuantMatmul : public ::testing::TestWithParam<MatmulCase> {};

constexpr int kMaxRows = 33;
constexpr int kMaxCols = 17;

// A weight matrix, kMaxCols quantized activation columns and the oracle for every (column, row).
struct Problem {
  int64_t n = 0;
  size_t w_stride = 0, a_stride = 0;
  std::vector<uint8_t> wbuf, abuf;
  const uint8_t* w = nullptr;
  const uint8_t* a = nullptr;
  std::vector<double> ref, mag;  // [c * kMaxRows + r]
};

// The oracle is the double-precision sum of dequantize_row(W_r)[i] * d_a * q_a[i]. `mag` is the
// size the kernels' float arithmetic works at: they form d * sc * q and dmin * m separately
// (|d sc q| <= |w| + |dmin m|), so mag = sum_i (|w_i| + 2 |dmin m_s(i)|) |a_i| >= sum |w_i a_i|.
Problem make_problem(TensorType type, int64_t n, size_t mis_w, size_t mis_a, std::mt19937& rng) {
  Problem p;
  p.n = n;
  p.w_stride = row_bytes(type, n);
  p.a_stride = act_row_bytes(ActType::kQ8_K, n) + 5;  // odd column stride
  p.wbuf.assign(mis_w + p.w_stride * kMaxRows, 0);
  p.abuf.assign(mis_a + p.a_stride * kMaxCols, 0);
  p.w = p.wbuf.data() + mis_w;
  p.a = p.abuf.data() + mis_a;
  const QuantizeActFn q8k = kernel_table(Isa::kScalar).quantize[kQ8K];
  std::vector<std::vector<double>> act(kMaxCols);
  for (int c = 0; c < kMaxCols; ++c) {
    const std::vector<float> x = random_row(n, rng);
    uint8_t* dst = p.abuf.data() + mis_a + c * p.a_stride;
    q8k(x.data(), dst, n);
    act[c].resize(static_cast<size_t>(n));
    for (int64_t b = 0; b < n / 256; ++b) {
      const BlockQ8K blk = read_q8k(dst + b * sizeof(BlockQ8K));
      for (int j = 0; j < 256; ++j) act[c][b * 256 + j] = static_cast<double>(blk.d) * blk.qs[j];
    }
  }
  const size_t block_bytes = type == TensorType::Q4_K ? sizeof(BlockQ4_K) : sizeof(BlockQ5_K);
  std::vector<float> wf(static_cast<size_t>(n));
  std::vector<double> wmin(static_cast<size_t>(n));
  p.ref.assign(kMaxRows * kMaxCols, 0.0);
  p.mag.assign(kMaxRows * kMaxCols, 0.0);
  for (int r = 0; r < kMaxRows; ++r) {
    uint8_t* row = p.wbuf.data() + mis_w + r * p.w_stride;
    const std::vector<float> x = random_row(n, rng);
    EXPECT_TRUE(quantize_row(type, x.data(), row, n).is_ok());
    EXPECT_TRUE(dequantize_row(type, row, wf.data(), n).is_ok());
    for (int64_t b = 0; b < n / 256; ++b) {
      const uint8_t* blk = row + b * block_bytes;
      uint16_t dmin_h;
      std::memcpy(&dmin_h, blk + 2, 2);
      for (int s = 0; s < 8; ++s) {
        uint8_t sc, m;
        unpack_scale_min_k4(s, blk + 4, &sc, &m);
        for (int l = 0; l < 32; ++l) wmin[b * 256 + 32 * s + l] = fp16_to_fp32(dmin_h) * m;
      }
    }
    for (int c = 0; c < kMaxCols; ++c) {
      double sum = 0.0, mag = 0.0;
      for (int64_t i = 0; i < n; ++i) {
        sum += static_cast<double>(wf[i]) * act[c][i];
        mag += (std::fabs(wf[i]) + 2.0 * std::fabs(wmin[i])) * std::fabs(act[c][i]);
      }
      p.ref[c * kMaxRows + r] = sum;
      p.mag[c * kMaxRows + r] = mag;
    }
  }
  return p;
}

// Error bound factor. Per super-block the kernels round: the int32 -> float conversion (exact
// below 2^24, else one rounding), d * d_a, the product with the integer sum and its add into a
// float accumulator; then one add per further super-block in the same lane and up to 4 levels of
// lane reduction. The oracle's dequantize_row rounds d * sc, its product with q and the
// subtraction of dmin * m (3 more). So each term carries at most (nb + 12) roundings of relative
// size u = 2^-24 at magnitude `mag`; a factor 2 covers second-order terms.
double bound(int64_t n, double mag) { return 2.0 * static_cast<double>(n / 256 + 12) * kU * mag; }

TEST_P(KQuantMatmul, GemvAndGemmMatchOracle) {
  const MatmulCase mc = GetParam();
  const KernelTable* t = table_or_null(mc.isa);
  if (t == nullptr) GTEST_SKIP() << isa_name(mc.isa) << " not supported by this CPU";
  const MatmulKernel& k = t->matmul[static_cast<int>(mc.type)];
  ASSERT_EQ(k.act, ActType::kQ8_K);
  ASSERT_NE(k.gemv, nullptr);
  ASSERT_NE(k.gemm, nullptr);
  std::mt19937 rng(static_cast<unsigned>(mc.type) * 31 + 5);
  int idx = 0;
  // 12544 = 49 super-blocks: past the AVX-512 gemm's prepared-block limit (48), so its direct
  // path is checked too.
  for (int64_t n : {256, 512, 1024, 2816, 4096, 12544}) {
    const Problem p = make_problem(mc.type, n, 1 + idx % 3, 3 - idx % 3, rng);
    ++idx;
    const float kGuard = -12345.0f;
    for (int nr : {1, 2, 3, 4, 5, 7, 16, 33}) {
      // gemv against columns 0 and the last one.
      for (int c : {0, kMaxCols - 1}) {
        std::vector<float> y(nr + 1, kGuard);
        k.gemv(n, p.w, p.w_stride, nr, p.a + c * p.a_stride, y.data());
        for (int r = 0; r < nr; ++r) {
          const double ref = p.ref[c * kMaxRows + r];
          ASSERT_LE(std::fabs(y[r] - ref), bound(n, p.mag[c * kMaxRows + r]))
              << "gemv n " << n << " nr " << nr << " row " << r << " col " << c;
        }
        ASSERT_EQ(y[nr], kGuard);
      }
      for (int nc : {1, 2, 3, 4, 5, 8, 17}) {
        const size_t ldy = nr + 2;
        std::vector<float> y(ldy * nc, kGuard), yv(nr);
        k.gemm(n, p.w, p.w_stride, nr, p.a, p.a_stride, nc, y.data(), ldy);
        for (int c = 0; c < nc; ++c) {
          k.gemv(n, p.w, p.w_stride, nr, p.a + c * p.a_stride, yv.data());
          for (int r = 0; r < nr; ++r) {
            const double ref = p.ref[c * kMaxRows + r];
            const double b = bound(n, p.mag[c * kMaxRows + r]);
            const float got = y[c * ldy + r];
            ASSERT_LE(std::fabs(got - ref), b)
                << "gemm n " << n << " nr " << nr << " nc " << nc << " row " << r << " col " << c;
            // Both within b of the oracle, so within 2b of each other.
            ASSERT_LE(std::fabs(got - yv[r]), 2 * b);
          }
          ASSERT_EQ(y[c * ldy + nr], kGuard);
          ASSERT_EQ(y[c * ldy + nr + 1], kGuard);
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(All, KQuantMatmul,
                         ::testing::Values(MatmulCase{Isa::kScalar, TensorType::Q4_K},
                                           MatmulCase{Isa::kScalar, TensorType::Q5_K},
                                           MatmulCase{Isa::kAvx2, TensorType::Q4_K},
                                           MatmulCase{Isa::kAvx2, TensorType::Q5_K},
                                           MatmulCase{Isa::kAvx512, TensorType::Q4_K},
                                           MatmulCase{Isa::kAvx512, TensorType::Q5_K}),
                         [](const auto& info) {
                           return std::string(isa_name(info.param.isa)) +
                                  (info.param.type == TensorType::Q4_K ? "_Q4_K" : "_Q5_K");
                         });

// ---------------------------------------------------------------------------------------------
// Q4_K in the interleaved x16 layout: the repacking is a permutation (unpack restores every
// byte), and the kernels on repacked rows meet the same oracle as the row kernels.

TEST(KQuantX16, RepackRoundTripsAndOnlyAvx512HasIt) {
  std::mt19937 rng(11);
  const int64_t n = 768, nr = 48;
  const size_t stride = row_bytes(TensorType::Q4_K, n);
  std::vector<uint8_t> w(stride * nr);
  for (int64_t r = 0; r < nr; ++r) {
    const std::vector<float> x = random_row(n, rng);
    ASSERT_TRUE(quantize_row(TensorType::Q4_K, x.data(), w.data() + r * stride, n).is_ok());
  }
  std::vector<uint8_t> packed = w;
  repack_q4k_x16(n, packed.data(), stride, nr);
  EXPECT_NE(packed, w);
  // Group 1, super-block 2, row 5: d, the second scale word, the last nibble word.
  const uint8_t* gb = packed.data() + 16 * stride + 2 * 2304;
  const uint8_t* src = w.data() + (16 + 5) * stride + 2 * sizeof(BlockQ4_K);
  EXPECT_EQ(std::memcmp(gb + 2 * 5, src, 2), 0);
  EXPECT_EQ(std::memcmp(gb + 32 + 2 * 5, src + 2, 2), 0);
  EXPECT_EQ(std::memcmp(gb + 64 + 64 + 4 * 5, src + 8, 4), 0);
  EXPECT_EQ(std::memcmp(gb + 256 + 64 * 31 + 4 * 5, src + 16 + 124, 4), 0);
  unpack_q4k_x16(n, packed.data(), stride, nr);
  EXPECT_EQ(packed, w);
  EXPECT_EQ(kernel_table(Isa::kScalar).repack_x16[static_cast<int>(TensorType::Q4_K)], nullptr);
  EXPECT_EQ(kernel_table(Isa::kScalar).matmul_x16[static_cast<int>(TensorType::Q4_K)].gemv,
            nullptr);
}

TEST(KQuantX16, GemvAndGemmMatchOracle) {
  const KernelTable* t = table_or_null(Isa::kAvx512);
  if (t == nullptr) GTEST_SKIP() << "avx512 not supported by this CPU";
  const int id = static_cast<int>(TensorType::Q4_K);
  const MatmulKernel& k = t->matmul_x16[id];
  ASSERT_EQ(k.act, ActType::kQ8_K);
  ASSERT_NE(k.gemv, nullptr);
  ASSERT_NE(k.gemm, nullptr);
  ASSERT_EQ(t->repack_x16[id], &repack_q4k_x16);
  std::mt19937 rng(23);
  int idx = 0;
  for (int64_t n : {256, 512, 2816, 12544}) {
    Problem p = make_problem(TensorType::Q4_K, n, 1 + idx % 3, 3 - idx % 3, rng);
    ++idx;
    // The first 32 rows (two groups) repacked in place; the oracle still holds for them.
    uint8_t* w = p.wbuf.data() + (p.w - p.wbuf.data());
    repack_q4k_x16(n, w, p.w_stride, 32);
    const float kGuard = -12345.0f;
    for (int nr : {16, 32}) {
      for (int c : {0, kMaxCols - 1}) {
        std::vector<float> y(nr + 1, kGuard);
        k.gemv(n, p.w, p.w_stride, nr, p.a + c * p.a_stride, y.data());
        for (int r = 0; r < nr; ++r) {
          ASSERT_LE(std::fabs(y[r] - p.ref[c * kMaxRows + r]), bound(n, p.mag[c * kMaxRows + r]))
              << "gemv n " << n << " nr " << nr << " row " << r << " col " << c;
        }
        ASSERT_EQ(y[nr], kGuard);
      }
      // The second group alone (a row offset inside a matrix, as the backend's chunks use).
      std::vector<float> y2(16);
      k.gemv(n, p.w + 16 * p.w_stride, p.w_stride, 16, p.a, y2.data());
      for (int r = 0; r < 16; ++r) {
        ASSERT_LE(std::fabs(y2[r] - p.ref[16 + r]), bound(n, p.mag[16 + r])) << "row " << 16 + r;
      }
      for (int nc : {1, 2, 3, 4, 5, 8, 17}) {
        const size_t ldy = nr + 2;
        std::vector<float> y(ldy * nc, kGuard);
        k.gemm(n, p.w, p.w_stride, nr, p.a, p.a_stride, nc, y.data(), ldy);
        for (int c = 0; c < nc; ++c) {
          for (int r = 0; r < nr; ++r) {
            ASSERT_LE(std::fabs(y[c * ldy + r] - p.ref[c * kMaxRows + r]),
                      bound(n, p.mag[c * kMaxRows + r]))
                << "gemm n " << n << " nr " << nr << " nc " << nc << " row " << r << " col " << c;
          }
          ASSERT_EQ(y[c * ldy + nr], kGuard);
          ASSERT_EQ(y[c * ldy + nr + 1], kGuard);
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Throughput report (LONGCTX_KQUANT_PERF=1), best of several runs of this thread's CPU time
// (the machine is shared: wall time would count other processes' turns):
// gemv GB/s of weights streamed on one thread over 4 x 4096 x 4096 (cycled, larger than the L3)
// and over one 4096 x 4096 matrix (L3 resident), gemm GFLOP/s for 4096 x 4096 x 64 columns in
// 16-row strips, as the backend blocks it; and a plain 512-bit read loop for reference.
template <typename F>
double best_seconds(int runs, F&& f) {
  double best = 1e30;
  for (int i = 0; i < runs; ++i) {
    timespec t0, t1;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
    f();
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
    const double s = static_cast<double>(t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec);
    if (s < best) best = s;
  }
  return best;
}

TEST(KQuantPerf, Report) {
  const char* env = std::getenv("LONGCTX_KQUANT_PERF");
  if (env == nullptr || std::string(env) != "1") GTEST_SKIP() << "set LONGCTX_KQUANT_PERF=1";
  const int64_t n = 4096, rows = 4096, mats = 4, cols = 64;
  std::mt19937 rng(1);
  for (TensorType type : {TensorType::Q4_K, TensorType::Q5_K}) {
    const size_t stride = row_bytes(type, n);
    const size_t mat_bytes = stride * rows;
    std::vector<uint8_t> w(mat_bytes * mats);
    std::vector<float> x = random_row(n, rng);
    for (int64_t r = 0; r < rows * mats; ++r) {
      if (r < 64) x = random_row(n, rng);
      ASSERT_TRUE(quantize_row(type, x.data(), w.data() + r * stride, n).is_ok());
    }
    volatile uint64_t sink = 0;
    const double read_s = best_seconds(5, [&] {
      uint64_t acc = 0;
      for (size_t i = 0; i < w.size(); i += 64) {
        uint64_t v;
        std::memcpy(&v, w.data() + i, 8);
        acc += v;
      }
      sink = sink + acc;
    });
    const size_t astride = act_row_bytes(ActType::kQ8_K, n);
    std::vector<uint8_t> a(astride * cols);
    for (int c = 0; c < cols; ++c) {
      x = random_row(n, rng);
      kernel_table(Isa::kScalar).quantize[kQ8K](x.data(), a.data() + c * astride, n);
    }
    std::vector<float> y(rows * cols);
    std::printf("%s: touch-one-word-per-line read %.1f GB/s\n",
                type == TensorType::Q4_K ? "Q4_K" : "Q5_K", w.size() / read_s / 1e9);
    for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
      const KernelTable* t = table_or_null(isa);
      if (t == nullptr) continue;
      const MatmulKernel& k = t->matmul[static_cast<int>(type)];
      const int runs = isa == Isa::kScalar ? 1 : 5;
      const double dram_s = best_seconds(runs, [&] {
        for (int m = 0; m < mats; ++m) {
          k.gemv(n, w.data() + m * mat_bytes, stride, rows, a.data(), y.data());
        }
      });
      const double l3_s =
          best_seconds(runs, [&] { k.gemv(n, w.data(), stride, rows, a.data(), y.data()); });
      const int l2_rows = 128;  // 295 KB of Q4_K: L2 resident
      const double l2_s = best_seconds(runs, [&] {
        for (int i = 0; i < 32; ++i) k.gemv(n, w.data(), stride, l2_rows, a.data(), y.data());
      });
      const double gemm_s = best_seconds(isa == Isa::kScalar ? 1 : 3, [&] {
        for (int64_t r = 0; r < rows; r += 16) {
          k.gemm(n, w.data() + r * stride, stride, 16, a.data(), astride, cols, y.data() + r, rows);
        }
      });
      std::printf(
          "%-6s %s gemv %.1f GB/s (DRAM) %.1f GB/s (L3) %.1f GB/s (L2)  gemm %.1f GFLOP/s\n",
          isa_name(isa), type == TensorType::Q4_K ? "Q4_K" : "Q5_K",
          mat_bytes * mats / dram_s / 1e9, mat_bytes / l3_s / 1e9,
          32.0 * stride * l2_rows / l2_s / 1e9, 2.0 * n * rows * cols / gemm_s / 1e9);
      const MatmulKernel& kx = t->matmul_x16[static_cast<int>(type)];
      if (kx.gemv == nullptr) continue;
      std::vector<uint8_t> wx = w;
      t->repack_x16[static_cast<int>(type)](n, wx.data(), stride, rows * mats);
      const double xdram_s = best_seconds(runs, [&] {
        for (int m = 0; m < mats; ++m) {
          kx.gemv(n, wx.data() + m * mat_bytes, stride, rows, a.data(), y.data());
        }
      });
      const double xl3_s =
          best_seconds(runs, [&] { kx.gemv(n, wx.data(), stride, rows, a.data(), y.data()); });
      const double xl2_s = best_seconds(runs, [&] {
        for (int i = 0; i < 32; ++i) kx.gemv(n, wx.data(), stride, l2_rows, a.data(), y.data());
      });
      const double xgemm_s = best_seconds(3, [&] {
        for (int64_t r = 0; r < rows; r += 16) {
          kx.gemm(n, wx.data() + r * stride, stride, 16, a.data(), astride, cols, y.data() + r,
                  rows);
        }
      });
      std::printf(
          "%-6s %s x16 gemv %.1f GB/s (DRAM) %.1f GB/s (L3) %.1f GB/s (L2)  gemm %.1f GFLOP/s\n",
          isa_name(isa), type == TensorType::Q4_K ? "Q4_K" : "Q5_K",
          mat_bytes * mats / xdram_s / 1e9, mat_bytes / xl3_s / 1e9,
          32.0 * stride * l2_rows / xl2_s / 1e9, 2.0 * n * rows * cols / xgemm_s / 1e9);
    }
  }
}

}  // namespace
}  // namespace longctx::cpu
