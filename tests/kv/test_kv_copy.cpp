// kv_copy and Session::copy_prefix_from against their definition: kv_copy makes the first n
// positions of the destination byte-identical to the source's (K and V, every layer), leaves
// the rest of the destination alone and sets its n_past to n, for f16 / q8_0 / q4_0 with the
// Walsh-Hadamard rotation on and off; it refuses caches that differ in shape, types or rotation
// and counts outside [0, min(src.n_past, dst.n_ctx)] without touching the destination.
// copy_prefix_from: a session that copied another's whole state evaluates the next token to
// bit-identical logits; a prefix shorter than the source uses the source's logits snapshot when
// it is at that prefix and fails otherwise.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "gguf/gguf_writer.h"
#include "kv/kv_cache.h"
#include "kv/kv_ops.h"
#include "runtime/engine.h"
#include "runtime/engine_test_util.h"
#include "runtime/session.h"

namespace longctx {
namespace {

constexpr int64_t kLayers = 3, kHeads = 2, kDim = 64;

KvCache cache(TensorType type, bool rotate, int64_t n_ctx = 48,
              KvShape shape = {kLayers, kHeads, kDim, kDim}) {
  KvCacheOptions o;
  o.n_ctx = n_ctx;
  o.type_k = type;
  o.type_v = type;
  o.rotate = rotate;
  auto kv = KvCache::create(shape, o);
  EXPECT_TRUE(kv.is_ok()) << kv.status().message();
  return std::move(kv.value());
}

// Stores n positions of random K/V (seeded) into every layer.
void fill(KvCache& kv, int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, 2.0f);
  const KvShape& s = kv.shape();
  std::vector<float> k(static_cast<size_t>(n * s.n_head_kv * s.head_dim_k));
  std::vector<float> v(static_cast<size_t>(n * s.n_head_kv * s.head_dim_v));
  for (int64_t il = 0; il < s.n_layer; ++il) {
    for (float& x : k) x = d(rng);
    for (float& x : v) x = d(rng);
    kv.store(il, 0, n, k.data(), v.data());
  }
  kv.set_n_past(n);
}

// All bytes of a cache's K and V buffers, layer after layer (every position of the context).
std::vector<uint8_t> all_bytes(const KvCache& kv) {
  std::vector<uint8_t> out;
  for (int64_t il = 0; il < kv.shape().n_layer; ++il) {
    const auto* k = static_cast<const uint8_t*>(kv.k_data(il));
    const auto* v = static_cast<const uint8_t*>(kv.v_data(il));
    out.insert(out.end(), k, k + kv.n_ctx() * kv.k_token_bytes());
    out.insert(out.end(), v, v + kv.n_ctx() * kv.v_token_bytes());
  }
  return out;
}

struct Config {
  TensorType type;
  bool rotate;
};
const Config kConfigs[] = {{TensorType::F16, false},  {TensorType::F16, true},
                           {TensorType::Q8_0, false}, {TensorType::Q8_0, true},
                           {TensorType::Q4_0, false}, {TensorType::Q4_0, true}};

TEST(KvCopy, CopiesExactlyTheFirstNPositions) {
  for (const Config& c : kConfigs) {
    SCOPED_TRACE(std::string(type_name(c.type)) + (c.rotate ? " rotated" : " plain"));
    for (int64_t n : {int64_t(0), int64_t(1), int64_t(17), int64_t(40)}) {
      KvCache src = cache(c.type, c.rotate);
      fill(src, 40, 11);
      KvCache dst = cache(c.type, c.rotate, 64);  // another context size is fine
      fill(dst, 50, 22);
      const std::vector<uint8_t> before = all_bytes(dst);
      ASSERT_TRUE(kv_copy(src, dst, n).is_ok()) << n;
      EXPECT_EQ(dst.n_past(), n);
      EXPECT_EQ(src.n_past(), 40);
      for (int64_t il = 0; il < kLayers; ++il) {
        const auto* sk = static_cast<const uint8_t*>(src.k_data(il));
        const auto* dk = static_cast<const uint8_t*>(dst.k_data(il));
        const auto* sv = static_cast<const uint8_t*>(src.v_data(il));
        const auto* dv = static_cast<const uint8_t*>(dst.v_data(il));
        const size_t kb = n * src.k_token_bytes(), vb = n * src.v_token_bytes();
        EXPECT_EQ(0, std::memcmp(sk, dk, kb)) << "K layer " << il << " n " << n;
        EXPECT_EQ(0, std::memcmp(sv, dv, vb)) << "V layer " << il << " n " << n;
        // Positions n.. of the destination are what they were.
        const size_t layer_k = dst.n_ctx() * dst.k_token_bytes();
        const size_t layer_v = dst.n_ctx() * dst.v_token_bytes();
        const size_t base = static_cast<size_t>(il) * (layer_k + layer_v);
        EXPECT_EQ(0, std::memcmp(dk + kb, before.data() + base + kb, layer_k - kb))
            << "K beyond n, layer " << il;
        EXPECT_EQ(0, std::memcmp(dv + vb, before.data() + base + layer_k + vb, layer_v - vb))
            << "V beyond n, layer " << il;
      }
      // The source is untouched by being read.
      KvCache again = cache(c.type, c.rotate);
      fill(again, 40, 11);
      EXPECT_EQ(all_bytes(src), all_bytes(again));
    }
  }
}

// A refused copy changes nothing in the destination.
void expect_refused(const KvCache& src, KvCache& dst, int64_t n, const std::string& why) {
  const std::vector<uint8_t> before = all_bytes(dst);
  const int64_t past = dst.n_past();
  const Status st = kv_copy(src, dst, n);
  EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument) << why;
  EXPECT_EQ(dst.n_past(), past) << why;
  EXPECT_TRUE(all_bytes(dst) == before) << why;
}

