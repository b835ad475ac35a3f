// Device weights and the device forward pass. The layer mirrors model/blocks.cpp step by step
// (same order of operations, same cache layout), so the two backends' logits differ only by
// the kernels' rounding.
#include "model/forward_cuda.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace longctx {
Result<std::unique_ptr<CudaWeights>> CudaWeights::upload(
    const Model& model, const std::function<void(uint64_t, uint64_t)>& progress) {
  const ModelWeights& mw = model.weights();
  auto w = std::unique_ptr<CudaWeights>(new CudaWeights());
  // Every piece: its host bytes and where its device pointer goes.
  struct Piece {
    const void* src;
    size_t n;
    const void** dst = nullptr;     // a matrix's data pointer
    const float** dst_f = nullptr;  // or a vector's
  };
  std::vector<Piece> pieces;
  const auto matrix = [&](const WeightMatrix& m, WeightMatrix* out) -> Status {
    *out = m;
    if (!m.data) return Status::ok();
    if (m.layout != WeightLayout::kGguf) {
      return invalid_argument(
          "the CUDA backend needs weights in GGUF layout (load without "
          "repacking)");
    }
    if (!cuda::matvec_supported(m.type)) {
      return Status(ErrorCode::kUnsupported, std::string("the CUDA backend has no kernel for ") +
                                                 type_name(m.type) + " weights yet");
    }
    pieces.push_back(
        {m.data, size_t(row_bytes(m.type, uint64_t(m.n_in))) * size_t(m.n_out), &out->data});
    return Status::ok();
  };
  const auto stack = [&](const ExpertStack& s, ExpertStack* out) -> Status {
    *out = s;
    if (!s.data) return Status::ok();
    if (s.layout != WeightLayout::kGguf || !cuda::matvec_supported(s.type)) {
      return Status(ErrorCode::kUnsupported, std::string("the CUDA backend cannot read ") +
                                                 type_name(s.type) + " expert weights here");
    }
    pieces.push_back(
        {s.data, size_t(row_bytes(s.type, uint64_t(s.n_in))) * size_t(s.n_out) * size_t(s.n_expert),
         &out->data});
    return Status::ok();
  };
  const auto vec = [&](const std::vector<float>& v, const float** out) {
    if (!v.empty()) {
      pieces.push_back({v.data(), v.size() * sizeof(float), nullptr, out});
    }
  };
  LONGCTX_RETURN_IF_ERROR(matrix(mw.token_embd, &w->token_embd));
  const bool tied = mw.output.data == mw.token_embd.data;
  if (!tied) LONGCTX_RETURN_IF_ERROR(matrix(mw.output, &w->output));
  vec(mw.output_norm, &w->output_norm);
  w->layers.resize(mw.layers.size());
  for (size_t il = 0; il < mw.layers.size(); ++il) {
    const LayerWeights& L = mw.layers[il];
    Layer& D = w->layers[il];
    vec(L.attn_norm, &D.attn_norm);
    vec(L.attn_q_norm, &D.q_norm);
    vec(L.attn_k_norm, &D.k_norm);
    vec(L.ffn_norm, &D.ffn_norm);
    vec(L.attn_q_bias, &D.q_bias);
    vec(L.attn_k_bias, &D.k_bias);
    vec(L.attn_v_bias, &D.v_bias);
    for (auto [src, dst] :
         {std::pair{&L.attn_q, &D.attn_q}, std::pair{&L.attn_k, &D.attn_k},
          std::pair{&L.attn_v, &D.attn_v}, std::pair{&L.attn_out, &D.attn_out},
          std::pair{&L.ffn_gate, &D.ffn_gate}, std::pair{&L.ffn_up, &D.ffn_up},
          std::pair{&L.ffn_down, &D.ffn_down}, std::pair{&L.ffn_router, &D.ffn_router}}) {
      LONGCTX_RETURN_IF_ERROR(matrix(*src, dst));
    }
    LONGCTX_RETURN_IF_ERROR(stack(L.ffn_gate_exps, &D.gate_exps));
    LONGCTX_RETURN_IF_ERROR(stack(L.ffn_up_exps, &D.up_exps));
    LONGCTX_RETURN_IF_ERROR(stack(L.ffn_down_exps, &D.down_exps));
  }
  uint64_t total = 0, done = 0;
  for (const Piece& p : pieces) total += p.n;
  // One allocation, each piece at a 256-byte boundary (the kernels' vector loads need 16).
  uint64_t size = 0;
  for (const Piece& p : pieces) size += (p.n + 255) / 256 * 256;
  auto buf = cuda::DeviceBuffer::allocate(size);
  if (!buf) {
    return Status(buf.status().code(),
                  "the weights (" + std::to_string(size >> 20) +
                      " MiB) do not fit on the GPU: " + buf.status().message());
  }
  w->buf_ = std::move(buf).value();
  uint64_t off = 0;
  for (const Piece& p : pieces) {
    uint8_t* d = w->buf_.as<uint8_t>() + off;
    LONGCTX_RETURN_IF_ERROR(cuda::copy_to_device(d, p.src, p.n));
    if (p.dst) *p.dst = d;
    if (p.dst_f) *p.dst_f = reinterpret_cast<const float*>(d);
    off += (p.n + 255) / 256 * 256;
    done += p.n;
    if (progress) progress(done, total);
  }
  if (tied) w->output = w->token_embd;
  return w;
}

