// Model cost summary from the tensor list and the GGUF tensor table.
#include "model/model_summary.h"

#include <cstdio>

#include "model/tensors.h"

namespace longctx {
namespace {

std::string human(double v, const char* const* units, double step) {
  int u = 0;
  while (v >= step && units[u + 1] != nullptr) v /= step, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f %s", v, units[u]);
  return buf;
}

std::string params_str(uint64_t n) {
  static const char* const kUnits[] = {"", "K", "M", "B", "T", nullptr};
  return human(static_cast<double>(n), kUnits, 1000.0);
}

std::string bytes_str(uint64_t n) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", nullptr};
  return human(static_cast<double>(n), kUnits, 1024.0);
}

std::string dims_str(const std::vector<uint64_t>& d) {
  std::string s = "[";
  for (size_t i = 0; i < d.size(); ++i) s += (i ? ", " : "") + std::to_string(d[i]);
  return s + "]";
}

}  // namespace

uint64_t ModelSummary::active_params(int64_t k) const {
  uint64_t p = n_params;
  if (!hp.tied_embeddings) p -= embd_params;
  if (hp.is_moe() && k >= 0 && k <= hp.n_expert) {
    p -= expert_params / hp.n_expert * static_cast<uint64_t>(hp.n_expert - k);
  }
  return p;
}

uint64_t ModelSummary::kv_bytes_per_token(TensorType type_k, TensorType type_v) const {
  // Block types by their bytes per block (a head row is a whole number of blocks).
  const uint64_t k = uint64_t{hp.n_head_kv} * row_bytes(type_k, hp.head_dim);
  const uint64_t v = uint64_t{hp.n_head_kv} * row_bytes(type_v, hp.head_dim_v);
  return uint64_t{hp.n_layer} * (k + v);
}

namespace {

void count(ModelSummary& s, const TensorDesc& d, uint64_t n_elements) {
  s.n_params += n_elements;
  if (d.role == TensorRole::kTokenEmbd) s.embd_params += n_elements;
  if (d.role == TensorRole::kFfnGateExps || d.role == TensorRole::kFfnUpExps ||
      d.role == TensorRole::kFfnDownExps) {
    s.expert_params += n_elements;
  }
}

}  // namespace

ModelSummary summarize_hparams(const ModelHparams& hp) {
  ModelSummary s;
  s.hp = hp;
  for (const TensorDesc& d : model_tensors(hp)) count(s, d, d.n_elements());
  return s;
}

Result<ModelSummary> summarize_model(const GgufFile& file) {
  auto hp = ModelHparams::from_gguf(file);
  if (!hp) return hp.status();
  ModelSummary s;
  s.hp = std::move(hp.value());
  // Every layer has at least 9 tensors: a file with fewer than that cannot hold the model, and
  // saying so first avoids building a tensor list for layers that are not there.
  if (file.tensors().size() < 9ull * s.hp.n_layer) {
    return invalid_format(s.hp.arch + ".block_count " + std::to_string(s.hp.n_layer) +
                          " needs at least " + std::to_string(9ull * s.hp.n_layer) +
                          " tensors; the file has " + std::to_string(file.tensors().size()));
  }
  for (const TensorDesc& d : model_tensors(s.hp)) {
    const GgufTensorInfo* t = file.find_tensor(d.name);
    if (!t) return not_found("missing tensor '" + d.name + "'");
    if (t->dims != d.dims) {
      return invalid_format("tensor '" + d.name + "' has shape " + dims_str(t->dims) +
                            ", expected " + dims_str(d.dims) + " from the hyperparameters");
    }
    s.weight_bytes += t->n_bytes;
    count(s, d, t->n_elements);
  }
  return s;
}

std::string format_model_summary(const ModelSummary& s) {
  const ModelHparams& hp = s.hp;
  std::string out = "model:         " + hp.arch + ", " + std::to_string(hp.n_layer) +
                    " layers, hidden " + std::to_string(hp.n_embd) + ", heads " +
                    std::to_string(hp.n_head) + "/" + std::to_string(hp.n_head_kv) + " kv x " +
                    std::to_string(hp.head_dim) + (hp.tied_embeddings ? ", tied embeddings" : "") +
                    "\n";
  out += "parameters:    " + params_str(s.n_params) + " in " + bytes_str(s.weight_bytes) + "\n";
  if (hp.is_moe()) {
    out += "experts:       " + std::to_string(hp.n_expert) + " per layer, " +
           std::to_string(hp.n_expert_used) + " active (" +
           (hp.norm_topk_prob ? "renormalised" : "not renormalised") + ")\n";
  }
  out += "active/token:  " + params_str(s.active_params(hp.n_expert_used)) + " parameters\n";
  out += "KV per token:  " + bytes_str(s.kv_bytes_per_token(TensorType::F16, TensorType::F16)) +
         " at f16; native context " + std::to_string(hp.n_ctx_train) + " tokens\n";
  if (hp.rope_scaling.type != RopeScalingType::kNone) {
    out += std::string("rope scaling:  ") + rope_scaling_name(hp.rope_scaling.type) + " x" +
           std::to_string(hp.rope_scaling.factor) + " from " +
           std::to_string(hp.rope_scaling.orig_ctx) + "\n";
  }
  return out;
}

}  // namespace longctx
