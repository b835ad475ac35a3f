// Engine and session behaviour on small synth models: chunked prefill equals one-shot prefill,
// reset and truncate give the logits of a fresh session, the expert count changes per session
// without reloading, and bad models or inputs are errors that name the problem.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "core/system_memory.h"
#include "gguf/gguf_writer.h"
#include "kernels/cpu/isa.h"
#include "runtime/engine.h"
#include "runtime/engine_test_util.h"
#include "runtime/session.h"

namespace longctx {
namespace {

using testing_util::GgufEdit;
using testing_util::rewrite_gguf;
using testing_util::TinyModelSpec;
using testing_util::unique_temp_path;
using testing_util::write_tiny_model;

const std::string& dense_path() {
  static const std::string p = write_tiny_model({}, "engine_dense.gguf");
  return p;
}
const std::string& moe_path() {
  static const std::string p = write_tiny_model({.shape = "qwen3moe-tiny"}, "engine_moe.gguf");
  return p;
}

std::unique_ptr<Engine> load(const std::string& path) {
  EngineOptions o;
  o.model_path = path;
  o.backend = "ref";
  auto e = Engine::load(o);
  EXPECT_TRUE(e.is_ok()) << e.status().message();
  return e.is_ok() ? std::move(e.value()) : nullptr;
}

std::unique_ptr<Session> session(Engine& e, SessionOptions so = {}) {
  if (so.n_ctx == 0) so.n_ctx = 64;
  auto s = e.new_session(so);
  EXPECT_TRUE(s.is_ok()) << s.status().message();
  return s.is_ok() ? std::move(s.value()) : nullptr;
}

std::vector<int32_t> prompt(int n, int32_t n_vocab) {
  std::vector<int32_t> ids;
  for (int i = 0; i < n; ++i) ids.push_back(static_cast<int32_t>((i * 37 + 11) % n_vocab));
  return ids;
}

// All positions' logits of one eval.
std::vector<std::vector<float>> all_logits(Session& s, const std::vector<int32_t>& ids) {
  std::vector<std::vector<float>> rows(ids.size());
  const int64_t nv = s.engine().hparams().n_vocab;
  EvalOptions eo;
  eo.on_logits = [&](int64_t i, const float* l) { rows[i].assign(l, l + nv); };
  auto ok = s.eval(ids, eo);
  EXPECT_TRUE(ok.is_ok() && *ok) << ok.status().message();
  return rows;
}

TEST(Session, ChunkedPrefillEqualsOneShotAndTokenByToken) {
  auto e = load(dense_path());
  ASSERT_TRUE(e);
  const auto ids = prompt(23, 512);
  auto one = session(*e, {.n_ctx = 64, .n_batch = 64});
  auto chunked = session(*e, {.n_ctx = 64, .n_batch = 5});
  const auto a = all_logits(*one, ids);
  const auto b = all_logits(*chunked, ids);
  // Token by token (decode steps), keeping each step's logits.
  auto step = session(*e, {.n_ctx = 64, .n_batch = 1});
  // The reference backend computes each row independently of the batch (double accumulation
  // per row, attention per query), so the three schedules must agree exactly.
  for (size_t t = 0; t < ids.size(); ++t) {
    ASSERT_TRUE(step->eval(std::span(&ids[t], 1)).is_ok());
    ASSERT_EQ(a[t], b[t]) << "position " << t;
    ASSERT_EQ(std::vector<float>(step->logits(), step->logits() + 512), a[t]) << "position " << t;
  }
  EXPECT_EQ(std::vector<float>(one->logits(), one->logits() + 512), a.back());
  EXPECT_EQ(one->n_past(), 23);
  // The logits are not degenerate: a real distribution with a spread.
  float lo = a[5][0], hi = a[5][0];
  for (float x : a[5]) lo = std::min(lo, x), hi = std::max(hi, x);
  EXPECT_GT(hi - lo, 1.0f);
}

TEST(Session, ResetAndTruncateReproduceAFreshSession) {
  auto e = load(dense_path());
  ASSERT_TRUE(e);
  const auto ids = prompt(12, 512);
  auto s = session(*e);
  ASSERT_TRUE(s->eval(ids).is_ok());
  const std::vector<float> first(s->logits(), s->logits() + 512);
  s->reset();
  EXPECT_EQ(s->n_past(), 0);
  ASSERT_TRUE(s->eval(ids).is_ok());
  EXPECT_EQ(std::vector<float>(s->logits(), s->logits() + 512), first);
  // Truncate to 7 and re-evaluate the rest: same as never having diverged.
  const std::vector<int32_t> other = prompt(5, 97);
  s->truncate(7);
  ASSERT_TRUE(s->eval(other).is_ok());
  s->truncate(7);
  ASSERT_TRUE(s->eval(std::span(ids).subspan(7)).is_ok());
  EXPECT_EQ(std::vector<float>(s->logits(), s->logits() + 512), first);
}

TEST(Session, KvTypesF16AndBf16StayCloseToF32) {
  auto e = load(dense_path());
  ASSERT_TRUE(e);
  const auto ids = prompt(20, 512);
  auto f32 = session(*e, {.type_k = TensorType::F32, .type_v = TensorType::F32});
  const auto ref = all_logits(*f32, ids);
  for (TensorType t : {TensorType::F16, TensorType::BF16}) {
    auto s = session(*e, {.type_k = t, .type_v = t});
    EXPECT_EQ(s->kv().bytes(), f32->kv().bytes() / 2);
    const auto got = all_logits(*s, ids);
    double max_diff = 0, spread = 0;
    for (size_t p = 0; p < ids.size(); ++p) {
      for (size_t i = 0; i < got[p].size(); ++i) {
        max_diff = std::max(max_diff, double(std::fabs(got[p][i] - ref[p][i])));
        spread = std::max(spread, double(std::fabs(ref[p][i])));
      }
    }
    // Rounding K and V to 11 (f16) or 8 (bf16) significant bits perturbs logits by a small
    // fraction of their range, never by nothing (the cache really is stored reduced).
    EXPECT_GT(max_diff, 0.0) << type_name(t);
    EXPECT_LT(max_diff, (t == TensorType::F16 ? 0.01 : 0.05) * spread) << type_name(t);
  }
}

// A `synth --random-blocks` model (quantized blocks straight from random bytes) must behave like
// one quantized from random floats of the same spread: finite logits of a similar range, so a
// benchmark on it measures a realistic forward pass.
TEST(Session, RandomBlockWeightsGiveFiniteLogitsOfTheUsualRange) {
  for (TensorType t : {TensorType::Q8_0, TensorType::Q4_K, TensorType::Q6_K}) {
    const std::string name = std::string("engine_rb_") + type_name(t);
    const std::string floats = write_tiny_model({.shape = "qwen3moe-tiny", .type = t}, name + "_f");
    const std::string blocks =
        write_tiny_model({.shape = "qwen3moe-tiny", .type = t, .random_blocks = true}, name + "_b");
    const auto ids = prompt(12, 512);
    double range[2] = {0, 0};
    for (int k = 0; k < 2; ++k) {
      auto e = load(k == 0 ? floats : blocks);
      ASSERT_TRUE(e);
      auto s = session(*e);
      for (const auto& row : all_logits(*s, ids)) {
        for (float v : row) {
          ASSERT_TRUE(std::isfinite(v)) << type_name(t);
          range[k] = std::max(range[k], double(std::fabs(v)));
        }
      }
    }
    EXPECT_GT(range[1], 0.5 * range[0]) << type_name(t);
    EXPECT_LT(range[1], 2.0 * range[0]) << type_name(t);
  }
}

TEST(Session, ExpertCountIsPerSessionAndChangesTheOutput) {
  auto e = load(moe_path());
  ASSERT_TRUE(e);
  EXPECT_EQ(e->hparams().n_expert_used, 2u);
  const auto ids = prompt(9, 512);
  auto k2 = session(*e);
  EXPECT_EQ(k2->expert_count(), 2);
  ASSERT_TRUE(k2->eval(ids).is_ok());
  const std::vector<float> l2(k2->logits(), k2->logits() + 512);
  auto k3 = session(*e, {.n_expert_used = 3});
  ASSERT_TRUE(k3->eval(ids).is_ok());
  const std::vector<float> l3(k3->logits(), k3->logits() + 512);
  EXPECT_NE(l2, l3);
  // Switching k on a session and re-running equals a session created with that k.
  k2->reset();
  ASSERT_TRUE(k2->set_expert_count(3).is_ok());
  ASSERT_TRUE(k2->eval(ids).is_ok());
  EXPECT_EQ(std::vector<float>(k2->logits(), k2->logits() + 512), l3);
  EXPECT_FALSE(k2->set_expert_count(0).is_ok());
  EXPECT_FALSE(k2->set_expert_count(9).is_ok());
  EXPECT_FALSE(e->new_session({.n_expert_used = 9}).is_ok());
  // Active parameters grow by one expert's three matrices per layer from k = 2 to k = 3.
  const ModelHparams& hp = e->hparams();
  EXPECT_EQ(e->model().active_params(3) - e->model().active_params(2),
            3ull * hp.n_embd * hp.n_ff_expert * hp.n_layer);
}

TEST(Session, ComputeBytesForEqualsWhatASessionAllocates) {
  for (const std::string* path : {&dense_path(), &moe_path()}) {
    auto e = load(*path);
    ASSERT_TRUE(e);
    for (int64_t batch : {1, 7, 64}) {
      auto s = session(*e, {.n_ctx = 64, .n_batch = batch});
      EXPECT_EQ(s->compute_bytes(), Session::compute_bytes_for(e->hparams(), batch));
      EXPECT_EQ(s->kv().bytes(),
                KvCache::bytes_for({e->hparams().n_layer, e->hparams().n_head_kv,
                                    e->hparams().head_dim, e->hparams().head_dim_v},
                                   {64, TensorType::F16, TensorType::F16}));
    }
  }
}

// The backend's own scratch (converted activations, attention areas) stays within the bound
// the engine plans with, for prefill chunks and decode on dense and MoE models whose matrices
// read different activation formats.
TEST(Engine, BackendScratchStaysWithinThePlannedBound) {
  const std::string dense_q = write_tiny_model({.type = TensorType::Q4_K}, "scratch_dense.gguf");
  const std::string moe_q =
      write_tiny_model({.shape = "qwen3moe-tiny", .type = TensorType::Q8_0}, "scratch_moe.gguf");
  for (const std::string* path : {&dense_q, &moe_q}) {
    EngineOptions o;
    o.model_path = *path;
    o.backend = "cpu";
    o.n_threads = 2;
    auto e = Engine::load(o);
    ASSERT_TRUE(e.is_ok()) << e.status().message();
    Engine& engine = **e;
    const int64_t n_batch = 16;
    auto s = session(engine, {.n_ctx = 128, .n_batch = n_batch});
    ASSERT_TRUE(s);
    const Engine::RuntimeMemory rt = engine.runtime_memory(n_batch, s->expert_count());
    EXPECT_EQ(engine.backend().scratch_bytes(), 0u);
    ASSERT_TRUE(s->eval(prompt(40, 512)).is_ok());  // chunks of 16, 16 and 8
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(s->eval(prompt(1, 512)).is_ok());
    const uint64_t used = engine.backend().scratch_bytes();
    EXPECT_GT(used, 0u) << *path;
    EXPECT_LE(used, rt.backend_scratch) << *path;
    // A larger batch needs more.
    EXPECT_GT(engine.runtime_memory(4 * n_batch, s->expert_count()).backend_scratch,
              rt.backend_scratch);
  }
}

// Once the tokenizer holds the vocabulary and merges, the metadata's copies are freed; the
// load's heap (tokenizer, tables) and the program are counted for plans.
TEST(Engine, TokenizerArraysAreDroppedAfterLoadAndTheHeapIsCounted) {
  const std::string path = write_tiny_model(
      {.type = TensorType::Q8_0, .n_vocab = 151936, .with_tokenizer = true}, "engine_tok.gguf");
  auto e = load(path);
  ASSERT_TRUE(e);
  ASSERT_NE(e->tokenizer(), nullptr);
  EXPECT_EQ(e->tokenizer()->encode("hello world").size(), 2u);
  for (const char* key :
       {"tokenizer.ggml.tokens", "tokenizer.ggml.token_type", "tokenizer.ggml.merges"}) {
    EXPECT_EQ(e->model().gguf().find(key), nullptr) << key;
  }
  EXPECT_NE(e->model().gguf().find("tokenizer.ggml.eos_token_id"), nullptr);
  EXPECT_FALSE(e->chat_template().empty());
  const Engine::RuntimeMemory rt = e->runtime_memory(16, 0);
  // Qwen3's 151k pieces and merges take several MiB in the tokenizer's tables (where malloc
  // reports its heap: not under AddressSanitizer).
  if (heap_in_use_bytes()) {
    EXPECT_GT(rt.tables, 4ull << 20);
  }
  EXPECT_GT(rt.program, 0u);
}

TEST(Session, BadTokensAndContextOverflowAreErrorsThatChangeNothing) {
  auto e = load(dense_path());
  ASSERT_TRUE(e);
  auto s = session(*e, {.n_ctx = 16});
  const std::vector<int32_t> bad = {1, 2, 512};
  auto r = s->eval(bad);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("512"), std::string::npos) << r.status().message();
  EXPECT_EQ(s->n_past(), 0);
  ASSERT_TRUE(s->eval(prompt(10, 512)).is_ok());
  r = s->eval(prompt(7, 512));
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("context"), std::string::npos) << r.status().message();
  EXPECT_EQ(s->n_past(), 10);
  EXPECT_TRUE(s->eval(prompt(6, 512)).is_ok());  // exactly fills the context
  EXPECT_EQ(s->n_past(), 16);
}