Result<std::unique_ptr<CudaSequence>> CudaSequence::create(const Model& model, const CudaWeights& w,
                                                           const KvShape& shape,
                                                           const KvCacheOptions& kv,
                                                           int64_t n_batch) {
  if (!cuda::kv_type_supported(kv.type_k) || !cuda::kv_type_supported(kv.type_v)) {
    return Status(ErrorCode::kUnsupported, "the CUDA backend does not store a KV cache of " +
                                               std::string(type_name(kv.type_k)) + "/" +
                                               type_name(kv.type_v));
  }
  const ModelHparams& hp = model.hparams();
  auto s = std::unique_ptr<CudaSequence>(new CudaSequence());
  s->model_ = &model;
  s->w_ = &w;
  s->shape_ = shape;
  s->kv_ = kv;
  s->n_batch_ = n_batch;
  s->k_token_ = size_t(shape.n_head_kv) * row_bytes(kv.type_k, uint64_t(shape.head_dim_k));
  s->v_token_ = size_t(shape.n_head_kv) * row_bytes(kv.type_v, uint64_t(shape.head_dim_v));
  s->k_layer_ = s->k_token_ * size_t(kv.n_ctx);
  s->v_layer_ = s->v_token_ * size_t(kv.n_ctx);
  auto k = cuda::DeviceBuffer::allocate(s->k_layer_ * size_t(shape.n_layer));
  if (!k) return k.status();
  auto v = cuda::DeviceBuffer::allocate(s->v_layer_ * size_t(shape.n_layer));
  if (!v) return v.status();
  s->k_ = std::move(k).value();
  s->v_ = std::move(v).value();

  // Activations. MoE products run per (token, expert) pair: room for n_batch tokens at the
  // model's expert count; more experts per token run the FFN over fewer tokens at a time.
  const int64_t B = n_batch, d = hp.n_embd, E = hp.is_moe() ? hp.n_expert : 0;
  const int64_t pairs = hp.is_moe() ? B * std::max<int64_t>(1, hp.n_expert_used) : B;
  const int64_t f = hp.is_moe() ? hp.n_ff_expert : hp.n_ff;
  s->logit_rows_ = 8;
  size_t off = 0;
  std::vector<std::pair<void**, size_t>> views;
  const auto carve = [&](auto** p, size_t bytes) {
    views.push_back({reinterpret_cast<void**>(p), off});
    off += (bytes + 255) / 256 * 256;
  };
  carve(&s->x_, size_t(B * d) * 4);
  carve(&s->h_, size_t(B * d) * 4);
  carve(&s->q_, size_t(B * hp.n_head * hp.head_dim) * 4);
  carve(&s->kk_, size_t(B * hp.n_head_kv * hp.head_dim) * 4);
  carve(&s->vv_, size_t(B * hp.n_head_kv * hp.head_dim_v) * 4);
  carve(&s->attn_, size_t(B * hp.n_head * hp.head_dim_v) * 4);
  carve(&s->gate_, size_t(pairs * f) * 4);
  carve(&s->up_, size_t(pairs * f) * 4);
  carve(&s->router_, size_t(B * std::max<int64_t>(E, 1)) * 4);
  carve(&s->ew_, size_t(B * std::max<int64_t>(E, 1)) * 4);
  carve(&s->experts_, size_t(B * std::max<int64_t>(E, 1)) * 4);
  carve(&s->ye_, size_t(pairs * d) * 4);
  carve(&s->logits_, size_t(s->logit_rows_ * hp.n_vocab) * 4);
  carve(&s->ids_, size_t(B) * 4);
  carve(&s->att_scratch_, cuda::attention_scratch_bytes(B, hp.n_head, hp.head_dim_v));
  carve(&s->inv_freq_, size_t(hp.head_dim / 2) * 8);
  auto scratch = cuda::DeviceBuffer::allocate(off);
  if (!scratch) return scratch.status();
  s->scratch_ = std::move(scratch).value();
  for (auto& [p, o] : views) *p = s->scratch_.as<uint8_t>() + o;
  const char* graphs = std::getenv("LONGCTX_CUDA_GRAPHS");
  s->use_graphs_ = !(graphs && std::string(graphs) == "0");
  return s;
}

