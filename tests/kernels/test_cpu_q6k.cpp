// Q6_K x Q8_K matmul kernels of every cpu path (scalar, avx2, avx512) against a double-precision
// oracle (dequantize_row of the weights times d * q of the activations), gemm against gemv, SIMD
// against scalar; odd shapes, misaligned data, extreme scales. LONGCTX_PERF=1 adds timings.
#include <gtest/gtest.h>

#include <cmath>
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

namespace longctx {
namespace {

using cpu::BlockQ8K;
using cpu::Isa;

constexpr int kQ6K = 14;
constexpr size_t kWBlock = sizeof(BlockQ6_K);
constexpr size_t kABlock = sizeof(BlockQ8K);

// ggml's quantize_row_q8_K semantics: per 256 values, max = the value of largest magnitude (with
// its sign), iscale = -127 / max, q = min(127, round-to-nearest-even(iscale * x)), d = 1 / iscale,
// bsums = sums of q over groups of 16; an all-zero block gets d = 0 and q = 0.
void quantize_q8k(const float* x, uint8_t* dst, int64_t n) {
  for (int64_t b = 0; b < n / 256; ++b) {
    const float* xb = x + b * 256;
    BlockQ8K blk{};
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < 256; ++j) {
      if (std::fabs(xb[j]) > amax) {
        amax = std::fabs(xb[j]);
        max = xb[j];
      }
    }
    if (amax != 0.0f) {
      const float iscale = -127.0f / max;
      for (int j = 0; j < 256; ++j) {
        const float v = std::nearbyint(iscale * xb[j]);
        blk.qs[j] = static_cast<int8_t>(v > 127.0f ? 127.0f : v);
      }
      for (int g = 0; g < 16; ++g) {
        int sum = 0;
        for (int j = 0; j < 16; ++j) sum += blk.qs[16 * g + j];
        blk.bsums[g] = static_cast<int16_t>(sum);
      }
      blk.d = 1.0f / iscale;
    }
    std::memcpy(dst + b * kABlock, &blk, kABlock);
  }
}

// Weights and activations of one test case, each starting `offset` bytes past an aligned base.
struct Case {
  int64_t n = 0, rows = 0, cols = 0;
  size_t w_stride = 0, a_stride = 0;
  std::vector<uint8_t> w_buf, a_buf;
  uint8_t* w = nullptr;
  uint8_t* a = nullptr;
};

// Quantized weights of rows x n (random data whose magnitude varies per row and per 16-element
// sub-block, so the sub-block scales differ; some sub-blocks zero) or, with `extreme`, random
// bytes with every scale in -128..127 (both ends forced) and d between 2^-21 and 1. Activations
// of random magnitude (e^-3..e^3 per element), or with `extreme` near-constant magnitude so that
// |q| is 114..127; block 1 all zero in even columns (d = 0).
Case make_case(int64_t n, int64_t rows, int64_t cols, int offset, bool extreme, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::uniform_real_distribution<float> ud(-3.0f, 3.0f);
  Case c;
  c.n = n;
  c.rows = rows;
  c.cols = cols;
  c.w_stride = static_cast<size_t>(n / 256) * kWBlock + static_cast<size_t>(seed % 3);
  c.a_stride = static_cast<size_t>(n / 256) * kABlock + static_cast<size_t>(seed % 5);
  c.w_buf.assign(c.w_stride * rows + 3, 0);  // tight: ASan sees over-reads
  c.a_buf.assign(c.a_stride * cols + 3, 0);
  c.w = c.w_buf.data() + offset;
  c.a = c.a_buf.data() + (offset + 1) % 4;
  std::vector<float> x(static_cast<size_t>(n));
  for (int64_t r = 0; r < rows; ++r) {
    uint8_t* row = c.w + r * c.w_stride;
    if (!extreme) {
      float sub_scale = 0.0f;
      for (int64_t i = 0; i < n; ++i) {
        if (i % 16 == 0) sub_scale = (i / 16) % 11 == 5 ? 0.0f : std::exp(ud(rng));
        x[static_cast<size_t>(i)] = nd(rng) * sub_scale;
      }
      EXPECT_TRUE(quantize_row(TensorType::Q6_K, x.data(), row, n).ok());
    } else {
      for (int64_t b = 0; b < n / 256; ++b) {
        BlockQ6_K blk;
        for (auto& v : blk.ql) v = static_cast<uint8_t>(rng());
        for (auto& v : blk.qh) v = static_cast<uint8_t>(rng());
        for (auto& v : blk.scales) v = static_cast<int8_t>(rng());
        blk.scales[rng() % 16] = -128;
        blk.scales[rng() % 16] = 127;
        blk.d = fp32_to_fp16(std::ldexp(static_cast<float>(rng() % 1024 + 1) / 1024.0f,
                                        -static_cast<int>(rng() % 12)));
        std::memcpy(row + b * kWBlock, &blk, kWBlock);
      }
    }
  }
  for (int64_t col = 0; col < cols; ++col) {
    for (int64_t i = 0; i < n; ++i) {
      if (extreme) {  // |q| = 127 everywhere (odd columns) or >= 114: the largest products
        const float mag = col % 2 == 1 ? 1.0f : 0.9f + 0.1f * std::fabs(ud(rng)) / 3.0f;
        x[static_cast<size_t>(i)] = (rng() & 1) != 0 ? mag : -mag;
      } else {
        x[static_cast<size_t>(i)] = nd(rng) * std::exp(ud(rng));
      }
    }
    if (n >= 512 && col % 2 == 0) std::fill(x.begin() + 256, x.begin() + 512, 0.0f);
    quantize_q8k(x.data(), c.a + col * c.a_stride, n);
  }
  return c;
}

struct Oracle {
  std::vector<double> y;      // y[col * rows + r]
  std::vector<double> bound;  // c * sum_i |w_i a_i|
};

// Error bound of the kernels relative to sum_i |w_i a_i| (u = 2^-24). The oracle's dequantized
// w_i = fl(fl(d sc) (q - 32)) is off by <= 2u relative; a_i = d q is exact in double. A kernel sums
// each block exactly in int32, then rounds: int32 -> float (u), d_w * d_a (u), the fma or the
// product plus add (2u), and accumulates the nb = n / 256 block terms in float (<= nb u of the
// running sums, each bounded by sum |w_i a_i|) plus a 16-lane (or 8-lane) tree sum (4u). Total
// first order: (nb + 10) u; we allow (nb + 16) u.
Oracle oracle(const Case& c) {
  Oracle o;
  const int64_t nb = c.n / 256;
  const double cbound = static_cast<double>(nb + 16) * std::ldexp(1.0, -24);
  std::vector<float> w(static_cast<size_t>(c.n));
  std::vector<std::vector<double>> a(static_cast<size_t>(c.cols), std::vector<double>(w.size()));
  for (int64_t col = 0; col < c.cols; ++col) {
    for (int64_t b = 0; b < nb; ++b) {
      BlockQ8K blk;
      std::memcpy(&blk, c.a + col * c.a_stride + b * kABlock, kABlock);
      for (int j = 0; j < 256; ++j) {
        a[static_cast<size_t>(col)][static_cast<size_t>(b * 256 + j)] =
            static_cast<double>(blk.d) * blk.qs[j];
      }
    }
  }
  o.y.assign(static_cast<size_t>(c.rows * c.cols), 0.0);
  o.bound.assign(o.y.size(), 0.0);
  for (int64_t r = 0; r < c.rows; ++r) {
    EXPECT_TRUE(dequantize_row(TensorType::Q6_K, c.w + r * c.w_stride, w.data(), c.n).ok());
    for (int64_t col = 0; col < c.cols; ++col) {
      double s = 0, sa = 0;
      for (size_t i = 0; i < w.size(); ++i) {
        const double p = static_cast<double>(w[i]) * a[static_cast<size_t>(col)][i];
        s += p;
        sa += std::fabs(p);
      }
      o.y[static_cast<size_t>(col * c.rows + r)] = s;
      o.bound[static_cast<size_t>(col * c.rows + r)] = cbound * sa;
    }
  }
  return o;
}

const cpu::MatmulKernel& kernel(Isa isa) { return cpu::kernel_table(isa).matmul[kQ6K]; }

class Q6KTest : public ::testing::TestWithParam<Isa> {
 protected:
  void SetUp() override {
    if (!cpu::isa_supported(GetParam())) GTEST_SKIP() << "CPU lacks " << cpu::isa_name(GetParam());
  }
};

// Runs gemv (per column) and gemm over every shape on a case and checks both against the oracle,
// gemm against gemv, and the path against the scalar path.
void check_case(Isa isa, const Case& c, const Oracle& o, int64_t nr, int64_t nc) {
  const cpu::MatmulKernel& k = kernel(isa);
  const cpu::MatmulKernel& ks = kernel(Isa::kScalar);
  ASSERT_EQ(k.act, cpu::ActType::kQ8_K);
  ASSERT_NE(k.gemv, nullptr);
  ASSERT_NE(k.gemm, nullptr);
  const size_t ldy = static_cast<size_t>(nr) + 3;
  std::vector<float> yv(static_cast<size_t>(nr)), ys(static_cast<size_t>(nr));
  std::vector<float> yg(ldy * static_cast<size_t>(nc), -1.0f);
  k.gemm(c.n, c.w, c.w_stride, nr, c.a, c.a_stride, nc, yg.data(), ldy);
  for (int64_t col = 0; col < nc; ++col) {
    const uint8_t* a = c.a + col * c.a_stride;
    k.gemv(c.n, c.w, c.w_stride, nr, a, yv.data());
    ks.gemv(c.n, c.w, c.w_stride, nr, a, ys.data());
    for (int64_t r = 0; r < nr; ++r) {
      const size_t oi = static_cast<size_t>(col * c.rows + r);
      const double ref = o.y[oi], bound = o.bound[oi];
      const float g = yg[static_cast<size_t>(col) * ldy + static_cast<size_t>(r)];
      const float v = yv[static_cast<size_t>(r)];
      ASSERT_LE(std::fabs(v - ref), bound) << "gemv n=" << c.n << " r=" << r << " col=" << col;
      ASSERT_LE(std::fabs(g - ref), bound)
          << "gemm n=" << c.n << " nr=" << nr << " nc=" << nc << " r=" << r << " col=" << col;
      ASSERT_LE(std::fabs(g - v), 2 * bound) << "gemm vs gemv r=" << r << " col=" << col;
      ASSERT_LE(std::fabs(v - ys[static_cast<size_t>(r)]), 2 * bound) << "vs scalar r=" << r;
    }
    // gemm writes only its nr x nc block: the ldy padding keeps its sentinel.
    for (size_t r = static_cast<size_t>(nr); r < ldy; ++r) {
      ASSERT_EQ(yg[static_cast<size_t>(col) * ldy + r], -1.0f);
    }
  }
}

void run_shapes(Isa isa, bool extreme) {
  const int64_t ns[] = {256, 512, 1024, 3072, 4096};
  const int64_t nrs[] = {1, 2, 3, 4, 5, 7, 16, 33};
  const int64_t ncs[] = {1, 2, 3, 4, 5, 8, 17};
  uint32_t seed = extreme ? 1000 : 1;
  for (int64_t n : ns) {
    const int offset = static_cast<int>(seed % 4);  // 0..3 bytes past the vector's base
    const Case c = make_case(n, 33, 17, offset, extreme, seed++);
    const Oracle o = oracle(c);
    for (int64_t nr : nrs) {
      for (int64_t nc : ncs) {
        check_case(isa, c, o, nr, nc);
        if (::testing::Test::HasFatalFailure()) return;
      }
    }
  }
}

TEST_P(Q6KTest, QuantizedWeightsMatchOracle) { run_shapes(GetParam(), false); }

TEST_P(Q6KTest, ExtremeScalesMatchOracle) { run_shapes(GetParam(), true); }

// Every misalignment of weights and activations (1..3 bytes, odd strides) on a small case.
TEST_P(Q6KTest, MisalignedPointers) {
  for (int offset = 0; offset < 4; ++offset) {
    const Case c = make_case(512, 5, 3, offset, offset % 2 == 1, 50 + offset);
    const Oracle o = oracle(c);
    check_case(GetParam(), c, o, 5, 3);
    if (HasFatalFailure()) return;
  }
}

// Tall matrices: gemm sweeps weight rows in panels of about 256 KB (78 rows at n = 4096, 19 at
// n = 16384); shapes that end mid-panel.
TEST_P(Q6KTest, GemmAcrossRowPanels) {
  const Case c1 = make_case(4096, 161, 9, 1, false, 70);
  check_case(GetParam(), c1, oracle(c1), 161, 9);
  if (HasFatalFailure()) return;
  const Case c2 = make_case(16384, 45, 10, 3, true, 71);
  check_case(GetParam(), c2, oracle(c2), 45, 10);
}

// Seconds of CPU time used by this thread: on a shared machine this leaves out the time other
// processes hold the core (caches and memory bandwidth stay shared).
double thread_seconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// Timings (LONGCTX_PERF=1): gemv GB/s of weight bytes streamed (one thread), gemm GFLOP/s, both
// per second of thread CPU time.
TEST_P(Q6KTest, Perf) {
  if (std::getenv("LONGCTX_PERF") == nullptr) GTEST_SKIP() << "set LONGCTX_PERF=1";
  const Isa isa = GetParam();
  const cpu::MatmulKernel& k = kernel(isa);
  for (int64_t rows : {4096, 16384}) {
    const int64_t n = 4096;
    const Case c = make_case(n, rows, 64, 0, false, 7);
    std::vector<float> y(static_cast<size_t>(rows * 64));
    k.gemv(n, c.w, c.w_stride, rows, c.a, y.data());
    const int iters = 20;
    const double t0 = thread_seconds();
    for (int it = 0; it < iters; ++it) k.gemv(n, c.w, c.w_stride, rows, c.a, y.data());
    const double s = (thread_seconds() - t0) / iters;
    const double bytes = static_cast<double>(c.w_stride) * static_cast<double>(rows);
    std::printf("[perf] %s Q6_K gemv %lldx%lld: %.3f ms, %.1f GB/s\n", cpu::isa_name(isa),
                static_cast<long long>(rows), static_cast<long long>(n), s * 1e3, bytes / s * 1e-9);
    if (rows != 4096) continue;
    const int64_t nc = 64;
    const double t1 = thread_seconds();
    const int giters = isa == Isa::kScalar ? 1 : 3;
    for (int it = 0; it < giters; ++it) {
      k.gemm(n, c.w, c.w_stride, rows, c.a, c.a_stride, nc, y.data(), static_cast<size_t>(rows));
    }
    const double gs = (thread_seconds() - t1) / giters;
    std::printf("[perf] %s Q6_K gemm %lldx%lld x %lld: %.1f ms, %.1f GFLOP/s\n", cpu::isa_name(isa),
                static_cast<long long>(rows), static_cast<long long>(n), static_cast<long long>(nc),
                gs * 1e3, 2.0 * rows * n * nc / gs * 1e-9);
  }
}

INSTANTIATE_TEST_SUITE_P(Isas, Q6KTest, ::testing::Values(Isa::kScalar, Isa::kAvx2, Isa::kAvx512),
                         [](const ::testing::TestParamInfo<Isa>& info) {
                           return std::string(cpu::isa_name(info.param));
                         });

}  // namespace
}  // namespace longctx