TEST(KvCopy, RefusesMismatchedCachesAndCounts) {
  KvCache src = cache(TensorType::Q8_0, true);
  fill(src, 30, 1);
  {
    KvCache d = cache(TensorType::Q4_0, true);
    fill(d, 5, 2);
    expect_refused(src, d, 10, "type");
  }
  {
    KvCacheOptions o;
    o.n_ctx = 48;
    o.type_k = TensorType::Q8_0;
    o.type_v = TensorType::F16;  // only V differs
    o.rotate = true;
    KvCache d = std::move(KvCache::create({kLayers, kHeads, kDim, kDim}, o).value());
    fill(d, 5, 2);
    expect_refused(src, d, 10, "type_v");
    KvCacheOptions o2 = o;
    o2.type_k = TensorType::F16;  // only K differs
    o2.type_v = TensorType::Q8_0;
    KvCache d2 = std::move(KvCache::create({kLayers, kHeads, kDim, kDim}, o2).value());
    fill(d2, 5, 2);
    expect_refused(src, d2, 10, "type_k");
  }
  {
    KvCache d = cache(TensorType::Q8_0, false);
    fill(d, 5, 2);
    expect_refused(src, d, 10, "rotation");
  }
  for (KvShape shape :
       {KvShape{kLayers + 1, kHeads, kDim, kDim}, KvShape{kLayers - 1, kHeads, kDim, kDim},
        KvShape{kLayers, kHeads + 1, kDim, kDim}, KvShape{kLayers, kHeads, kDim * 2, kDim},
        KvShape{kLayers, kHeads, kDim, kDim * 2}}) {
    KvCache d = cache(TensorType::Q8_0, true, 48, shape);
    fill(d, 5, 2);
    expect_refused(src, d, 10,
                   "shape " + std::to_string(shape.n_layer) + "x" +
                       std::to_string(shape.n_head_kv) + "x" + std::to_string(shape.head_dim_k) +
                       "x" + std::to_string(shape.head_dim_v));
  }
  {
    KvCache d = cache(TensorType::Q8_0, true);
    fill(d, 5, 2);
    expect_refused(src, d, 31, "n > src.n_past");
    expect_refused(src, d, -1, "n < 0");
    KvCache small = cache(TensorType::Q8_0, true, 20);
    fill(small, 5, 2);
    expect_refused(src, small, 21, "n > dst.n_ctx");
    EXPECT_TRUE(kv_copy(src, small, 20).is_ok());  // up to dst's context
    EXPECT_EQ(small.n_past(), 20);
  }
  // For f16 the rotation flag does not apply (only block types are rotated): the bytes mean the
  // same, so the copy is allowed.
  KvCache f16a = cache(TensorType::F16, true), f16b = cache(TensorType::F16, false);
  fill(f16a, 8, 3);
  EXPECT_TRUE(kv_copy(f16a, f16b, 8).is_ok());
}

// ---- Session::copy_prefix_from on a tiny model ----

const std::string& model() {
  static const std::string p = testing_util::write_tiny_model({.seed = 17}, "kv_copy_tiny.gguf");
  return p;
}

std::vector<int32_t> tokens(int n, int32_t base) {
  std::vector<int32_t> t;
  for (int i = 0; i < n; ++i) t.push_back((base + i * 37) % 500 + 1);
  return t;
}