Status CudaSequence::forward(const int32_t* tokens, int64_t n, int64_t pos0,
                             const std::vector<double>& inv_freq, double attention_factor,
                             int64_t k) {
  LONGCTX_CHECK(n >= 1 && n <= n_batch_ && pos0 >= 0 && pos0 + n <= kv_.n_ctx);
  auto stream = stream_.get();
  if (!stream) return stream.status();
  cuda::StreamScope scope(*stream);
  if (inv_freq != inv_freq_host_) {
    LONGCTX_CHECK(int64_t(inv_freq.size()) == model_->hparams().head_dim / 2);
    LONGCTX_RETURN_IF_ERROR(
        cuda::copy_to_device_async(inv_freq_, inv_freq.data(), inv_freq.size() * sizeof(double)));
    inv_freq_host_ = inv_freq;
  }
  LONGCTX_RETURN_IF_ERROR(cuda::copy_to_device_async(ids_, tokens, size_t(n) * sizeof(int32_t)));
  n_tokens_ = 0;  // no rows to read logits from until this pass has run
  // A decoded token: the whole step as one graph launch. Should the graph machinery fail (a
  // driver without it, an operation the capture refuses), nothing ran: the step runs launch by
  // launch and graphs stay off for this sequence. An error of the step itself is returned.
  Status st;
  bool run_plain = true;  // launch by launch: a prefill chunk, graphs off, or a graph failure
  if (n == 1 && use_graphs_) {
    st = graph_.run(
        *stream, [&] { return layers(n, pos0, attention_factor, k); }, &run_plain);
    if (!st && run_plain) {
      std::fprintf(stderr, "longctx: CUDA graphs off for this sequence (%s)\n",
                   st.message().c_str());
      use_graphs_ = false;
    }
  }
  if (run_plain) st = layers(n, pos0, attention_factor, k);
  if (st.is_ok()) n_tokens_ = n;
  return st;
}

