// Model loading: visits the tensor list of model/tensors.h, binding each GGUF tensor after
// checking its presence, shape and type; 1-D tensors are decoded to f32 vectors.
#include "model/model.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
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

// The field of `w` that the tensor `desc` fills: a matrix, an expert stack or a vector (all null
// for a role this list does not know). One switch serves binding and placing.
struct WeightSlot {
  WeightMatrix* matrix = nullptr;
  ExpertStack* stack = nullptr;
  std::vector<float>* vec = nullptr;
};

WeightSlot slot_of(const TensorDesc& desc, ModelWeights& w) {
  using R = TensorRole;
  LayerWeights* L = desc.layer >= 0 ? &w.layers[static_cast<size_t>(desc.layer)] : nullptr;
  auto mat = [](WeightMatrix* m) { return WeightSlot{m, nullptr, nullptr}; };
  auto stk = [](ExpertStack* e) { return WeightSlot{nullptr, e, nullptr}; };
  auto vec = [](std::vector<float>* v) { return WeightSlot{nullptr, nullptr, v}; };
  switch (desc.role) {
    case R::kTokenEmbd:
      return mat(&w.token_embd);
    case R::kOutput:
      return mat(&w.output);
    case R::kOutputNorm:
      return vec(&w.output_norm);
    case R::kAttnNorm:
      return vec(&L->attn_norm);
    case R::kAttnQ:
      return mat(&L->attn_q);
    case R::kAttnK:
      return mat(&L->attn_k);
    case R::kAttnV:
      return mat(&L->attn_v);
    case R::kAttnOut:
      return mat(&L->attn_out);
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
      return mat(&L->ffn_gate);
    case R::kFfnUp:
      return mat(&L->ffn_up);
    case R::kFfnDown:
      return mat(&L->ffn_down);
    case R::kFfnRouter:
      return mat(&L->ffn_router);
    case R::kFfnGateExps:
      return stk(&L->ffn_gate_exps);
    case R::kFfnUpExps:
      return stk(&L->ffn_up_exps);
    case R::kFfnDownExps:
      return stk(&L->ffn_down_exps);
  }
  return {};
}