std::unique_ptr<Session> session(Engine& e, TensorType type, int64_t n_ctx = 96) {
  auto s = e.new_session({.n_ctx = n_ctx, .n_batch = 16, .type_k = type, .type_v = type});
  EXPECT_TRUE(s.is_ok()) << s.status().message();
  return s.is_ok() ? std::move(s.value()) : nullptr;
}

bool same_logits(const float* a, const float* b, int64_t n) {
  return std::memcmp(a, b, static_cast<size_t>(n) * sizeof(float)) == 0;
}

TEST(CopyPrefixFrom, AWholeCopyEvaluatesTheNextTokenBitIdentically) {
  auto e = testing_util::load_test_engine(model());
  ASSERT_NE(e, nullptr);
  const int64_t nv = e->hparams().n_vocab;
  for (TensorType type : {TensorType::F16, TensorType::Q8_0, TensorType::Q4_0}) {
    SCOPED_TRACE(type_name(type));
    auto src = session(*e, type), dst = session(*e, type);
    ASSERT_TRUE(src && dst);
    ASSERT_TRUE(src->eval(tokens(37, 5)).is_ok());
    ASSERT_TRUE(dst->eval(tokens(12, 99)).is_ok());  // something else before
    ASSERT_TRUE(dst->copy_prefix_from(*src, 37).is_ok());
    EXPECT_EQ(dst->tokens(), src->tokens());
    EXPECT_EQ(dst->n_past(), 37);
    EXPECT_EQ(dst->kv().n_past(), 37);
    EXPECT_TRUE(same_logits(dst->logits(), src->logits(), nv));
    // The logits after the copied prefix are kept as its snapshot (a later prompt reuses it).
    EXPECT_EQ(dst->snapshot().n_tokens, 37);
    for (int64_t il = 0; il < e->hparams().n_layer; ++il) {
      EXPECT_EQ(0, std::memcmp(src->kv().k_data(il), dst->kv().k_data(il),
                               37 * src->kv().k_token_bytes()));
      EXPECT_EQ(0, std::memcmp(src->kv().v_data(il), dst->kv().v_data(il),
                               37 * src->kv().v_token_bytes()));
    }
    // Several more tokens, one at a time: the two stay bit-identical.
    for (int32_t t : {7, 300, 42}) {
      const int32_t one[1] = {t};
      ASSERT_TRUE(src->eval(one).is_ok());
      ASSERT_TRUE(dst->eval(one).is_ok());
      EXPECT_TRUE(same_logits(dst->logits(), src->logits(), nv)) << "after token " << t;
    }
    // And the copy behaves as a fresh evaluation of the same tokens would (within rounding of
    // another chunking): the greedy next token agrees.
    auto fresh = session(*e, type);
    ASSERT_TRUE(fresh->eval(dst->tokens()).is_ok());
    const float* a = fresh->logits();
    const float* b = dst->logits();
    EXPECT_EQ(std::max_element(a, a + nv) - a, std::max_element(b, b + nv) - b);
  }
}

TEST(CopyPrefixFrom, APrefixUsesTheSnapshotOnlyWhenItIsAtThatPrefix) {
  auto e = testing_util::load_test_engine(model());
  ASSERT_NE(e, nullptr);
  const int64_t nv = e->hparams().n_vocab;
  auto src = session(*e, TensorType::F16), dst = session(*e, TensorType::F16);
  ASSERT_TRUE(src && dst);
  const std::vector<int32_t> prompt = tokens(20, 3);
  ASSERT_TRUE(src->eval(prompt).is_ok());
  src->snapshot_logits();  // at 20
  const std::vector<float> at20(src->logits(), src->logits() + nv);
  const int32_t next[1] = {123};
  ASSERT_TRUE(src->eval(next).is_ok());
  const std::vector<float> at21(src->logits(), src->logits() + nv);
  ASSERT_TRUE(src->eval(tokens(5, 77)).is_ok());  // n_past 26
  ASSERT_FALSE(same_logits(at20.data(), at21.data(), nv));

  // A prefix with no logits known after it: refused, the destination keeps its state.
  ASSERT_TRUE(dst->eval(tokens(9, 400)).is_ok());
  const std::vector<int32_t> dst_tokens = dst->tokens();
  const std::vector<float> dst_logits(dst->logits(), dst->logits() + nv);
  for (int64_t n : {int64_t(0), int64_t(-3), int64_t(10), int64_t(21), int64_t(25), int64_t(27)}) {
    EXPECT_FALSE(dst->copy_prefix_from(*src, n).is_ok()) << n;
    EXPECT_EQ(dst->tokens(), dst_tokens) << n;
    EXPECT_TRUE(same_logits(dst->logits(), dst_logits.data(), nv)) << n;
  }
  EXPECT_FALSE(dst->copy_prefix_from(*dst, 9).is_ok());  // itself

  // At the snapshot: the first 20 tokens and the logits after them.
  ASSERT_TRUE(dst->copy_prefix_from(*src, 20).is_ok());
  EXPECT_EQ(dst->n_past(), 20);
  EXPECT_EQ(dst->tokens(), prompt);
  EXPECT_TRUE(same_logits(dst->logits(), at20.data(), nv));
  // Continuing with the token the source took next gives the source's logits after it.
  ASSERT_TRUE(dst->eval(next).is_ok());
  EXPECT_TRUE(same_logits(dst->logits(), at21.data(), nv));
  // The whole source (n == n_past): its last logits.
  auto third = session(*e, TensorType::F16);
  ASSERT_TRUE(third->copy_prefix_from(*src, 26).is_ok());
  EXPECT_TRUE(same_logits(third->logits(), src->logits(), nv));
  EXPECT_EQ(third->tokens(), src->tokens());
}