Status CudaSequence::layers(int64_t n, int64_t pos0, double attention_factor, int64_t k) {
  const ModelHparams& hp = model_->hparams();
  const int64_t d = hp.n_embd, hd = hp.head_dim, hdv = hp.head_dim_v;
  const int64_t nh = hp.n_head, nkv = hp.n_head_kv;
  const float eps = float(hp.rms_eps);
  const CudaWeights& W = *w_;
  LONGCTX_RETURN_IF_ERROR(cuda::get_rows(W.token_embd.type, W.token_embd.data, d, ids_, n, x_));
  for (int64_t il = 0; il < hp.n_layer; ++il) {
    const CudaWeights::Layer& L = W.layers[size_t(il)];
    // Attention (blocks::attention): norm, q/k/v (+ bias), q/k norms, RoPE, rotation of
    // quantized halves, store, attend, rotate back, output projection, residual.
    LONGCTX_RETURN_IF_ERROR(cuda::rms_norm(x_, L.attn_norm, eps, n, d, h_));
    LONGCTX_RETURN_IF_ERROR(
        cuda::matvec(L.attn_q.type, L.attn_q.data, L.attn_q.n_out, d, h_, n, L.q_bias, q_));
    LONGCTX_RETURN_IF_ERROR(
        cuda::matvec(L.attn_k.type, L.attn_k.data, L.attn_k.n_out, d, h_, n, L.k_bias, kk_));
    LONGCTX_RETURN_IF_ERROR(
        cuda::matvec(L.attn_v.type, L.attn_v.data, L.attn_v.n_out, d, h_, n, L.v_bias, vv_));
    if (L.q_norm) LONGCTX_RETURN_IF_ERROR(cuda::rms_norm(q_, L.q_norm, eps, n * nh, hd, q_));
    if (L.k_norm) LONGCTX_RETURN_IF_ERROR(cuda::rms_norm(kk_, L.k_norm, eps, n * nkv, hd, kk_));
    LONGCTX_RETURN_IF_ERROR(cuda::rope_neox(inv_freq_, attention_factor, pos0, n, nh, hd, q_));
    LONGCTX_RETURN_IF_ERROR(cuda::rope_neox(inv_freq_, attention_factor, pos0, n, nkv, hd, kk_));
    if (kv_.rotates_k()) {
      LONGCTX_RETURN_IF_ERROR(cuda::hadamard(q_, n * nh, hd));
      LONGCTX_RETURN_IF_ERROR(cuda::hadamard(kk_, n * nkv, hd));
    }
    if (kv_.rotates_v()) LONGCTX_RETURN_IF_ERROR(cuda::hadamard(vv_, n * nkv, hdv));
    uint8_t* kl = k_.as<uint8_t>() + size_t(il) * k_layer_;
    uint8_t* vl = v_.as<uint8_t>() + size_t(il) * v_layer_;
    LONGCTX_RETURN_IF_ERROR(
        cuda::convert_rows(kv_.type_k, kk_, n * nkv * hd, kl + size_t(pos0) * k_token_));
    LONGCTX_RETURN_IF_ERROR(
        cuda::convert_rows(kv_.type_v, vv_, n * nkv * hdv, vl + size_t(pos0) * v_token_));
    cuda::AttentionArgs a;
    a.n_head = nh;
    a.n_head_kv = nkv;
    a.head_dim = hd;
    a.head_dim_v = hdv;
    a.q_pos0 = pos0;
    a.type_k = kv_.type_k;
    a.type_v = kv_.type_v;
    a.d_k = kl;
    a.d_v = vl;
    a.n_kv = pos0 + n;
    a.d_scratch = att_scratch_;
    LONGCTX_RETURN_IF_ERROR(cuda::attention(a, q_, n, attn_));
    if (kv_.rotates_v()) LONGCTX_RETURN_IF_ERROR(cuda::hadamard(attn_, n * nh, hdv));
    LONGCTX_RETURN_IF_ERROR(
        cuda::matvec(L.attn_out.type, L.attn_out.data, d, nh * hdv, attn_, n, nullptr, h_));
    LONGCTX_RETURN_IF_ERROR(cuda::add_into(x_, h_, n * d));

    // Feed-forward (blocks::ffn_swiglu / blocks::ffn_moe).
    LONGCTX_RETURN_IF_ERROR(cuda::rms_norm(x_, L.ffn_norm, eps, n, d, h_));
    if (!hp.is_moe()) {
      const int64_t f = hp.n_ff;
      LONGCTX_RETURN_IF_ERROR(
          cuda::matvec(L.ffn_gate.type, L.ffn_gate.data, f, d, h_, n, nullptr, gate_));
      LONGCTX_RETURN_IF_ERROR(
          cuda::matvec(L.ffn_up.type, L.ffn_up.data, f, d, h_, n, nullptr, up_));
      LONGCTX_RETURN_IF_ERROR(cuda::swiglu(gate_, up_, n * f, gate_));
      LONGCTX_RETURN_IF_ERROR(
          cuda::matvec(L.ffn_down.type, L.ffn_down.data, d, f, gate_, n, nullptr, h_));
      LONGCTX_RETURN_IF_ERROR(cuda::add_into(x_, h_, n * d));
      continue;
    }
    const int64_t E = hp.n_expert, f = hp.n_ff_expert;
    LONGCTX_CHECK(k >= 1 && k <= E);
    LONGCTX_RETURN_IF_ERROR(
        cuda::matvec(L.ffn_router.type, L.ffn_router.data, E, d, h_, n, nullptr, router_));
    LONGCTX_RETURN_IF_ERROR(cuda::moe_route(router_, n, E, k, hp.norm_topk_prob, experts_, ew_));
    // Tokens in groups whose (token, expert) pairs fit the pair buffers.
    const int64_t cap = n_batch_ * std::max<int64_t>(1, hp.n_expert_used);
    const int64_t per = std::max<int64_t>(1, cap / k);
    for (int64_t t0 = 0; t0 < n; t0 += per) {
      const int64_t c = std::min(per, n - t0);
      const int32_t* ids = experts_ + t0 * k;
      LONGCTX_RETURN_IF_ERROR(cuda::matvec_experts(L.gate_exps.type, L.gate_exps.data, f, d, ids,
                                                   c * k, k, h_ + t0 * d, gate_));
      LONGCTX_RETURN_IF_ERROR(cuda::matvec_experts(L.up_exps.type, L.up_exps.data, f, d, ids, c * k,
                                                   k, h_ + t0 * d, up_));
      LONGCTX_RETURN_IF_ERROR(cuda::swiglu(gate_, up_, c * k * f, gate_));
      LONGCTX_RETURN_IF_ERROR(cuda::matvec_experts(L.down_exps.type, L.down_exps.data, d, f, ids,
                                                   c * k, 1, gate_, ye_));
      LONGCTX_RETURN_IF_ERROR(cuda::moe_combine(ye_, ew_ + t0 * k, c, k, d, x_ + t0 * d));
    }
  }
  return cuda::rms_norm(x_, W.output_norm, eps, n, d, x_);
}