// Past the native context with no scaling in the file and none asked for, sessions use
// length-adaptive YaRN (no scaling up to 32768, then the smallest integer factor); an explicit
// --rope-scaling none keeps the static setting and warns with the factor to use.
TEST(Engine, ContextBeyondNativeIsAdaptiveUnlessScalingIsSet) {
  auto e = load(dense_path());
  ASSERT_TRUE(e);
  EXPECT_EQ(e->rope_context_limit(), 40960);
  auto s = e->new_session(
      {.n_ctx = 100000, .n_batch = 8, .type_k = TensorType::BF16, .type_v = TensorType::BF16});
  ASSERT_TRUE(s.is_ok()) << s.status().message();
  EXPECT_TRUE((*s)->adaptive_rope());
  EXPECT_TRUE((*s)->warning().empty()) << (*s)->warning();
  EXPECT_EQ((*s)->rope_params().scaling.type, ref::RopeScalingType::kNone);
  EXPECT_EQ(Session::adaptive_factor(32768, 32768), 1.0);
  EXPECT_EQ(Session::adaptive_factor(32769, 32768), 2.0);
  EXPECT_EQ(Session::adaptive_factor(100000, 32768), 4.0);
  auto ok = e->new_session({.n_ctx = 4096});
  EXPECT_TRUE((*ok)->warning().empty());
  EXPECT_FALSE((*ok)->adaptive_rope());

  EngineOptions o;
  o.model_path = dense_path();
  o.backend = "ref";
  o.rope.type = RopeScalingType::kNone;
  auto fixed = Engine::load(o);
  ASSERT_TRUE(fixed.is_ok());
  auto w = (*fixed)->new_session({.n_ctx = 100000, .n_batch = 8});
  ASSERT_TRUE(w.is_ok());
  EXPECT_FALSE((*w)->adaptive_rope());
  // Qwen's recipe scales from the 32768-token pre-training context: ceil(100000 / 32768) = 4.
  EXPECT_NE((*w)->warning().find("--rope-factor 4 --rope-orig-ctx 32768"), std::string::npos)
      << (*w)->warning();
  // auto with a factor is a contradiction.
  o.rope.type.reset();
  o.rope.adaptive = true;
  o.rope.factor = 4.0;
  EXPECT_FALSE(Engine::load(o).is_ok());
}