// Points the field of `w` that `desc` names at the tensor's data.
Status bind(const GgufFile& f, const TensorDesc& desc, const GgufTensorInfo& t, ModelWeights& w) {
  const uint8_t* data = f.tensor_data(t);
  const WeightSlot slot = slot_of(desc, w);
  if (slot.matrix != nullptr) {
    auto r = ref::weight_matrix(t, data);
    if (!r) return r.status().with_context("tensor '" + t.name + "'");
    *slot.matrix = *r;
    return Status::ok();
  }
  if (slot.stack != nullptr) {
    auto r = ref::expert_stack(t, data);
    if (!r) return r.status().with_context("tensor '" + t.name + "'");
    *slot.stack = *r;
    return Status::ok();
  }
  if (slot.vec != nullptr) {
    auto r = load_vector(f, t);
    if (!r) return r.status();
    *slot.vec = std::move(r.value());
    return Status::ok();
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

Result<Model::Placement> Model::place_weights(KernelBackend& backend,
                                              const std::function<void(size_t, size_t)>& progress) {
  LONGCTX_CHECK(placed_.size() == 0);  // once per model: the file's pages are gone after
  const std::vector<TensorDesc> list = model_tensors(hp_);
  // The tensors to place and each one's offset: 4 KiB apart, so no two share a page.
  constexpr uint64_t kAlign = 4096;
  std::vector<uint64_t> offset(list.size(), UINT64_MAX);
  uint64_t total = 0;
  for (size_t i = 0; i < list.size(); ++i) {
    const TensorDesc& desc = list[i];
    if (desc.role == TensorRole::kTokenEmbd && !hp_.tied_embeddings) continue;
    const WeightSlot slot = slot_of(desc, w_);
    if (slot.matrix == nullptr && slot.stack == nullptr) continue;
    offset[i] = total;
    total += (file_.find_tensor(desc.name)->n_bytes + kAlign - 1) / kAlign * kAlign;
  }
  auto buf = LargeBuffer::allocate(static_cast<size_t>(total));
  if (!buf) return buf.status().with_context("placing the weights in memory");
  placed_ = std::move(buf.value());
  placed_offset_ = std::move(offset);
  return fill_placed(backend, progress);
}

// Copies each placed tensor from the file into its place and lets the backend rearrange it
// (place_weights, and restore_weights after a release).
Model::Placement Model::fill_placed(KernelBackend& backend,
                                    const std::function<void(size_t, size_t)>& progress) {
  const std::vector<TensorDesc> list = model_tensors(hp_);
  LONGCTX_CHECK(placed_offset_.size() == list.size());
  Placement r;
  for (size_t i = 0; i < list.size(); ++i) {
    if (progress) progress(i, list.size());
    if (placed_offset_[i] == UINT64_MAX) continue;
    const TensorDesc& desc = list[i];
    const GgufTensorInfo* t = file_.find_tensor(desc.name);
    LONGCTX_CHECK(t != nullptr);
    // In pieces, each released once copied, so the file's pages and the copy of one tensor
    // (an output head is 0.5 GB) are not resident together.
    constexpr size_t kPiece = size_t{16} << 20;
    const uint8_t* src = file_.tensor_data(*t);
    uint8_t* dst = placed_.data() + placed_offset_[i];
    for (size_t done = 0; done < t->n_bytes;) {
      const size_t n = std::min<size_t>(kPiece, t->n_bytes - done);
      backend.copy_bytes(dst + done, src + done, n);
      file_.release(src + done, n);
      done += n;
    }
    r.tensors += 1;
    r.bytes += t->n_bytes;
    const WeightSlot slot = slot_of(desc, w_);
    // The bytes are the file's again: the descriptor describes them so until the backend
    // rearranges them (a restore repeats what the first placement did).
    if (desc.role == TensorRole::kTokenEmbd) {
      // Tied: get_rows and the output head read the same copy. The head is a matmul over every
      // row for each token (a server's batched decode: one per sequence), so it takes the
      // backend's faster layout too, and the backend's get_rows reads single rows from it.
      w_.token_embd.data = dst;
      w_.token_embd.layout = WeightLayout::kGguf;
      if (backend.repackable(w_.token_embd) && backend.repack(&w_.token_embd)) r.repacked += 1;
      w_.output = w_.token_embd;
      continue;
    }
    if (slot.matrix != nullptr) {
      slot.matrix->data = dst;
      slot.matrix->layout = WeightLayout::kGguf;
      if (backend.repackable(*slot.matrix) && backend.repack(slot.matrix)) r.repacked += 1;
    } else {
      slot.stack->data = dst;
      slot.stack->layout = WeightLayout::kGguf;
      if (backend.repackable(*slot.stack) && backend.repack(slot.stack)) r.repacked += 1;
    }
  }
  if (progress) progress(list.size(), list.size());
  return r;
}

void Model::release_weights() {
  if (weights_released_) return;
  placed_.release();
  // Tensors read from the file (an untied embedding table, or every matrix when nothing was
  // placed): their pages come back from the file on first use.
  for (const GgufTensorInfo& t : file_.tensors()) file_.release(file_.tensor_data(t), t.n_bytes);
  weights_released_ = true;
}

Model::Placement Model::restore_weights(KernelBackend& backend,
                                        const std::function<void(size_t, size_t)>& progress) {
  if (!weights_released_) return {};
  weights_released_ = false;
  if (placed_.size() == 0) return {};
  return fill_placed(backend, progress);
}

uint64_t Model::active_params(int64_t n_expert_used) const {
  return summary_.active_params(n_expert_used);
}

}  // namespace longctx
