// The CUDA kernels against the CPU reference on the same inputs (gpu tier: every test skips,
// saying why, where the binary has no CUDA or the machine no usable GPU). Weights are random
// blocks of each GGUF format; the oracle is the reference dequantizer (bit-exact with the gguf
// package) and a double-precision dot product.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "kernels/cuda/cuda_api.h"
#include "kernels/ref/activations.h"
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
