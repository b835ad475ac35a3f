// The CUDA kernels against the CPU reference on the same inputs (gpu tier: every test skips,
// saying why, where the binary has no CUDA or the machine no usable GPU). Weights are random
// blocks of each GGUF format; the oracle is the reference dequantizer (bit-exact with the gguf
// package) and a double-precision dot product.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "kernels/cuda/cuda_api.h"
#include "kernels/ref/activations.h"
#include "kernels/ref/attention.h"
#include "kernels/ref/hadamard.h"
#include "kernels/ref/moe.h"
#include "kernels/ref/norm.h"
#include "kernels/ref/rope.h"
#include "quant/quantize.h"
#include "quant/random_blocks.h"

namespace longctx {
namespace {

class CudaKernels : public testing::Test {
 protected:
  void SetUp() override {
    auto d = cuda::devices();
    if (!d.is_ok()) GTEST_SKIP() << d.status().message();
  }
};

std::vector<float> random_floats(size_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 g(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = u(g);
  return v;
}

template <class T>
cuda::DeviceBuffer upload(const std::vector<T>& v) {
  auto b = cuda::DeviceBuffer::allocate(v.size() * sizeof(T));
  LONGCTX_CHECK(b.is_ok());
  LONGCTX_CHECK(cuda::copy_to_device(b->data(), v.data(), v.size() * sizeof(T)).is_ok());
  return std::move(b).value();
}

std::vector<float> download(const cuda::DeviceBuffer& b, size_t n) {
  std::vector<float> v(n);
  EXPECT_TRUE(cuda::copy_to_host(v.data(), b.data(), n * sizeof(float)).is_ok());
  return v;
}

const TensorType kMatvecTypes[] = {TensorType::F32,  TensorType::F16,  TensorType::BF16,
                                   TensorType::Q4_0, TensorType::Q4_1, TensorType::Q5_0,
                                   TensorType::Q5_1, TensorType::Q8_0, TensorType::Q4_K,
                                   TensorType::Q5_K, TensorType::Q6_K};

TEST_F(CudaKernels, MatvecEqualsDequantizeAndDotForEveryFormat) {
  struct Shape {
    int64_t n_out, n_in, n_tokens;
  };
  // Odd row counts (a partial thread block), rows shorter and longer than a warp's 32 units,
  // token counts that are not a launch's 1 / 2 / 4 / 8 and more than one launch.
  const Shape shapes[] = {{67, 256, 1}, {130, 2048, 3}, {33, 4096, 8}, {9, 768, 11}};
  for (TensorType t : kMatvecTypes) {
    ASSERT_TRUE(cuda::matvec_supported(t)) << type_name(t);
    for (const Shape& s : shapes) {
      if (s.n_in % int64_t(traits(t).block_size) != 0) continue;
      const uint64_t rb = row_bytes(t, uint64_t(s.n_in));
      std::vector<uint8_t> w(rb * uint64_t(s.n_out));
      random_blocks(t, uint64_t(s.n_out * 31 + s.n_in), 0.5f, w.data(), s.n_out * s.n_in);
      const auto x = random_floats(size_t(s.n_tokens * s.n_in), 5);
      const auto bias = random_floats(size_t(s.n_out), 6);
      // Oracle: dequantized rows, double dot products.
      std::vector<float> row(size_t(s.n_in));
      std::vector<double> want(size_t(s.n_tokens * s.n_out)), mag(want.size());
      for (int64_t r = 0; r < s.n_out; ++r) {
        ASSERT_TRUE(dequantize_row(t, w.data() + uint64_t(r) * rb, row.data(), s.n_in).is_ok());
        for (int64_t k = 0; k < s.n_tokens; ++k) {
          double acc = bias[size_t(r)], m = std::fabs(bias[size_t(r)]);
          for (int64_t i = 0; i < s.n_in; ++i) {
            const double p = double(row[size_t(i)]) * x[size_t(k * s.n_in + i)];
            acc += p;
            m += std::fabs(p);
          }
          want[size_t(k * s.n_out + r)] = acc;
          mag[size_t(k * s.n_out + r)] = m;
        }
      }
      auto dw = upload(w);
      auto dx = upload(x);
      auto db = upload(bias);
      auto dy = cuda::DeviceBuffer::allocate(want.size() * sizeof(float));
      ASSERT_TRUE(dy.is_ok());
      ASSERT_TRUE(cuda::matvec(t, dw.data(), s.n_out, s.n_in, dx.as<float>(), s.n_tokens,
                               db.as<float>(), dy->as<float>())
                      .is_ok());
      ASSERT_TRUE(cuda::synchronize().is_ok());
      const auto got = download(*dy, want.size());
      int bad = 0;
      for (size_t i = 0; i < want.size(); ++i) {
        // fp32 sums of n_in products: error well under 1e-5 of the sum of magnitudes.
        if (!(std::fabs(got[i] - want[i]) <= 1e-5 * mag[i] + 1e-6) && bad++ < 3) {
          ADD_FAILURE() << type_name(t) << " " << s.n_out << "x" << s.n_in << " t" << s.n_tokens
                        << " [" << i << "]: got " << got[i] << ", want " << want[i];
        }
      }
      EXPECT_EQ(bad, 0) << type_name(t);
    }
  }
}

TEST_F(CudaKernels, MatvecRejectsWhatItCannotDo) {
  EXPECT_FALSE(cuda::matvec_supported(TensorType::IQ4_XS));
  EXPECT_FALSE(
      cuda::matvec(TensorType::IQ4_XS, nullptr, 1, 256, nullptr, 1, nullptr, nullptr).is_ok());
  EXPECT_FALSE(
      cuda::matvec(TensorType::Q4_K, nullptr, 1, 100, nullptr, 1, nullptr, nullptr).is_ok());
}

TEST_F(CudaKernels, RmsNormSwigluAndAddEqualTheReference) {
  const int64_t rows = 5, n = 1000;
  const auto x = random_floats(size_t(rows * n), 1, -3, 3);
  const auto w = random_floats(size_t(n), 2, 0.5f, 1.5f);
  std::vector<float> want(x.size());
  for (int64_t r = 0; r < rows; ++r) {
    ASSERT_TRUE(ref::rms_norm(x.data() + r * n, w.data(), 1e-6f, n, want.data() + r * n).is_ok());
  }
  auto dx = upload(x);
  auto dw = upload(w);
  ASSERT_TRUE(
      cuda::rms_norm(dx.as<float>(), dw.as<float>(), 1e-6f, rows, n, dx.as<float>()).is_ok());
  ASSERT_TRUE(cuda::synchronize().is_ok());
  auto got = download(dx, x.size());
  for (size_t i = 0; i < x.size(); ++i)
    ASSERT_NEAR(got[i], want[i], 1e-5f * (1 + std::fabs(want[i]))) << i;

  const auto g = random_floats(4099, 3, -8, 8), u = random_floats(4099, 4);
  std::vector<float> sw(g.size());
  ref::swiglu(g.data(), u.data(), int64_t(g.size()), sw.data());
  auto dg = upload(g);
  auto du = upload(u);
  ASSERT_TRUE(
      cuda::swiglu(dg.as<float>(), du.as<float>(), int64_t(g.size()), dg.as<float>()).is_ok());
  ASSERT_TRUE(cuda::add_into(dg.as<float>(), du.as<float>(), int64_t(g.size())).is_ok());
  ASSERT_TRUE(cuda::synchronize().is_ok());
  got = download(dg, g.size());
  for (size_t i = 0; i < g.size(); ++i)
    ASSERT_NEAR(got[i], sw[i] + u[i], 1e-5f * (1 + std::fabs(sw[i]))) << i;
}

TEST_F(CudaKernels, RopeEqualsTheTableIncludingYarnAtLongPositions) {
  ref::RopeParams p;
  p.head_dim = 128;
  p.theta = 1e6;
  p.scaling.type = ref::RopeScalingType::kYarn;
  p.scaling.factor = 4;
  p.scaling.original_context = 32768;
  const int64_t n_tokens = 6, n_head = 4, pos0 = 131000;
  auto table = ref::RopeTable::build(p, n_tokens);
  ASSERT_TRUE(table.is_ok());
  ASSERT_TRUE(table->set_window(pos0, n_tokens).is_ok());
  const auto x = random_floats(size_t(n_tokens * n_head * p.head_dim), 9);
  std::vector<float> want = x;
  for (int64_t t = 0; t < n_tokens; ++t) {
    ASSERT_TRUE(
        ref::rope_apply(*table, pos0 + t, n_head, p.head_dim, want.data() + t * n_head * p.head_dim)
            .is_ok());
  }
  auto dx = upload(x);
  auto df = upload(table->frequencies().inv_freq);
  ASSERT_TRUE(cuda::rope_neox(df.as<double>(), table->frequencies().attention_factor, pos0,
                              n_tokens, n_head, p.head_dim, dx.as<float>())
                  .is_ok());
  ASSERT_TRUE(cuda::synchronize().is_ok());
  const auto got = download(dx, x.size());
  // The angle is computed in double on both sides; cos/sin are then rounded to fp32.
  for (size_t i = 0; i < x.size(); ++i) ASSERT_NEAR(got[i], want[i], 2e-6f) << i;
}

TEST_F(CudaKernels, GetRowsEqualsTheDequantizedRows) {
  const int64_t rows = 40, n_in = 512;
  const std::vector<int32_t> ids = {0, 39, 7, 7, 21};
  for (TensorType t : kMatvecTypes) {
    const uint64_t rb = row_bytes(t, uint64_t(n_in));
    std::vector<uint8_t> w(rb * rows);
    random_blocks(t, 77, 0.3f, w.data(), rows * n_in);
    std::vector<float> want(ids.size() * n_in);
    for (size_t i = 0; i < ids.size(); ++i) {
      ASSERT_TRUE(dequantize_row(t, w.data() + rb * uint64_t(ids[i]), want.data() + i * n_in, n_in)
                      .is_ok());
    }
    auto dw = upload(w);
    auto di = upload(ids);
    auto dy = cuda::DeviceBuffer::allocate(want.size() * sizeof(float));
    ASSERT_TRUE(dy.is_ok());
    ASSERT_TRUE(
        cuda::get_rows(t, dw.data(), n_in, di.as<int32_t>(), int64_t(ids.size()), dy->as<float>())
            .is_ok());
    ASSERT_TRUE(cuda::synchronize().is_ok());
    // Dequantization is d * q (- m); nvcc may fuse the multiply-add, so allow fp32 rounding.
    const auto got = download(*dy, want.size());
    for (size_t i = 0; i < want.size(); ++i) {
      ASSERT_NEAR(got[i], want[i], 1e-6f * (1 + std::fabs(want[i]))) << type_name(t) << " " << i;
    }
  }
}

TEST_F(CudaKernels, ConvertRowsWritesTheBytesOfTheCpuQuantizer) {
  auto x = random_floats(32 * 40, 12, -4, 4);
  x[5] = 0.0f;
  for (int i = 64; i < 96; ++i) x[size_t(i)] = 0.0f;  // an all-zero block (d = 0)
  x[100] = -3.999f;                                   // a negative extreme
  x[130] = 1e-30f;
  x[200] = NAN;  // non-finite: a block type stores 0 there (quantize_row_lenient)
  x[300] = INFINITY;
  x[301] = -INFINITY;
  for (TensorType t :
       {TensorType::F32, TensorType::F16, TensorType::BF16, TensorType::Q8_0, TensorType::Q4_0}) {
    ASSERT_TRUE(cuda::kv_type_supported(t));
    const int64_t n = int64_t(x.size());
    std::vector<uint8_t> want(row_bytes(t, uint64_t(n)));
    ASSERT_TRUE(quantize_row_lenient(t, x.data(), want.data(), n).is_ok());
    auto dx = upload(x);
    auto dd = cuda::DeviceBuffer::allocate(want.size());
    ASSERT_TRUE(dd.is_ok());
    ASSERT_TRUE(cuda::convert_rows(t, dx.as<float>(), n, dd->data()).is_ok());
    ASSERT_TRUE(cuda::synchronize().is_ok());
    std::vector<uint8_t> got(want.size());
    ASSERT_TRUE(cuda::copy_to_host(got.data(), dd->data(), got.size()).is_ok());
    EXPECT_EQ(got, want) << type_name(t);
  }
}

TEST_F(CudaKernels, AttentionEqualsTheReferenceForEveryCacheType) {
  ref::AttentionShape sh{8, 2, 128};
  struct Case {
    int64_t n_kv, q_pos0, n_q;
  };
  // Decode at a depth needing several splits, a chunk of prefill after a prefix, a fresh prompt.
  const Case cases[] = {{3000, 2999, 1}, {1200, 1195, 5}, {7, 0, 7}};
  for (TensorType t :
       {TensorType::F32, TensorType::F16, TensorType::BF16, TensorType::Q8_0, TensorType::Q4_0}) {
    for (const Case& c : cases) {
      const int64_t row = sh.n_head_kv * sh.head_dim;
      const auto kf = random_floats(size_t(c.n_kv * row), 21, -2, 2);
      const auto vf = random_floats(size_t(c.n_kv * row), 22, -1, 1);
      const auto q = random_floats(size_t(c.n_q * sh.n_head * sh.head_dim), 23, -2, 2);
      std::vector<uint8_t> kq(row_bytes(t, uint64_t(kf.size()))), vq(kq.size());
      ASSERT_TRUE(quantize_row_lenient(t, kf.data(), kq.data(), int64_t(kf.size())).is_ok());
      ASSERT_TRUE(quantize_row_lenient(t, vf.data(), vq.data(), int64_t(vf.size())).is_ok());
      std::vector<float> want(q.size());
      ref::AttentionParams ap;
      ap.shape = sh;
      ap.q_pos0 = c.q_pos0;
      ASSERT_TRUE(ref::attention(ap, q.data(), c.n_q, {t, kq.data(), c.n_kv},
                                 {t, vq.data(), c.n_kv}, want.data())
                      .is_ok());
      auto dq = upload(q);
      auto dk = upload(kq);
      auto dv = upload(vq);
      auto dout = cuda::DeviceBuffer::allocate(q.size() * sizeof(float));
      ASSERT_TRUE(dout.is_ok());
      cuda::AttentionArgs a;
      a.n_head = sh.n_head;
      a.n_head_kv = sh.n_head_kv;
      a.head_dim = a.head_dim_v = sh.head_dim;
      a.q_pos0 = c.q_pos0;
      a.type_k = a.type_v = t;
      a.d_k = dk.data();
      a.d_v = dv.data();
      a.n_kv = c.n_kv;
      auto scratch = cuda::DeviceBuffer::allocate(
          cuda::attention_scratch_bytes(c.n_q, sh.n_head, sh.head_dim));
      ASSERT_TRUE(scratch.is_ok());
      a.d_scratch = scratch->as<float>();
      ASSERT_TRUE(cuda::attention(a, dq.as<float>(), c.n_q, dout->as<float>()).is_ok());
      ASSERT_TRUE(cuda::synchronize().is_ok());
      const auto got = download(*dout, q.size());
      // The reference quantizes q to Q8_0 against a block-type K (the CPU integer kernels);
      // here q stays fp32: scores differ by q's rounding, outputs by a little more than fp32.
      const float tol = (t == TensorType::Q8_0 || t == TensorType::Q4_0) ? 2e-2f : 1e-4f;
      for (size_t i = 0; i < got.size(); ++i) {
        ASSERT_NEAR(got[i], want[i], tol) << type_name(t) << " n_kv " << c.n_kv << " [" << i << "]";
      }
    }
  }
}

TEST_F(CudaKernels, MoeRouteExpertsAndCombineEqualTheReference) {
  const int64_t n_tokens = 3, n_expert = 128, k = 8, d = 256, f = 512;
  auto logits = random_floats(size_t(n_tokens * n_expert), 31, -3, 3);
  // A tie between the 8th and 9th largest logits of token 0: the lower expert must win.
  {
    std::vector<int> order(static_cast<size_t>(n_expert));
    for (int e = 0; e < n_expert; ++e) order[size_t(e)] = e;
    std::sort(order.begin(), order.end(),
              [&](int a, int b) { return logits[size_t(a)] > logits[size_t(b)]; });
    logits[size_t(order[8])] = logits[size_t(order[7])];
  }
  for (const bool renorm : {true, false}) {
    auto dl = upload(logits);
    auto dids = cuda::DeviceBuffer::allocate(size_t(n_tokens * k) * sizeof(int32_t));
    auto dw = cuda::DeviceBuffer::allocate(size_t(n_tokens * k) * sizeof(float));
    ASSERT_TRUE(dids.is_ok() && dw.is_ok());
    ASSERT_TRUE(cuda::moe_route(dl.as<float>(), n_tokens, n_expert, k, renorm, dids->as<int32_t>(),
                                dw->as<float>())
                    .is_ok());
    ASSERT_TRUE(cuda::synchronize().is_ok());
    std::vector<int32_t> ids(size_t(n_tokens * k));
    std::vector<float> w(ids.size());
    ASSERT_TRUE(cuda::copy_to_host(ids.data(), dids->data(), ids.size() * 4).is_ok());
    ASSERT_TRUE(cuda::copy_to_host(w.data(), dw->data(), w.size() * 4).is_ok());
    for (int64_t t = 0; t < n_tokens; ++t) {
      ref::MoeParams mp;
      mp.top_k = k;
      mp.norm_topk_prob = renorm;
      auto want = ref::moe_route(logits.data() + t * n_expert, n_expert, mp);
      ASSERT_TRUE(want.is_ok());
      std::sort(want->begin(), want->end(),
                [](const ref::ExpertChoice& a, const ref::ExpertChoice& b) {
                  return a.expert < b.expert;
                });
      for (int64_t j = 0; j < k; ++j) {
        EXPECT_EQ(ids[size_t(t * k + j)], (*want)[size_t(j)].expert) << t << " " << j;
        EXPECT_NEAR(w[size_t(t * k + j)], (*want)[size_t(j)].weight, 1e-6f);
      }
    }
  }
  // Products with the chosen experts: gate-like (inputs shared by a token's k experts) and
  // down-like (one input per pair), then the weighted sum.
  const TensorType t = TensorType::Q4_K;
  const uint64_t rb = row_bytes(t, uint64_t(d));
  std::vector<uint8_t> stack(rb * uint64_t(f * n_expert));
  random_blocks(t, 5, 0.1f, stack.data(), n_expert * f * d);
  const std::vector<int32_t> ids = {3, 9, 127, 0, 64, 65};  // 2 tokens x k = 3
  const auto x = random_floats(size_t(2 * d), 41);
  auto ds = upload(stack);
  auto di = upload(ids);
  auto dx = upload(x);
  auto dy = cuda::DeviceBuffer::allocate(ids.size() * size_t(f) * sizeof(float));
  ASSERT_TRUE(dy.is_ok());
  ASSERT_TRUE(cuda::matvec_experts(t, ds.data(), f, d, di.as<int32_t>(), int64_t(ids.size()), 3,
                                   dx.as<float>(), dy->as<float>())
                  .is_ok());
  ASSERT_TRUE(cuda::synchronize().is_ok());
  const auto y = download(*dy, ids.size() * size_t(f));
  std::vector<float> row(static_cast<size_t>(d));
  for (size_t p = 0; p < ids.size(); ++p) {
    for (int64_t r = 0; r < f; r += 37) {
      const uint8_t* wr = stack.data() + (uint64_t(ids[p]) * uint64_t(f) + uint64_t(r)) * rb;
      ASSERT_TRUE(dequantize_row(t, wr, row.data(), d).is_ok());
      double acc = 0, mag = 0;
      for (int64_t i = 0; i < d; ++i) {
        acc += double(row[size_t(i)]) * x[(p / 3) * size_t(d) + size_t(i)];
        mag += std::fabs(double(row[size_t(i)]) * x[(p / 3) * size_t(d) + size_t(i)]);
      }
      EXPECT_NEAR(y[p * size_t(f) + size_t(r)], acc, 1e-5 * mag + 1e-6) << p << " " << r;
    }
  }
  const auto ye = random_floats(6 * size_t(d), 42);
  const std::vector<float> wts = {0.5f, 0.25f, 0.25f, 0.1f, 0.2f, 0.7f};
  auto resid = random_floats(2 * size_t(d), 43);
  std::vector<float> want = resid;
  for (int64_t tk = 0; tk < 2; ++tk) {
    for (int64_t j = 0; j < 3; ++j) {
      for (int64_t i = 0; i < d; ++i) {
        want[size_t(tk * d + i)] += wts[size_t(tk * 3 + j)] * ye[size_t((tk * 3 + j) * d + i)];
      }
    }
  }
  auto dye = upload(ye);
  auto dwt = upload(wts);
  auto dr = upload(resid);
  ASSERT_TRUE(cuda::moe_combine(dye.as<float>(), dwt.as<float>(), 2, 3, d, dr.as<float>()).is_ok());
  ASSERT_TRUE(cuda::synchronize().is_ok());
  const auto got = download(dr, want.size());
  for (size_t i = 0; i < want.size(); ++i) ASSERT_NEAR(got[i], want[i], 1e-6f) << i;
}

TEST_F(CudaKernels, HadamardEqualsTheReferenceBitForBit) {
  for (const int64_t dim : {128, 96, 64}) {
    const int64_t rows = 7;
    const auto x = random_floats(size_t(rows * dim), 51, -3, 3);
    std::vector<float> want = x;
    ref::hadamard_rows(want.data(), rows, dim);
    auto dx = upload(x);
    ASSERT_TRUE(cuda::hadamard(dx.as<float>(), rows, dim).is_ok());
    ASSERT_TRUE(cuda::synchronize().is_ok());
    EXPECT_EQ(download(dx, x.size()), want) << dim;  // the same additions in the same order
  }
}

TEST_F(CudaKernels, BandwidthProbeIsPositiveAndBelowThePeak) {
  auto d = cuda::devices();
  ASSERT_TRUE(d.is_ok());
  auto bw = cuda::measure_read_bandwidth(0, 256ull << 20);
  ASSERT_TRUE(bw.is_ok()) << bw.status().message();
  EXPECT_GT(*bw, 1e10);  // any GPU this project targets reads faster than 10 GB/s
  if ((*d)[0].peak_bandwidth > 0) {
    EXPECT_LT(*bw, 1.05 * (*d)[0].peak_bandwidth);
  }
}

}  // namespace
}  // namespace longctx
