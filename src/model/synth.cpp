// Random-weight model writer: metadata as llama.cpp's converter writes it, then each tensor
// generated, quantized and streamed to disk in bounded chunks.
#include "model/synth.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "gguf/gguf_writer.h"
#include "model/tensors.h"
#include "quant/quantize.h"
#include "quant/random_blocks.h"

namespace longctx {
namespace {

// splitmix64: a small, fast, well-mixed generator; one stream per tensor so a tensor's values
// do not depend on which tensors come before it.
struct Rng {
  static constexpr uint64_t kGamma = 0x9e3779b97f4a7c15ull;
  uint64_t s;
  // The generator is a counter: skipping k draws adds k * gamma to the state. normal() takes
  // two draws, so a thread can start at any element of a tensor's stream.
  void skip_normals(uint64_t k) { s += 2 * k * kGamma; }
  uint64_t next() {
    uint64_t z = (s += kGamma);
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

  // Rows are made in units of about 1M elements; a batch of units is made on every thread, then
  // written, so memory stays bounded (a few MB per thread). Every unit's bytes depend only on the
  // seed, the tensor's name and the unit's place, never on the thread count.
  ThreadPool pool(opt.n_threads > 0 ? opt.n_threads : ThreadPool::default_threads());
  const int nth = pool.size();
  std::vector<std::vector<float>> rows(static_cast<size_t>(nth));
  std::vector<uint8_t> packed;
  std::vector<Status> errors(static_cast<size_t>(nth));
  uint64_t done = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const TensorDesc& t = tensors[i];
    const TensorType type = types[i];
    const uint64_t row_len = t.dims[0];
    const uint64_t n_rows = t.n_elements() / row_len;
    const uint64_t rb = row_bytes(type, row_len);
    const uint64_t unit_rows = std::max<uint64_t>(1, (1u << 20) / row_len);
    const uint64_t batch_rows = unit_rows * uint64_t(nth) * 4;
    const uint64_t stream = opt.seed ^ hash_name(t.name);
    const bool norm = t.is_norm_or_bias();
    const bool direct = opt.random_blocks && !norm && has_random_blocks(type);
    for (uint64_t r0 = 0; r0 < n_rows; r0 += batch_rows) {
      const uint64_t nr = std::min(batch_rows, n_rows - r0);
      const uint64_t n_units = (nr + unit_rows - 1) / unit_rows;
      packed.resize(nr * rb);
      pool.run([&](int ith, int nth_run) {
        int64_t u0, u1;
        split_range(int64_t(n_units), ith, nth_run, &u0, &u1);
        for (int64_t u = u0; u < u1; ++u) {
          const uint64_t a = uint64_t(u) * unit_rows, b = std::min(nr, a + unit_rows);
          uint8_t* out = packed.data() + a * rb;
          if (direct) {
            const uint64_t unit = (r0 + a) / unit_rows;
            Rng mix{stream + unit * 0x632be59bd9b4e019ull};
            random_blocks(type, mix.next(), opt.weight_std, out, int64_t((b - a) * row_len));
            continue;
          }
          std::vector<float>& x = rows[size_t(ith)];
          x.resize((b - a) * row_len);
          Rng rng{stream};
          rng.skip_normals((r0 + a) * row_len);
          if (norm) {
            // Norm gains near 1 and small biases keep activations in a realistic range.
            const bool bias = t.role == TensorRole::kAttnQBias ||
                              t.role == TensorRole::kAttnKBias || t.role == TensorRole::kAttnVBias;
            for (float& v : x)
              v = bias ? opt.weight_std * rng.normal() : 1.0f + 0.1f * rng.normal();
            if (t.role == TensorRole::kAttnKNorm && opt.k_outlier_channels > 0) {
              for (uint64_t r = 0; r < b - a; ++r) {
                for (uint32_t c : k_outlier_channels(uint32_t(row_len), opt.k_outlier_channels)) {
                  x[r * row_len + c] *= opt.k_outlier_gain;
                }
              }
            }
          } else {
            for (float& v : x) v = opt.weight_std * rng.normal();
          }
          for (uint64_t r = 0; r < b - a && errors[size_t(ith)].is_ok(); ++r) {
            errors[size_t(ith)] =
                quantize_row(type, x.data() + r * row_len, out + r * rb, int64_t(row_len));
          }
        }
      });
      for (const Status& e : errors) LONGCTX_RETURN_IF_ERROR(e);
      LONGCTX_RETURN_IF_ERROR(w.write_tensor_data(packed.data(), packed.size()));
      done += packed.size();
      if (opt.progress) opt.progress(done, total);
    }
  }
  return w.finish();
}

}  // namespace longctx
