// Ops harness, backend level: make_backend("cpu-<isa>") against make_backend("ref") for matmul
// (every weight type, bias, misaligned weights, 1 / 5 / 40 tokens), matmul_multi (mixed types
// sharing one input), rms_norm, rope, swiglu and get_rows, with 1 and 3 threads.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "kernels/backend.h"
#include "ops_harness.h"
#include "quant/quantize.h"

namespace longctx::harness {
namespace {

// Largest error one element of the activation picks up when the cpu backend converts it to the
// format its kernel reads (0 for f32): bf16 rounds to 8 bits (|x| 2^-9); Q8_0 as derived in the
// quantizer check (d / 2 + 127 |d - fp16(d)|, d = amax / 127 over the 32-block, the fp16 error
// 2^-11 d or 2^-25 for a subnormal d); Q8_K |d| with d = amax / 128
// (|d| / 2 plus ggml's clamp of +128 to 127, which can cost a full step).
std::vector<double> act_error(cpu::ActType t, const float* x, int64_t n) {
  std::vector<double> e(static_cast<size_t>(n), 0.0);
  const int64_t b = t == cpu::ActType::kQ8_0 ? 32 : t == cpu::ActType::kQ8_K ? 256 : 1;
  for (int64_t i0 = 0; i0 < n; i0 += b) {
    double amax = 0.0;
    for (int64_t i = i0; i < i0 + b && i < n; ++i) amax = std::max(amax, std::fabs(double(x[i])));
    for (int64_t i = i0; i < i0 + b && i < n; ++i) {
      switch (t) {
        case cpu::ActType::kF32:
          break;
        case cpu::ActType::kBF16:
          e[i] = std::fabs(x[i]) / 512.0;
          break;
        case cpu::ActType::kQ8_0:
          e[i] = amax / 127.0 * (0.5 + 127.0 / 2048 + 1.0 / 1024) + 127.0 / 33554432;
          break;
        case cpu::ActType::kQ8_K:
          e[i] = amax / 128.0 * (1.0 + 1.0 / 1024);
          break;
      }
    }
  }
  return e;
}

// A packed weight matrix with its dequantized values and block offsets (see
// dequantize_with_offsets), misaligned by one byte.
struct Weights {
  Weights(TensorType type, int64_t n_in, int64_t n_out, uint32_t seed)
      : bytes(row_bytes(type, n_in) * n_out, 1) {
    const size_t rb = row_bytes(type, n_in);
    make_weights(type, n_in, n_out, rb, seed, bytes.data());
    w = {type, bytes.data(), n_in, n_out};
    dequantize_with_offsets(type, bytes.data(), rb, n_out, n_in, &wd, &off);
  }
  Buffer bytes;
  WeightMatrix w;
  std::vector<float> wd, off;
};

// The activation format the cpu path converts x to for this type (f32 when the path has no
// kernel pair and the backend falls back to f32 dot products).
cpu::ActType backend_act(cpu::Isa isa, TensorType type) {
  const cpu::MatmulKernel& k = cpu::kernel_table(isa).matmul[static_cast<int>(type)];
  return k.gemv != nullptr && k.gemm != nullptr ? k.act : cpu::ActType::kF32;
}

// Worst error of got vs want (both [n_tok][n_out]) for y = W x + bias. Bound: the kernel's c * M
// (matmul_c_rel) plus the activation conversion, sum_i |w_i| e_i, plus the bias addition and the
// reference's own double-to-float rounding, 2 u |y|.
void add_matmul_errors(const Weights& W, cpu::ActType act, const std::vector<float>& x,
                       int64_t n_tok, const float* bias, const std::vector<float>& want,
                       const std::vector<float>& got, Worst* worst) {
  const int64_t n_in = W.w.n_in, n_out = W.w.n_out;
  for (int64_t t = 0; t < n_tok; ++t) {
    const float* xt = x.data() + t * n_in;
    const std::vector<double> e = act_error(act, xt, n_in);
    for (int64_t r = 0; r < n_out; ++r) {
      double m = bias ? std::fabs(bias[r]) : 0.0, ea = 0.0;
      for (int64_t i = 0; i < n_in; ++i) {
        const double wi = std::fabs(W.wd[r * n_in + i]);
        m += (wi + 2.0 * W.off[r * n_in + i]) * std::fabs(xt[i]);
        ea += wi * e[i];
      }
      const double y = want[t * n_out + r];
      const double bound = matmul_c_rel(act, n_in) * m + ea + 2.0 * kU * std::fabs(y);
      worst->add(std::fabs(got[t * n_out + r] - y), bound);
    }
  }
}

std::string mm_shape(int64_t n_in, int64_t n_out, int64_t n_tok, int threads) {
  char s[64];
  std::snprintf(s, sizeof(s), "in=%lld out=%lld tok=%lld t=%d", static_cast<long long>(n_in),
                static_cast<long long>(n_out), static_cast<long long>(n_tok), threads);
  return s;
}

// Decode (1 token), a small batch (5) and a batch past the backend's 32-token column block
// (40); 37 outputs, and 300 for the batch so the rows span several row blocks and threads.
void check_matmul(KernelBackend& cpu, KernelBackend& ref, cpu::Isa isa, TensorType type,
                  int threads, Report& rep) {
  const int64_t bs = traits(type).block_size;
  const int64_t n_in = bs == 256 ? 768 : bs == 32 ? 288 : 131;
  const cpu::ActType act = backend_act(isa, type);
  for (int64_t n_tok : {1, 5, 40}) {
    const int64_t n_out = n_tok == 40 ? 300 : 37;
    const Weights W(type, n_in, n_out, 21);
    const std::vector<float> bias = random_normal(static_cast<size_t>(n_out), 22);
    const std::vector<float> x = random_normal(static_cast<size_t>(n_tok * n_in), 23);
    std::vector<float> want(static_cast<size_t>(n_tok * n_out)), got(want.size());
    ref.matmul(W.w, x.data(), n_tok, bias.data(), want.data());
    cpu.matmul(W.w, x.data(), n_tok, bias.data(), got.data());
    Worst worst;
    add_matmul_errors(W, act, x, n_tok, bias.data(), want, got, &worst);
    rep.check("matmul", type_name(type), cpu::isa_name(isa), mm_shape(n_in, n_out, n_tok, threads),
              worst);
  }
}

// matmul_multi: q/k/v-like products of one input with mixed weight types (two sharing an
// activation format), a bias on one of them, 1 and 7 tokens.
void check_matmul_multi(KernelBackend& cpu, KernelBackend& ref, cpu::Isa isa, int threads,
                        Report& rep) {
  const int64_t n_in = 512;
  const TensorType types[3] = {TensorType::Q4_K, TensorType::Q6_K, TensorType::Q8_0};
  const int64_t n_outs[3] = {64, 21, 37};
  std::vector<Weights> W;
  W.reserve(3);
  for (int i = 0; i < 3; ++i) W.emplace_back(types[i], n_in, n_outs[i], 50 + i);
  const std::vector<float> bias = random_normal(static_cast<size_t>(n_outs[1]), 53);
  const float* biases[3] = {nullptr, bias.data(), nullptr};
  const WeightMatrix ws[3] = {W[0].w, W[1].w, W[2].w};
  for (int64_t n_tok : {1, 7}) {
    const std::vector<float> x = random_normal(static_cast<size_t>(n_tok * n_in), 54);
    std::vector<float> want[3], got[3];
    float* ys[3];
    for (int i = 0; i < 3; ++i) {
      want[i].resize(static_cast<size_t>(n_tok * n_outs[i]));
      got[i].resize(want[i].size());
      ys[i] = got[i].data();
      ref.matmul(ws[i], x.data(), n_tok, biases[i], want[i].data());
    }
    cpu.matmul_multi(ws, 3, x.data(), n_tok, biases, ys);
    Worst worst;
    for (int i = 0; i < 3; ++i) {
      add_matmul_errors(W[i], backend_act(isa, types[i]), x, n_tok, biases[i], want[i], got[i],
                        &worst);
    }
    rep.check(
        "mm_multi", "mixed", cpu::isa_name(isa),
        "q4_K+q6_K+q8_0 in=512 tok=" + std::to_string(n_tok) + " t=" + std::to_string(threads),
        worst);
  }
}

void check_get_rows(KernelBackend& cpu, KernelBackend& ref, cpu::Isa isa, TensorType type,
                    int threads, Report& rep) {
  const int64_t bs = traits(type).block_size;
  const int64_t n_in = bs == 256 ? 512 : bs == 32 ? 96 : 37;
  const int64_t n_out = 37;
  const size_t rb = row_bytes(type, n_in);
  Buffer wb(rb * n_out, 3);
  make_weights(type, n_in, n_out, rb, 31, wb.data());
  const WeightMatrix w{type, wb.data(), n_in, n_out};
  std::vector<float> wd, off;
  dequantize_with_offsets(type, wb.data(), rb, n_out, n_in, &wd, &off);
  const int32_t ids[] = {0, 36, 5, 5, 17};
  const int64_t n = 5;
  std::vector<float> want(static_cast<size_t>(n * n_in)), got(want.size());
  ref.get_rows(w, ids, n, want.data());
  cpu.get_rows(w, ids, n, got.data());
  // Dequantization is a product of at most three fp32 factors and one subtraction of the offset:
  // 4 u (|x| + |m|) covers any evaluation order (the reference's is bit-exact ggml's).
  Worst worst;
  for (int64_t t = 0; t < n; ++t) {
    for (int64_t i = 0; i < n_in; ++i) {
      const size_t o = static_cast<size_t>(t * n_in + i);
      const size_t src = static_cast<size_t>(ids[t] * n_in + i);
      worst.add(std::fabs(got[o] - want[o]), 4.0 * kU * (std::fabs(want[o]) + off[src]));
    }
  }
  rep.check("get_rows", type_name(type), cpu::isa_name(isa),
            "in=" + std::to_string(n_in) + " ids=5 t=" + std::to_string(threads), worst);
}

void check_elementwise(KernelBackend& cpu, KernelBackend& ref, cpu::Isa isa, int threads,
                       const Options& opt, Report& rep) {
  const std::string ts = " t=" + std::to_string(threads);
  const char* in = cpu::isa_name(isa);
  if (want_op(opt, "backend") || want_op(opt, "rms_norm")) {
    for (int64_t n : {1, 7, 128, 4099}) {
      const int64_t rows = 3;
      const std::vector<float> x = random_normal(static_cast<size_t>(rows * n), 41, 3.0f);
      const std::vector<float> wt = random_normal(static_cast<size_t>(n), 42);
      std::vector<float> want(x.size()), got = x;
      ref.rms_norm(x.data(), wt.data(), 1e-6f, rows, n, want.data());
      cpu.rms_norm(got.data(), wt.data(), 1e-6f, rows, n, got.data());  // in place
      // Sum of squares in fp32 (any order) errs by (n + 1) u relative, the square root halves
      // it, the division and the two products add 3 u: (n / 2 + 8) u |y|; n + 8 for margin.
      Worst worst;
      for (size_t i = 0; i < x.size(); ++i) {
        worst.add(std::fabs(got[i] - want[i]),
                  static_cast<double>(n + 8) * kU * std::fabs(want[i]));
      }
      rep.check("rms_norm", "f32", in, "n=" + std::to_string(n) + " rows=3 in-place" + ts, worst);
    }
  }
  if (want_op(opt, "backend") || want_op(opt, "rope")) {
    ref::RopeParams rp;
    rp.head_dim = 128;
    rp.theta = 1e6;
    auto table = ref::RopeTable::build(rp, 64);
    if (!table.is_ok()) std::exit(2);
    const int64_t n_tok = 3, n_head = 5, pos0 = 29;
    const std::vector<float> x = random_normal(static_cast<size_t>(n_tok * n_head * 128), 51);
    std::vector<float> want = x, got = x;
    ref.rope(table.value(), pos0, n_tok, n_head, want.data());
    cpu.rope(table.value(), pos0, n_tok, n_head, got.data());
    // x' = a c - b s (or b c + a s): two products and a sum, 2 u (|a c| + |b s|).
    Worst worst;
    for (int64_t t = 0; t < n_tok; ++t) {
      const float* c = table->cos_row(pos0 + t);
      const float* s = table->sin_row(pos0 + t);
      for (int64_t h = 0; h < n_head; ++h) {
        const size_t base = static_cast<size_t>((t * n_head + h) * 128);
        for (int64_t i = 0; i < 128; ++i) {
          const int64_t p = i % 64;
          const double a = x[base + p], b = x[base + 64 + p];
          const double mag =
              std::fabs(a * c[p]) + std::fabs(b * s[p]) + std::fabs(b * c[p]) + std::fabs(a * s[p]);
          worst.add(std::fabs(got[base + i] - want[base + i]), 2.0 * kU * mag);
        }
      }
    }
    rep.check("rope", "f32", in, "d=128 heads=5 tok=3 pos=29" + ts, worst);
  }
  if (want_op(opt, "backend") || want_op(opt, "swiglu")) {
    for (int64_t n : {1, 7, 1000, 4099}) {
      std::vector<float> g = random_normal(static_cast<size_t>(n), 61, 4.0f);
      const std::vector<float> u = random_normal(static_cast<size_t>(n), 62);
      if (n >= 8) g[1] = -100.0f, g[2] = 100.0f, g[3] = -30.0f, g[4] = 0.0f;
      std::vector<float> want(g.size()), got(g.size());
      ref.swiglu(g.data(), u.data(), n, want.data());
      cpu.swiglu(g.data(), u.data(), n, got.data());
      // silu(g) u = g u / (1 + exp(-g)): a vector exp may err by 2^-20 relative (see attention);
      // three more roundings, 4 u; 1e-30 absolute for results deep in the subnormals.
      Worst worst;
      for (int64_t i = 0; i < n; ++i) {
        worst.add(std::fabs(got[i] - want[i]),
                  (1.0 / (1 << 20) + 4.0 * kU) * std::fabs(want[i]) + 1e-30);
      }
      rep.check("swiglu", "f32", in, "n=" + std::to_string(n) + ts, worst);
    }
  }
}

// --perf of the table's swiglu and to_f16 on the shapes a decode step and a prefill block hand
// them (Qwen3-0.6B: 3072 FFN rows; 30B-A3B: 768 per expert, x 8 experts; 64 tokens of 3072).
void perf_elementwise(const Options& opt, Report& rep) {
  for (cpu::Isa isa : selected_isas(opt)) {
    const cpu::KernelTable& table = cpu::kernel_table(isa);
    for (int64_t n : {int64_t{768}, int64_t{3072}, int64_t{3072 * 64}}) {
      const std::vector<float> g = random_normal(static_cast<size_t>(n), 61, 4.0f);
      const std::vector<float> u = random_normal(static_cast<size_t>(n), 62);
      std::vector<float> y(g.size());
      std::vector<uint16_t> h(g.size());
      const std::string shape = "n=" + std::to_string(n);
      const double ts = time_median([&] { table.swiglu(g.data(), u.data(), n, y.data()); }, 0.2);
      rep.perf("swiglu", "f32", cpu::isa_name(isa), shape, ts, 8.0 * n, 0.0);
      const double th = time_median([&] { table.to_f16(g.data(), h.data(), n); }, 0.2);
      rep.perf("to_f16", "f32", cpu::isa_name(isa), shape, th, 4.0 * n, 0.0);
    }
  }
}

}  // namespace

void run_backend(const Options& opt, Report& rep) {
  const char* ops[] = {"backend", "matmul", "mm_multi", "rms_norm", "rope", "swiglu", "get_rows"};
  bool any = false;
  for (const char* op : ops) any = any || want_op(opt, op);
  if (!any) return;
  if (opt.perf) {  // the element-wise kernels of the table; the backend adds only threading
    if (want_op(opt, "swiglu") && want_type(opt, "f32")) perf_elementwise(opt, rep);
    return;
  }
  std::unique_ptr<KernelBackend> ref = make_ref_backend();
  for (cpu::Isa isa : selected_isas(opt)) {
    std::vector<int> thread_counts = {1, 3};
    if (opt.threads > 0) thread_counts = {opt.threads};
    for (int threads : thread_counts) {
      auto made = make_backend(std::string("cpu-") + cpu::isa_name(isa), threads);
      if (!made.is_ok()) std::exit(2);
      KernelBackend& cpu = *made.value();
      for (TensorType type : weight_types()) {
        if (!want_type(opt, type_name(type))) continue;
        if ((want_op(opt, "backend") || want_op(opt, "matmul")) &&
            cpu.supports(KernelOp::kMatmul, type)) {
          check_matmul(cpu, *ref, isa, type, threads, rep);
        }
        if ((want_op(opt, "backend") || want_op(opt, "get_rows")) &&
            cpu.supports(KernelOp::kGetRows, type)) {
          check_get_rows(cpu, *ref, isa, type, threads, rep);
        }
      }
      if ((want_op(opt, "backend") || want_op(opt, "matmul") || want_op(opt, "mm_multi")) &&
          want_type(opt, "mixed")) {
        check_matmul_multi(cpu, *ref, isa, threads, rep);
      }
      if (want_type(opt, "f32")) check_elementwise(cpu, *ref, isa, threads, opt, rep);
    }
  }
}

}  // namespace longctx::harness
