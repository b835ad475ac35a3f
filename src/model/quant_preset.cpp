// Per-tensor type choice of llama.cpp's quantization presets, written from a reading of its rules
// (llama-quant.cpp at commit 0c1e570) and checked tensor by tensor against llama-quantize itself
// (tests/model/test_quant_preset.cpp). Only the branches that a Qwen3-family model can reach under
// the presets listed in quant_preset.h are here.
#include "model/quant_preset.h"

#include <array>
#include <cctype>
#include <string>

namespace longctx {
namespace {

using T = TensorType;
using P = QuantPreset;

struct PresetInfo {
  P preset;
  const char* name;
  const char* ftype_name;  // llama.h: LLAMA_FTYPE_<ftype_name>
  uint32_t ftype;
  T base;
};

constexpr std::array<PresetInfo, 15> kPresets = {{
    {P::F32, "F32", "ALL_F32", 0, T::F32},
    {P::F16, "F16", "MOSTLY_F16", 1, T::F16},
    {P::BF16, "BF16", "MOSTLY_BF16", 32, T::BF16},
    {P::Q8_0, "Q8_0", "MOSTLY_Q8_0", 7, T::Q8_0},
    {P::Q4_0, "Q4_0", "MOSTLY_Q4_0", 2, T::Q4_0},
    {P::Q4_1, "Q4_1", "MOSTLY_Q4_1", 3, T::Q4_1},
    {P::Q5_0, "Q5_0", "MOSTLY_Q5_0", 8, T::Q5_0},
    {P::Q5_1, "Q5_1", "MOSTLY_Q5_1", 9, T::Q5_1},
    {P::Q2_K, "Q2_K", "MOSTLY_Q2_K", 10, T::Q2_K},
    {P::Q3_K_M, "Q3_K_M", "MOSTLY_Q3_K_M", 12, T::Q3_K},
    {P::Q4_K_S, "Q4_K_S", "MOSTLY_Q4_K_S", 14, T::Q4_K},
    {P::Q4_K_M, "Q4_K_M", "MOSTLY_Q4_K_M", 15, T::Q4_K},
    {P::Q5_K_S, "Q5_K_S", "MOSTLY_Q5_K_S", 16, T::Q5_K},
    {P::Q5_K_M, "Q5_K_M", "MOSTLY_Q5_K_M", 17, T::Q5_K},
    {P::Q6_K, "Q6_K", "MOSTLY_Q6_K", 18, T::Q6_K},
}};

const PresetInfo& info(P p) {
  for (const PresetInfo& i : kPresets) {
    if (i.preset == p) return i;
  }
  LONGCTX_CHECK(false);
  return kPresets[0];
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

bool is_block_quantized(T t) { return t != T::F32 && t != T::F16 && t != T::BF16; }

// The "use more bits" layer pattern of Q4_K_M / Q5_K_M: the first and last eighth of the layers
// (where errors are least averaged out: the first feed every later layer, the last write the
// logits directly) plus every third layer in between.
bool use_more_bits(int i, int n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

// What the quantizer knows about the model as a whole before choosing any type.
struct ModelFacts {
  int n_layer;
  int n_attn_v;       // attn_v tensors in the file (one per layer)
  int n_gqa;          // query heads per KV head
  bool tied;          // no output.weight: token_embd is also the output head
  bool eight_expert;  // exactly 8 experts (Mixtral-like): llama.cpp spends bits on attention
};

// The mixture rules for one quantized 2-D weight, before the block-size fallback.
T mixture_type(const ModelFacts& m, const TensorDesc& t, P p, T base) {
  using R = TensorRole;
  const int il = t.layer;
  // The output head (and the shared embedding when tied) is the most quality-sensitive matrix:
  // its errors land straight on the logits. It gets q6_K unless the preset is already q8_0;
  // q8_0 when the row length does not fit the preset's block.
  if (t.role == R::kOutput || (m.tied && t.role == R::kTokenEmbd)) {
    if (t.dims[0] % traits(base).block_size != 0) return T::Q8_0;
    return base == T::Q8_0 ? T::Q8_0 : T::Q6_K;
  }
  switch (t.role) {
    case R::kAttnV: {
      // attn_v is small under grouped-query attention (n_head_kv rows of heads) and every value
      // vector passes through it, so extra bits cost little and help much.
      T r = base;
      if (p == P::Q2_K) {
        r = m.n_gqa >= 4 ? T::Q4_K : T::Q3_K;
      } else if (p == P::Q3_K_M) {
        r = il < 2 ? T::Q5_K : T::Q4_K;
      } else if ((p == P::Q4_K_M || p == P::Q5_K_M) && use_more_bits(il, m.n_attn_v)) {
        r = T::Q6_K;
      } else if (p == P::Q4_K_S && il < 4) {
        r = T::Q5_K;
      }
      // With 8 experts the attention is a small share of the weights: q8_0 costs little.
      if (m.eight_expert) r = T::Q8_0;
      return r;
    }
    case R::kAttnK:
      return m.eight_expert ? T::Q8_0 : base;
    case R::kFfnDown:
    case R::kFfnDownExps:
      // ffn_down writes back into the residual stream and is the most sensitive FFN matrix.
      if (p == P::Q2_K) return T::Q3_K;
      if (p == P::Q3_K_M) return il < m.n_layer / 16 ? T::Q5_K : T::Q4_K;
      if ((p == P::Q4_K_M || p == P::Q5_K_M) && use_more_bits(il, m.n_layer)) return T::Q6_K;
      if (p == P::Q4_K_S && il < m.n_layer / 8) return T::Q5_K;
      return base;
    case R::kAttnOut:
      if (m.eight_expert) {
        const bool bump = p == P::Q2_K || p == P::Q3_K_M || p == P::Q4_K_S || p == P::Q4_K_M;
        return bump ? T::Q5_K : base;
      }
      if (p == P::Q2_K) return T::Q3_K;
      if (p == P::Q3_K_M) return T::Q4_K;
      return base;
    default:
      return base;  // untied token_embd, attn_q, ffn_gate/up (and their expert stacks)
  }
}

}  // namespace

std::span<const QuantPreset> all_presets() {
  static const std::array<QuantPreset, kPresets.size()> all = [] {
    std::array<QuantPreset, kPresets.size()> a{};
    for (size_t i = 0; i < kPresets.size(); ++i) a[i] = kPresets[i].preset;
    return a;
  }();
  return all;
}

const char* preset_name(QuantPreset p) { return info(p).name; }
// A block type needs the row length to be a multiple of its block: 256-element k-quants fall
// back to the 32-element type of about the same bits, and f16 when even 32 does not divide it.
TensorType block_fallback_type(TensorType t, uint64_t row) {
  if (row % traits(t).block_size == 0) return t;
  T r = t;
  switch (t) {
    case T::Q2_K:
    case T::Q3_K:
      r = T::Q4_0;
      break;
    case T::Q4_K:
      r = T::Q5_0;
      break;
    case T::Q5_K:
      r = T::Q5_1;
      break;
    case T::Q6_K:
      r = T::Q8_0;
      break;
    default:
      break;
  }
  return row % traits(r).block_size == 0 ? r : T::F16;
}

uint32_t preset_file_type(QuantPreset p) { return info(p).ftype; }
TensorType preset_base_type(QuantPreset p) { return info(p).base; }

Result<QuantPreset> parse_preset(std::string_view name) {
  std::string_view s = name;
  constexpr std::string_view kPrefix = "LLAMA_FTYPE_";
  if (s.size() > kPrefix.size() && iequals(s.substr(0, kPrefix.size()), kPrefix)) {
    s.remove_prefix(kPrefix.size());
  }
  for (const PresetInfo& i : kPresets) {
    if (iequals(s, i.name) || iequals(s, i.ftype_name) || s == std::to_string(i.ftype)) {
      return i.preset;
    }
  }
  std::string known;
  for (const PresetInfo& i : kPresets) known += std::string(known.empty() ? "" : " ") + i.name;
  return invalid_argument("unknown quantization preset '" + std::string(name) +
                          "' (known: " + known + ")");
}

std::vector<TensorType> preset_tensor_types(const ModelHparams& hp,
                                            const std::vector<TensorDesc>& tensors, QuantPreset p) {
  const T base = preset_base_type(p);
  ModelFacts m{};
  m.n_layer = static_cast<int>(hp.n_layer);
  m.n_gqa = hp.n_head_kv > 0 ? static_cast<int>(hp.n_head / hp.n_head_kv) : 0;
  m.eight_expert = hp.n_expert == 8;
  m.tied = true;
  for (const TensorDesc& t : tensors) {
    if (t.role == TensorRole::kAttnV) ++m.n_attn_v;
    if (t.role == TensorRole::kOutput) m.tied = false;
  }

  std::vector<TensorType> types;
  types.reserve(tensors.size());
  for (const TensorDesc& t : tensors) {
    // Norms, biases and the MoE router are written f32 by the converter and never quantized:
    // they are tiny, and the router's logits pick the experts.
    if (t.is_norm_or_bias() || t.role == TensorRole::kFfnRouter) {
      types.push_back(T::F32);
    } else if (!is_block_quantized(base)) {
      types.push_back(base);  // float presets convert every weight, with no mixture rules
    } else {
      types.push_back(block_fallback_type(mixture_type(m, t, p, base), t.dims[0]));
    }
  }
  return types;
}

uint64_t preset_weight_bytes(const ModelHparams& hp, QuantPreset p) {
  const std::vector<TensorDesc> tensors = model_tensors(hp);
  const std::vector<TensorType> types = preset_tensor_types(hp, tensors, p);
  uint64_t total = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const uint64_t row = tensors[i].dims[0];
    total += row_bytes(types[i], row) * (tensors[i].n_elements() / row);
  }
  return total;
}

}  // namespace longctx
