// Quantized KV caches end to end: the logits of every position with q8_0 / q4_0 K and V (and
// mixed pairs), rotation on and off, against an f32 cache on the same model, as KL divergence.
// The bounds are measured values with a margin (docs/PERFORMANCE.md records the figures); on
// a model with planted key outliers the rotation must cut the 4-bit keys' loss clearly.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "runtime/engine.h"
#include "runtime/engine_test_util.h"
#include "runtime/session.h"

namespace longctx {
namespace {

using testing_util::TinyModelSpec;
using testing_util::write_tiny_model;

struct Divergence {
  double mean = 0, max = 0;  // KL(base || test) per position, nats
  double top1 = 0;           // share of positions whose argmax agrees
};

// log-softmax of a logit row in double.
std::vector<double> log_softmax(const float* x, int64_t n) {
  double m = -INFINITY;
  for (int64_t i = 0; i < n; ++i) m = std::max(m, double(x[i]));
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += std::exp(double(x[i]) - m);
  std::vector<double> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) out[i] = double(x[i]) - m - std::log(s);
  return out;
}

std::vector<std::vector<float>> logits_of(Engine& e, const SessionOptions& so,
                                          const std::vector<int32_t>& ids) {
  auto s = e.new_session(so);
  EXPECT_TRUE(s.is_ok()) << s.status().message();
  std::vector<std::vector<float>> rows;
  if (!s.is_ok()) return rows;
  EvalOptions eo;
  eo.on_logits = [&](int64_t, const float* l) { rows.emplace_back(l, l + e.hparams().n_vocab); };
  EXPECT_TRUE((*s)->eval(ids, eo).is_ok());
  return rows;
}

Divergence divergence(const std::vector<std::vector<float>>& base,
                      const std::vector<std::vector<float>>& test) {
  Divergence d;
  EXPECT_EQ(base.size(), test.size());
  for (size_t r = 0; r < base.size() && r < test.size(); ++r) {
    const int64_t n = static_cast<int64_t>(base[r].size());
    const auto lp = log_softmax(base[r].data(), n), lq = log_softmax(test[r].data(), n);
    double kl = 0;
    for (int64_t i = 0; i < n; ++i) kl += std::exp(lp[i]) * (lp[i] - lq[i]);
    d.mean += kl;
    d.max = std::max(d.max, kl);
    const auto a = std::max_element(base[r].begin(), base[r].end()) - base[r].begin();
    const auto b = std::max_element(test[r].begin(), test[r].end()) - test[r].begin();
    d.top1 += a == b;
  }
  d.mean /= double(base.size());
  d.top1 /= double(base.size());
  return d;
}

std::vector<int32_t> prompt(int n, int32_t n_vocab) {
  std::vector<int32_t> ids;
  for (int i = 0; i < n; ++i) ids.push_back(static_cast<int32_t>((i * 7919 + 13) % n_vocab));
  return ids;
}

std::unique_ptr<Engine> load(const std::string& path, const char* backend = "cpu") {
  return testing_util::load_test_engine(path, backend);
}

Divergence measure(Engine& e, TensorType tk, TensorType tv, bool rotation, int n_tokens) {
  const std::vector<int32_t> ids = prompt(n_tokens, static_cast<int32_t>(e.hparams().n_vocab));
  SessionOptions base;
  base.n_ctx = n_tokens;
  base.n_batch = 32;  // several chunks: later chunks attend over quantized keys of earlier ones
  base.type_k = base.type_v = TensorType::F32;
  SessionOptions test = base;
  test.type_k = tk;
  test.type_v = tv;
  test.kv_rotation = rotation;
  return divergence(logits_of(e, base, ids), logits_of(e, test, ids));
}

// Weights of std 0.2 give peaked logits (the engine tests' convention), which makes these models
// more sensitive to the cache's rounding than trained ones: the bounds are for these models.
const std::string& plain_model() {
  static const std::string p =
      write_tiny_model({.type = TensorType::F32, .seed = 5}, "kvq_plain.gguf");
  return p;
}
const std::string& outlier_model() {
  static const std::string p = write_tiny_model(
      {.type = TensorType::F32, .seed = 5, .k_outliers = 4, .k_outlier_gain = 24.0f},
      "kvq_outliers.gguf");
  return p;
}

struct Bound {
  TensorType k, v;
  double mean, max;  // KL bounds (nats), rotation on and off alike
};

TEST(KvQuant, LogitsStayWithinRecordedKlBounds) {
  auto e = load(plain_model(), "cpu");
  ASSERT_TRUE(e);
  // Measured (2026-12-04, avx512 path; rotation on / off): q8_0 mean 3.0e-4 / 2.6e-4, max
  // 1.05e-3 / 1.04e-3; q4_0 mean 0.040 / 0.037, max 0.127 / 0.106; q8_0 K + q4_0 V mean 0.025 /
  // 0.022, max 0.072 / 0.067; f16 mean 2.6e-7, max 7.6e-7. Bounds: twice the larger, so a
  // regression (a wrong scale, a lost block) fails while another path's rounding passes.
  const Bound bounds[] = {
      {TensorType::Q8_0, TensorType::Q8_0, 6e-4, 2.1e-3},
      {TensorType::Q4_0, TensorType::Q4_0, 8e-2, 0.26},
      {TensorType::Q8_0, TensorType::Q4_0, 5e-2, 0.15},
      {TensorType::F16, TensorType::F16, 6e-7, 1.6e-6},
  };
  for (const Bound& b : bounds) {
    for (bool rot : {true, false}) {
      const Divergence d = measure(*e, b.k, b.v, rot, 96);
      std::printf("[kl] plain K %s V %s rotation %s: mean %.3g max %.3g top1 %.3f\n",
                  type_name(b.k), type_name(b.v), rot ? "on" : "off", d.mean, d.max, d.top1);
      EXPECT_LT(d.mean, b.mean) << type_name(b.k) << "/" << type_name(b.v) << " rot " << rot;
      EXPECT_LT(d.max, b.max) << type_name(b.k) << "/" << type_name(b.v) << " rot " << rot;
      EXPECT_GT(d.mean, 0.0);  // a quantized cache is not exact: the comparison is live
    }
  }
}

// Planted outlier channels: without the rotation a 4-bit block holding an outlier keeps little
// of the other 31 dims; with it the outlier is spread and the loss drops.
TEST(KvQuant, RotationCutsTheLossOfFourBitKeysWithOutliers) {
  auto e = load(outlier_model(), "cpu");
  ASSERT_TRUE(e);
  const Divergence on = measure(*e, TensorType::Q4_0, TensorType::F16, true, 96);
  const Divergence off = measure(*e, TensorType::Q4_0, TensorType::F16, false, 96);
  std::printf(
      "[kl] outliers K q4_0: rotation on mean %.3g max %.3g top1 %.3f; off mean %.3g "
      "max %.3g top1 %.3f\n",
      on.mean, on.max, on.top1, off.mean, off.max, off.top1);
  // Measured: mean 0.119 with the rotation, 0.335 without (2.8x).
  EXPECT_LT(on.mean * 2.0, off.mean);
  const Divergence on8 = measure(*e, TensorType::Q8_0, TensorType::F16, true, 96);
  const Divergence off8 = measure(*e, TensorType::Q8_0, TensorType::F16, false, 96);
  std::printf("[kl] outliers K q8_0: rotation on mean %.3g; off mean %.3g\n", on8.mean, off8.mean);
  EXPECT_LT(on8.mean, off8.mean);
}

// The reference backend (scalar attention over the same quantized cache) agrees with the cpu
// kernels: the quantized path of both is one definition, but for the kernels' integer P V, which
// rounds the softmax weights per tile (attention_quant_inl.h) to 16 bits for a Q8_0 V (far below
// the bound: with 8 bits it measured 1.6e-4 and failed) and to 8 bits for a Q4_0 V: measured
// 1.36e-3 there, against the 4-bit cache's own mean KL of 0.04 (LogitsStayWithinRecordedKlBounds);
// bounded at twice that.
TEST(KvQuant, CpuBackendMatchesReferenceBackend) {
  auto cpu = load(plain_model(), "cpu");
  auto ref = load(plain_model(), "ref");
  ASSERT_TRUE(cpu && ref);
  const std::vector<int32_t> ids = prompt(40, static_cast<int32_t>(cpu->hparams().n_vocab));
  for (TensorType t : {TensorType::Q8_0, TensorType::Q4_0}) {
    SessionOptions so;
    so.n_ctx = 40;
    so.n_batch = 16;
    so.type_k = so.type_v = t;
    const Divergence d = divergence(logits_of(*ref, so, ids), logits_of(*cpu, so, ids));
    EXPECT_LT(d.max, t == TensorType::Q8_0 ? 1e-4 : 2.8e-3) << type_name(t);
  }
}

TEST(KvQuant, RefusesBlockTypesOverOddHeadSizes) {
  // qwen3-tiny has head_dim 128; a cache of 32-element blocks needs a multiple of 32, which the
  // cache itself checks for any shape.
  KvShape shape{1, 2, 48, 48};
  KvCacheOptions o;
  o.n_ctx = 8;
  o.type_k = TensorType::Q4_0;
  auto c = KvCache::create(shape, o);
  ASSERT_FALSE(c.is_ok());
  EXPECT_NE(c.status().message().find("multiple of 32"), std::string::npos) << c.status().message();
  o.type_k = TensorType::Q5_K;
  EXPECT_FALSE(KvCache::create({1, 2, 64, 64}, o).is_ok());
}

TEST(KvQuant, CacheBytesFollowTheBlockSizes) {
  const KvShape shape{3, 2, 128, 128};
  KvCacheOptions o;
  o.n_ctx = 100;
  o.type_k = TensorType::Q8_0;
  o.type_v = TensorType::Q4_0;
  // Per layer and position: 2 heads x (4 blocks x 34 + 4 blocks x 18) bytes.
  EXPECT_EQ(KvCache::bytes_for(shape, o), 3u * 100u * 2u * (4u * 34u + 4u * 18u));
  auto c = KvCache::create(shape, o);
  ASSERT_TRUE(c.is_ok());
  EXPECT_EQ(c->k_token_bytes(), 2u * 4u * 34u);
  EXPECT_EQ(c->v_token_bytes(), 2u * 4u * 18u);
}

}  // namespace
}  // namespace longctx
