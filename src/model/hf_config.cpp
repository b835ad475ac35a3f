// Hugging Face config.json -> ModelHparams. Absent optional fields take the defaults of
// transformers' Qwen3Config / Qwen3MoeConfig / Qwen2Config (5.x), and the rope fields are read the
// way its modeling_rope_utils standardises both the 4.x (rope_theta + rope_scaling) and the 5.x
// (rope_parameters) layouts.
#include "model/hf_config.h"

#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "core/file_io.h"

namespace longctx {
namespace {

using json = nlohmann::json;

// Far above any published size (the largest is a 1,010,000-token context) and small enough that
// the product of two sizes cannot overflow 64 bits downstream.
constexpr int64_t kMaxSize = int64_t{1} << 24;

// config.json files are a few KB; refuse to parse anything that cannot be one.
constexpr size_t kMaxConfigBytes = size_t{4} << 20;

struct ArchNames {
  const char* model_type;    // config.json "model_type"
  const char* architecture;  // config.json "architectures"[0]
  const char* arch;          // GGUF architecture
};
constexpr ArchNames kArchs[] = {
    {"qwen3", "Qwen3ForCausalLM", "qwen3"},
    {"qwen3_moe", "Qwen3MoeForCausalLM", "qwen3moe"},
    {"qwen2", "Qwen2ForCausalLM", "qwen2"},
};
constexpr const char* kSupported =
    "supported: model_type qwen3, qwen3_moe, qwen2 (Qwen3ForCausalLM, Qwen3MoeForCausalLM, "
    "Qwen2ForCausalLM)";

// A field of the config object; absent and JSON null both read as "not given", as transformers
// treats `"rope_scaling": null` like a missing key.
const json* field(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

Status type_error(const std::string& key, const char* want, const json& v) {
  return invalid_format("config.json '" + key + "' must be " + want + ", got " + v.type_name() +
                        " " + v.dump());
}

// A positive integer size. `prefix` names the enclosing object in messages ("rope_scaling.").
Status read_size(const json& obj, const char* key, bool required, uint32_t* out,
                 const std::string& prefix = "") {
  const std::string name = prefix + key;
  const json* v = field(obj, key);
  if (v == nullptr) {
    if (required) return invalid_format("config.json has no '" + name + "'");
    return Status::ok();
  }
  if (!v->is_number_integer()) return type_error(name, "an integer", *v);
  const int64_t x = v->is_number_unsigned() && v->get<uint64_t>() > uint64_t(kMaxSize)
                        ? kMaxSize + 1
                        : v->get<int64_t>();
  if (x <= 0) return invalid_format("config.json '" + name + "' = " + v->dump() + " must be > 0");
  if (x > kMaxSize) {
    return invalid_format("config.json '" + name + "' = " + v->dump() + " exceeds " +
                          std::to_string(kMaxSize));
  }
  *out = static_cast<uint32_t>(x);
  return Status::ok();
}

// A finite positive number (integers allowed: Qwen3-0.6B writes "rope_theta": 1000000).
Status read_positive(const json& obj, const char* key, double* out,
                     const std::string& prefix = "") {
  const std::string name = prefix + key;
  const json* v = field(obj, key);
  if (v == nullptr) return Status::ok();
  if (!v->is_number()) return type_error(name, "a number", *v);
  const double x = v->get<double>();
  if (!(std::isfinite(x) && x > 0)) {
    return invalid_format("config.json '" + name + "' = " + v->dump() + " must be > 0");
  }
  *out = x;
  return Status::ok();
}

Status read_bool(const json& obj, const char* key, bool* out) {
  const json* v = field(obj, key);
  if (v == nullptr) return Status::ok();
  if (!v->is_boolean()) return type_error(key, "true or false", *v);
  *out = v->get<bool>();
  return Status::ok();
}

Result<const ArchNames*> find_arch(const json& cfg) {
  const ArchNames* by_type = nullptr;
  const ArchNames* by_class = nullptr;
  std::string type_name, class_name;
  if (const json* t = field(cfg, "model_type")) {
    if (!t->is_string()) return type_error("model_type", "a string", *t);
    type_name = t->get<std::string>();
    for (const ArchNames& a : kArchs)
      if (type_name == a.model_type) by_type = &a;
    if (by_type == nullptr) {
      return unsupported("config.json model_type '" + type_name + "' (" + kSupported + ")");
    }
  }
  if (const json* archs = field(cfg, "architectures")) {
    if (!archs->is_array()) return type_error("architectures", "an array of strings", *archs);
    if (!archs->empty()) {
      if (!(*archs)[0].is_string()) return type_error("architectures[0]", "a string", (*archs)[0]);
      class_name = (*archs)[0].get<std::string>();
      for (const ArchNames& a : kArchs)
        if (class_name == a.architecture) by_class = &a;
    }
  }
  if (by_type != nullptr && by_class != nullptr && by_type != by_class) {
    return invalid_format("config.json model_type '" + type_name +
                          "' disagrees with architectures[0] '" + class_name + "'");
  }
  if (by_type != nullptr) return by_type;
  if (by_class != nullptr) return by_class;
  if (!class_name.empty()) {
    return unsupported("config.json architectures[0] '" + class_name + "' (" + kSupported + ")");
  }
  return invalid_format(std::string("config.json has neither 'model_type' nor 'architectures' (") +
                        kSupported + ")");
}

// Mixture-of-experts fields. Only models whose every layer is sparse are supported: that is what
// all Qwen3-MoE releases publish, and the tensor list has no dense-FFN layers for a MoE model.
Status read_moe(const json& cfg, ModelHparams* hp) {
  LONGCTX_RETURN_IF_ERROR(read_size(cfg, "num_experts", true, &hp->n_expert));
  LONGCTX_RETURN_IF_ERROR(read_size(cfg, "num_experts_per_tok", true, &hp->n_expert_used));
  LONGCTX_RETURN_IF_ERROR(read_size(cfg, "moe_intermediate_size", true, &hp->n_ff_expert));
  hp->norm_topk_prob = false;  // Qwen3MoeConfig's default; published configs say true
  LONGCTX_RETURN_IF_ERROR(read_bool(cfg, "norm_topk_prob", &hp->norm_topk_prob));
  if (const json* m = field(cfg, "mlp_only_layers")) {
    if (!m->is_array()) return type_error("mlp_only_layers", "an array of layer indices", *m);
    if (!m->empty()) {
      return unsupported("config.json 'mlp_only_layers' = " + m->dump() +
                         ": dense layers in a MoE model are not supported (must be [])");
    }
  }
  if (hp->n_expert_used > hp->n_expert) {
    return invalid_format("config.json num_experts_per_tok (" + std::to_string(hp->n_expert_used) +
                          ") exceeds num_experts (" + std::to_string(hp->n_expert) + ")");
  }
  uint32_t step = 1;
  LONGCTX_RETURN_IF_ERROR(read_size(cfg, "decoder_sparse_step", false, &step));
  if (step != 1) {
    return unsupported("config.json 'decoder_sparse_step' = " + std::to_string(step) +
                       ": only every-layer MoE (1) is supported");
  }
  // intermediate_size (6144 in Qwen3-30B-A3B) sizes dense layers, of which there are none.
  hp->n_ff = 0;
  return Status::ok();
}

// RoPE base and scaling. transformers 4.x writes rope_theta at top level and an optional
// rope_scaling {type|rope_type, factor, original_max_position_embeddings}; 5.x writes the same
// keys inside rope_parameters. A non-empty rope_scaling wins over rope_parameters, a value inside
// the dict wins over the top-level rope_theta, and theta defaults to 10000.
Status read_rope(const json& cfg, ModelHparams* hp) {
  hp->rope_freq_base = 10000.0;
  LONGCTX_RETURN_IF_ERROR(read_positive(cfg, "rope_theta", &hp->rope_freq_base));
  const json* rope = nullptr;
  std::string name;
  for (const char* key : {"rope_scaling", "rope_parameters"}) {
    const json* r = field(cfg, key);
    if (r == nullptr) continue;
    if (!r->is_object()) return type_error(key, "an object", *r);
    if (r->empty()) continue;
    rope = r;
    name = key;
    break;
  }
  hp->rope_scaling = RopeScaling{};
  if (rope == nullptr) return Status::ok();
  const std::string prefix = name + ".";
  for (const auto& [k, v] : rope->items()) {
    if (v.is_object()) {
      return unsupported("config.json '" + prefix + k +
                         "': per-layer-type rope parameters are not supported");
    }
  }
  LONGCTX_RETURN_IF_ERROR(read_positive(*rope, "rope_theta", &hp->rope_freq_base, prefix));

  std::string type = "default";
  for (const char* key : {"type", "rope_type"}) {  // rope_type wins when both are present
    if (const json* t = field(*rope, key)) {
      if (!t->is_string()) return type_error(prefix + key, "a string", *t);
      type = t->get<std::string>();
    }
  }
  if (type == "default") return Status::ok();
  if (type == "linear") {
    hp->rope_scaling.type = RopeScalingType::kLinear;
  } else if (type == "yarn") {
    hp->rope_scaling.type = RopeScalingType::kYarn;
  } else {
    return unsupported("config.json '" + prefix + "rope_type' = '" + type +
                       "' (supported: default, linear, yarn)");
  }
  if (field(*rope, "factor") == nullptr) {
    return invalid_format("config.json '" + prefix + "factor' is required for rope type '" + type +
                          "'");
  }
  LONGCTX_RETURN_IF_ERROR(read_positive(*rope, "factor", &hp->rope_scaling.factor, prefix));
  if (hp->rope_scaling.factor < 1.0) {
    return invalid_format("config.json '" + prefix + "factor' = " + (*rope)["factor"].dump() +
                          " must be >= 1 (scaling stretches the trained context)");
  }
  // YaRN's tuning knobs are not carried by ModelHparams: refuse them rather than run with the
  // defaults and rotate positions differently from the reference.
  for (const char* knob : {"attention_factor", "beta_fast", "beta_slow", "mscale", "mscale_all_dim",
                           "truncate", "low_freq_factor", "high_freq_factor"}) {
    if (field(*rope, knob) != nullptr) {
      return unsupported("config.json '" + prefix + knob +
                         "' is not supported (only factor and original_max_position_embeddings)");
    }
  }
  if (type == "yarn") {
    // transformers prefers a top-level original_max_position_embeddings (Phi-3 style), then the
    // dict's, then max_position_embeddings.
    hp->rope_scaling.orig_ctx = hp->n_ctx_train;
    LONGCTX_RETURN_IF_ERROR(read_size(*rope, "original_max_position_embeddings", false,
                                      &hp->rope_scaling.orig_ctx, prefix));
    LONGCTX_RETURN_IF_ERROR(
        read_size(cfg, "original_max_position_embeddings", false, &hp->rope_scaling.orig_ctx));
  }
  return Status::ok();
}

// 1-based line and column of byte offset `pos` in `text`.
std::string line_col(const std::string& text, size_t pos) {
  size_t line = 1, col = 1;
  for (size_t i = 0; i < pos && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(col);
}

}  // namespace

Result<ModelHparams> hparams_from_hf_config(const json& cfg) {
  if (!cfg.is_object()) return type_error("(top level)", "an object", cfg);
  auto names = find_arch(cfg);
  if (!names) return names.status();
  ModelHparams hp;
  hp.arch = (*names)->arch;
  LONGCTX_RETURN_IF_ERROR(read_size(cfg, "num_hidden_layers", true, &hp.n_layer));
  LONGCTX_RETURN_IF_ERROR(read_size(cfg, "hidden_size", true, &hp.n_embd));
  LONGCTX_RETURN_IF_ERROR(read_size(cfg, "num_attention_heads", true, &hp.n_head));
  // num_key_value_heads: an explicit null means multi-head attention (transformers sets it to
  // num_attention_heads), but an absent key takes the config class's default, which is not the
  // head count: 32 for Qwen3Config and Qwen2Config, 4 for Qwen3MoeConfig.
  const auto kv = cfg.find("num_key_value_heads");
  if (kv == cfg.end()) {
    hp.n_head_kv = hp.arch == "qwen3moe" ? 4 : 32;
  } else if (kv->is_null()) {
    hp.n_head_kv = hp.n_head;
  } else {
    LONGCTX_RETURN_IF_ERROR(read_size(cfg, "num_key_value_heads", true, &hp.n_head_kv));
  }
  LONGCTX_RETURN_IF_ERROR(read_size(cfg, "vocab_size", true, &hp.n_vocab));
  LONGCTX_RETURN_IF_ERROR(read_size(cfg, "max_position_embeddings", true, &hp.n_ctx_train));

  // head_dim: Qwen3Config declares head_dim = 128, so an absent key means 128 there; Qwen2 and
  // Qwen3-MoE configs have no such attribute and the attention layer falls back to
  // hidden_size / num_attention_heads.
  if (field(cfg, "head_dim") != nullptr) {
    LONGCTX_RETURN_IF_ERROR(read_size(cfg, "head_dim", true, &hp.head_dim));
  } else if (hp.arch == "qwen3") {
    hp.head_dim = 128;
  } else {
    if (hp.n_embd % hp.n_head != 0) {
      return invalid_format("config.json has no 'head_dim' and hidden_size (" +
                            std::to_string(hp.n_embd) + ") is not a multiple of " +
                            "num_attention_heads (" + std::to_string(hp.n_head) + ")");
    }
    hp.head_dim = hp.n_embd / hp.n_head;
  }
  hp.head_dim_v = hp.head_dim;
  // Grouped-query attention shares each K/V head among n_head / n_head_kv query heads.
  if (hp.n_head % hp.n_head_kv != 0) {
    return invalid_format("config.json num_attention_heads (" + std::to_string(hp.n_head) +
                          ") is not a multiple of num_key_value_heads (" +
                          std::to_string(hp.n_head_kv) + ")");
  }

  hp.rms_eps = 1e-6;  // the default of all three config classes
  LONGCTX_RETURN_IF_ERROR(read_positive(cfg, "rms_norm_eps", &hp.rms_eps));
  hp.tied_embeddings = false;
  LONGCTX_RETURN_IF_ERROR(read_bool(cfg, "tie_word_embeddings", &hp.tied_embeddings));
  LONGCTX_RETURN_IF_ERROR(read_rope(cfg, &hp));

  if (hp.arch == "qwen3moe") {
    LONGCTX_RETURN_IF_ERROR(read_moe(cfg, &hp));
  } else {
    LONGCTX_RETURN_IF_ERROR(read_size(cfg, "intermediate_size", true, &hp.n_ff));
  }
  Status st = hp.validate();
  if (!st) return st.with_context("config.json");
  return hp;
}

Result<ModelHparams> hparams_from_hf_config_file(const std::string& path) {
  auto text = read_file(path);
  if (!text) return text.status();
  if (text->size() > kMaxConfigBytes) {
    return invalid_format(path + ": " + std::to_string(text->size()) +
                          " bytes is too large for a config.json (limit " +
                          std::to_string(kMaxConfigBytes) + ")");
  }
  json cfg;
  try {
    cfg = json::parse(*text);
  } catch (const json::parse_error& e) {
    // e.byte is the 1-based offset of the character where parsing stopped.
    const size_t pos = e.byte > 0 ? e.byte - 1 : 0;
    return invalid_format(path + ": invalid JSON at " + line_col(*text, pos) + " (byte " +
                          std::to_string(e.byte) + ")");
  }
  auto hp = hparams_from_hf_config(cfg);
  if (!hp) return hp.status().with_context(path);
  return hp;
}

}  // namespace longctx
