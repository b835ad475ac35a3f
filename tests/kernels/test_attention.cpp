// Attention against transformers' eager_attention_forward (GQA via repeat_kv, additive causal
// mask), with K/V stored as f32, f16 and bf16 at a misaligned address; argument checks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "kernels/ref/attention.h"
#include "oracle.h"
#include "quant/float16.h"
#include "quant/quantize.h"

namespace longctx::ref {
namespace {

using testing::floats;
using testing::kU;
using testing::oracle;

// Packs floats (exactly representable in `type`: the generator rounded them with torch) into a
// byte buffer starting one byte past an aligned address, so loads must not assume alignment.
std::vector<uint8_t> pack(TensorType type, const std::vector<float>& v) {
  const size_t es = type == TensorType::F32 ? 4 : 2;
  std::vector<uint8_t> out(1 + v.size() * es);
  for (size_t i = 0; i < v.size(); ++i) {
    if (type == TensorType::F32) {
      std::memcpy(&out[1 + 4 * i], &v[i], 4);
    } else {
      const uint16_t h = type == TensorType::F16 ? fp32_to_fp16(v[i]) : fp32_to_bf16(v[i]);
      EXPECT_EQ(type == TensorType::F16 ? fp16_to_fp32(h) : bf16_to_fp32(h), v[i]) << "not exact";
      std::memcpy(&out[1 + 2 * i], &h, 2);
    }
  }
  return out;
}

TEST(Attention, MatchesEagerAttention) {
  ASSERT_TRUE(oracle().contains("attention"));
  for (const auto& c : oracle()["attention"]) {
    const std::string kv_type = c["kv_type"];
    const TensorType type = kv_type == "f16"    ? TensorType::F16
                            : kv_type == "bf16" ? TensorType::BF16
                                                : TensorType::F32;
    AttentionParams p;
    p.shape = {c["n_head"], c["n_head_kv"], c["head_dim"]};
    p.q_pos0 = c["q_pos0"];
    const int64_t n_q = c["n_q"], n_kv = c["n_kv"], d = p.shape.head_dim;
    const std::vector<float> q = floats(c["q"]), k = floats(c["k"]), v = floats(c["v"]);
    const std::vector<float> want = floats(c["out"]);
    const std::vector<uint8_t> kb = pack(type, k), vb = pack(type, v);
    std::vector<float> out(want.size());
    ASSERT_TRUE(attention(p, q.data(), n_q, KvView{type, kb.data() + 1, n_kv},
                          KvView{type, vb.data() + 1, n_kv}, out.data())
                    .is_ok());
    const double scale = 1.0 / std::sqrt(static_cast<double>(d));
    const int64_t group = p.shape.n_head / p.shape.n_head_kv;
    const double v_max = testing::max_abs(v);
    for (int64_t t = 0; t < n_q; ++t) {
      for (int64_t h = 0; h < p.shape.n_head; ++h) {
        // Error budget of torch's fp32 path, per (query, head):
        //   score j: d-term dot + scale, |ds_j| <= (d + 1) u * scale * sum_d |q_d k_jd|;
        //   an error ds in the scores moves each probability by a relative 2 max|ds|;
        //   softmax itself: (2A + n + 6) u relative (see test_norm_act.cpp), A = max|s_j|;
        //   the p.V sum over n visible keys: n u * max|v|.
        const int64_t n_vis = p.q_pos0 + t + 1, g = h / group;
        double ds = 0.0, a = 0.0;
        for (int64_t j = 0; j < n_vis; ++j) {
          double mag = 0.0, s = 0.0;
          for (int64_t e = 0; e < d; ++e) {
            const double qk = double(q[(t * p.shape.n_head + h) * d + e]) *
                              k[(j * p.shape.n_head_kv + g) * d + e];
            mag += std::fabs(qk);
            s += qk;
          }
          ds = std::max(ds, (d + 1) * kU * scale * mag);
          a = std::max(a, std::fabs(s * scale));
        }
        const double tol = v_max * (2 * ds + (2 * a + 2 * n_vis + 6) * kU);
        for (int64_t e = 0; e < d; ++e) {
          const size_t i = static_cast<size_t>((t * p.shape.n_head + h) * d + e);
          EXPECT_NEAR(out[i], want[i], tol) << kv_type << " t=" << t << " h=" << h << " e=" << e;
        }
      }
    }
  }
}

TEST(Attention, SingleVisibleKeyReturnsItsValue) {
  // Query at position 0 sees only key 0, whatever the scores: out = v[0] of its kv head.
  AttentionParams p{{4, 2, 2}, 0, 0.0f};
  const std::vector<float> q = {9, -9, 1, 2, 3, 4, 5, 6};
  const std::vector<float> k = {1, 1, 1, 1, 7, 7, 7, 7};  // [n_kv=2][2 heads][2]
  const std::vector<float> v = {1, 2, 3, 4, 50, 60, 70, 80};
  std::vector<float> out(8);
  ASSERT_TRUE(attention(p, q.data(), 1, KvView{TensorType::F32, k.data(), 2},
                        KvView{TensorType::F32, v.data(), 2}, out.data())
                  .is_ok());
  EXPECT_EQ(out, (std::vector<float>{1, 2, 1, 2, 3, 4, 3, 4}));
}

TEST(Attention, ANonFiniteQueryOverBlockKeysIsNotAnError) {
  // The query is quantized to Q8_0 blocks against q8_0 keys; a NaN or Inf in it (from a NaN
  // upstream) must not stop the program inside the kernel (quantize_row refuses such a row).
  AttentionParams p{{1, 1, 32}, 0, 0.0f};  // one head of 32: one Q8_0 block
  std::vector<float> q(32, 0.5f), kf(32, 0.25f), v(32, 2.0f), out(32);
  q[3] = std::numeric_limits<float>::quiet_NaN();
  q[7] = std::numeric_limits<float>::infinity();
  std::vector<uint8_t> k(row_bytes(TensorType::Q8_0, 32));
  ASSERT_TRUE(quantize_row(TensorType::Q8_0, kf.data(), k.data(), 32).is_ok());
  ASSERT_TRUE(attention(p, q.data(), 1, KvView{TensorType::Q8_0, k.data(), 1},
                        KvView{TensorType::F32, v.data(), 1}, out.data())
                  .is_ok());
  EXPECT_EQ(out, v);  // one visible key: its value, whatever the score
}

TEST(Attention, RejectsBadArguments) {
  std::vector<float> buf(64, 0.0f), out(64);
  const KvView kv{TensorType::F32, buf.data(), 4};
  AttentionParams p{{4, 2, 4}, 2, 0.0f};
  Status st = attention(p, buf.data(), 3, kv, kv, out.data());  // queries 2..4 but 4 tokens
  EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(st.message().find("exceed the 4 KV tokens"), std::string::npos) << st.message();
  p = {{3, 2, 4}, 0, 0.0f};  // 3 heads do not split into 2 groups
  EXPECT_FALSE(attention(p, buf.data(), 1, kv, kv, out.data()).is_ok());
  p = {{4, 2, 4}, 0, 0.0f};
  EXPECT_EQ(
      attention(p, buf.data(), 1, KvView{TensorType::Q4_1, buf.data(), 4}, kv, out.data()).code(),
      ErrorCode::kUnsupported);
  // A block-type cache over a head size that is not a multiple of its 32-element blocks.
  EXPECT_EQ(
      attention(p, buf.data(), 1, KvView{TensorType::Q8_0, buf.data(), 4}, kv, out.data()).code(),
      ErrorCode::kInvalidArgument);
  EXPECT_FALSE(
      attention(p, buf.data(), 1, kv, KvView{TensorType::F32, buf.data(), 3}, out.data()).is_ok());
}

}  // namespace
}  // namespace longctx::ref
