// The CUDA engine against the reference engine ("ref": the scalar oracle, f32 activations as
// the CUDA kernels use, where the cpu backend rounds them to 8 bits first) on the same model
// file (gpu tier: skips without a GPU): logits after a chunked prefill and each decoded token
// agree within the kernels' rounding, for a dense and an MoE model, f16 and quantized caches,
// more experts than the model's default; the sequence operations that move the cache between
// device and host (removal of a span, truncation, copy of a prefix, save and reload) leave the
// same state as on the reference.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "kernels/cuda/cuda_api.h"
#include "model/forward_cuda.h"
#include "runtime/engine.h"
#include "runtime/engine_test_util.h"
#include "runtime/session.h"
#include "runtime/session_file.h"

namespace longctx {
namespace {

using testing_util::load_test_engine;
using testing_util::TinyModelSpec;
using testing_util::write_tiny_model;

class CudaEngine : public testing::Test {
 protected:
  void SetUp() override {
    auto d = cuda::devices();
    if (!d.is_ok()) GTEST_SKIP() << d.status().message();
  }
};

std::unique_ptr<Session> new_session(Engine& e, TensorType kv, int64_t n_ctx = 256) {
  SessionOptions so;
  so.n_ctx = n_ctx;
  so.n_batch = 16;  // a 40-token prompt is three chunks
  so.type_k = so.type_v = kv;
  auto s = e.new_session(so);
  EXPECT_TRUE(s.is_ok()) << s.status().message();
  return s.is_ok() ? std::move(s.value()) : nullptr;
}

std::vector<int32_t> prompt(int n) {
  std::vector<int32_t> ids;
  for (int i = 0; i < n; ++i) ids.push_back(int32_t((i * 37 + 11) % 512));
  return ids;
}

// Largest |a - b| over the vector, and the range of b.
struct Diff {
  double max_abs = 0, range = 0;
  bool same_top1 = true;
};
Diff compare(const float* a, const float* b, int64_t n) {
  Diff d;
  int64_t ta = 0, tb = 0;
  for (int64_t i = 0; i < n; ++i) {
    d.max_abs = std::max(d.max_abs, double(std::fabs(a[i] - b[i])));
    d.range = std::max(d.range, double(std::fabs(b[i])));
    if (a[i] > a[ta]) ta = i;
    if (b[i] > b[tb]) tb = i;
  }
  // Top-1 must agree where the reference's margin over the runner-up exceeds the error.
  double second = -1e30;
  for (int64_t i = 0; i < n; ++i) {
    if (i != tb) second = std::max(second, double(b[i]));
  }
  d.same_top1 = ta == tb || double(b[tb]) - second <= 2 * d.max_abs;
  return d;
}

TEST_F(CudaEngine, LogitsEqualTheCpuEngineAfterPrefillAndEachDecodedToken) {
  struct Case {
    const char* shape;
    TensorType weights;
    TensorType kv;
    int64_t experts;  // 0: the model's
  };
  const Case cases[] = {{"qwen3-tiny", TensorType::Q8_0, TensorType::F16, 0},
                        {"qwen3-tiny", TensorType::Q6_K, TensorType::Q8_0, 0},
                        {"qwen3moe-tiny", TensorType::Q4_K, TensorType::F16, 0},
                        {"qwen3moe-tiny", TensorType::BF16, TensorType::Q4_0, 0},
                        // all 8 experts: the (token, expert) pairs run in groups of tokens
                        {"qwen3moe-tiny", TensorType::Q8_0, TensorType::F16, 8}};
  for (const Case& c : cases) {
    const std::string path =
        write_tiny_model({.shape = c.shape, .type = c.weights}, std::string("cuda_") + c.shape);
    auto cpu = load_test_engine(path, "ref");
    auto gpu = load_test_engine(path, "cuda");
    ASSERT_TRUE(cpu && gpu);
    EXPECT_STREQ(gpu->backend_name(), "cuda");
    auto a = new_session(*cpu, c.kv);
    auto b = new_session(*gpu, c.kv);
    ASSERT_TRUE(a && b && b->on_device());
    if (c.experts > 0) {
      ASSERT_TRUE(a->set_expert_count(c.experts).is_ok());
      ASSERT_TRUE(b->set_expert_count(c.experts).is_ok());
    }
    // The reference quantizes q to Q8_0 against a block-type cache (the CPU's integer kernels),
    // the device keeps it fp32: a wider bound there.
    const double tol = c.kv == TensorType::F16 ? 1e-3 : 2e-2;
    const int64_t nv = cpu->hparams().n_vocab;
    std::vector<int32_t> ids = prompt(40);
    double worst = 0;
    for (int step = 0; step < 6; ++step) {
      ASSERT_TRUE(a->eval(ids).is_ok());
      ASSERT_TRUE(b->eval(ids).is_ok());
      const Diff d = compare(b->logits(), a->logits(), nv);
      worst = std::max(worst, d.max_abs / d.range);
      // f32 accumulation in another order: far below the logits' range, nothing like a wrong
      // layer, position or expert would give.
      EXPECT_LT(d.max_abs, tol * d.range) << c.shape << " step " << step;
      EXPECT_TRUE(d.same_top1) << c.shape << " step " << step;
      ids = {int32_t(std::max_element(a->logits(), a->logits() + nv) - a->logits())};
    }
    std::printf("[ logits  ] %s %s weights, %s KV: max |gpu - cpu| / range = %.2e\n", c.shape,
                type_name(c.weights), type_name(c.kv), worst);
  }
}

TEST_F(CudaEngine, SequenceOperationsKeepTheDeviceAndHostCachesInStep) {
  const std::string path = write_tiny_model({.type = TensorType::Q8_0}, "cuda_ops");
  auto cpu = load_test_engine(path, "ref");
  auto gpu = load_test_engine(path, "cuda");
  ASSERT_TRUE(cpu && gpu);
  const int64_t nv = cpu->hparams().n_vocab;
  auto a = new_session(*cpu, TensorType::F16);
  auto b = new_session(*gpu, TensorType::F16);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->eval(prompt(50)).is_ok());
  ASSERT_TRUE(b->eval(prompt(50)).is_ok());
  // Removing a span shifts the later keys on the host mirror and sends them back.
  ASSERT_TRUE(a->remove(5, 20).is_ok());
  ASSERT_TRUE(b->remove(5, 20).is_ok());
  const std::vector<int32_t> more = {7, 8, 9};
  ASSERT_TRUE(a->eval(more).is_ok());
  ASSERT_TRUE(b->eval(more).is_ok());
  Diff d = compare(b->logits(), a->logits(), nv);
  EXPECT_LT(d.max_abs, 1e-3 * d.range);
  // Truncated, then every position's logits (chunks of more rows than one logits pass holds).
  a->truncate(20);
  b->truncate(20);
  std::vector<std::vector<float>> la, lb;
  EvalOptions ea, eb;
  ea.on_logits = [&](int64_t, const float* l) { la.emplace_back(l, l + nv); };
  eb.on_logits = [&](int64_t, const float* l) { lb.emplace_back(l, l + nv); };
  ASSERT_TRUE(a->eval(prompt(30), ea).is_ok());
  ASSERT_TRUE(b->eval(prompt(30), eb).is_ok());
  ASSERT_EQ(la.size(), 30u);
  ASSERT_EQ(lb.size(), 30u);
  for (size_t i = 0; i < la.size(); ++i) {
    d = compare(lb[i].data(), la[i].data(), nv);
    EXPECT_LT(d.max_abs, 1e-3 * d.range) << "position " << i;
  }
  // A copied prefix continues as its source does.
  auto c = new_session(*gpu, TensorType::F16);
  ASSERT_TRUE(c->copy_prefix_from(*b, b->n_past()).is_ok());
  ASSERT_TRUE(b->eval(more).is_ok());
  ASSERT_TRUE(c->eval(more).is_ok());
  d = compare(c->logits(), b->logits(), nv);
  EXPECT_EQ(d.max_abs, 0.0);  // the same device kernels on the same cache bytes
  // Saved to a file and loaded into a fresh device session: the same next logits.
  const std::string file = testing_util::unique_temp_path("cuda_session.lctx");
  auto saved = SessionFile::save_as(file, *c, "app");
  ASSERT_TRUE(saved.is_ok()) << saved.status().message();
  auto e = new_session(*gpu, TensorType::F16);
  std::string app;
  auto opened = SessionFile::open(file, *e, &app);
  ASSERT_TRUE(opened.is_ok()) << opened.status().message();
  ASSERT_EQ(e->n_past(), c->n_past());
  ASSERT_TRUE(c->eval(more).is_ok());
  ASSERT_TRUE(e->eval(more).is_ok());
  EXPECT_EQ(compare(e->logits(), c->logits(), nv).max_abs, 0.0);
  std::remove(file.c_str());
}

// A decode step captured as a CUDA graph computes what the same kernels launched one by one do,
// also across a depth where attention's split count grows (512 keys per split: 1 -> 2), which
// the graph must take as an update; and the graph path really ran.
TEST_F(CudaEngine, GraphDecodeEqualsLaunchByLaunch) {
  const std::string path =
      write_tiny_model({.shape = "qwen3moe-tiny", .type = TensorType::Q4_K}, "cuda_graph");
  auto gpu = load_test_engine(path, "cuda");
  ASSERT_TRUE(gpu);
  auto with = new_session(*gpu, TensorType::F16, 1100);
  ::setenv("LONGCTX_CUDA_GRAPHS", "0", 1);
  auto without = new_session(*gpu, TensorType::F16, 1100);
  ::unsetenv("LONGCTX_CUDA_GRAPHS");
  ASSERT_TRUE(with && without);
  const int64_t nv = gpu->hparams().n_vocab;
  std::vector<int32_t> ids = prompt(505);
  for (int step = 0; step < 12; ++step) {  // positions 505 .. 516: across 512
    ASSERT_TRUE(with->eval(ids).is_ok());
    ASSERT_TRUE(without->eval(ids).is_ok());
    EXPECT_EQ(compare(with->logits(), without->logits(), nv).max_abs, 0.0) << step;
    ids = {int32_t(std::max_element(with->logits(), with->logits() + nv) - with->logits())};
  }
  EXPECT_EQ(with->device()->graph_steps(), 11);  // every decoded token after the prompt
  EXPECT_EQ(without->device()->graph_steps(), 0);
}

TEST_F(CudaEngine, SessionsBeyondTheGpusMemoryAreRefused) {
  const std::string path = write_tiny_model({}, "cuda_err");
  auto gpu = load_test_engine(path, "cuda");
  ASSERT_TRUE(gpu);
  SessionOptions so;
  so.n_ctx = int64_t(1) << 24;  // 16M positions of f32 K/V: 64 GiB of device memory each
  so.type_k = so.type_v = TensorType::F32;
  std::vector<std::unique_ptr<Session>> held;
  Status refused;
  for (int i = 0; i < 8 && refused.is_ok(); ++i) {
    auto s = gpu->new_session(so);
    if (s.is_ok()) {
      held.push_back(std::move(s).value());
    } else {
      refused = s.status();
    }
  }
  // Refused (a device allocation, or the host mirror's mapping), with a message, never a crash.
  ASSERT_FALSE(refused.is_ok()) << "8 sessions of 64 GiB fit";
  EXPECT_FALSE(refused.message().empty());
}

// Runs everywhere: without a usable GPU, --backend cuda is refused with the reason.
TEST(CudaEngineAbsent, BackendCudaWithoutAGpuSaysWhy) {
  if (cuda::devices().is_ok()) GTEST_SKIP() << "a GPU is present";
  const std::string path = write_tiny_model({}, "cuda_absent");
  EngineOptions o;
  o.model_path = path;
  o.backend = "cuda";
  auto e = Engine::load(o);
  ASSERT_FALSE(e.is_ok());
  EXPECT_NE(e.status().message().find("--backend cuda"), std::string::npos) << e.status().message();
}

}  // namespace
}  // namespace longctx
