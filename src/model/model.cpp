// Model loading: visits the tensor list of model/tensors.h, binding each GGUF tensor after
// checking its presence, shape and type; 1-D tensors are decoded to f32 vectors.
#include "model/model.h"

#include <string>

#include "model/forward.h"
#include "model/model_summary.h"
#include "model/tensors.h"
#include "quant/quantize.h"

namespace longctx {
namespace {

// Finds `desc` in the file (present and shaped as listed: summarize_model checked) and checks
// that its type can be computed with.
Result<const GgufTensorInfo*> find_checked(const GgufFile& f, const TensorDesc& desc) {
  const GgufTensorInfo* t = f.find_tensor(desc.name);
  LONGCTX_CHECK(t != nullptr && t->dims == desc.dims);
  if (!has_dequantizer(t->type)) {
    return unsupported("tensor '" + desc.name + "' has type " + type_name(t->type) +
                       ", which longctx cannot compute with");
  }
  return t;
}

Result<std::vector<float>> load_vector(const GgufFile& f, const GgufTensorInfo& t) {
  std::vector<float> v(static_cast<size_t>(t.n_elements));
  LONGCTX_RETURN_IF_ERROR(
      dequantize_row(t.type, f.tensor_data(t), v.data(), static_cast<int64_t>(t.n_elements))
          .with_context("tensor '" + t.name + "'"));
  return v;
}

// Points the field of `L` / `w` that `desc` names at the tensor's data.
Status bind(const GgufFile& f, const TensorDesc& desc, const GgufTensorInfo& t, ModelWeights& w) {
  using R = TensorRole;
  const uint8_t* data = f.tensor_data(t);
  LayerWeights* L = desc.layer >= 0 ? &w.layers[static_cast<size_t>(desc.layer)] : nullptr;
  auto matrix = [&](WeightMatrix* m) -> Status {
    auto r = ref::weight_matrix(t, data);
    if (!r) return r.status().with_context("tensor '" + t.name + "'");
    *m = *r;
    return Status::ok();
  };
  auto stack = [&](ExpertStack* s) -> Status {
    auto r = ref::expert_stack(t, data);
    if (!r) return r.status().with_context("tensor '" + t.name + "'");
    *s = *r;
    return Status::ok();
  };
  auto vec = [&](std::vector<float>* v) -> Status {
    auto r = load_vector(f, t);
    if (!r) return r.status();
    *v = std::move(r.value());
    return Status::ok();
  };
  switch (desc.role) {
    case R::kTokenEmbd:
      return matrix(&w.token_embd);
    case R::kOutput:
      return matrix(&w.output);
    case R::kOutputNorm:
      return vec(&w.output_norm);
    case R::kAttnNorm:
      return vec(&L->attn_norm);
    case R::kAttnQ:
      return matrix(&L->attn_q);
    case R::kAttnK:
      return matrix(&L->attn_k);
    case R::kAttnV:
      return matrix(&L->attn_v);
    case R::kAttnOut:
      return matrix(&L->attn_out);
    case R::kAttnQNorm:
      return vec(&L->attn_q_norm);
    case R::kAttnKNorm:
      return vec(&L->attn_k_norm);
    case R::kAttnQBias:
      return vec(&L->attn_q_bias);
    case R::kAttnKBias:
      return vec(&L->attn_k_bias);
    case R::kAttnVBias:
      return vec(&L->attn_v_bias);
    case R::kFfnNorm:
      return vec(&L->ffn_norm);
    case R::kFfnGate:
      return matrix(&L->ffn_gate);
    case R::kFfnUp:
      return matrix(&L->ffn_up);
    case R::kFfnDown:
      return matrix(&L->ffn_down);
    case R::kFfnRouter:
      return matrix(&L->ffn_router);
    case R::kFfnGateExps:
      return stack(&L->ffn_gate_exps);
    case R::kFfnUpExps:
      return stack(&L->ffn_up_exps);
    case R::kFfnDownExps:
      return stack(&L->ffn_down_exps);
  }
  return invalid_argument("unhandled tensor role for '" + desc.name + "'");
}

}  // namespace

Result<std::unique_ptr<Model>> Model::load(const std::string& path,
                                           const ModelLoadOptions& options) {
  auto file = GgufFile::open(path);
  if (!file) return file.status().with_context(path);
  auto m = from_gguf(std::move(file.value()), options);
  if (!m) return m.status().with_context(path);
  return m;
}

Result<std::unique_ptr<Model>> Model::from_gguf(GgufFile file, const ModelLoadOptions& options) {
  auto hp = ModelHparams::from_gguf(file);
  if (!hp) return hp.status();
  const Architecture* arch = find_architecture(hp->arch);
  if (!arch) return unsupported("no forward pass for architecture '" + hp->arch + "'");
  if (hp->head_dim_v != hp->head_dim) {
    return unsupported("attention.value_length (" + std::to_string(hp->head_dim_v) +
                       ") differs from key_length (" + std::to_string(hp->head_dim) + ")");
  }
  auto summary = summarize_model(file);
  if (!summary) return summary.status();
  std::unique_ptr<Model> m(new Model());
  m->summary_ = std::move(summary.value());
  m->hp_ = std::move(hp.value());
  m->file_ = std::move(file);
  m->arch_ = arch;
  m->w_.layers.resize(m->hp_.n_layer);
  const std::vector<TensorDesc> list = model_tensors(m->hp_);
  for (size_t i = 0; i < list.size(); ++i) {
    auto t = find_checked(m->file_, list[i]);
    if (!t) return t.status();
    LONGCTX_RETURN_IF_ERROR(bind(m->file_, list[i], **t, m->w_));
    if (options.progress) options.progress(i + 1, list.size());
  }
  if (m->hp_.tied_embeddings) m->w_.output = m->w_.token_embd;
  return m;
}

Result<int> Model::repack_weights(KernelBackend& backend,
                                  const std::function<void(size_t, size_t)>& progress) {
  if (!file_.is_mapped()) return 0;
  using R = TensorRole;
  int n = 0;
  const std::vector<TensorDesc> list = model_tensors(hp_);
  for (size_t i = 0; i < list.size(); ++i) {
    const TensorDesc& desc = list[i];
    if (progress) progress(i, list.size());
    LayerWeights* L = desc.layer >= 0 ? &w_.layers[static_cast<size_t>(desc.layer)] : nullptr;
    WeightMatrix* m = nullptr;
    ExpertStack* s = nullptr;
    switch (desc.role) {
      case R::kOutput:
        m = hp_.tied_embeddings ? nullptr : &w_.output;
        break;
      case R::kAttnQ:
        m = &L->attn_q;
        break;
      case R::kAttnK:
        m = &L->attn_k;
        break;
      case R::kAttnV:
        m = &L->attn_v;
        break;
      case R::kAttnOut:
        m = &L->attn_out;
        break;
      case R::kFfnGate:
        m = &L->ffn_gate;
        break;
      case R::kFfnUp:
        m = &L->ffn_up;
        break;
      case R::kFfnDown:
        m = &L->ffn_down;
        break;
      case R::kFfnRouter:
        m = &L->ffn_router;
        break;
      case R::kFfnGateExps:
        s = &L->ffn_gate_exps;
        break;
      case R::kFfnUpExps:
        s = &L->ffn_up_exps;
        break;
      case R::kFfnDownExps:
        s = &L->ffn_down_exps;
        break;
      default:
        break;  // the embedding table and the 1-D tensors
    }
    if (m == nullptr && s == nullptr) continue;
    // Only the tensors the backend takes are made writable: that turns their pages into
    // private copies.
    if (m != nullptr ? !backend.repackable(*m) : !backend.repackable(*s)) continue;
    const GgufTensorInfo* t = file_.find_tensor(desc.name);
    LONGCTX_CHECK(t != nullptr);
    LONGCTX_RETURN_IF_ERROR(file_.set_tensor_writable(*t, true));
    const bool done = m != nullptr ? backend.repack(m) : backend.repack(s);
    LONGCTX_RETURN_IF_ERROR(file_.set_tensor_writable(*t, false));
    n += done ? 1 : 0;
  }
  if (progress) progress(list.size(), list.size());
  return n;
}

uint64_t Model::active_params(int64_t n_expert_used) const {
  return summary_.active_params(n_expert_used);
}

}  // namespace longctx
