// Every backend against the scalar reference, op by op: matmul for every weight type with a
// quantizer, odd shapes (rows not a multiple of the thread count, 1 and several tokens, a bias),
// misaligned weight data; get_rows; attention over f32/f16/bf16 KV split across threads. The
// reference is the oracle (itself checked against PyTorch in the other kernel tests).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "kernels/backend.h"
#include "quant/float16.h"
#include "quant/quantize.h"

namespace longctx {
namespace {

struct Packed {
  std::vector<uint8_t> bytes;  // one spare byte in front: data starts misaligned
  WeightMatrix w;
};

Packed random_weights(TensorType type, int64_t n_in, int64_t n_out, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> row(static_cast<size_t>(n_in));
  const size_t rb = row_bytes(type, n_in);
  Packed p;
  p.bytes.resize(1 + rb * static_cast<size_t>(n_out));
  for (int64_t r = 0; r < n_out; ++r) {
    for (float& x : row) x = nd(rng);
    LONGCTX_CHECK(quantize_row(type, row.data(), p.bytes.data() + 1 + r * rb, n_in).is_ok());
  }
  p.w = {type, p.bytes.data() + 1, n_in, n_out};
  return p;
}

std::vector<float> random_vec(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = nd(rng);
  return v;
}

class Backends : public ::testing::TestWithParam<int> {
 protected:
  std::unique_ptr<KernelBackend> ref_ = make_ref_backend();
  std::unique_ptr<KernelBackend> cpu_ = make_cpu_backend(GetParam(), "auto").value();
};

TEST_P(Backends, MatmulMatchesTheReferenceForEveryWeightType) {
  const TensorType types[] = {TensorType::F32,  TensorType::F16,  TensorType::BF16,
                              TensorType::Q8_0, TensorType::Q4_0, TensorType::Q4_1,
                              TensorType::Q5_0, TensorType::Q5_1, TensorType::Q4_K,
                              TensorType::Q5_K, TensorType::Q6_K};
  for (TensorType type : types) {
    ASSERT_TRUE(cpu_->supports(KernelOp::kMatmul, type)) << type_name(type);
    const int64_t n_in = traits(type).block_size == 256 ? 512 : 96;
    for (int64_t n_out : {1, 37}) {
      for (int64_t n_tok : {1, 3}) {
        Packed p = random_weights(type, n_in, n_out, 7);
        const auto x = random_vec(static_cast<size_t>(n_tok * n_in), 11);
        const auto bias = random_vec(static_cast<size_t>(n_out), 13);
        std::vector<float> want(static_cast<size_t>(n_tok * n_out)), got(want.size());
        ref_->matmul(p.w, x.data(), n_tok, bias.data(), want.data());
        cpu_->matmul(p.w, x.data(), n_tok, bias.data(), got.data());
        // Bound: single-precision accumulation of n_in products in 8 partial sums errs by at
        // most ~(n_in / 8 + 3) * 2^-24 * sum |w_i x_i|; sum |w x| <= sqrt(n_in) * |w| |x| is
        // about 4 * n_in here (entries ~N(0,1)), so 1e-4 * n_in bounds it with margin.
        for (size_t i = 0; i < want.size(); ++i) {
          ASSERT_NEAR(got[i], want[i], 1e-4 * n_in)
              << type_name(type) << " n_out " << n_out << " n_tok " << n_tok << " i " << i;
        }
      }
    }
  }
}

TEST_P(Backends, GetRowsIsExactDequantization) {
  Packed p = random_weights(TensorType::Q6_K, 256, 9, 3);
  const int32_t ids[] = {8, 0, 4, 4};
  std::vector<float> want(4 * 256), got(4 * 256);
  ref_->get_rows(p.w, ids, 4, want.data());
  cpu_->get_rows(p.w, ids, 4, got.data());
  EXPECT_EQ(want, got);
}

TEST_P(Backends, AttentionSplitAcrossThreadsEqualsTheReference) {
  const int64_t n_head = 4, n_kv_head = 2, hd = 16, n_kv = 29, n_q = 7;
  AttentionParams ap;
  ap.shape = {n_head, n_kv_head, hd};
  ap.q_pos0 = n_kv - n_q;
  const auto q = random_vec(static_cast<size_t>(n_q * n_head * hd), 1);
  const auto kf = random_vec(static_cast<size_t>(n_kv * n_kv_head * hd), 2);
  const auto vf = random_vec(kf.size(), 3);
  for (TensorType t : {TensorType::F32, TensorType::F16, TensorType::BF16}) {
    std::vector<uint16_t> k16(kf.size()), v16(vf.size());
    for (size_t i = 0; i < kf.size(); ++i) {
      k16[i] = t == TensorType::F16 ? fp32_to_fp16(kf[i]) : fp32_to_bf16(kf[i]);
      v16[i] = t == TensorType::F16 ? fp32_to_fp16(vf[i]) : fp32_to_bf16(vf[i]);
    }
    const void* kd = t == TensorType::F32 ? static_cast<const void*>(kf.data()) : k16.data();
    const void* vd = t == TensorType::F32 ? static_cast<const void*>(vf.data()) : v16.data();
    const KvView k{t, kd, n_kv}, v{t, vd, n_kv};
    std::vector<float> want(q.size()), got(q.size());
    ref_->attention(ap, q.data(), n_q, k, v, want.data());
    cpu_->attention(ap, q.data(), n_q, k, v, got.data());
    EXPECT_EQ(want, got) << type_name(t);  // the same reference code per query: exact
  }
}

INSTANTIATE_TEST_SUITE_P(Threads, Backends, ::testing::Values(1, 2, 3),
                         [](const auto& info) { return std::to_string(info.param) + "_threads"; });

TEST(BackendFactory, NamesAreResolvedOrNamedInTheError) {
  EXPECT_STREQ((*make_backend("ref", 0))->name(), "ref");
  EXPECT_STREQ((*make_backend("cpu", 2))->name(), "cpu");
  EXPECT_STREQ((*make_backend("auto", 0))->name(), "cpu");
  auto bad = make_backend("cuda9", 0);
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("cuda9"), std::string::npos);
}

}  // namespace
}  // namespace longctx