TEST(CopyPrefixFrom, RefusesAnotherConfiguration) {
  auto e = testing_util::load_test_engine(model());
  auto e2 = testing_util::load_test_engine(model());
  ASSERT_TRUE(e && e2);
  auto src = session(*e, TensorType::F16);
  ASSERT_TRUE(src->eval(tokens(10, 1)).is_ok());
  auto other_engine = session(*e2, TensorType::F16);
  EXPECT_FALSE(other_engine->copy_prefix_from(*src, 10).is_ok());
  auto other_type = session(*e, TensorType::Q8_0);
  EXPECT_FALSE(other_type->copy_prefix_from(*src, 10).is_ok());
  auto small = session(*e, TensorType::F16, 8);
  EXPECT_FALSE(small->copy_prefix_from(*src, 10).is_ok());  // more than its context
}

// Length-adaptive YaRN (a model whose native context is 64): the copy takes the source's RoPE
// factor, so the two sessions stay bit-identical, also across the next factor step.
TEST(CopyPrefixFrom, AnAdaptiveSessionTakesTheSourcesRopeFactor) {
  static const std::string path = [] {
    const std::string base = testing_util::write_tiny_model({.seed = 23}, "kv_copy_base.gguf");
    const std::string dst =
        testing_util::remove_at_exit(testing_util::unique_temp_path("kv_copy_short.gguf"));
    testing_util::rewrite_gguf(base, dst, {.edit_kv = [](GgufKV& kv) {
                                 if (kv.key == "qwen3.context_length") kv.value = gguf_u32(64);
                               }});
    return dst;
  }();
  auto e = testing_util::load_test_engine(path);
  ASSERT_NE(e, nullptr);
  const int64_t nv = e->hparams().n_vocab;
  auto src = session(*e, TensorType::F16, 256), dst = session(*e, TensorType::F16, 256);
  ASSERT_TRUE(src && dst);
  ASSERT_TRUE(src->adaptive_rope());
  ASSERT_TRUE(src->eval(tokens(150, 8)).is_ok());  // factor ceil(150 / 64) = 3
  ASSERT_EQ(src->rope_params().scaling.type, ref::RopeScalingType::kYarn);
  ASSERT_EQ(src->rope_params().scaling.factor, 3.0);
  ASSERT_TRUE(dst->copy_prefix_from(*src, 150).is_ok());
  EXPECT_EQ(dst->rope_params().scaling.type, ref::RopeScalingType::kYarn);
  EXPECT_EQ(dst->rope_params().scaling.factor, 3.0);
  // 50 more tokens: past 192 both step to factor 4 and re-rotate their keys.
  for (int32_t t : tokens(50, 300)) {
    const int32_t one[1] = {t};
    ASSERT_TRUE(src->eval(one).is_ok());
    ASSERT_TRUE(dst->eval(one).is_ok());
    ASSERT_TRUE(same_logits(dst->logits(), src->logits(), nv)) << "at " << src->n_past();
  }
  EXPECT_EQ(dst->rope_params().scaling.factor, 4.0);
  // A static session (within the native context) and an adaptive one do not share states.
  auto plain = session(*e, TensorType::F16, 64);
  ASSERT_FALSE(plain->adaptive_rope());
  ASSERT_TRUE(plain->eval(tokens(30, 2)).is_ok());
  auto adaptive = session(*e, TensorType::F16, 256);
  EXPECT_FALSE(adaptive->copy_prefix_from(*plain, 30).is_ok());
}

}  // namespace
}  // namespace longctx
