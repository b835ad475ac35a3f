// synth writes a GGUF whose metadata, tensor list and tokenizer read back exactly, with weights
// of the requested distribution; ModelHparams::from_gguf names what is missing or inconsistent.
#include <gtest/gtest.h>

#include "common/temp_path.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "core/file_io.h"
#include "gguf/gguf.h"
#include "gguf/gguf_writer.h"
#include "model/quant_preset.h"
#include "model/synth.h"
#include "model/tensors.h"
#include "plan/catalog.h"
#include "quant/quantize.h"
#include "tokenizer/gguf_export.h"
#include "tokenizer/tokenizer.h"

namespace longctx {
namespace {

const std::vector<GgufKV>& qwen3_tokenizer_kv() {
  static const std::vector<GgufKV> kv = [] {
    auto r =
        gguf_tokenizer_metadata(std::string(LONGCTX_SOURCE_DIR) + "/data/qwen3-tokenizer", 151936);
    LONGCTX_CHECK(r.is_ok());
    return std::move(r).value();
  }();
  return kv;
}

std::string temp_path(const std::string& name) { return testing_util::unique_temp_path(name); }

std::string write_synth(const std::string& shape, TensorType type, uint64_t seed,
                        const std::string& name) {
  SynthOptions opt;
  opt.hparams = hparams_from_shape(*find_model_shape(shape));
  opt.type = type;
  opt.seed = seed;
  opt.tokenizer_metadata = qwen3_tokenizer_kv();
  const std::string path = temp_path(name);
  Status st = write_synth_model(opt, path);
  EXPECT_TRUE(st.is_ok()) << st.message();
  return path;
}

TEST(Synth, DenseModelReadsBackWithItsShapeTensorsAndTokenizer) {
  const std::string path = write_synth("qwen3-tiny", TensorType::Q8_0, 7, "synth_dense.gguf");
  auto f = GgufFile::open(path);
  ASSERT_TRUE(f.is_ok()) << f.status().message();
  auto hp = ModelHparams::from_gguf(*f);
  ASSERT_TRUE(hp.is_ok()) << hp.status().message();
  const ModelHparams want = hparams_from_shape(*find_model_shape("qwen3-tiny"));
  EXPECT_EQ(hp->arch, "qwen3");
  EXPECT_EQ(hp->n_layer, want.n_layer);
  EXPECT_EQ(hp->n_embd, want.n_embd);
  EXPECT_EQ(hp->n_head, want.n_head);
  EXPECT_EQ(hp->n_head_kv, want.n_head_kv);
  EXPECT_EQ(hp->head_dim, 128u);  // from attention.key_length, not 64 / 4
  EXPECT_EQ(hp->n_vocab, 151936u);
  EXPECT_TRUE(hp->tied_embeddings);

  const auto tensors = model_tensors(want);
  ASSERT_EQ(f->tensors().size(), tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    const GgufTensorInfo& t = f->tensors()[i];
    EXPECT_EQ(t.name, tensors[i].name);
    EXPECT_EQ(t.dims, tensors[i].dims) << t.name;
    EXPECT_EQ(t.type, tensors[i].is_norm_or_bias() ? TensorType::F32 : TensorType::Q8_0) << t.name;
  }

  auto tok = Tokenizer::from_gguf(*f);
  ASSERT_TRUE(tok.is_ok()) << tok.status().message();
  EXPECT_EQ(tok->encode("<|im_start|>user\nHello, world!<|im_end|>"),
            (std::vector<int32_t>{151644, 872, 198, 9707, 11, 1879, 0, 151645}));
  auto tmpl = f->get_string("tokenizer.chat_template");
  ASSERT_TRUE(tmpl.is_ok());
  EXPECT_NE(tmpl->find("<|im_start|>"), std::string::npos);
  std::remove(path.c_str());
}

TEST(Synth, WeightsFollowTheRequestedDistribution) {
  const std::string path = write_synth("qwen3-tiny", TensorType::F32, 3, "synth_stats.gguf");
  auto f = GgufFile::open(path);
  ASSERT_TRUE(f.is_ok());
  const GgufTensorInfo* t = f->find_tensor("blk.0.ffn_up.weight");  // 64 x 192 = 12288 values
  ASSERT_NE(t, nullptr);
  const float* x = reinterpret_cast<const float*>(f->tensor_data(*t));
  double sum = 0, sq = 0;
  for (uint64_t i = 0; i < t->n_elements; ++i) {
    sum += x[i];
    sq += double(x[i]) * x[i];
  }
  const double n = double(t->n_elements), mean = sum / n, sd = std::sqrt(sq / n - mean * mean);
  // N(0, 0.02): the sample mean has sd 0.02/sqrt(n) = 1.8e-4, the sample sd a relative sd of
  // 1/sqrt(2n) = 0.64%; allow 5 sigma.
  EXPECT_LT(std::fabs(mean), 5 * 0.02 / std::sqrt(n));
  EXPECT_NEAR(sd, 0.02, 5 * 0.02 / std::sqrt(2 * n));
  const GgufTensorInfo* norm = f->find_tensor("blk.1.attn_norm.weight");
  ASSERT_NE(norm, nullptr);
  const float* g = reinterpret_cast<const float*>(f->tensor_data(*norm));
  for (uint64_t i = 0; i < norm->n_elements; ++i) EXPECT_GT(g[i], 0.4f);  // 1 + 0.1 N(0,1)
  std::remove(path.c_str());
}

TEST(Synth, SameSeedSameBytesOtherSeedOtherBytes) {
  const std::string a = write_synth("qwen3-tiny", TensorType::Q4_0, 11, "synth_a.gguf");
  const std::string b = write_synth("qwen3-tiny", TensorType::Q4_0, 11, "synth_b.gguf");
  const std::string c = write_synth("qwen3-tiny", TensorType::Q4_0, 12, "synth_c.gguf");
  auto ra = read_file(a), rb = read_file(b), rc = read_file(c);
  ASSERT_TRUE(ra.is_ok() && rb.is_ok() && rc.is_ok());
  EXPECT_TRUE(*ra == *rb);
  EXPECT_FALSE(*ra == *rc);
  for (const auto& p : {a, b, c}) std::remove(p.c_str());
}

TEST(Synth, MoeModelCarriesExpertKeysAndKQuantFallsBackOnShortRows) {
  const std::string path = write_synth("qwen3moe-tiny", TensorType::Q4_K, 5, "synth_moe.gguf");
  auto f = GgufFile::open(path);
  ASSERT_TRUE(f.is_ok()) << f.status().message();
  auto hp = ModelHparams::from_gguf(*f);
  ASSERT_TRUE(hp.is_ok()) << hp.status().message();
  EXPECT_EQ(hp->n_expert, 8u);
  EXPECT_EQ(hp->n_expert_used, 2u);
  EXPECT_EQ(hp->n_ff_expert, 32u);
  EXPECT_FALSE(hp->tied_embeddings);
  // Rows of 64 or 32 are not a multiple of Q4_K's 256: llama.cpp's fallback is q5_0.
  const GgufTensorInfo* t = f->find_tensor("blk.0.ffn_down_exps.weight");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->type, TensorType::Q5_0);
  EXPECT_EQ(block_fallback_type(TensorType::Q4_K, 1024), TensorType::Q4_K);
  EXPECT_EQ(block_fallback_type(TensorType::Q6_K, 96), TensorType::Q8_0);
  EXPECT_EQ(block_fallback_type(TensorType::Q8_0, 48), TensorType::F16);
  // llama.cpp's default (renormalise) writes no key; false round-trips through one.
  EXPECT_EQ(f->find("qwen3moe.expert_weights_norm"), nullptr);
  EXPECT_TRUE(hp->norm_topk_prob);
  std::remove(path.c_str());

