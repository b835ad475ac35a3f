// CpuAttention over a quantized KV cache (Q8_0 / Q4_0 K and V, and mixed pairs with float types)
// against ref::attention on every ISA path this CPU runs: GQA groups from 1 to 16, head sizes
// 64 / 96 / 128, decode at depth (key chunks merged), prefill blocks with the causal limit
// inside a tile, misaligned caches, extreme logits. The reference multiplies a block-type K
// with the query quantized to Q8_0 (as the kernels do); a separate test pins that reference
// to plain attention over the dequantized operands.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "isa_params.h"
#include "kernels/cpu/attention.h"
#include "kernels/cpu/isa.h"
#include "quant/blocks.h"
#include "quant/float16.h"
#include "quant/quantize.h"

namespace longctx::cpu {
namespace {

constexpr double kU = 5.96e-8;  // f32 unit roundoff 2^-24

struct Shape {
  int64_t n_head, n_head_kv, head_dim;
};

// K or V of n_kv tokens in `type`: packed bytes `offset` bytes past an aligned address, and the
// values they hold (dequantized), [n_kv][n_head_kv][head_dim].
struct Kv {
  std::vector<uint8_t> bytes;
  std::vector<float> vals;
  ref::KvView view;
};

Kv make_kv(TensorType type, int64_t n_kv, const Shape& s, std::mt19937& rng, int offset,
           float gain = 1.0f) {
  std::normal_distribution<float> dist(0.0f, gain);
  const int64_t n = n_kv * s.n_head_kv * s.head_dim;
  std::vector<float> x(static_cast<size_t>(n));
  for (float& f : x) f = dist(rng);
  Kv kv;
  const size_t nbytes = row_bytes(type, static_cast<uint64_t>(n));
  kv.bytes.resize(nbytes + 128);
  const uintptr_t addr = reinterpret_cast<uintptr_t>(kv.bytes.data());
  uint8_t* base = kv.bytes.data() + (64 - addr % 64) % 64 + offset;
  EXPECT_TRUE(quantize_row(type, x.data(), base, n).is_ok());
  kv.vals.resize(static_cast<size_t>(n));
  EXPECT_TRUE(dequantize_row(type, base, kv.vals.data(), n).is_ok());
  kv.view = ref::KvView{type, base, n_kv};
  return kv;
}

struct Case {
  Shape shape;
  TensorType tk, tv;
  int64_t n_q, q_pos0, n_kv;
  float q_gain = 1.0f;
  int offset = 1;
};

bool blocks(TensorType t) { return t == TensorType::Q8_0 || t == TensorType::Q4_0; }

// Error bound against the double-precision reference, as in test_cpu_attention.cpp: a score
// is off by at most (terms + 4) u A, A = scale * max_j (sum of |terms|) (terms: for a
// block-type K the per-block products |d_q d_k I_b| of the Q8_0 query, each a convert, a scale
// product and an FMA; for a float K the |q_d k_d|), the weights then by that relative error
// plus exp2's, the normalised output twice that, times max |v|, plus the f32 sums over n keys
// (8 u sqrt(n)).
//
// A block-type V adds the quantized weights of the integer P V (attention_quant_inl.h): each
// key's weight times |d_v| is off by at most half a step, a step being 1 / TOP of its tile's
// largest weight times its tile's largest |d_v| in the block (over all the tile's keys, also
// those past the row's causal limit), TOP = 2^16 - 1 for two base-256 digits (Q8_0 V) and 2^14
// - 1 for AVX2's base-128 ones, 255 for one digit (Q4_0 V) and 127 for AVX2's (the smaller is
// used). Tiles are at most 16 keys wide, so both maxima are
// bounded by those over the keys within 15 positions of j, whatever the kernel's tiling:
// |err O_d| <= sum_j 0.5 / TOP * Pwin_j * Dwin_jb * |w_jd| / sum_j p_j, with p_j the exact
// weights relative to the row's max and w_jd = v_jd / d_jb the block's integer, times 1.05 for
// the f32 arithmetic around it. That term is per output element: the bound is a vector like the
// output.
std::vector<double> bound(const Case& c, const std::vector<float>& q, const Kv& k, const Kv& v) {
  const int64_t hd = c.shape.head_dim, group = c.shape.n_head / c.shape.n_head_kv;
  const int64_t hkv = c.shape.n_head_kv, nb = hd / 32;
  const bool kb = blocks(c.tk), vb = blocks(c.tv);
  const double top = c.tv == TensorType::Q8_0 ? 16383.0 : 127.0;
  // The query as a block-type K meets it: Q8_0, dequantized (d * q8 is exact in f32).
  std::vector<float> qd = q;
  if (kb) {
    std::vector<uint8_t> q8(row_bytes(TensorType::Q8_0, q.size()));
    EXPECT_TRUE(quantize_row(TensorType::Q8_0, q.data(), q8.data(), int64_t(q.size())).is_ok());
    EXPECT_TRUE(dequantize_row(TensorType::Q8_0, q8.data(), qd.data(), int64_t(q.size())).is_ok());
  }
  // |d_v| of every (token, kv head, block) of a block-type V, read from its bytes.
  std::vector<double> dv;
  if (vb) {
    const int64_t block_bytes = c.tv == TensorType::Q8_0 ? 34 : 18;
    const auto* base = static_cast<const uint8_t*>(v.view.data);
    dv.resize(static_cast<size_t>(c.n_kv * hkv * nb));
    for (size_t i = 0; i < dv.size(); ++i) {
      uint16_t h;
      std::memcpy(&h, base + i * block_bytes, 2);
      dv[i] = std::fabs(double(fp16_to_fp32(h)));
    }
  }
  const int64_t span = kb ? 32 : 1;  // dims summed exactly before one rounded term
  const double scale = 1.0 / std::sqrt(double(hd));
  double a = 0.0, vmax = 0.0;
  std::vector<double> pq(q.size(), 0.0);
  for (float x : v.vals) vmax = std::max(vmax, double(std::fabs(x)));
  std::vector<double> sc, pw, err(static_cast<size_t>(hd));
  for (int64_t t = 0; t < c.n_q; ++t) {
    for (int64_t h = 0; h < c.shape.n_head; ++h) {
      const float* qh = qd.data() + (t * c.shape.n_head + h) * hd;
      const int64_t n = c.q_pos0 + t + 1, g = h / group;
      sc.assign(static_cast<size_t>(n), 0.0);
      for (int64_t j = 0; j < n; ++j) {
        const float* kj = k.vals.data() + (j * hkv + g) * hd;
        double sum = 0.0, dot = 0.0;
        for (int64_t b = 0; b < hd; b += span) {
          double term = 0.0;
          for (int64_t d = b; d < b + span; ++d) term += double(qh[d]) * kj[d];
          sum += std::fabs(term);
          dot += term;
        }
        a = std::max(a, scale * sum);
        sc[j] = scale * dot;
      }
      if (!vb) continue;
      const double mx = *std::max_element(sc.begin(), sc.end());
      double lsum = 0.0;
      for (double& x : sc) lsum += (x = std::exp(x - mx));
      pw.assign(static_cast<size_t>(n), 0.0);
      for (int64_t j = 0; j < n; ++j) {
        for (int64_t i = std::max<int64_t>(0, j - 15); i <= std::min(n - 1, j + 15); ++i) {
          pw[j] = std::max(pw[j], sc[i]);
        }
      }
      std::fill(err.begin(), err.end(), 0.0);
      for (int64_t b = 0; b < nb; ++b) {
        for (int64_t j = 0; j < n; ++j) {
          double dwin = 0.0;
          for (int64_t i = std::max<int64_t>(0, j - 15); i <= std::min(c.n_kv - 1, j + 15); ++i) {
            dwin = std::max(dwin, dv[(i * hkv + g) * nb + b]);
          }
          const double d = dv[(j * hkv + g) * nb + b];
          if (d == 0.0) continue;
          const float* vj = v.vals.data() + (j * hkv + g) * hd + 32 * b;
          for (int64_t e = 0; e < 32; ++e) err[32 * b + e] += pw[j] * dwin * std::fabs(vj[e]) / d;
        }
      }
      for (int64_t d = 0; d < hd; ++d) {
        pq[static_cast<size_t>((t * c.shape.n_head + h) * hd + d)] =
            1.05 * 0.5 / top * err[d] / lsum;
      }
    }
  }
  const double terms = kb ? 3.0 * double(hd / 32) : double(hd);
  const double delta = (terms + 4) * kU * a + 1e-6;
  const double base = vmax * (2.0 * delta + 8.0 * kU * std::sqrt(double(c.n_kv))) + 1e-7;
  for (double& x : pq) x += base;
  return pq;
}

void check_case(Isa isa, ThreadPool& pool, const Case& c, uint32_t seed) {
  std::mt19937 rng(seed);
  const int64_t hd = c.shape.head_dim;
  Kv k = make_kv(c.tk, c.n_kv, c.shape, rng, c.offset);
  Kv v = make_kv(c.tv, c.n_kv, c.shape, rng, (c.offset + 2) % 4);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> q(static_cast<size_t>(c.n_q * c.shape.n_head * hd));
  for (float& x : q) x = dist(rng) * c.q_gain;
  ref::AttentionParams p;
  p.shape = {c.shape.n_head, c.shape.n_head_kv, hd};
  p.q_pos0 = c.q_pos0;
  std::vector<float> want(q.size()), got(q.size(), NAN);
  ASSERT_TRUE(ref::attention(p, q.data(), c.n_q, k.view, v.view, want.data()).is_ok());
  CpuAttention attn(isa);
  attn.run(pool, p, q.data(), c.n_q, k.view, v.view, got.data());
  const std::vector<double> tol = bound(c, q, k, v);
  for (size_t i = 0; i < want.size(); ++i) {
    ASSERT_TRUE(std::isfinite(got[i])) << i;
    ASSERT_NEAR(got[i], want[i], tol[i])
        << "isa " << isa_name(isa) << " heads " << c.shape.n_head << "/" << c.shape.n_head_kv
        << " hd " << hd << " K " << type_name(c.tk) << " V " << type_name(c.tv) << " n_q " << c.n_q
        << " q_pos0 " << c.q_pos0 << " n_kv " << c.n_kv << " threads " << pool.size() << " at "
        << i;
  }
}

struct Pair {
  TensorType k, v;
};
const Pair kPairs[] = {{TensorType::Q8_0, TensorType::Q8_0}, {TensorType::Q4_0, TensorType::Q4_0},
                       {TensorType::Q8_0, TensorType::Q4_0}, {TensorType::Q4_0, TensorType::Q8_0},
                       {TensorType::F16, TensorType::Q8_0},  {TensorType::Q8_0, TensorType::F16},
                       {TensorType::BF16, TensorType::Q4_0}, {TensorType::Q4_0, TensorType::F32},
                       {TensorType::F16, TensorType::BF16}};

class QuantAttentionTest : public ::testing::TestWithParam<Isa> {};

TEST_P(QuantAttentionTest, MatchesReferenceAcrossShapesAndTypes) {
  const Shape shapes[] = {{1, 1, 64}, {2, 1, 128}, {16, 8, 128}, {8, 2, 96}, {32, 4, 64}};
  ThreadPool pools[] = {ThreadPool(1), ThreadPool(2), ThreadPool(3)};
  uint32_t seed = 1;
  for (const Shape& s : shapes) {
    for (const Pair& pr : kPairs) {
      for (int64_t n_q : {1, 3, 17, 70}) {
        const int64_t n_kv = n_q + 37;
        for (int64_t pos0 : {int64_t{0}, n_kv - n_q}) {
          Case c{s, pr.k, pr.v, n_q, pos0, n_kv};
          c.offset = 1 + seed % 3;
          check_case(GetParam(), pools[seed % 3], c, seed);
          ++seed;
          if (HasFatalFailure()) return;
        }
      }
    }
  }
}

TEST_P(QuantAttentionTest, LongDecodeSplitsKeysAndMerges) {
  ThreadPool pools[] = {ThreadPool(1), ThreadPool(2), ThreadPool(3)};
  uint32_t seed = 100;
  // GQA groups of 2 (Qwen3-0.6B), 8 (30B-A3B), 4 (8B), 5 (14B), 16 (235B-A22B), 1 (MHA).
  for (const Shape& s : {Shape{16, 8, 128}, Shape{32, 4, 128}, Shape{32, 8, 128}, Shape{40, 8, 128},
                         Shape{64, 4, 128}, Shape{4, 4, 64}}) {
    for (const Pair& pr : {kPairs[0], kPairs[1], kPairs[2], kPairs[4]}) {
      for (int64_t n_kv : {1, 33, 1500}) {
        Case c{s, pr.k, pr.v, 1, n_kv - 1, n_kv};
        check_case(GetParam(), pools[seed % 3], c, seed);
        ++seed;
        if (HasFatalFailure()) return;
      }
    }
  }
}

TEST_P(QuantAttentionTest, PrefillAtDepthAndFewBlocks) {
  ThreadPool pool(2);
  uint32_t seed = 300;
  for (const Pair& pr : {kPairs[0], kPairs[1], kPairs[3]}) {
    Case c{{16, 8, 128}, pr.k, pr.v, 70, 400, 470};
    check_case(GetParam(), pool, c, seed++);
    Case d{{32, 4, 128}, pr.k, pr.v, 24, 1200, 1224};
    check_case(GetParam(), pool, d, seed++);
    Case e{{2, 1, 64}, pr.k, pr.v, 128, 900, 1028};
    check_case(GetParam(), pool, e, seed++);
    if (HasFatalFailure()) return;
  }
}

TEST_P(QuantAttentionTest, ExtremeLogitsStayFinite) {
  ThreadPool pool(2);
  for (float gain : {30.0f, 300.0f}) {
    for (const Pair& pr : {kPairs[0], kPairs[1], kPairs[4]}) {
      Case c{{8, 2, 128}, pr.k, pr.v, 17, 600, 617, gain};
      check_case(GetParam(), pool, c, 11);
      Case d{{16, 8, 128}, pr.k, pr.v, 1, 3000, 3001, gain};
      check_case(GetParam(), pool, d, 12);
      if (HasFatalFailure()) return;
    }
  }
}

// The reference's block-type K path is plain attention over the dequantized operands: the
// integer formulation sum_b d_q d_k sum q8 k equals (dequantized q) . (dequantized k).
TEST(QuantAttentionReference, EqualsAttentionOverDequantizedOperands) {
  std::mt19937 rng(77);
  const Shape s{8, 2, 64};
  const int64_t n_kv = 45, n_q = 5, q_pos0 = 40;
  for (TensorType t : {TensorType::Q8_0, TensorType::Q4_0}) {
    Kv k = make_kv(t, n_kv, s, rng, 1);
    Kv v = make_kv(t, n_kv, s, rng, 3);
    std::normal_distribution<float> dist(0.0f, 2.0f);
    std::vector<float> q(static_cast<size_t>(n_q * s.n_head * s.head_dim));
    for (float& x : q) x = dist(rng);
    // The query as the kernels see it: Q8_0 blocks, dequantized (d * q8 is exact in f32).
    std::vector<float> qd(q.size());
    std::vector<uint8_t> q8(row_bytes(TensorType::Q8_0, q.size()));
    ASSERT_TRUE(quantize_row(TensorType::Q8_0, q.data(), q8.data(), int64_t(q.size())).is_ok());
    ASSERT_TRUE(dequantize_row(TensorType::Q8_0, q8.data(), qd.data(), int64_t(q.size())).is_ok());
    ref::AttentionParams p;
    p.shape = {s.n_head, s.n_head_kv, s.head_dim};
    p.q_pos0 = q_pos0;
    std::vector<float> got(q.size()), want(q.size());
    ASSERT_TRUE(ref::attention(p, q.data(), n_q, k.view, v.view, got.data()).is_ok());
    const ref::KvView kf{TensorType::F32, k.vals.data(), n_kv},
        vf{TensorType::F32, v.vals.data(), n_kv};
    ASSERT_TRUE(ref::attention(p, qd.data(), n_q, kf, vf, want.data()).is_ok());
    for (size_t i = 0; i < got.size(); ++i) {
      // Both sum the same exact products in double; only the summation order differs.
      ASSERT_NEAR(got[i], want[i], 1e-5 * (1.0 + std::fabs(want[i]))) << type_name(t) << " " << i;
    }
  }
}

TEST(QuantAttentionReference, RejectsBlockTypesOverOddHeadSizes) {
  std::vector<uint8_t> buf(4096);
  std::vector<float> q(64), out(64);
  ref::AttentionParams p{{2, 1, 16}, 0, 0.0f};
  const ref::KvView k{TensorType::Q8_0, buf.data(), 1};
  const Status st = ref::attention(p, q.data(), 1, k, k, out.data());
  EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(st.message().find("multiple of 32"), std::string::npos) << st.message();
  const ref::KvView k41{TensorType::Q4_1, buf.data(), 1};
  EXPECT_EQ(ref::attention(p, q.data(), 1, k41, k41, out.data()).code(), ErrorCode::kUnsupported);
}

// Timing, opt-in (LONGCTX_ATTN_BENCH=1): decode at n_kv 16384 (LONGCTX_ATTN_NKV) and prefill
// of 512 queries at 4096, per KV type (f16 through the float kernels), 1 and 2 threads: ms
// per call and GB/s of K + V read.
TEST_P(QuantAttentionTest, Perf) {
  if (std::getenv("LONGCTX_ATTN_BENCH") == nullptr) GTEST_SKIP() << "set LONGCTX_ATTN_BENCH=1";
  const int64_t n_kv =
      std::getenv("LONGCTX_ATTN_NKV") ? std::atoll(std::getenv("LONGCTX_ATTN_NKV")) : 16384;
  const bool decode_only = std::string(std::getenv("LONGCTX_ATTN_BENCH")) == "decode";
  std::mt19937 rng(3);
  for (const Shape& s : {Shape{16, 8, 128}, Shape{32, 4, 128}, Shape{32, 8, 128}}) {
    for (const Pair& pr : {Pair{TensorType::F16, TensorType::F16}, kPairs[0], kPairs[1]}) {
      Kv k = make_kv(pr.k, n_kv, s, rng, 0);
      Kv v = make_kv(pr.v, n_kv, s, rng, 0);
      const double bytes = double(k.bytes.size() + v.bytes.size() - 256);
      std::vector<float> q(static_cast<size_t>(512 * s.n_head * s.head_dim), 0.5f);
      std::vector<float> out(q.size());
      for (int threads : {1, 2}) {
        ThreadPool pool(threads);
        CpuAttention attn(GetParam());
        for (int pass = 0; pass < (decode_only ? 1 : 2); ++pass) {
          ref::AttentionParams p;
          p.shape = {s.n_head, s.n_head_kv, s.head_dim};
          const int64_t n_q = pass == 0 ? 1 : 512;
          p.q_pos0 = pass == 0 ? n_kv - 1 : 4096;
          const int reps = pass == 0 ? 20 : 1;
          attn.run(pool, p, q.data(), n_q, k.view, v.view, out.data());
          const auto t0 = std::chrono::steady_clock::now();
          for (int i = 0; i < reps; ++i)
            attn.run(pool, p, q.data(), n_q, k.view, v.view, out.data());
          const double wall =
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / reps;
          std::printf("[perf] %s %s %lld/%lld/%lld K %s V %s, %d thr: %.3f ms",
                      isa_name(GetParam()), pass == 0 ? "decode" : "prefill-512@4096",
                      (long long)s.n_head, (long long)s.n_head_kv, (long long)s.head_dim,
                      type_name(pr.k), type_name(pr.v), threads, 1e3 * wall);
          if (pass == 0) std::printf(" %.1f GB/s", bytes / wall / 1e9);
          std::printf("\n");
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Isas, QuantAttentionTest, ::testing::ValuesIn(supported_isas()),
                         IsaParamName());

}  // namespace
}  // namespace longctx::cpu