// Whether [p, p + n) lies inside the engine's mapped GGUF file.
bool in_file(const Engine& e, const void* p) {
  const GgufFile& f = e.model().gguf();
  const auto* b = static_cast<const uint8_t*>(p);
  const GgufTensorInfo& first = f.tensors().front();
  const uint8_t* lo = f.tensor_data(first) - first.offset;  // start of the data section
  uint64_t end = 0;
  for (const GgufTensorInfo& t : f.tensors()) end = std::max(end, t.offset + t.n_bytes);
  return b >= lo && b < lo + end;
}

TEST(Engine, PlacedWeightsGiveTheLogitsOfTheMappedFileBitForBit) {
  // Placement copies the weights out of the file (the embedding table only when the output
  // head is tied to it) and, on paths without a repacked layout, must change nothing else:
  // the same kernels read the same bytes. qwen3-tiny is tied, qwen3moe-tiny is not.
  const std::string dense = write_tiny_model({.type = TensorType::Q8_0}, "placed_dense.gguf");
  const std::string moe =
      write_tiny_model({.shape = "qwen3moe-tiny", .type = TensorType::Q8_0}, "placed_moe.gguf");
  for (const std::string& path : {dense, moe}) {
    for (const char* isa : {"", "avx2"}) {
      auto load_with = [&](bool place) {
        EngineOptions o;
        o.model_path = path;
        o.backend = *isa ? "cpu" : "ref";
        if (*isa) o.isa = isa;
        o.n_threads = 2;
        o.repack = place;
        auto e = Engine::load(o);
        EXPECT_TRUE(e.is_ok()) << e.status().message();
        return e.is_ok() ? std::move(e.value()) : nullptr;
      };
      auto mapped = load_with(false);
      auto placed = load_with(true);
      ASSERT_TRUE(mapped && placed);
      if (*isa && !cpu::isa_supported(cpu::Isa::kAvx2)) continue;
      const std::string what = path + (*isa ? " cpu-avx2" : " ref");
      EXPECT_EQ(mapped->placed_tensors(), 0) << what;
      EXPECT_EQ(placed->repacked_tensors(), 0) << what;
      const ModelWeights& w = placed->model().weights();
      const bool tied = placed->hparams().tied_embeddings;
      // Every matrix: 7 per dense layer (4 attention, 3 FFN), 8 per MoE layer (4 attention,
      // the router, 3 expert stacks), the output head; the embedding table when tied.
      const int64_t n_layer = placed->hparams().n_layer;
      const bool is_moe = placed->hparams().n_expert > 0;
      EXPECT_EQ(placed->placed_tensors(), n_layer * (is_moe ? 8 : 7) + 1) << what;
      EXPECT_EQ(in_file(*placed, w.token_embd.data), !tied) << what;
      EXPECT_FALSE(in_file(*placed, w.output.data)) << what;
      for (const LayerWeights& L : w.layers) {
        EXPECT_FALSE(in_file(*placed, L.attn_q.data)) << what;
        EXPECT_FALSE(in_file(*placed, is_moe ? L.ffn_down_exps.data : L.ffn_down.data)) << what;
      }
      EXPECT_TRUE(in_file(*mapped, mapped->model().weights().output.data)) << what;
      auto a = session(*mapped);
      auto b = session(*placed);
      const auto ids = prompt(9, 512);
      EXPECT_EQ(all_logits(*a, ids), all_logits(*b, ids)) << what;
    }
  }
}

