// CpuAttention (flash-style tiles, online softmax, key-chunk merge) against ref::attention on
// every ISA path this CPU runs: f32/f16/bf16 K/V at misaligned addresses, GQA groups, head sizes,
// causal offsets, pool sizes, scratch reuse across shapes, extreme logits; plus an opt-in timing.
#include "kernels/cpu/attention.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "isa_params.h"
#include "kernels/cpu/isa.h"
#include "quant/float16.h"

namespace longctx::cpu {
namespace {

constexpr float kU = 5.96e-8f;  // f32 unit roundoff 2^-24

struct Shape {
  int64_t n_head, n_head_kv, head_dim;
};

// K or V of n_kv tokens: the float values (rounded to `type`, so the reference and the kernel
// see the same numbers) and their packed bytes starting `offset` bytes past an aligned address.
struct Kv {
  std::vector<float> vals;
  std::vector<uint8_t> bytes;
  ref::KvView view;
};

Kv make_kv(TensorType type, int64_t n, std::mt19937& rng, int offset) {
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  Kv kv;
  kv.vals.resize(static_cast<size_t>(n));
  const size_t es = type == TensorType::F32 ? 4 : 2;
  kv.bytes.resize(static_cast<size_t>(n) * es + 128);
  const uintptr_t addr = reinterpret_cast<uintptr_t>(kv.bytes.data());
  uint8_t* base = kv.bytes.data() + (64 - addr % 64) % 64 + offset;
  for (int64_t i = 0; i < n; ++i) {
    float f = dist(rng);
    if (type == TensorType::F16) {
      const uint16_t h = fp32_to_fp16(f);
      f = fp16_to_fp32(h);
      std::memcpy(base + 2 * i, &h, 2);
    } else if (type == TensorType::BF16) {
      const uint16_t h = fp32_to_bf16(f);
      f = bf16_to_fp32(h);
      std::memcpy(base + 2 * i, &h, 2);
    } else {
      std::memcpy(base + 4 * i, &f, 4);
    }
    kv.vals[static_cast<size_t>(i)] = f;
  }
  kv.view = ref::KvView{type, base, 0};
  return kv;
}

struct Case {
  Shape shape;
  TensorType type;
  int64_t n_q, q_pos0, n_kv;
  float q_gain = 1.0f;  // multiplies the queries: large values give near one-hot softmaxes
  int offset = 1;
};

// Error bound of out = sum_j p_j v_j against the double-precision reference. A score s_j =
// scale q.k_j in f32 with FMAs over head_dim terms (plus the rounding of q * scale * log2 e and
// the reference's own rounding of s_j to f32) is off by at most (hd + 4) u A, A = scale *
// max_j sum_d |q_d k_jd|; a weight exp(s_j - m) then has that relative error plus the exp2
// polynomial's (< 1e-6 with its argument rounding), and the normalised output twice that
// (numerator and l), times max|v|. The f32 sums over n keys (acc and l, tile by tile) add
// rounding errors of random sign: 8 u sqrt(n) relative covers them with a wide margin.
float bound(const Case& c, const std::vector<float>& q, const Kv& k, const Kv& v) {
  const int64_t hd = c.shape.head_dim, group = c.shape.n_head / c.shape.n_head_kv;
  const double scale = 1.0 / std::sqrt(double(hd));
  double a = 0.0, vmax = 0.0;
  for (float x : v.vals) vmax = std::max(vmax, double(std::fabs(x)));
  for (int64_t t = 0; t < c.n_q; ++t) {
    for (int64_t h = 0; h < c.shape.n_head; ++h) {
      const float* qh = q.data() + (t * c.shape.n_head + h) * hd;
      for (int64_t j = 0; j <= c.q_pos0 + t; ++j) {
        const float* kj = k.vals.data() + (j * c.shape.n_head_kv + h / group) * hd;
        double s = 0.0;
        for (int64_t d = 0; d < hd; ++d) s += std::fabs(double(qh[d]) * kj[d]);
        a = std::max(a, scale * s);
      }
    }
  }
  const double delta = (hd + 4) * kU * a + 1e-6;
  return static_cast<float>(vmax * (2.0 * delta + 8.0 * kU * std::sqrt(double(c.n_kv))) + 1e-7);
}

void check_case(Isa isa, ThreadPool& pool, const Case& c, uint32_t seed) {
  std::mt19937 rng(seed);
  const int64_t hd = c.shape.head_dim, kvn = c.n_kv * c.shape.n_head_kv * hd;
  Kv k = make_kv(c.type, kvn, rng, c.offset);
  Kv v = make_kv(c.type, kvn, rng, (c.offset + 2) % 4);
  k.view.n_kv = v.view.n_kv = c.n_kv;
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> q(static_cast<size_t>(c.n_q * c.shape.n_head * hd));
  for (float& x : q) x = dist(rng) * c.q_gain;
  ref::AttentionParams p;
  p.shape = {c.shape.n_head, c.shape.n_head_kv, c.shape.head_dim};
  p.q_pos0 = c.q_pos0;
  std::vector<float> want(q.size()), got(q.size(), NAN);
  ASSERT_TRUE(ref::attention(p, q.data(), c.n_q, k.view, v.view, want.data()).is_ok());
  CpuAttention attn(isa);
  attn.run(pool, p, q.data(), c.n_q, k.view, v.view, got.data());
  const float tol = bound(c, q, k, v);
  for (size_t i = 0; i < want.size(); ++i) {
    ASSERT_TRUE(std::isfinite(got[i])) << i;
    ASSERT_NEAR(got[i], want[i], tol)
        << "isa " << isa_name(isa) << " heads " << c.shape.n_head << "/" << c.shape.n_head_kv
        << " hd " << hd << " type " << int(c.type) << " n_q " << c.n_q << " q_pos0 " << c.q_pos0
        << " n_kv " << c.n_kv << " threads " << pool.size() << " at " << i;
  }
}

class CpuAttentionTest : public ::testing::TestWithParam<Isa> {};

TEST_P(CpuAttentionTest, MatchesReferenceAcrossShapes) {
  // head_dim 80 and 72 leave remainders in the P V tiles (64 + 16 dims; 72 is not a multiple of
  // 16, so the AVX-512 path hands it to the AVX2 kernels: 64 + 8).
  const Shape shapes[] = {{1, 1, 64},  {2, 1, 128}, {16, 8, 128}, {32, 4, 64},
                          {8, 2, 128}, {4, 2, 80},  {4, 1, 72}};
  const TensorType types[] = {TensorType::F32, TensorType::F16, TensorType::BF16};
  ThreadPool pools[] = {ThreadPool(1), ThreadPool(2), ThreadPool(3)};
  uint32_t seed = 1;
  int pi = 0;
  for (const Shape& s : shapes) {
    for (TensorType t : types) {
      for (int64_t n_q : {1, 3, 17, 70}) {
        const int64_t n_kv = n_q + 37;
        for (int64_t pos0 : {int64_t{0}, int64_t{5}, n_kv - n_q}) {
          if (pos0 + n_q > n_kv) continue;
          Case c{s, t, n_q, pos0, n_kv};
          c.offset = 1 + seed % 3;
          check_case(GetParam(), pools[pi++ % 3], c, seed++);
          if (HasFatalFailure()) return;
        }
      }
    }
  }
}

TEST_P(CpuAttentionTest, LongDecodeSplitsKeysAndMerges) {
  ThreadPool pools[] = {ThreadPool(1), ThreadPool(2), ThreadPool(3)};
  uint32_t seed = 100;
  // GQA groups of 2, 8, 2, 4 and 4 query heads (the 0.6B's, the 30B-A3B's, the 8B's: decode
  // jobs of 2, 8 and 4 rows; head_dim 64 and 128 give one and two passes of the AVX-512 decode
  // kernel's P V over the dims), and of 5, 7 and 3 (Qwen3-14B, Qwen2.5-7B; jobs the AVX-512
  // decode kernel pads to 8 and 4 rows).
  for (const Shape& s :
       {Shape{16, 8, 128}, Shape{32, 4, 128}, Shape{2, 1, 64}, Shape{8, 2, 64}, Shape{32, 8, 128},
        Shape{40, 8, 128}, Shape{28, 4, 128}, Shape{6, 2, 64}}) {
    for (TensorType t : {TensorType::F16, TensorType::BF16, TensorType::F32}) {
      for (int64_t n_kv : {1, 600, 4999}) {
        Case c{s, t, 1, n_kv - 1, n_kv};
        check_case(GetParam(), pools[seed % 3], c, seed);
        ++seed;
        if (HasFatalFailure()) return;
      }
    }
  }
  // Two queries of a group of 4: 8 rows per kv head; the key chunks both queries see fully run
  // the decode kernel with rows of two queries, the last chunk another kernel.
  for (int64_t n_kv : {602, 4999}) {
    Case c{{8, 2, 128}, TensorType::F16, 2, n_kv - 2, n_kv};
    check_case(GetParam(), pools[seed % 3], c, seed);
    ++seed;
  }
}

// Few query blocks at depth: the key range is also cut into chunks, merged per query row.
TEST_P(CpuAttentionTest, FewBlocksSplitKeysAndMerge) {
  ThreadPool pools[] = {ThreadPool(1), ThreadPool(2), ThreadPool(3)};
  uint32_t seed = 300;
  for (ThreadPool& pool : pools) {
    Case c{{2, 1, 64}, TensorType::F16, 128, 900, 1028};
    check_case(GetParam(), pool, c, seed++);
    Case d{{32, 4, 128}, TensorType::BF16, 40, 2000, 2040};
    check_case(GetParam(), pool, d, seed++);
    if (HasFatalFailure()) return;
  }
}

TEST_P(CpuAttentionTest, PrefillAtDepth) {
  ThreadPool pool(2);
  Case c{{16, 8, 128}, TensorType::F16, 70, 900, 970};
  check_case(GetParam(), pool, c, 7);
  Case c2{{8, 2, 64}, TensorType::BF16, 33, 1000, 1100};
  check_case(GetParam(), pool, c2, 8);
}

TEST_P(CpuAttentionTest, ExtremeLogitsStayFinite) {
  ThreadPool pool(2);
  for (float gain : {30.0f, 300.0f}) {
    Case c{{8, 2, 128}, TensorType::F16, 17, 600, 617, gain};
    check_case(GetParam(), pool, c, 11);
    Case d{{16, 8, 128}, TensorType::F32, 1, 3000, 3001, gain};
    check_case(GetParam(), pool, d, 12);
  }
}

// One object across growing and shrinking shapes gives the same bits as a fresh object.
TEST_P(CpuAttentionTest, ScratchReuseMatchesFreshObject) {
  ThreadPool pool(3);
  CpuAttention reused(GetParam());
  std::mt19937 rng(5);
  const Case cases[] = {{{8, 2, 64}, TensorType::F16, 3, 10, 13},
                        {{32, 4, 128}, TensorType::F16, 70, 500, 570},
                        {{16, 8, 128}, TensorType::BF16, 1, 2999, 3000},
                        {{2, 1, 64}, TensorType::F32, 17, 0, 40},
                        {{32, 4, 128}, TensorType::F16, 70, 500, 570}};
  for (const Case& c : cases) {
    const int64_t hd = c.shape.head_dim, kvn = c.n_kv * c.shape.n_head_kv * hd;
    Kv k = make_kv(c.type, kvn, rng, 3);
    Kv v = make_kv(c.type, kvn, rng, 1);
    k.view.n_kv = v.view.n_kv = c.n_kv;
    std::vector<float> q(static_cast<size_t>(c.n_q * c.shape.n_head * hd));
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    for (float& x : q) x = dist(rng);
    ref::AttentionParams p;
    p.shape = {c.shape.n_head, c.shape.n_head_kv, hd};
    p.q_pos0 = c.q_pos0;
    std::vector<float> a(q.size()), b(q.size());
    reused.run(pool, p, q.data(), c.n_q, k.view, v.view, a.data());
    CpuAttention fresh(GetParam());
    fresh.run(pool, p, q.data(), c.n_q, k.view, v.view, b.data());
    ASSERT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * sizeof(float)));
  }
}

