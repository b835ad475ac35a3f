// Random-weight model writer: metadata as llama.cpp's converter writes it, then each tensor
// generated, quantized and streamed to disk in bounded chunks.
#include "model/synth.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "gguf/gguf_writer.h"
#include "model/tensors.h"
#include "quant/quantize.h"

namespace longctx {
namespace {

// splitmix64: a small, fast, well-mixed generator; one stream per tensor so a tensor's values
// do not depend on which tensors come before it.
struct Rng {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in (0, 1), never 0 (so the log below is finite).
  double uniform() { return (double(next() >> 11) + 0.5) * (1.0 / 9007199254740992.0); }
  // Standard normal by Box-Muller.
  float normal() {
    const double u1 = uniform(), u2 = uniform();
    return float(std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2));
  }
};

uint64_t hash_name(const std::string& s) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

void add_hparams(GgufWriter& w, const ModelHparams& hp, uint32_t file_type,
                 std::vector<Status>& st) {
  const std::string a = hp.arch + ".";
  st.push_back(w.set("general.architecture", gguf_string(hp.arch)));
  st.push_back(w.set("general.type", gguf_string("model")));
  st.push_back(w.set("general.name", gguf_string(hp.name.empty() ? hp.arch : hp.name)));
  st.push_back(w.set(a + "block_count", gguf_u32(hp.n_layer)));
  st.push_back(w.set(a + "context_length", gguf_u32(hp.n_ctx_train)));
  st.push_back(w.set(a + "embedding_length", gguf_u32(hp.n_embd)));
  if (hp.n_ff > 0) st.push_back(w.set(a + "feed_forward_length", gguf_u32(hp.n_ff)));
  st.push_back(w.set(a + "attention.head_count", gguf_u32(hp.n_head)));
  st.push_back(w.set(a + "attention.head_count_kv", gguf_u32(hp.n_head_kv)));
  st.push_back(w.set(a + "rope.freq_base", gguf_f32(float(hp.rope_freq_base))));
  st.push_back(w.set(a + "attention.layer_norm_rms_epsilon", gguf_f32(float(hp.rms_eps))));
  st.push_back(w.set(a + "attention.key_length", gguf_u32(hp.head_dim)));
  st.push_back(w.set(a + "attention.value_length", gguf_u32(hp.head_dim_v)));
  if (hp.is_moe()) {
    st.push_back(w.set(a + "expert_count", gguf_u32(hp.n_expert)));
    st.push_back(w.set(a + "expert_used_count", gguf_u32(hp.n_expert_used)));
    st.push_back(w.set(a + "expert_feed_forward_length", gguf_u32(hp.n_ff_expert)));
    // Only when it differs from what llama.cpp assumes for qwen3moe (renormalise), so files stay
    // identical to the converter's in the common case.
    if (!hp.norm_topk_prob) st.push_back(w.set(a + "expert_weights_norm", gguf_bool(false)));
  }
  if (hp.rope_scaling.type != RopeScalingType::kNone) {
    st.push_back(
        w.set(a + "rope.scaling.type", gguf_string(rope_scaling_name(hp.rope_scaling.type))));
    st.push_back(w.set(a + "rope.scaling.factor", gguf_f32(float(hp.rope_scaling.factor))));
    if (hp.rope_scaling.orig_ctx > 0) {
      st.push_back(
          w.set(a + "rope.scaling.original_context_length", gguf_u32(hp.rope_scaling.orig_ctx)));
    }
  }
  st.push_back(w.set("general.file_type", gguf_u32(file_type)));
  st.push_back(w.set("general.quantization_version", gguf_u32(2)));
}

// Uniform type for every 2-D weight. Like llama.cpp's converter, norms, biases and the MoE router
// stay f32 (the router is small and picks the experts, so it is never quantized).
std::vector<TensorType> uniform_types(const std::vector<TensorDesc>& tensors, TensorType type) {
  std::vector<TensorType> types;
  for (const TensorDesc& t : tensors) {
    const bool keep_f32 = t.is_norm_or_bias() || t.role == TensorRole::kFfnRouter;
    types.push_back(keep_f32 ? TensorType::F32 : block_fallback_type(type, t.dims[0]));
  }
  return types;
}

}  // namespace

uint32_t gguf_file_type(TensorType t) {
  switch (t) {
    case TensorType::F32:
      return 0;
    case TensorType::F16:
      return 1;
    case TensorType::Q4_0:
      return 2;
    case TensorType::Q4_1:
      return 3;
    case TensorType::Q8_0:
      return 7;
    case TensorType::Q5_0:
      return 8;
    case TensorType::Q5_1:
      return 9;
    case TensorType::Q4_K:
      return 14;  // Q4_K_S: the nearest uniform preset
    case TensorType::Q5_K:
      return 16;  // Q5_K_S
    case TensorType::Q6_K:
      return 18;
    case TensorType::BF16:
      return 32;
    default:
      return 1;
  }
}