TEST(Engine, AContextThatCannotFitInMemoryIsRefusedBeforeAllocating) {
  auto e = load(dense_path());
  ASSERT_TRUE(e);
  // qwen3-tiny: 2 layers x 2 kv heads x 128 x 2 (K, V) x 4 bytes = 4 KiB per position at f32,
  // so 2^24 positions need 64 GiB: more than any CI machine has available.
  auto s = e->new_session(
      {.n_ctx = int64_t{1} << 24, .type_k = TensorType::F32, .type_v = TensorType::F32});
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.status().message().find("available"), std::string::npos) << s.status().message();
}

TEST(Engine, RopeOverridesAreValidatedAndApplied) {
  EngineOptions o;
  o.model_path = dense_path();
  o.rope.factor = 4.0;  // a factor without a scaling type
  EXPECT_FALSE(Engine::load(o).is_ok());
  o.rope.type = RopeScalingType::kYarn;
  o.rope.orig_ctx = 1024;
  auto e = Engine::load(o);
  ASSERT_TRUE(e.is_ok()) << e.status().message();
  EXPECT_EQ((*e)->rope_context_limit(), 4096);
  EXPECT_EQ((*e)->rope_params().scaling.original_context, 1024);
  o.rope.factor = 0.5;
  EXPECT_FALSE(Engine::load(o).is_ok());
  o.rope = {};
  o.rope.freq_base = -1;
  EXPECT_FALSE(Engine::load(o).is_ok());
}

