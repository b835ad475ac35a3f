// Helpers for engine tests: write a small random-weight model with synth, rewrite a GGUF with
// one change (a dropped tensor, another shape, other metadata) to provoke load errors.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/temp_path.h"
#include "gguf/gguf.h"
#include "model/synth.h"
#include "plan/catalog.h"
#include "runtime/engine.h"

namespace longctx::testing_util {

struct TinyModelSpec {
  std::string shape = "qwen3-tiny";
  TensorType type = TensorType::F32;
  uint64_t seed = 1;
  float weight_std = 0.2f;  // large enough for peaked, tie-free logits
  uint32_t n_vocab = 512;   // small vocabulary keeps the output matmul cheap
  // Embeds the real Qwen3 tokenizer (data/qwen3-tokenizer); needs n_vocab >= 151669.
  bool with_tokenizer = false;
  uint32_t k_outliers = 0;  // SynthOptions::k_outlier_channels
  float k_outlier_gain = 16.0f;
  bool random_blocks = false;  // SynthOptions::random_blocks
};

// Writes the model to a per-process temp path and returns it (aborts on failure).
std::string write_tiny_model(const TinyModelSpec& spec, const std::string& name);

// The tiny Qwen3 of the transformers oracle (tests/model/data/qwen3_tied_f32.gguf.zst, made by
// llama.cpp's converter; a 300-token byte-level BPE tokenizer, so text round-trips), unpacked
// once per process to a temp path that is removed at exit.
const std::string& oracle_tiny_model();

// Loads a model file on `backend` with 2 threads (a test failure and nullptr when it fails).
std::unique_ptr<Engine> load_test_engine(const std::string& path, const char* backend = "cpu");

// Copies `src` to `dst` with edits: `keep_kv(kv)` false drops a key, `edit_kv` may change it;
// `keep_tensor` false drops a tensor; `edit_dims` may change a tensor's declared shape (the
// data written is then zero bytes of the new size).
struct GgufEdit {
  std::function<bool(const GgufKV&)> keep_kv = nullptr;
  std::function<void(GgufKV&)> edit_kv = nullptr;
  std::function<bool(const GgufTensorInfo&)> keep_tensor = nullptr;
  std::function<void(GgufTensorInfo&)> edit_tensor = nullptr;
  std::vector<GgufKV> add_kv = {};  // appended after the existing keys
};
void rewrite_gguf(const std::string& src, const std::string& dst, const GgufEdit& edit);

}  // namespace longctx::testing_util