std::vector<uint32_t> k_outlier_channels(uint32_t head_dim, uint32_t n) {
  std::vector<uint32_t> out;
  const uint32_t half = head_dim / 2;
  for (uint32_t i = 0; i < n / 2 && i < half; ++i) {
    out.push_back(half - 1 - i);
    out.push_back(half - 1 - i + half);
  }
  return out;
}

Status write_synth_model(const SynthOptions& opt, const std::string& path) {
  const ModelHparams& hp = opt.hparams;
  LONGCTX_RETURN_IF_ERROR(hp.validate());
  const std::vector<TensorDesc> tensors = model_tensors(hp);
  if (opt.k_outlier_channels % 2 != 0 || opt.k_outlier_channels > hp.head_dim ||
      !(opt.k_outlier_gain > 0.0f && opt.k_outlier_gain < 1e4f)) {
    return invalid_argument("key outlier channels must be an even count up to the head size (" +
                            std::to_string(hp.head_dim) + ") with a gain in (0, 1e4), got " +
                            std::to_string(opt.k_outlier_channels) + " x " +
                            std::to_string(opt.k_outlier_gain));
  }
  const std::vector<TensorType> types =
      opt.preset ? preset_tensor_types(hp, tensors, *opt.preset) : uniform_types(tensors, opt.type);
  for (size_t i = 0; i < tensors.size(); ++i) {
    if (!has_quantizer(types[i])) {
      return unsupported(
          std::string("cannot write weights of type ") + type_name(types[i]) + " (" +
          tensors[i].name +
          (opt.preset ? std::string(" under preset ") + preset_name(*opt.preset) : std::string()) +
          ")");
    }
  }
  GgufWriter w;
  std::vector<Status> st;
  add_hparams(w, hp, opt.preset ? preset_file_type(*opt.preset) : gguf_file_type(opt.type), st);
  for (const GgufKV& kv : opt.tokenizer_metadata) st.push_back(w.set(kv.key, kv.value));
  for (size_t i = 0; i < tensors.size(); ++i) {
    st.push_back(w.add_tensor(tensors[i].name, tensors[i].dims, types[i]));
  }
  for (const Status& s : st) LONGCTX_RETURN_IF_ERROR(s);

  uint64_t total = 0;
  for (const GgufTensorInfo& t : w.tensors()) total += t.n_bytes;
  LONGCTX_RETURN_IF_ERROR(w.begin(path));

  // Rows are generated and quantized in chunks of about 1M elements: bounded memory per chunk.
  std::vector<float> rows;
  std::vector<uint8_t> packed;
  uint64_t done = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const TensorDesc& t = tensors[i];
    const uint64_t row_len = t.dims[0];
    const uint64_t n_rows = t.n_elements() / row_len;
    const uint64_t rows_per_chunk = std::max<uint64_t>(1, (1u << 20) / row_len);
    Rng rng{opt.seed ^ hash_name(t.name)};
    for (uint64_t r0 = 0; r0 < n_rows; r0 += rows_per_chunk) {
      const uint64_t nr = std::min(rows_per_chunk, n_rows - r0);
      rows.resize(nr * row_len);
      if (t.is_norm_or_bias()) {
        // Norm gains near 1 and small biases keep activations in a realistic range.
        const bool bias = t.role == TensorRole::kAttnQBias || t.role == TensorRole::kAttnKBias ||
                          t.role == TensorRole::kAttnVBias;
        for (float& x : rows) x = bias ? opt.weight_std * rng.normal() : 1.0f + 0.1f * rng.normal();
        if (t.role == TensorRole::kAttnKNorm && opt.k_outlier_channels > 0) {
          for (uint32_t c : k_outlier_channels(uint32_t(row_len), opt.k_outlier_channels)) {
            rows[c] *= opt.k_outlier_gain;
          }
        }
      } else {
        for (float& x : rows) x = opt.weight_std * rng.normal();
      }
      const uint64_t rb = row_bytes(types[i], row_len);
      packed.resize(nr * rb);
      for (uint64_t r = 0; r < nr; ++r) {
        LONGCTX_RETURN_IF_ERROR(quantize_row(types[i], rows.data() + r * row_len,
                                             packed.data() + r * rb, int64_t(row_len)));
      }
      LONGCTX_RETURN_IF_ERROR(w.write_tensor_data(packed.data(), packed.size()));
      done += packed.size();
      if (opt.progress) opt.progress(done, total);
    }
  }
  return w.finish();
}

}  // namespace longctx