// The scratch bound is exact: after calls of every size 1..n_batch over a long cache (keys cut
// into as many chunks as the driver ever cuts), the object holds exactly what
// scratch_bytes_for says, and no call order makes it hold more.
TEST_P(CpuAttentionTest, ScratchBoundIsReachedAndNeverExceeded) {
  const int nth = 3;
  ThreadPool pool(nth);
  const Shape sh{4, 2, 16};  // GQA group 2: 32 queries per block, so 40 makes two blocks
  const int64_t n_batch = 40, q_pos0 = 2048;
  const int64_t n_kv = q_pos0 + n_batch, hd = sh.head_dim;
  std::mt19937 rng(9);
  Kv k = make_kv(TensorType::F16, n_kv * sh.n_head_kv * hd, rng, 0);
  Kv v = make_kv(TensorType::F16, n_kv * sh.n_head_kv * hd, rng, 0);
  ref::AttentionParams p;
  p.shape = {sh.n_head, sh.n_head_kv, hd};
  const size_t bound = CpuAttention::scratch_bytes_for(p.shape, n_batch, nth);
  CpuAttention attn(GetParam());
  EXPECT_EQ(attn.scratch_bytes(), 0u);
  std::vector<float> q(static_cast<size_t>(n_batch * sh.n_head * hd), 0.25f);
  std::vector<float> out(q.size());
  // Largest first, then the rest: growth must never round a capacity up past the bound.
  std::vector<int64_t> sizes = {n_batch, 1, 7};
  for (int64_t n_q = 1; n_q <= n_batch; ++n_q) sizes.push_back(n_q);
  for (int64_t n_q : sizes) {
    p.q_pos0 = q_pos0;
    k.view.n_kv = v.view.n_kv = q_pos0 + n_q;
    attn.run(pool, p, q.data(), n_q, k.view, v.view, out.data());
    ASSERT_LE(attn.scratch_bytes(), bound) << "n_q " << n_q;
  }
  EXPECT_EQ(attn.scratch_bytes(), bound);
  // A short cache cuts fewer chunks: still within the bound.
  p.q_pos0 = 0;
  k.view.n_kv = v.view.n_kv = 5;
  attn.run(pool, p, q.data(), 5, k.view, v.view, out.data());
  EXPECT_EQ(attn.scratch_bytes(), bound);
  // More threads or a longer batch need more.
  EXPECT_GT(CpuAttention::scratch_bytes_for(p.shape, n_batch, nth + 1), bound);
  EXPECT_GT(CpuAttention::scratch_bytes_for(p.shape, 4 * n_batch, nth),
            bound);  // 5 blocks: 15 items
}