Status CudaSequence::logits(int64_t row0, int64_t n_rows, float* host_logits) {
  const ModelHparams& hp = model_->hparams();
  LONGCTX_CHECK(row0 >= 0 && n_rows >= 1 && row0 + n_rows <= n_tokens_);
  const WeightMatrix& out = w_->output;
  auto stream = stream_.get();
  if (!stream) return stream.status();
  cuda::StreamScope scope(*stream);
  for (int64_t r = 0; r < n_rows; r += logit_rows_) {
    const int64_t m = std::min(logit_rows_, n_rows - r);
    LONGCTX_RETURN_IF_ERROR(cuda::matvec(out.type, out.data, hp.n_vocab, hp.n_embd,
                                         x_ + (row0 + r) * hp.n_embd, m, nullptr, logits_));
    LONGCTX_RETURN_IF_ERROR(cuda::copy_to_host(host_logits + r * hp.n_vocab, logits_,
                                               size_t(m * hp.n_vocab) * sizeof(float)));
  }
  return Status::ok();  // the copies waited for the step and reported any fault in it
}

Status CudaSequence::pull(KvCache& host, int64_t p0, int64_t p1) const {
  LONGCTX_CHECK(0 <= p0 && p0 <= p1 && p1 <= kv_.n_ctx && host.k_token_bytes() == k_token_ &&
                host.v_token_bytes() == v_token_);
  if (p0 == p1) return Status::ok();
  const size_t n = size_t(p1 - p0), ko = size_t(p0) * k_token_, vo = size_t(p0) * v_token_;
  for (int64_t il = 0; il < shape_.n_layer; ++il) {
    LONGCTX_RETURN_IF_ERROR(cuda::copy_to_host(static_cast<uint8_t*>(host.k_data(il)) + ko,
                                               k_.as<uint8_t>() + size_t(il) * k_layer_ + ko,
                                               n * k_token_));
    LONGCTX_RETURN_IF_ERROR(cuda::copy_to_host(static_cast<uint8_t*>(host.v_data(il)) + vo,
                                               v_.as<uint8_t>() + size_t(il) * v_layer_ + vo,
                                               n * v_token_));
  }
  return Status::ok();
}

Status CudaSequence::push(const KvCache& host, int64_t p0, int64_t p1) {
  LONGCTX_CHECK(0 <= p0 && p0 <= p1 && p1 <= kv_.n_ctx && host.k_token_bytes() == k_token_ &&
                host.v_token_bytes() == v_token_);
  if (p0 == p1) return Status::ok();
  const size_t n = size_t(p1 - p0), ko = size_t(p0) * k_token_, vo = size_t(p0) * v_token_;
  for (int64_t il = 0; il < shape_.n_layer; ++il) {
    LONGCTX_RETURN_IF_ERROR(cuda::copy_to_device(k_.as<uint8_t>() + size_t(il) * k_layer_ + ko,
                                                 static_cast<const uint8_t*>(host.k_data(il)) + ko,
                                                 n * k_token_));
    LONGCTX_RETURN_IF_ERROR(cuda::copy_to_device(v_.as<uint8_t>() + size_t(il) * v_layer_ + vo,
                                                 static_cast<const uint8_t*>(host.v_data(il)) + vo,
                                                 n * v_token_));
  }
  return Status::ok();
}

}  // namespace longctx
