// Test model writers for the engine tests.
#include "runtime/engine_test_util.h"

#include <gtest/gtest.h>

#include <cstring>

#include "core/file_io.h"
#include "gguf/gguf_writer.h"
#include "tokenizer/gguf_export.h"

namespace longctx::testing_util {

const std::string& oracle_tiny_model() {
  static const std::string p = [] {
    const std::string path = remove_at_exit(unique_temp_path("oracle_tiny.gguf"));
    auto bytes =
        read_file(std::string(LONGCTX_SOURCE_DIR) + "/tests/model/data/qwen3_tied_f32.gguf.zst");
    LONGCTX_CHECK(bytes.is_ok());
    LONGCTX_CHECK(write_file_atomic(path, *bytes).is_ok());
    return path;
  }();
  return p;
}

std::string write_tiny_model(const TinyModelSpec& spec, const std::string& name) {
  SynthOptions opt;
  const ModelShape* shape = find_model_shape(spec.shape);
  LONGCTX_CHECK(shape != nullptr);
  opt.hparams = hparams_from_shape(*shape);
  opt.hparams.n_vocab = spec.n_vocab;
  opt.type = spec.type;
  opt.seed = spec.seed;
  opt.weight_std = spec.weight_std;
  opt.k_outlier_channels = spec.k_outliers;
  opt.k_outlier_gain = spec.k_outlier_gain;
  opt.random_blocks = spec.random_blocks;
  if (spec.with_tokenizer) {
    auto kv = gguf_tokenizer_metadata(std::string(LONGCTX_SOURCE_DIR) + "/data/qwen3-tokenizer",
                                      spec.n_vocab);
    LONGCTX_CHECK(kv.is_ok());
    opt.tokenizer_metadata = std::move(kv).value();
  }
  const std::string path = remove_at_exit(unique_temp_path(name));
  Status st = write_synth_model(opt, path);
  if (!st.is_ok()) {
    std::fprintf(stderr, "write_tiny_model: %s\n", st.message().c_str());
    std::abort();
  }
  return path;
}

std::unique_ptr<Engine> load_test_engine(const std::string& path, const char* backend) {
  EngineOptions o;
  o.model_path = path;
  o.backend = backend;
  o.n_threads = 2;
  auto e = Engine::load(o);
  EXPECT_TRUE(e.is_ok()) << e.status().message();
  return e.is_ok() ? std::move(e.value()) : nullptr;
}

void rewrite_gguf(const std::string& src, const std::string& dst, const GgufEdit& edit) {
  auto f = GgufFile::open(src);
  LONGCTX_CHECK(f.is_ok());
  GgufWriter w;
  for (GgufKV kv : f->metadata()) {
    if (kv.key == "general.alignment") continue;  // the writer sets it
    if (edit.keep_kv && !edit.keep_kv(kv)) continue;
    if (edit.edit_kv) edit.edit_kv(kv);
    LONGCTX_CHECK(w.set(kv.key, kv.value).is_ok());
  }
  for (const GgufKV& kv : edit.add_kv) LONGCTX_CHECK(w.set(kv.key, kv.value).is_ok());
  std::vector<GgufTensorInfo> kept;
  for (const GgufTensorInfo& t0 : f->tensors()) {
    if (edit.keep_tensor && !edit.keep_tensor(t0)) continue;
    GgufTensorInfo t = t0;
    if (edit.edit_tensor) edit.edit_tensor(t);
    LONGCTX_CHECK(w.add_tensor(t.name, t.dims, t.type).is_ok());
    kept.push_back(t0);
  }
  LONGCTX_CHECK(w.begin(dst).is_ok());
  for (size_t i = 0; i < kept.size(); ++i) {
    const GgufTensorInfo& declared = w.tensors()[i];
    if (declared.n_bytes == kept[i].n_bytes) {
      LONGCTX_CHECK(
          w.write_tensor(declared.name, f->tensor_data(kept[i]), declared.n_bytes).is_ok());
    } else {
      std::vector<uint8_t> zeros(declared.n_bytes);
      LONGCTX_CHECK(w.write_tensor(declared.name, zeros.data(), zeros.size()).is_ok());
    }
  }
  LONGCTX_CHECK(w.finish().is_ok());
}

}  // namespace longctx::testing_util