// Seconds of CPU time used by the calling thread (the VM is shared: wall time overstates).
double thread_seconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

// Timing, opt-in (LONGCTX_ATTN_BENCH=1): decode GB/s over f16 K+V at n_kv 16384 and prefill
// GFLOP/s (n_q 512 at q_pos0 4096; LONGCTX_ATTN_BENCH=decode skips it), on 1 thread (wall and
// thread CPU time) and 2 threads (wall).
TEST_P(CpuAttentionTest, Perf) {
  if (std::getenv("LONGCTX_ATTN_BENCH") == nullptr) GTEST_SKIP() << "set LONGCTX_ATTN_BENCH=1";
  std::mt19937 rng(3);
  for (const Shape& s : {Shape{16, 8, 128}, Shape{32, 4, 128}, Shape{32, 8, 128}}) {
    const int64_t n_kv =
        std::getenv("LONGCTX_ATTN_NKV") ? std::atoll(std::getenv("LONGCTX_ATTN_NKV")) : 16384;
    const int64_t kvn = n_kv * s.n_head_kv * s.head_dim;
    Kv k = make_kv(TensorType::F16, kvn, rng, 0);
    Kv v = make_kv(TensorType::F16, kvn, rng, 0);
    k.view.n_kv = v.view.n_kv = n_kv;
    std::vector<float> q(static_cast<size_t>(512 * s.n_head * s.head_dim));
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    for (float& x : q) x = dist(rng);
    std::vector<float> out(q.size());
    for (int threads : {1, 2}) {
      ThreadPool pool(threads);
      CpuAttention attn(GetParam());
      const bool decode_only = std::string(std::getenv("LONGCTX_ATTN_BENCH")) == "decode";
      for (int pass = 0; pass < (decode_only ? 1 : 2); ++pass) {
        ref::AttentionParams p;
        p.shape = {s.n_head, s.n_head_kv, s.head_dim};
        const int64_t n_q = pass == 0 ? 1 : 512;
        p.q_pos0 = pass == 0 ? n_kv - 1 : 4096;
        const int reps = pass == 0 ? 20 : 1;
        attn.run(pool, p, q.data(), n_q, k.view, v.view, out.data());
        const double c0 = thread_seconds();
        const auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < reps; ++i) attn.run(pool, p, q.data(), n_q, k.view, v.view, out.data());
        const double wall =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / reps;
        const double cpu = (thread_seconds() - c0) / reps;
        if (pass == 0) {
          const double bytes = 2.0 * kvn * 2;  // K and V, f16
          std::printf("[perf] %s decode %lld/%lld/%lld n_kv %lld, %d thr: %.2f ms wall %.1f GB/s",
                      isa_name(GetParam()), (long long)s.n_head, (long long)s.n_head_kv,
                      (long long)s.head_dim, (long long)n_kv, threads, 1e3 * wall,
                      bytes / wall / 1e9);
          if (threads == 1) std::printf(", cpu-time %.1f GB/s", bytes / cpu / 1e9);
        } else {
          double flops = 0;  // 2 hd flops for q.k and 2 hd for p v per visible key
          for (int64_t t = 0; t < n_q; ++t) flops += 4.0 * s.n_head * s.head_dim * (4096 + t + 1);
          std::printf(
              "[perf] %s prefill %lld/%lld/%lld n_q 512 at 4096, %d thr: %.1f ms wall "
              "%.1f GFLOP/s",
              isa_name(GetParam()), (long long)s.n_head, (long long)s.n_head_kv,
              (long long)s.head_dim, threads, 1e3 * wall, flops / wall / 1e9);
          if (threads == 1) std::printf(", cpu-time %.1f GFLOP/s", flops / cpu / 1e9);
        }
        std::printf("\n");
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Isas, CpuAttentionTest, ::testing::ValuesIn(supported_isas()),
                         IsaParamName());

}  // namespace
}  // namespace longctx::cpu
