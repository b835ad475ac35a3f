// Ops harness, attention: cpu::CpuAttention(isa).run against ref::attention for f32 / f16 / bf16
// KV caches, decode (one query) at several depths, with keys past the causal window, and prefill
// blocks; misaligned K / V / q / out; 1 and 3 threads (uneven splits on this 2-core machine).
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/cpu/attention.h"
#include "kernels/ref/attention.h"
#include "ops_harness.h"
#include "quant/float16.h"

namespace longctx::harness {
namespace {

// KV data of `type` from floats, and the exact values it holds.
void pack_kv(TensorType type, const std::vector<float>& x, uint8_t* dst, std::vector<double>* v) {
  v->resize(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    if (type == TensorType::F32) {
      std::memcpy(dst + 4 * i, &x[i], 4);
      (*v)[i] = x[i];
    } else {
      const uint16_t h = type == TensorType::F16 ? fp32_to_fp16(x[i]) : fp32_to_bf16(x[i]);
      std::memcpy(dst + 2 * i, &h, 2);
      (*v)[i] = type == TensorType::F16 ? fp16_to_fp32(h) : bf16_to_fp32(h);
    }
  }
}

struct AttnCase {
  int64_t n_head, n_head_kv, head_dim;
  int64_t n_q, q_pos0, n_kv;
  float scale;  // 0 = 1/sqrt(head_dim)
};

std::string attn_shape(const AttnCase& c, int threads) {
  char s[96];
  std::snprintf(s, sizeof(s), "h=%lld/%lld d=%lld q=%lld@%lld kv=%lld t=%d",
                static_cast<long long>(c.n_head), static_cast<long long>(c.n_head_kv),
                static_cast<long long>(c.head_dim), static_cast<long long>(c.n_q),
                static_cast<long long>(c.q_pos0), static_cast<long long>(c.n_kv), threads);
  return s;
}

size_t elem_bytes(TensorType t) { return t == TensorType::F32 ? 4 : 2; }

void check_attention(cpu::Isa isa, TensorType kv, const AttnCase& c, int threads, Report& rep) {
  const size_t kv_elems = static_cast<size_t>(c.n_kv * c.n_head_kv * c.head_dim);
  const size_t q_elems = static_cast<size_t>(c.n_q * c.n_head * c.head_dim);
  const uint32_t seed = static_cast<uint32_t>(c.n_kv * 31 + c.n_q);
  Buffer kb(kv_elems * elem_bytes(kv), 1), vb(kv_elems * elem_bytes(kv), 3);
  std::vector<double> kd, vd;
  pack_kv(kv, random_normal(kv_elems, seed), kb.data(), &kd);
  pack_kv(kv, random_normal(kv_elems, seed + 1), vb.data(), &vd);
  Buffer qb(q_elems * 4, 4), ob(q_elems * 4, 4);
  const std::vector<float> q = random_normal(q_elems, seed + 2);
  std::memcpy(qb.data(), q.data(), q_elems * 4);
  std::vector<float> want(q_elems);
  ref::AttentionParams p;
  p.shape = {c.n_head, c.n_head_kv, c.head_dim};
  p.q_pos0 = c.q_pos0;
  p.scale = c.scale;
  const ref::KvView k{kv, kb.data(), c.n_kv}, v{kv, vb.data(), c.n_kv};
  if (!ref::attention(p, q.data(), c.n_q, k, v, want.data()).is_ok()) std::exit(2);
  ThreadPool pool(threads);
  cpu::CpuAttention attn(isa);
  attn.run(pool, p, qb.floats(), c.n_q, k, v, ob.floats());
  // Bound per output element, from a double recomputation of the softmax weights p_j:
  //   scores: |ds_j| <= (d + 2) u * S_j with S_j = scale * sum_i |q_i k_ji| (fp32 dot, scale);
  //   weights: exp(s_j - max) with an error of 2 max|ds| + e_exp (vector exp allowance 2^-20)
  //     and the normaliser / online rescaling a sum of n_kv terms: + (n_kv + 8) u, relative;
  //   output: sum_j p_j v_j in fp32: + (n_kv + 8) u, relative to V = sum_j p_j |v_j|.
  // The reference itself may err as much, so the bound is twice that: 2 * rel * V.
  const double scale = c.scale != 0.0f ? c.scale : 1.0 / std::sqrt(static_cast<double>(c.head_dim));
  const int64_t group = c.n_head / c.n_head_kv;
  Worst worst;
  std::vector<double> s(static_cast<size_t>(c.n_kv)), sa(static_cast<size_t>(c.n_kv));
  for (int64_t t = 0; t < c.n_q; ++t) {
    const int64_t visible = c.q_pos0 + t + 1;
    for (int64_t h = 0; h < c.n_head; ++h) {
      const int64_t g = h / group;
      const float* qh = q.data() + (t * c.n_head + h) * c.head_dim;
      double mx = -INFINITY, smax = 0.0;
      for (int64_t j = 0; j < visible; ++j) {
        const double* kj = kd.data() + (j * c.n_head_kv + g) * c.head_dim;
        double dot = 0.0, mag = 0.0;
        for (int64_t i = 0; i < c.head_dim; ++i)
          dot += qh[i] * kj[i], mag += std::fabs(qh[i] * kj[i]);
        s[j] = scale * dot;
        smax = std::max(smax, scale * mag);
        mx = std::max(mx, s[j]);
      }
      double z = 0.0;
      for (int64_t j = 0; j < visible; ++j) z += std::exp(s[j] - mx);
      const double rel = 2.0 * (c.head_dim + 2) * kU * smax + 1.0 / (1 << 20) +
                         2.0 * static_cast<double>(visible + 8) * kU;
      for (int64_t i = 0; i < c.head_dim; ++i) {
        double vm = 0.0;
        for (int64_t j = 0; j < visible; ++j) {
          vm += std::exp(s[j] - mx) / z * std::fabs(vd[(j * c.n_head_kv + g) * c.head_dim + i]);
        }
        const size_t o = static_cast<size_t>((t * c.n_head + h) * c.head_dim + i);
        worst.add(std::fabs(static_cast<double>(ob.floats()[o]) - want[o]), 2.0 * rel * vm);
      }
    }
  }
  rep.check("attention", type_name(kv), cpu::isa_name(isa), attn_shape(c, threads), worst);
}

void perf_attention(cpu::Isa isa, TensorType kv, const AttnCase& c, int threads, Report& rep) {
  const size_t kv_elems = static_cast<size_t>(c.n_kv * c.n_head_kv * c.head_dim);
  const size_t q_elems = static_cast<size_t>(c.n_q * c.n_head * c.head_dim);
  std::vector<uint8_t> kb(kv_elems * elem_bytes(kv)), vb(kb.size());
  std::vector<double> unused;
  pack_kv(kv, random_normal(kv_elems, 1), kb.data(), &unused);
  pack_kv(kv, random_normal(kv_elems, 2), vb.data(), &unused);
  const std::vector<float> q = random_normal(q_elems, 3);
  std::vector<float> out(q_elems);
  ref::AttentionParams p;
  p.shape = {c.n_head, c.n_head_kv, c.head_dim};
  p.q_pos0 = c.q_pos0;
  const ref::KvView k{kv, kb.data(), c.n_kv}, v{kv, vb.data(), c.n_kv};
  ThreadPool pool(threads);
  cpu::CpuAttention attn(isa);
  const double t = time_median([&] { attn.run(pool, p, q.data(), c.n_q, k, v, out.data()); }, 0.5);
  // Visible keys summed over the queries (causal); 4 flops per (query head, key, dim): q.k, p.v.
  double keys = 0.0;
  for (int64_t i = 0; i < c.n_q; ++i) keys += static_cast<double>(c.q_pos0 + i + 1);
  const double flops = 4.0 * keys * static_cast<double>(c.n_head * c.head_dim);
  const double bytes = 2.0 * static_cast<double>(kb.size()) + 8.0 * static_cast<double>(q_elems);
  rep.perf("attention", type_name(kv), cpu::isa_name(isa), attn_shape(c, threads), t, bytes, flops);
}

}  // namespace

void run_attention(const Options& opt, Report& rep) {
  if (!want_op(opt, "attention")) return;
  const TensorType kvs[] = {TensorType::F32, TensorType::F16, TensorType::BF16};
  // Decode at depths 1 .. 1500, one with keys past the query (must be masked), prefill blocks
  // from position 0 and mid-sequence; head dims 128 (Qwen3), 64 and 96; GQA groups 4, 1, 6, 2
  // and 8, and decode for groups of 5 (Qwen3-14B) and 3 (the AVX-512 decode kernel takes groups
  // of 2 to 8, 3 padded to 4 rows and 5-7 to 8).
  const AttnCase checks[] = {
      {8, 2, 128, 1, 0, 1, 0.0f},      {8, 2, 128, 1, 16, 17, 0.0f},
      {8, 2, 128, 1, 299, 300, 0.0f},  {4, 4, 64, 1, 1099, 1100, 0.0f},
      {6, 1, 96, 1, 50, 200, 0.0f},    {8, 2, 128, 7, 0, 7, 0.0f},
      {4, 4, 64, 33, 100, 133, 0.25f}, {6, 1, 96, 64, 0, 80, 0.0f},
      {16, 8, 128, 1, 700, 701, 0.0f}, {32, 4, 128, 1, 1500, 1501, 0.0f},
      {32, 4, 128, 1, 40, 300, 0.0f},  {40, 8, 128, 1, 900, 901, 0.0f},
      {12, 4, 64, 1, 300, 301, 0.0f},
  };
  // Qwen3-8B-like heads (32 query, 8 KV, d 128): decode at 4k and 16k, a 512-token prefill from 0
  // and a 128-token block at depth 4k; decode at 4k for the 0.6B's (16 / 8) and the 30B-A3B's
  // (32 / 4) heads.
  const AttnCase perfs[] = {
      {16, 8, 128, 1, 4095, 4096, 0.0f}, {32, 4, 128, 1, 4095, 4096, 0.0f},
      {32, 8, 128, 1, 4095, 4096, 0.0f}, {32, 8, 128, 1, 16383, 16384, 0.0f},
      {32, 8, 128, 512, 0, 512, 0.0f},   {32, 8, 128, 128, 3968, 4096, 0.0f},
  };
  for (cpu::Isa isa : selected_isas(opt)) {
    for (TensorType kv : kvs) {
      if (!want_type(opt, type_name(kv))) continue;
      if (opt.perf) {
        for (const AttnCase& c : perfs) {
          perf_attention(isa, kv, c, opt.threads > 0 ? opt.threads : 1, rep);
        }
        continue;
      }
      for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); ++i) {
        const int threads = opt.threads > 0 ? opt.threads : (i % 2 ? 3 : 1);
        check_attention(isa, kv, checks[i], threads, rep);
      }
    }
  }
}

}  // namespace longctx::harness
