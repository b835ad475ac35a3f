// The legacy CPU kernels (F32 / BF16 / Q8_0 quantizers; F32, F16, BF16, Q8_0, Q4_0 gemv and gemm)
// of every instruction-set path this CPU runs, against the scalar reference conversions and a
// double-precision oracle, over odd shapes, misaligned pointers and extreme 16-bit values.
// DISABLED_Throughput prints GB/s and GFLOP/s (run with --gtest_also_run_disabled_tests).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "kernels/cpu/isa.h"
#include "quant/float16.h"
#include "quant/quantize.h"

namespace longctx::cpu {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

class Legacy : public ::testing::TestWithParam<Isa> {
 protected:
  void SetUp() override {
    if (!isa_supported(GetParam())) GTEST_SKIP() << isa_name(GetParam()) << " not supported";
  }
  const KernelTable& table() const { return kernel_table(GetParam()); }
};

std::vector<float> random_floats(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = nd(rng);
  return v;
}

TEST_P(Legacy, F32QuantizerCopies) {
  const auto x = random_floats(37, 1);
  std::vector<uint8_t> out(4 * 37 + 3);
  table().quantize[static_cast<int>(ActType::kF32)](x.data(), out.data() + 3, 37);
  EXPECT_EQ(std::memcmp(out.data() + 3, x.data(), 4 * 37), 0);
}

TEST_P(Legacy, BF16QuantizerMatchesTheReferenceBitForBit) {
  std::vector<float> x = random_floats(1001, 2, 3.0f);  // read from x + 1
  // Ties of both parities, subnormals, the overflow edge, Inf and NaN with payloads.
  const uint32_t special[] = {0x3f808000u, 0x3f818000u, 0x00000001u, 0x00008000u, 0x80018000u,
                              0x7f7fffffu, 0xff7f8000u, 0x7f800000u, 0xff800000u, 0x7fc00001u,
                              0x7f800001u, 0xffa12345u, 0x00000000u, 0x80000000u};
  for (size_t i = 0; i < std::size(special); ++i) std::memcpy(&x[7 * i + 3], &special[i], 4);
  for (int64_t n : {1, 7, 8, 9, 15, 16, 17, 33, 1000}) {
    std::vector<uint8_t> out(2 * static_cast<size_t>(n) + 2);
    table().quantize[static_cast<int>(ActType::kBF16)](x.data() + 1, out.data() + 1, n);
    for (int64_t i = 0; i < n; ++i) {
      uint16_t got;
      std::memcpy(&got, out.data() + 1 + 2 * i, 2);
      ASSERT_EQ(got, fp32_to_bf16(x[static_cast<size_t>(i) + 1])) << "n " << n << " i " << i;
    }
  }
}

TEST_P(Legacy, Q8_0QuantizerMatchesTheReference) {
  const int64_t n = 32 * 200;
  std::vector<float> x = random_floats(static_cast<size_t>(n) + 1, 3);
  for (int64_t b = 0; b < n / 32; ++b) {  // block scales from 1e-6 to 1e4
    const float s = std::pow(10.0f, static_cast<float>(b % 11) - 6.0f);
    for (int j = 0; j < 32; ++j) x[static_cast<size_t>(1 + 32 * b + j)] *= s;
  }
  for (int j = 0; j < 32; ++j) x[1 + 32 + j] = 0.0f;  // an all-zero block: d = 0, q = 0
  // amax 127 gives d = 1 and id = 1 exactly: every x * id is an exact .5 tie.
  for (int j = 0; j < 32; ++j) x[1 + 64 + j] = (j == 0) ? 127.0f : static_cast<float>(j) - 16.5f;
  const size_t bytes = act_row_bytes(ActType::kQ8_0, n);
  std::vector<uint8_t> want(bytes), got(bytes + 3);
  ASSERT_TRUE(quantize_row(TensorType::Q8_0, x.data() + 1, want.data(), n).is_ok());
  table().quantize[static_cast<int>(ActType::kQ8_0)](x.data() + 1, got.data() + 3, n);
  // A SIMD path may round differently only where x * id lies within float rounding of a tie.
  int64_t mismatches = 0;
  for (int64_t b = 0; b < n / 32; ++b) {
    const uint8_t* w = want.data() + 34 * b;
    const uint8_t* g = got.data() + 3 + 34 * b;
    ASSERT_EQ(std::memcmp(w, g, 2), 0) << "d of block " << b;
    for (int j = 0; j < 32; ++j) {
      const int dq = static_cast<int8_t>(g[2 + j]) - static_cast<int8_t>(w[2 + j]);
      ASSERT_LE(std::abs(dq), 1) << "block " << b << " j " << j;
      mismatches += dq != 0;
    }
  }
  EXPECT_LE(mismatches, n / 10000);
}

// ---- Matmul against the oracle ----------------------------------------------------------------

// A random weight matrix of one type, packed row after row (w_stride = row bytes) at a base
// offset of 1..3 bytes, with its exact dequantization.
struct Weights {
  std::vector<uint8_t> bytes;
  const uint8_t* data;
  size_t stride;
  std::vector<float> deq;  // nr x n
};

// Elements of mixed magnitudes: 16-bit types get large, tiny and (f16) subnormal values.
float weight_value(TensorType t, std::mt19937& rng, bool extremes) {
  std::normal_distribution<float> nd(0.0f, 1.0f);
  const float v = nd(rng);
  const unsigned k = extremes ? rng() % 8 : 8;
  if (t == TensorType::F16) {
    if (k == 0) return std::fmin(std::fmax(v * 2.0e4f, -65000.0f), 65000.0f);  // max 65504
    if (k == 1) return v * 1.0e-4f;  // near the smallest normal, 6.1e-5
    if (k == 2) return v * 3.0e-6f;  // subnormal f16 (below 6.1e-5, above 6e-8)
  }
  if (t == TensorType::BF16 || t == TensorType::F32) {
    if (k == 0) return v * 1.0e30f;
    if (k == 1) return v * 1.0e-30f;
  }
  return v;
}

Weights make_weights(TensorType t, int64_t n, int64_t nr, uint32_t seed, bool extremes = true) {
  std::mt19937 rng(seed);
  Weights w;
  w.stride = row_bytes(t, static_cast<uint64_t>(n));
  const size_t off = 1 + seed % 3;
  w.bytes.resize(off + w.stride * static_cast<size_t>(nr));
  w.data = w.bytes.data() + off;
  w.deq.resize(static_cast<size_t>(n * nr));
  std::vector<float> row(static_cast<size_t>(n));
  for (int64_t r = 0; r < nr; ++r) {
    for (float& x : row) x = weight_value(t, rng, extremes);
    uint8_t* dst = w.bytes.data() + off + r * w.stride;
    LONGCTX_CHECK(quantize_row(t, row.data(), dst, n).is_ok());
    LONGCTX_CHECK(dequantize_row(t, dst, w.deq.data() + r * n, n).is_ok());
  }
  return w;
}

// Activation rows in the kernel's format (reference conversion), a_stride = row bytes + 5, base
// offset 1..3, and the values the kernel sees (converted back exactly).
struct Acts {
  std::vector<uint8_t> bytes;
  const uint8_t* data;
  size_t stride;
  std::vector<float> val;  // nc x n
};

Acts make_acts(ActType at, int64_t n, int64_t nc, uint32_t seed) {
  Acts a;
  a.stride = act_row_bytes(at, n) + 5;
  const size_t off = 1 + (seed + 1) % 3;
  a.bytes.resize(off + a.stride * static_cast<size_t>(nc));
  a.data = a.bytes.data() + off;
  a.val.resize(static_cast<size_t>(n * nc));
  const auto x = random_floats(static_cast<size_t>(n * nc), seed);
  for (int64_t c = 0; c < nc; ++c) {
    const float* xc = x.data() + c * n;
    uint8_t* dst = a.bytes.data() + off + c * a.stride;
    float* v = a.val.data() + c * n;
    if (at == ActType::kF32) {
      std::memcpy(dst, xc, static_cast<size_t>(n) * 4);
      std::memcpy(v, xc, static_cast<size_t>(n) * 4);
    } else if (at == ActType::kBF16) {
      for (int64_t i = 0; i < n; ++i) {
        const uint16_t h = fp32_to_bf16(xc[i]);
        std::memcpy(dst + 2 * i, &h, 2);
        v[i] = bf16_to_fp32(h);
      }
    } else {
      LONGCTX_CHECK(quantize_row(TensorType::Q8_0, xc, dst, n).is_ok());
      LONGCTX_CHECK(dequantize_row(TensorType::Q8_0, dst, v, n).is_ok());
    }
  }
  return a;
}

// Error bound of a float dot product: every kernel forms each product (or exact integer block
// sum times d_w * d_a) with one rounding, and adds it into a partial sum that receives at most
// n / 8 terms (8 or more accumulators / lanes; quantized kernels add one term per 32-block), then
// combines at most 16 partial sums pairwise plus a scalar tail of < 8 terms. Recursive summation
// of k terms errs by at most gamma_k ~ k * u (u = 2^-24) times the sum of their magnitudes, so
// k = n / 8 + 16 bounds |y - y_exact| <= c * sum_i |w_i a_i|. BF16 x BF16 products are exact in
// fp32 (8-bit significands).
double bound_c(int64_t n) { return (static_cast<double>(n) / 8.0 + 16.0) * std::ldexp(1.0, -24); }

struct Case {
  TensorType type;
  ActType act;
};

std::string label(TensorType t, int64_t n, int64_t nr, int64_t nc) {
  return std::string(type_name(t)) + " n " + std::to_string(n) + " nr " + std::to_string(nr) +
         " nc " + std::to_string(nc);
}

// Oracle: exact products summed in double (exact[c * nr + r]), and the magnitude sums for the
// bound (mag), for the first nr weight rows and nc activation columns.
void oracle(const Weights& w, const Acts& a, int64_t n, int64_t nr, int64_t nc,
            std::vector<double>* exact, std::vector<double>* mag) {
  exact->assign(static_cast<size_t>(nr * nc), 0.0);
  mag->assign(static_cast<size_t>(nr * nc), 0.0);
  for (int64_t c = 0; c < nc; ++c) {
    for (int64_t r = 0; r < nr; ++r) {
      double s = 0.0, m = 0.0;
      for (int64_t i = 0; i < n; ++i) {
        const double p = static_cast<double>(w.deq[r * n + i]) * a.val[c * n + i];
        s += p;
        m += std::fabs(p);
      }
      (*exact)[c * nr + r] = s;
      (*mag)[c * nr + r] = m;
    }
  }
}

void check_matmul(const KernelTable& tab, const KernelTable& scalar, TensorType type) {
  const MatmulKernel& k = tab.matmul[static_cast<int>(type)];
  const MatmulKernel& ks = scalar.matmul[static_cast<int>(type)];
  ASSERT_NE(k.gemv, nullptr);
  ASSERT_NE(k.gemm, nullptr);
  const int64_t kMaxR = 33, kMaxC = 17;
  uint32_t seed = 100;
  for (int64_t n : {32, 64, 96, 160, 1024, 4096 + 32}) {
    ++seed;
    const Weights w = make_weights(type, n, kMaxR, seed);
    const Acts a = make_acts(k.act, n, kMaxC, seed + 7);
    const Acts as = make_acts(ks.act, n, kMaxC, seed + 7);  // the scalar path's format
    std::vector<double> exact, mag;
    oracle(w, a, n, kMaxR, kMaxC, &exact, &mag);
    const double cb = bound_c(n);
    // The scalar path on the same weights (its own activation format when that differs).
    std::vector<float> ys(kMaxR * kMaxC);
    for (int64_t c = 0; c < kMaxC; ++c) {
      ks.gemv(n, w.data, w.stride, kMaxR, as.data + c * as.stride, ys.data() + c * kMaxR);
    }
    for (int64_t nr : {1, 2, 3, 4, 5, 7, 16, 33}) {
      for (int64_t nc : {1, 2, 3, 4, 5, 8, 17}) {
        const size_t ldy = static_cast<size_t>(nr) + 3;
        std::vector<float> y(ldy * static_cast<size_t>(nc), kNaN);
        k.gemm(n, w.data, w.stride, nr, a.data, a.stride, nc, y.data(), ldy);
        for (int64_t c = 0; c < nc; ++c) {
          std::vector<float> yv(static_cast<size_t>(nr) + 1, kNaN);
          k.gemv(n, w.data, w.stride, nr, a.data + c * a.stride, yv.data());
          ASSERT_TRUE(std::isnan(yv[nr])) << "gemv wrote past nr: " << label(type, n, nr, nc);
          for (int64_t r = 0; r < nr; ++r) {
            const double e = exact[c * kMaxR + r], tol = cb * mag[c * kMaxR + r];
            const float g = y[c * ldy + r];
            ASSERT_LE(std::fabs(g - e), tol) << "gemm " << label(type, n, nr, nc) << " r " << r
                                             << " c " << c << " exact " << e << " got " << g;
            ASSERT_LE(std::fabs(yv[r] - e), tol)
                << "gemv " << label(type, n, nr, nc) << " r " << r << " c " << c;
            ASSERT_LE(std::fabs(g - yv[r]), tol)
                << "gemm vs gemv " << label(type, n, nr, nc) << " r " << r << " c " << c;
            // Every path reads the same activation format per weight type (cpu_kernels.h); the
            // check stays conditional so a path that chose another format is not compared.
            if (ks.act == k.act) {
              ASSERT_LE(std::fabs(ys[c * kMaxR + r] - g), 2 * tol)
                  << "vs scalar " << label(type, n, nr, nc) << " r " << r << " c " << c;
            }
          }
          for (size_t r = static_cast<size_t>(nr); r < ldy && c + 1 < nc; ++r) {
            ASSERT_TRUE(std::isnan(y[c * ldy + r])) << "gemm wrote between columns";
          }
        }
      }
    }
  }
}

TEST_P(Legacy, F32Matmul) { check_matmul(table(), kernel_table(Isa::kScalar), TensorType::F32); }
TEST_P(Legacy, F16Matmul) { check_matmul(table(), kernel_table(Isa::kScalar), TensorType::F16); }
TEST_P(Legacy, BF16Matmul) { check_matmul(table(), kernel_table(Isa::kScalar), TensorType::BF16); }
TEST_P(Legacy, Q8_0Matmul) { check_matmul(table(), kernel_table(Isa::kScalar), TensorType::Q8_0); }
TEST_P(Legacy, Q4_0Matmul) { check_matmul(table(), kernel_table(Isa::kScalar), TensorType::Q4_0); }

// Q8_0 in the interleaved x16 layout (AVX-512 only): the repacking is a byte permutation, and
// the kernels on repacked rows meet the same oracle and bound as the row kernels, also with
// weights at -128 (a GGUF file may hold them; the quantizer never writes them).
TEST_P(Legacy, Q8_0X16MatmulOnRepackedRows) {
  const int id = static_cast<int>(TensorType::Q8_0);
  const MatmulKernel& k = table().matmul_x16[id];
  if (GetParam() != Isa::kAvx512) {
    EXPECT_EQ(k.gemv, nullptr);
    EXPECT_EQ(table().repack_x16[id], nullptr);
    return;
  }
  ASSERT_NE(k.gemv, nullptr);
  ASSERT_NE(k.gemm, nullptr);
  ASSERT_EQ(table().repack_x16[id], &repack_q8_0_x16);
  {  // no blocks: y is zero, the sum of nothing, from both kernels
    std::vector<float> y(16 * 3, kNaN);  // gemv: [0, 16); gemm, 2 columns: [16, 48)
    uint8_t dummy[64] = {};
    k.gemv(0, dummy, 0, 16, dummy, y.data());
    k.gemm(0, dummy, 0, 16, dummy, 0, 2, y.data() + 16, 16);
    for (float v : y) EXPECT_EQ(v, 0.0f);
  }
  const int64_t kRows = 48, kMaxC = 17;
  uint32_t seed = 300;
  // The kernels keep a per-call table of activation sums of 16,384 entries: 65,536 elements
  // (2,048 blocks) leave room for 8 columns, so nc = 17 goes in pieces of 8 + 8 + 1; 262,176
  // elements (8,193 blocks) for one, so nc = 2 goes in two; 524,320 elements (16,385 blocks)
  // for less than one, so rows go in two pieces along their length (the second adds to y).
  for (int64_t n : {32, 96, 1024, 4096 + 32, 16384 + 32, 65536, 262144 + 32, 524288 + 32}) {
    const bool huge = n > 100000;
    const int64_t cols = huge ? 2 : kMaxC;   // the oracle's columns
    const int64_t rows = huge ? 16 : kRows;  // and rows
    ++seed;
    Weights w = make_weights(TensorType::Q8_0, n, rows, seed);
    if (n == 96) {  // a few -128 weights (block 1 of row 3), dequantized alike
      uint8_t* blk = w.bytes.data() + (w.data - w.bytes.data()) + 3 * w.stride + 34;
      uint16_t dh;
      std::memcpy(&dh, blk, 2);
      for (int i = 0; i < 4; ++i) {
        blk[2 + 7 * i] = 0x80;
        w.deq[3 * n + 32 + 7 * i] = -128.0f * fp16_to_fp32(dh);
      }
    }
    const Acts a = make_acts(k.act, n, cols, seed + 7);
    std::vector<uint8_t> packed(w.data, w.data + w.stride * rows);
    repack_q8_0_x16(n, packed.data(), w.stride, rows);
    EXPECT_NE(std::memcmp(packed.data(), w.data, packed.size()), 0);
    std::vector<uint8_t> back = packed;
    unpack_q8_0_x16(n, back.data(), w.stride, rows);
    ASSERT_EQ(std::memcmp(back.data(), w.data, back.size()), 0) << "n " << n;
    const double cb = bound_c(n);
    std::vector<double> exact, mag;
    oracle(w, a, n, rows, cols, &exact, &mag);
    for (int64_t nr : {16, 32, 48}) {
      if (nr > rows) continue;
      // Column tiles: 1, 2, 3, 4, 4 + 1, 4 + 4 + 2, 4 x 4 + 1.
      for (int64_t nc : {1, 2, 3, 4, 5, 10, 17}) {
        if (nc > cols) continue;
        const size_t ldy = static_cast<size_t>(nr) + 3;
        std::vector<float> y(ldy * static_cast<size_t>(nc), kNaN);
        k.gemm(n, packed.data(), w.stride, nr, a.data, a.stride, nc, y.data(), ldy);
        for (int64_t c = 0; c < nc; ++c) {
          std::vector<float> yv(static_cast<size_t>(nr) + 1, kNaN);
          k.gemv(n, packed.data(), w.stride, nr, a.data + c * a.stride, yv.data());
          ASSERT_TRUE(std::isnan(yv[nr]));
          for (int64_t r = 0; r < nr; ++r) {
            const double e = exact[c * rows + r], m = mag[c * rows + r];
            ASSERT_LE(std::fabs(y[c * ldy + r] - e), cb * m)
                << "gemm " << label(TensorType::Q8_0, n, nr, nc) << " r " << r << " c " << c;
            ASSERT_LE(std::fabs(yv[r] - e), cb * m)
                << "gemv " << label(TensorType::Q8_0, n, nr, nc) << " r " << r << " c " << c;
          }
          for (size_t r = static_cast<size_t>(nr); r < ldy && c + 1 < nc; ++r) {
            ASSERT_TRUE(std::isnan(y[c * ldy + r])) << "gemm wrote between columns";
          }
        }
      }
    }
  }
}

TEST_P(Legacy, F32AndF16MatmulTakeAnyLength) {
  // Block size 1: lengths that leave a remainder of every SIMD width.
  for (TensorType t : {TensorType::F32, TensorType::F16, TensorType::BF16}) {
    const MatmulKernel& k = table().matmul[static_cast<int>(t)];
    for (int64_t n : {1, 5, 15, 17, 31, 33, 47, 100}) {
      const Weights w = make_weights(t, n, 5, static_cast<uint32_t>(n));
      const Acts a = make_acts(k.act, n, 3, static_cast<uint32_t>(n) + 1);
      std::vector<float> y(5 * 3);
      k.gemm(n, w.data, w.stride, 5, a.data, a.stride, 3, y.data(), 5);
      for (int64_t c = 0; c < 3; ++c) {
        for (int64_t r = 0; r < 5; ++r) {
          double s = 0.0, m = 0.0;
          for (int64_t i = 0; i < n; ++i) {
            const double p = static_cast<double>(w.deq[r * n + i]) * a.val[c * n + i];
            s += p;
            m += std::fabs(p);
          }
          ASSERT_LE(std::fabs(y[c * 5 + r] - s), bound_c(n) * m) << label(t, n, r, c);
        }
      }
    }
  }
}

// ---- Throughput (not a test: run explicitly) ---------------------------------------------------

// Thread CPU time: the build machine is shared, and wall time would count time descheduled.
double cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

TEST_P(Legacy, DISABLED_Throughput) {
  // LONGCTX_BENCH_ROWS=64 keeps the weights in L2 (compute bound instead of memory bound).
  const char* rows_env = std::getenv("LONGCTX_BENCH_ROWS");
  const int64_t n = 4096, nr = rows_env ? std::atoll(rows_env) : 4096, nc = 64;
  for (TensorType t :
       {TensorType::Q8_0, TensorType::Q4_0, TensorType::F16, TensorType::BF16, TensorType::F32}) {
    const MatmulKernel& k = table().matmul[static_cast<int>(t)];
    const Weights w = make_weights(t, n, nr, 1, /*extremes=*/false);  // typical weights
    const Acts a = make_acts(k.act, n, nc, 2);
    std::vector<float> y(static_cast<size_t>(nr * nc));
    const double wbytes = static_cast<double>(w.stride) * nr;
    k.gemv(n, w.data, w.stride, nr, a.data, y.data());
    int reps = 0;
    double t0 = cpu_seconds();
    while ((cpu_seconds() - t0) < 0.5 || reps < 3) {
      k.gemv(n, w.data, w.stride, nr, a.data, y.data());
      ++reps;
    }
    const double gv = wbytes * reps / (cpu_seconds() - t0) / 1e9;
    t0 = cpu_seconds();
    reps = 0;
    while ((cpu_seconds() - t0) < 1.0 || reps < 2) {
      k.gemm(n, w.data, w.stride, nr, a.data, a.stride, nc, y.data(), nr);
      ++reps;
    }
    const double gf = 2.0 * n * nr * nc * reps / (cpu_seconds() - t0) / 1e9;
    std::printf("%-7s %-5s gemv %6.1f GB/s   gemm(%lldx%lld x %lld) %6.1f GFLOP/s\n",
                isa_name(GetParam()), type_name(t), gv, static_cast<long long>(nr),
                static_cast<long long>(n), static_cast<long long>(nc), gf);
  }
}

INSTANTIATE_TEST_SUITE_P(Paths, Legacy, ::testing::Values(Isa::kScalar, Isa::kAvx2, Isa::kAvx512),
                         [](const auto& info) { return std::string(isa_name(info.param)); });

}  // namespace
}  // namespace longctx::cpu