  SynthOptions opt;
  opt.hparams = hparams_from_shape(*find_model_shape("qwen3moe-tiny"));
  opt.hparams.norm_topk_prob = false;
  const std::string nonorm = temp_path("synth_moe_nonorm.gguf");
  ASSERT_TRUE(write_synth_model(opt, nonorm).is_ok());
  auto g = GgufFile::open(nonorm);
  ASSERT_TRUE(g.is_ok());
  auto hp2 = ModelHparams::from_gguf(*g);
  ASSERT_TRUE(hp2.is_ok()) << hp2.status().message();
  EXPECT_FALSE(hp2->norm_topk_prob);
  std::remove(nonorm.c_str());
}

// Generation is split over threads by row ranges; the bytes must not depend on how.
TEST(Synth, ThreadCountDoesNotChangeTheFile) {
  for (const bool random_blocks : {false, true}) {
    std::vector<std::string> files;
    for (const int threads : {1, 3}) {
      SynthOptions opt;
      opt.hparams = hparams_from_shape(*find_model_shape("qwen3moe-tiny"));
      opt.preset = QuantPreset::Q4_K_M;
      opt.seed = 9;
      opt.n_threads = threads;
      opt.random_blocks = random_blocks;
      const std::string path = temp_path("synth_threads.gguf");
      ASSERT_TRUE(write_synth_model(opt, path).is_ok());
      auto bytes = read_file(path);
      ASSERT_TRUE(bytes.is_ok());
      files.push_back(std::move(bytes).value());
      std::remove(path.c_str());
    }
    EXPECT_TRUE(files[0] == files[1]) << "random_blocks " << random_blocks;
  }
}

// Random blocks change the weights' bytes only: same metadata, tensor list, types and offsets,
// the norms as before, the quantized weights new but of the requested spread.
TEST(Synth, RandomBlocksKeepTheLayoutAndTheSpread) {
  std::vector<GgufFile> files;
  std::string paths[2];
  for (int k = 0; k < 2; ++k) {
    SynthOptions opt;
    opt.hparams = hparams_from_shape(*find_model_shape("qwen3-0.6b"));
    opt.hparams.n_layer = 1;
    opt.hparams.n_vocab = 1024;
    opt.preset = QuantPreset::Q4_K_M;
    opt.random_blocks = k == 1;
    paths[k] = temp_path("synth_rb.gguf");
    ASSERT_TRUE(write_synth_model(opt, paths[k]).is_ok());
    auto f = GgufFile::open(paths[k]);
    ASSERT_TRUE(f.is_ok()) << f.status().message();
    files.push_back(std::move(f).value());
  }
  ASSERT_EQ(files[0].tensors().size(), files[1].tensors().size());
  bool some_k_quant = false;
  for (size_t i = 0; i < files[0].tensors().size(); ++i) {
    const GgufTensorInfo& a = files[0].tensors()[i];
    const GgufTensorInfo& b = files[1].tensors()[i];
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.type, b.type) << a.name;
    EXPECT_EQ(a.dims, b.dims) << a.name;
    EXPECT_EQ(a.offset, b.offset) << a.name;
    const bool same = std::memcmp(files[0].tensor_data(a), files[1].tensor_data(b), a.n_bytes) == 0;
    EXPECT_EQ(same, a.type == TensorType::F32) << a.name;  // norms: the float path in both
    if (a.type != TensorType::Q4_K && a.type != TensorType::Q6_K) continue;
    some_k_quant = true;
    std::vector<float> x(static_cast<size_t>(a.n_elements));
    ASSERT_TRUE(
        dequantize_row(b.type, files[1].tensor_data(b), x.data(), int64_t(x.size())).is_ok());
    double sq = 0;
    for (float v : x) sq += double(v) * v;
    EXPECT_NEAR(std::sqrt(sq / double(x.size())), 0.02, 0.002) << a.name;
  }
  EXPECT_TRUE(some_k_quant);
  for (const std::string& p : paths) std::remove(p.c_str());
}

