// A sleeping server's memory release (Engine::release_weights, Session::release_memory) and
// wake-up (Engine::restore_weights): the released pages really are given back (a placed weight
// reads as zeros while asleep), and after the restore every logit equals the one before the
// release, on the repacked x16 layout (AVX-512), the plain placed copy (AVX2) and weights read
// straight from the file (no placement), for a dense and an MoE model.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "kernels/cpu/isa.h"
#include "runtime/engine.h"
#include "runtime/engine_test_util.h"
#include "runtime/session.h"

namespace longctx {
namespace {

using testing_util::write_tiny_model;

std::vector<std::vector<float>> all_logits(Session& s, const std::vector<int32_t>& ids) {
  std::vector<std::vector<float>> rows(ids.size());
  const int64_t nv = s.engine().hparams().n_vocab;
  EvalOptions eo;
  eo.on_logits = [&](int64_t i, const float* l) { rows[static_cast<size_t>(i)].assign(l, l + nv); };
  auto ok = s.eval(ids, eo);
  EXPECT_TRUE(ok.is_ok() && *ok) << ok.status().message();
  return rows;
}

// Where and in which layout every matrix the forward pass reads lies.
std::vector<std::pair<const void*, WeightLayout>> placement_of(const ModelWeights& w) {
  std::vector<std::pair<const void*, WeightLayout>> out;
  auto m = [&](const WeightMatrix& x) { out.emplace_back(x.data, x.layout); };
  auto e = [&](const ExpertStack& x) { out.emplace_back(x.data, x.layout); };
  for (const LayerWeights& L : w.layers) {
    for (const WeightMatrix* x : {&L.attn_q, &L.attn_k, &L.attn_v, &L.attn_out, &L.ffn_gate,
                                  &L.ffn_up, &L.ffn_down, &L.ffn_router}) {
      m(*x);
    }
    for (const ExpertStack* x : {&L.ffn_gate_exps, &L.ffn_up_exps, &L.ffn_down_exps}) e(*x);
  }
  m(w.token_embd);
  m(w.output);
  return out;
}

bool all_zero(const void* p, size_t n) {
  const auto* b = static_cast<const uint8_t*>(p);
  return std::all_of(b, b + n, [](uint8_t x) { return x == 0; });
}

TEST(EngineSleep, ReleasedWeightsAndCachesComeBackBitForBit) {
  const std::string dense = write_tiny_model({.type = TensorType::Q8_0}, "sleep_dense.gguf");
  const std::string moe =
      write_tiny_model({.shape = "qwen3moe-tiny", .type = TensorType::Q4_K}, "sleep_moe.gguf");
  struct Case {
    const char* isa;
    bool place;
  };
  for (const std::string& path : {dense, moe}) {
    for (const Case c : {Case{"avx512", true}, Case{"avx2", true}, Case{"avx2", false}}) {
      if (!cpu::isa_supported(std::string(c.isa) == "avx512" ? cpu::Isa::kAvx512
                                                             : cpu::Isa::kAvx2)) {
        continue;
      }
      const std::string what = path + " " + c.isa + (c.place ? " placed" : " mapped");
      EngineOptions o;
      o.model_path = path;
      o.backend = "cpu";
      o.isa = c.isa;
      o.n_threads = 2;
      o.repack = c.place;
      auto e = Engine::load(o);
      ASSERT_TRUE(e.is_ok()) << e.status().message();
      Engine& eng = *e.value();
      auto s = eng.new_session({.n_ctx = 64});
      ASSERT_TRUE(s.is_ok()) << s.status().message();
      Session& ses = *s.value();
      std::vector<int32_t> ids;
      for (int i = 0; i < 12; ++i) ids.push_back((i * 37 + 11) % 512);
      const auto before = all_logits(ses, ids);

      const ModelWeights& w = eng.model().weights();
      const WeightMatrix q0 = w.layers[0].attn_q;
      const auto placed = placement_of(w);
      ASSERT_TRUE(ses.release_memory().is_ok()) << what;
      const int placed_at_load = eng.placed_tensors(), repacked_at_load = eng.repacked_tensors();
      ASSERT_TRUE(eng.release_weights().is_ok()) << what;
      EXPECT_TRUE(eng.weights_released()) << what;
      EXPECT_EQ(ses.n_past(), 0) << what;
      EXPECT_TRUE(ses.tokens().empty()) << what;
      if (c.place) {
        // Anonymous pages given back read as zeros until written again.
        EXPECT_TRUE(all_zero(q0.data, 4096)) << what << ": the placed weights are still there";
      }
      ASSERT_TRUE(eng.release_weights().is_ok()) << what;  // twice: nothing more happens

      ASSERT_TRUE(eng.restore_weights().is_ok()) << what;
      EXPECT_FALSE(eng.weights_released()) << what;
      // Same places, same layouts (x16 again where the first placement repacked).
      EXPECT_EQ(placement_of(w), placed) << what;
      // The restore placed and repacked what the load did (counted anew).
      EXPECT_EQ(eng.placed_tensors(), placed_at_load) << what;
      EXPECT_EQ(eng.repacked_tensors(), repacked_at_load) << what;
      if (c.place && std::string(c.isa) == "avx512") {
        EXPECT_GT(eng.repacked_tensors(), 0) << what;
        EXPECT_TRUE(std::any_of(placed.begin(), placed.end(), [](const auto& p) {
          return p.second == WeightLayout::kX16;
        })) << what;
      }
      EXPECT_EQ(all_logits(ses, ids), before) << what;
      // A restore without a release changes nothing.
      ASSERT_TRUE(eng.restore_weights().is_ok()) << what;
      ses.reset();
      EXPECT_EQ(all_logits(ses, ids), before) << what;
    }
  }
}

}  // namespace
}  // namespace longctx