Status load_status(const std::string& path) {
  EngineOptions o;
  o.model_path = path;
  auto e = Engine::load(o);
  return e.is_ok() ? Status::ok() : e.status();
}

TEST(Engine, HostileMetadataIsRefusedOrIgnoredWithoutHugeAllocations) {
  const std::string dst = testing_util::remove_at_exit(unique_temp_path("hostile.gguf"));
  // A block count far beyond the tensors present: refused before any per-layer table is built.
  rewrite_gguf(dense_path(), dst, {.edit_kv = [](GgufKV& kv) {
                 if (kv.key == "qwen3.block_count") kv.value.u = 2000000000;
               }});
  Status st = load_status(dst);
  EXPECT_NE(st.message().find("block_count"), std::string::npos) << st.message();
  // A MoE file's unused dense feed_forward_length does not size any buffer.
  rewrite_gguf(moe_path(), dst,
               {.add_kv = {{"qwen3moe.feed_forward_length", gguf_u32(0xffffffffu)}}});
  auto e = load(dst);
  ASSERT_TRUE(e);
  auto s = e->new_session({.n_ctx = 64});
  ASSERT_TRUE(s.is_ok()) << s.status().message();
  EXPECT_LT((*s)->compute_bytes(), 64ull << 20);
  EngineOptions o;
  o.model_path = dense_path();
  o.n_threads = 5000;
  EXPECT_FALSE(Engine::load(o).is_ok());
}