// A GGUF with qwen3 metadata minus one key must fail naming that key.
TEST(ModelHparamsFromGguf, MissingOrBadKeysAreNamed) {
  struct Case {
    const char* drop;  // key left out
    const char* arch;
    const char* expect;     // in the error message
    bool string_freq_base;  // write rope.freq_base as a string instead of a float
  };
  const Case cases[] = {
      {"qwen3.block_count", "qwen3", "qwen3.block_count", false},
      {"qwen3.attention.layer_norm_rms_epsilon", "qwen3", "layer_norm_rms_epsilon", false},
      {"", "llama4", "unknown architecture 'llama4'", false},
      {"", "qwen3", "qwen3.rope.freq_base", true},  // optional, but wrong-typed: not defaulted
  };
  for (const Case& c : cases) {
    GgufWriter w;
    const std::string a = c.arch;
    ASSERT_TRUE(w.set("general.architecture", gguf_string(a)).is_ok());
    const std::pair<std::string, GgufValue> keys[] = {
        {a + ".block_count", gguf_u32(2)},
        {a + ".context_length", gguf_u32(4096)},
        {a + ".embedding_length", gguf_u32(64)},
        {a + ".feed_forward_length", gguf_u32(128)},
        {a + ".attention.head_count", gguf_u32(4)},
        {a + ".attention.layer_norm_rms_epsilon", gguf_f32(1e-6f)},
    };
    if (c.string_freq_base) {
      ASSERT_TRUE(w.set(a + ".rope.freq_base", gguf_string("1000000")).is_ok());
    }
    for (const auto& [k, v] : keys) {
      if (k != c.drop) {
        ASSERT_TRUE(w.set(k, v).is_ok());
      }
    }
    ASSERT_TRUE(w.add_tensor("token_embd.weight", {64, 100}, TensorType::F32).is_ok());
    const std::string path = temp_path("hparams_case.gguf");
    ASSERT_TRUE(w.begin(path).is_ok());
    std::vector<float> zeros(64 * 100, 0.0f);
    ASSERT_TRUE(w.write_tensor("token_embd.weight", zeros.data(), zeros.size() * 4).is_ok());
    ASSERT_TRUE(w.finish().is_ok());
    auto f = GgufFile::open(path);
    ASSERT_TRUE(f.is_ok()) << f.status().message();
    auto hp = ModelHparams::from_gguf(*f);
    ASSERT_FALSE(hp.is_ok()) << c.drop;
    EXPECT_NE(hp.status().message().find(c.expect), std::string::npos) << hp.status().message();
    std::remove(path.c_str());
  }
}

}  // namespace
}  // namespace longctx