// NaN weights give NaN logits (never an abort): eval succeeds, generation reports them.
TEST(Engine, NonFiniteLogitsAreAnErrorNotACrash) {
  const std::string dst = testing_util::remove_at_exit(unique_temp_path("nan.gguf"));
  rewrite_gguf(dense_path(), dst, {});
  {
    auto f = GgufFile::open(dst);
    ASSERT_TRUE(f.is_ok());
    const GgufTensorInfo* t = f->find_tensor("blk.1.attn_k_norm.weight");
    ASSERT_NE(t, nullptr);
    const uint64_t at = f->data_offset() + t->offset;
    std::FILE* fp = std::fopen(dst.c_str(), "r+b");
    ASSERT_NE(fp, nullptr);
    const float nan = NAN;
    std::fseek(fp, static_cast<long>(at), SEEK_SET);
    std::fwrite(&nan, sizeof nan, 1, fp);
    std::fclose(fp);
  }
  for (const char* backend : {"ref", "cpu"}) {
    EngineOptions o;
    o.model_path = dst;
    o.backend = backend;
    auto e = Engine::load(o);
    ASSERT_TRUE(e.is_ok()) << e.status().message();
    auto s = (*e)->new_session({.n_ctx = 32});
    ASSERT_TRUE(s.is_ok());
    const auto ids = prompt(5, 512);
    auto ok = (*s)->eval(ids);
    ASSERT_TRUE(ok.is_ok()) << ok.status().message();
    EXPECT_TRUE(std::isnan((*s)->logits()[0])) << backend;
  }
}

TEST(Engine, BrokenModelsAreErrorsNamingTheTensorOrKey) {
  const std::string dst = testing_util::remove_at_exit(unique_temp_path("broken.gguf"));
  rewrite_gguf(dense_path(), dst, {.keep_tensor = [](const GgufTensorInfo& t) {
                 return t.name != "blk.1.attn_k.weight";
               }});
  Status st = load_status(dst);
  EXPECT_FALSE(st.is_ok());
  EXPECT_NE(st.message().find("blk.1.attn_k.weight"), std::string::npos) << st.message();

  rewrite_gguf(dense_path(), dst, {.edit_tensor = [](GgufTensorInfo& t) {
                 if (t.name == "blk.0.ffn_up.weight") t.dims[1] = 100;
               }});
  st = load_status(dst);
  EXPECT_NE(st.message().find("blk.0.ffn_up.weight"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("100"), std::string::npos) << st.message();

  rewrite_gguf(dense_path(), dst, {.edit_kv = [](GgufKV& kv) {
                 if (kv.key == "general.architecture") kv.value.str = "llama";
               }});
  st = load_status(dst);
  EXPECT_NE(st.message().find("llama"), std::string::npos) << st.message();

  rewrite_gguf(dense_path(), dst,
               {.keep_kv = [](const GgufKV& kv) { return kv.key != "qwen3.block_count"; }});
  st = load_status(dst);
  EXPECT_NE(st.message().find("block_count"), std::string::npos) << st.message();

  // A weight type without kernels (an integer tensor type) is named.
  rewrite_gguf(dense_path(), dst, {.edit_tensor = [](GgufTensorInfo& t) {
                 if (t.name == "blk.0.attn_q.weight") t.type = TensorType::I32;
               }});
  st = load_status(dst);
  EXPECT_NE(st.message().find("blk.0.attn_q.weight"), std::string::npos) << st.message();
  EXPECT_FALSE(load_status(unique_temp_path("does-not-exist.gguf")).is_ok());
}

}  // namespace
}  // namespace longctx
