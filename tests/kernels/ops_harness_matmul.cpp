// Ops harness, table level: the activation quantizers (table.quantize[ActType]) against the
// reference conversions and the gemv / gemm kernels (table.matmul[type id]) against a double
// oracle over the dequantized weights and the exact values of the reference-converted activations.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "ops_harness.h"
#include "quant/blocks.h"
#include "quant/float16.h"
#include "quant/quantize.h"

namespace longctx::harness {
namespace {

using cpu::ActType;

const char* act_name(ActType t) {
  switch (t) {
    case ActType::kF32:
      return "f32";
    case ActType::kBF16:
      return "bf16";
    case ActType::kQ8_0:
      return "q8_0";
    case ActType::kQ8_K:
      return "q8_K";
  }
  return "?";
}

int64_t act_block(ActType t) { return t == ActType::kQ8_0 ? 32 : t == ActType::kQ8_K ? 256 : 1; }

// ggml's reference Q8_K conversion, as the K-quant kernels expect it: per 256 values, with m the
// value of largest magnitude, iscale = -128 / m, q = min(127, round(iscale * x)), d = 1 / iscale
// (so m itself maps to -128), bsums[g] = sum of q over the 16 values of group g.
void quantize_q8k_ref(const float* x, int64_t n, uint8_t* dst) {
  for (int64_t b = 0; b < n / 256; ++b) {
    const float* xb = x + b * 256;
    cpu::BlockQ8K blk{};
    float amax = 0.0f, m = 0.0f;
    for (int j = 0; j < 256; ++j) {
      if (std::fabs(xb[j]) > amax) amax = std::fabs(xb[j]), m = xb[j];
    }
    if (amax > 0.0f) {
      const float iscale = -128.0f / m;
      for (int j = 0; j < 256; ++j) {
        const int v = static_cast<int>(std::nearbyint(iscale * xb[j]));
        blk.qs[j] = static_cast<int8_t>(v > 127 ? 127 : v);
      }
      for (int g = 0; g < 16; ++g) {
        int s = 0;
        for (int j = 0; j < 16; ++j) s += blk.qs[16 * g + j];
        blk.bsums[g] = static_cast<int16_t>(s);
      }
      blk.d = 1.0f / iscale;
    }
    std::memcpy(dst + b * sizeof(cpu::BlockQ8K), &blk, sizeof(blk));
  }
}

// The exact values an activation row of format t holds.
void decode_act(ActType t, const uint8_t* src, int64_t n, double* out) {
  for (int64_t i = 0; i < n; ++i) {
    switch (t) {
      case ActType::kF32: {
        float f;
        std::memcpy(&f, src + 4 * i, 4);
        out[i] = f;
        break;
      }
      case ActType::kBF16: {
        uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        out[i] = bf16_to_fp32(h);
        break;
      }
      case ActType::kQ8_0: {
        const uint8_t* blk = src + (i / 32) * 34;
        uint16_t d;
        std::memcpy(&d, blk, 2);
        out[i] = static_cast<double>(fp16_to_fp32(d)) * static_cast<int8_t>(blk[2 + i % 32]);
        break;
      }
      case ActType::kQ8_K: {
        cpu::BlockQ8K blk;
        std::memcpy(&blk, src + (i / 256) * sizeof(blk), sizeof(blk));
        out[i] = static_cast<double>(blk.d) * blk.qs[i % 256];
        break;
      }
    }
  }
}

// Row n of format t by the reference conversions (quant/float16.h, quant/quantize.h).
void reference_act(ActType t, const float* x, int64_t n, uint8_t* dst) {
  switch (t) {
    case ActType::kF32:
      std::memcpy(dst, x, static_cast<size_t>(n) * 4);
      break;
    case ActType::kBF16:
      for (int64_t i = 0; i < n; ++i) {
        const uint16_t h = fp32_to_bf16(x[i]);
        std::memcpy(dst + 2 * i, &h, 2);
      }
      break;
    case ActType::kQ8_0:
      if (!quantize_row(TensorType::Q8_0, x, dst, n).is_ok()) std::exit(2);
      break;
    case ActType::kQ8_K:
      quantize_q8k_ref(x, n, dst);
      break;
  }
}

// Activation test data: N(0,1) with block 0 all zeros (d = 0), block 1 tiny (1e-3) and the last
// block large (x100), so scale handling at both ends is exercised.
std::vector<float> act_input(int64_t n, int64_t block, uint32_t seed) {
  std::vector<float> x = random_normal(static_cast<size_t>(n), seed);
  const int64_t nb = n / block;
  if (nb >= 3) {
    for (int64_t i = 0; i < block; ++i) x[i] = 0.0f;
    for (int64_t i = block; i < 2 * block; ++i) x[i] *= 1e-3f;
    for (int64_t i = n - block; i < n; ++i) x[i] *= 100.0f;
  }
  return x;
}

std::string shape_n(int64_t n, size_t off) {
  return "n=" + std::to_string(n) + " off=" + std::to_string(off);
}

void check_quantizer(ActType t, cpu::QuantizeActFn fn, const char* isa, Report& rep) {
  const int64_t b = act_block(t);
  const std::vector<int64_t> ns =
      b == 1 ? std::vector<int64_t>{7, 96, 4099} : std::vector<int64_t>{b, 3 * b, 17 * b};
  for (size_t k = 0; k < ns.size(); ++k) {
    const int64_t n = ns[k];
    const size_t off = k + 1;  // destination misaligned by 1..3 bytes
    const size_t bytes = cpu::act_row_bytes(t, n);
    const std::vector<float> x = act_input(n, b, 100 + static_cast<uint32_t>(k));
    Buffer got(bytes, off), want(bytes, 0);
    fn(x.data(), got.data(), n);
    reference_act(t, x.data(), n, want.data());
    std::vector<double> g(static_cast<size_t>(n)), w(static_cast<size_t>(n));
    decode_act(t, got.data(), n, g.data());
    decode_act(t, want.data(), n, w.data());
    Worst worst;
    bool ok = true;
    std::string note;
    if (t == ActType::kF32 || t == ActType::kBF16) {
      // Exact: a copy, or fp32_to_bf16's round-to-nearest-even.
      for (int64_t i = 0; i < n; ++i) worst.add(std::fabs(g[i] - w[i]), 0.0);
    } else if (t == ActType::kQ8_0) {
      // d16 must equal the reference's fp16(amax / 127) bit for bit. q = round(x / d) with the
      // unrounded d = amax / 127 (or x * (1/d): q may differ from the reference by one), so
      // |x - d16 q| <= d (0.5 + 256 u) + 127 |d - d16|; |d - d16| is up to 2^-11 d for a normal
      // fp16 and up to 2^-25 (half a step) for a subnormal one (d < 2^-14), so it is measured.
      int q_diff = 0, d_diff = 0;
      double d = 0.0;
      for (int64_t i = 0; i < n; ++i) {
        if (i % 32 == 0) {
          d = 0.0;
          for (int j = 0; j < 32; ++j) d = std::max(d, std::fabs(static_cast<double>(x[i + j])));
          d /= 127.0;
        }
        const uint8_t* gb = got.data() + (i / 32) * 34;
        const uint8_t* wb = want.data() + (i / 32) * 34;
        if (i % 32 == 0 && std::memcmp(gb, wb, 2) != 0) ++d_diff;
        const int dq = static_cast<int8_t>(gb[2 + i % 32]) - static_cast<int8_t>(wb[2 + i % 32]);
        if (dq != 0) ++q_diff;
        if (dq > 1 || dq < -1) ok = false;
        uint16_t dh;
        std::memcpy(&dh, gb, 2);
        const double d16 = std::fabs(fp16_to_fp32(dh));
        worst.add(std::fabs(x[i] - g[i]), d * (0.5 + 256 * kU) + 127.0 * std::fabs(d - d16));
      }
      if (d_diff) ok = false;
      note = std::to_string(q_diff) + " q off by 1 vs ref";
      if (d_diff) note += ", " + std::to_string(d_diff) + " d differ from ref";
    } else {
      // |x - d q| <= |d| / 2 up to the fp32 roundings of iscale * x (|.| <= 128, so 2^-17 in
      // units of q) and of d = 1 / iscale (128 * 2^-24 |d|): bound |d| * (0.5 + 2^-15).
      // bsums must be the exact sums of the q.
      int bad_sums = 0;
      for (int64_t blk = 0; blk < n / 256; ++blk) {
        cpu::BlockQ8K q;
        std::memcpy(&q, got.data() + blk * sizeof(q), sizeof(q));
        for (int j = 0; j < 256; ++j) {
          const int64_t i = blk * 256 + j;
          worst.add(std::fabs(x[i] - g[i]), std::fabs(q.d) * (0.5 + 1.0 / 32768));
        }
        for (int gi = 0; gi < 16; ++gi) {
          int s = 0;
          for (int j = 0; j < 16; ++j) s += q.qs[16 * gi + j];
          if (s != q.bsums[gi]) ++bad_sums;
        }
      }
      if (bad_sums) ok = false, note = std::to_string(bad_sums) + " wrong bsums";
    }
    rep.check("quantize", act_name(t), isa, shape_n(n, off), worst, ok, note);
  }
}

// One gemv / gemm case: sizes, misalignments (bytes) and stride paddings (bytes; ldy in floats).
struct MmCase {
  int64_t n, nr, nc;
  size_t w_off, a_off, y_off;
  size_t w_pad, a_pad, ldy_pad;
};

constexpr uint32_t kCanary = 0xffc0dead;  // a NaN: kernels must overwrite y, never add to it

// extreme: every weight row and every activation row is the same random +-1 pattern, so all
// products are positive and the integer block sums reach their largest magnitude (quants at
// +-127 / -8 / 15 ...): catches int16 saturation in multiply-add chains.
// repack (x16 kernels): the weights are rewritten by it before the call (nr a multiple of 16);
// the oracle reads a copy taken before.
void check_matmul(TensorType type, const cpu::MatmulKernel& k, bool gemm, const MmCase& mc,
                  bool extreme, const char* isa, Report& rep, cpu::RepackFn repack = nullptr) {
  const size_t rb = row_bytes(type, mc.n);
  const size_t stride = rb + mc.w_pad;
  const size_t arb = cpu::act_row_bytes(k.act, mc.n);
  const size_t a_stride = arb + mc.a_pad;
  const size_t ldy = static_cast<size_t>(mc.nr) + (gemm ? mc.ldy_pad : 0);
  Buffer w(stride * mc.nr, mc.w_off), a(a_stride * mc.nc, mc.a_off);
  extreme = extreme && has_quantizer(type);
  std::vector<float> sign = random_normal(static_cast<size_t>(mc.n), 3);
  for (float& f : sign) f = f < 0.0f ? -1.0f : 1.0f;
  if (extreme) {
    for (int64_t r = 0; r < mc.nr; ++r) {
      if (!quantize_row(type, sign.data(), w.data() + r * stride, mc.n).is_ok()) std::exit(2);
    }
  } else {
    make_weights(type, mc.n, mc.nr, stride, 1000 + static_cast<uint32_t>(mc.n + mc.nr), w.data());
  }
  std::vector<uint8_t> orig(w.data(), w.data() + stride * mc.nr);
  if (repack != nullptr) repack(mc.n, w.data(), stride, mc.nr);
  std::vector<double> ad(static_cast<size_t>(mc.n * mc.nc));
  for (int64_t c = 0; c < mc.nc; ++c) {
    const std::vector<float> x =
        extreme ? sign : random_normal(static_cast<size_t>(mc.n), 77 + static_cast<uint32_t>(c));
    reference_act(k.act, x.data(), mc.n, a.data() + c * a_stride);
    decode_act(k.act, a.data() + c * a_stride, mc.n, ad.data() + c * mc.n);
  }
  const size_t ny = ldy * mc.nc + 16;  // 16 guard floats after the last column
  Buffer yb(ny * 4, 4 * mc.y_off);
  float* y = yb.floats();
  for (size_t i = 0; i < ny; ++i) std::memcpy(y + i, &kCanary, 4);
  if (gemm) {
    k.gemm(mc.n, w.data(), stride, mc.nr, a.data(), a_stride, mc.nc, y, ldy);
  } else {
    k.gemv(mc.n, w.data(), stride, mc.nr, a.data(), y);
  }
  std::vector<float> wd, off;
  dequantize_with_offsets(type, orig.data(), stride, mc.nr, mc.n, &wd, &off);
  // Bound: c * M, c from matmul_c_rel (ops_harness.cpp), M = sum_i (|w_i| + 2 |m_i|) |a_i|.
  const double c_rel = matmul_c_rel(k.act, mc.n);
  Worst worst;
  for (int64_t c = 0; c < mc.nc; ++c) {
    const double* ac = ad.data() + c * mc.n;
    for (int64_t r = 0; r < mc.nr; ++r) {
      const float* wr = wd.data() + r * mc.n;
      const float* orow = off.data() + r * mc.n;
      double s = 0.0, m = 0.0;
      for (int64_t i = 0; i < mc.n; ++i) {
        s += static_cast<double>(wr[i]) * ac[i];
        m += (std::fabs(wr[i]) + 2.0 * orow[i]) * std::fabs(ac[i]);
      }
      worst.add(std::fabs(y[c * ldy + r] - s), c_rel * m);
    }
  }
  int stray = 0;
  for (size_t i = 0; i < ny; ++i) {
    const bool inside = i < ldy * mc.nc && i % ldy < static_cast<size_t>(mc.nr);
    if (!inside && std::memcmp(y + i, &kCanary, 4) != 0) ++stray;
  }
  char shape[96];
  std::snprintf(shape, sizeof(shape), "n=%lld nr=%lld nc=%lld off=%zu/%zu/%zu pad=%zu/%zu/%zu",
                static_cast<long long>(mc.n), static_cast<long long>(mc.nr),
                static_cast<long long>(mc.nc), mc.w_off, mc.a_off, mc.y_off, mc.w_pad, mc.a_pad,
                mc.ldy_pad);
  if (extreme) std::strncat(shape, " max", sizeof(shape) - std::strlen(shape) - 1);
  const std::string op =
      std::string(gemm ? "gemm" : "gemv") + (repack ? "_x16<" : "<") + act_name(k.act) + ">";
  rep.check(op, type_name(type), isa, shape, worst, stray == 0,
            stray ? std::to_string(stray) + " floats written outside y" : "");
}

// The gemm sweep: 8 (n index, nr, nc) cases with varied misalignments and paddings, then the
// saturation case with extreme_nr rows.
void check_gemm_cases(TensorType type, const cpu::MatmulKernel& k, const std::vector<int64_t>& ns,
                      const int64_t (&cases)[8][3], int64_t extreme_nr, const char* isa,
                      Report& rep, cpu::RepackFn repack) {
  for (size_t i = 0; i < 8; ++i) {
    const MmCase mc{ns[static_cast<size_t>(cases[i][0]) % ns.size()],
                    cases[i][1],
                    cases[i][2],
                    i % 4,
                    (i + 1) % 4,
                    i % 2,
                    (i % 4 == 1) ? 3u : 0u,
                    (i % 4 == 2) ? 7u : 0u,
                    (i % 4 == 3) ? 3u : 0u};
    check_matmul(type, k, true, mc, false, isa, rep, repack);
  }
  check_matmul(type, k, true, {ns.back(), extreme_nr, 5, 1, 1, 1, 0, 0, 0}, true, isa, rep, repack);
}

std::vector<int64_t> matmul_ns(int64_t unit) {
  if (unit == 1) return {32, 96, 7, 37, 515};
  if (unit <= 32) return {32, 96, 1056, 2080};
  return {256, 768, 1280, 2304};
}

// Threaded drivers for --perf: rows split across the pool; gemm blocked 64 rows x 64 columns so
// a block of W and of A stay in L2 while the kernel tiles registers inside it.
void perf_matmul(TensorType type, const cpu::MatmulKernel& k, bool gemm, const char* isa,
                 int threads, int cols, Report& rep, cpu::RepackFn repack = nullptr) {
  const int64_t n = 4096;
  const size_t rb = row_bytes(type, n);
  // gemv: enough rows for 256 MiB of weights, so it streams from memory. (With 64 MiB, twice
  // this machine's 32 MiB L3, part of each pass still came from the L3: x16 Q4_K on two threads
  // read 35-56 GB/s while the same kernel over 1.3 GB of distinct matrices read 27-37.)
  // A gemm of a few columns (--cols: a batch of decode rows) streams as the gemv does.
  const bool stream = !gemm || cols > 0;
  int64_t nr = stream ? static_cast<int64_t>((256u << 20) / rb + 15) / 16 * 16 : 256;
  const int64_t nc = !gemm ? 1 : cols > 0 ? cols : 512;
  const int64_t distinct = 64;  // quantize 64 rows and repeat them (quantize_row is slow)
  std::vector<uint8_t> w(rb * nr);
  make_weights(type, n, distinct, rb, 5, w.data());
  for (int64_t r = distinct; r < nr; ++r) std::memcpy(&w[r * rb], &w[(r % distinct) * rb], rb);
  if (repack != nullptr) repack(n, w.data(), rb, nr);
  const int64_t granule = repack != nullptr ? cpu::kX16Rows : 1;  // x16: whole row groups
  const size_t arb = cpu::act_row_bytes(k.act, n);
  std::vector<uint8_t> a(arb * nc);
  const std::vector<float> x = random_normal(static_cast<size_t>(n), 9);
  for (int64_t c = 0; c < nc; ++c) reference_act(k.act, x.data(), n, a.data() + c * arb);
  std::vector<float> y(static_cast<size_t>(nr * nc));
  ThreadPool pool(threads);
  auto call = [&] {
    pool.run([&](int ith, int nth) {
      int64_t r0, r1;
      split_range(nr / granule, ith, nth, &r0, &r1);
      r0 *= granule;
      r1 *= granule;
      if (!gemm) {
        k.gemv(n, w.data() + r0 * rb, rb, r1 - r0, a.data(), y.data() + r0);
        return;
      }
      if (stream) {  // every column in one pass over the rows, as the backend does for a batch
        k.gemm(n, w.data() + r0 * rb, rb, r1 - r0, a.data(), arb, nc, y.data() + r0,
               static_cast<size_t>(nr));
        return;
      }
      for (int64_t c0 = 0; c0 < nc; c0 += 64) {
        const int64_t cn = nc - c0 < 64 ? nc - c0 : 64;
        for (int64_t rr = r0; rr < r1; rr += 64) {
          const int64_t rn = r1 - rr < 64 ? r1 - rr : 64;
          k.gemm(n, w.data() + rr * rb, rb, rn, a.data() + c0 * arb, arb, cn,
                 y.data() + c0 * nr + rr, static_cast<size_t>(nr));
        }
      }
    });
  };
  const double t = time_median(call, 0.3);
  char shape[64];
  std::snprintf(shape, sizeof(shape), "n=%lld nr=%lld nc=%lld threads=%d",
                static_cast<long long>(n), static_cast<long long>(nr), static_cast<long long>(nc),
                threads);
  const std::string op =
      std::string(gemm ? "gemm" : "gemv") + (repack ? "_x16<" : "<") + act_name(k.act) + ">";
  rep.perf(op, type_name(type), isa, shape, t, static_cast<double>(rb * nr + arb * nc),
           2.0 * static_cast<double>(n) * static_cast<double>(nr) * static_cast<double>(nc));
}

}  // namespace

void run_quantize(const Options& opt, Report& rep) {
  if (!want_op(opt, "quantize")) return;
  for (cpu::Isa isa : selected_isas(opt)) {
    const cpu::KernelTable& table = cpu::kernel_table(isa);
    for (int t = 0; t < cpu::kNumActTypes; ++t) {
      const ActType at = static_cast<ActType>(t);
      if (!want_type(opt, act_name(at))) continue;
      const cpu::QuantizeActFn fn = table.quantize[t];
      if (fn == nullptr) {
        rep.missing("quantize", act_name(at), cpu::isa_name(isa));
        continue;
      }
      if (opt.perf) {
        const int64_t n = 4096 * 64;  // 1 MiB of floats: a prefill block of 64 tokens
        const std::vector<float> x = random_normal(static_cast<size_t>(n), 3);
        std::vector<uint8_t> dst(cpu::act_row_bytes(at, n));
        const double s = time_median([&] { fn(x.data(), dst.data(), n); }, 0.2);
        rep.perf("quantize", act_name(at), cpu::isa_name(isa), "n=262144", s, 4.0 * n, 0.0);
        continue;
      }
      check_quantizer(at, fn, cpu::isa_name(isa), rep);
    }
  }
}

void run_matmul(const Options& opt, Report& rep) {
  const bool do_gemv = want_op(opt, "gemv"), do_gemm = want_op(opt, "gemm");
  if (!do_gemv && !do_gemm) return;
  for (cpu::Isa isa : selected_isas(opt)) {
    const cpu::KernelTable& table = cpu::kernel_table(isa);
    const char* in = cpu::isa_name(isa);
    for (TensorType type : weight_types()) {
      if (!want_type(opt, type_name(type))) continue;
      const cpu::MatmulKernel& k = table.matmul[static_cast<int>(type)];
      const int64_t unit = std::max<int64_t>(traits(type).block_size, act_block(k.act));
      const std::vector<int64_t> ns = matmul_ns(unit);
      const int threads = opt.threads > 0 ? opt.threads : 1;
      if (do_gemv) {
        if (k.gemv == nullptr) {
          rep.missing("gemv", type_name(type), in);
        } else if (opt.perf) {
          perf_matmul(type, k, false, in, threads, opt.cols, rep);
        } else {
          static const int64_t nrs[] = {1, 7, 17, 37, 5};
          static const size_t offs[][3] = {{0, 0, 0}, {1, 2, 1}, {3, 1, 0}, {2, 3, 1}, {1, 1, 1}};
          static const size_t pads[] = {0, 0, 3, 0, 5};
          for (size_t i = 0; i < ns.size(); ++i) {
            const MmCase mc{
                ns[i],       nrs[i % 5], 1, offs[i % 5][0], offs[i % 5][1], offs[i % 5][2],
                pads[i % 5], 0,          0};
            check_matmul(type, k, false, mc, false, in, rep);
          }
          check_matmul(type, k, false, {ns.back(), 5, 1, 1, 1, 1, 0, 0, 0}, true, in, rep);
        }
      }
      if (do_gemm) {
        if (k.gemm == nullptr) {
          rep.missing("gemm", type_name(type), in);
        } else if (opt.perf) {
          perf_matmul(type, k, true, in, threads, opt.cols, rep);
        } else {
          // (n index, nr, nc): remainders in both directions, exact 4x8 / 8x4 tiles, nc = 1.
          static const int64_t cases[8][3] = {{0, 1, 2}, {1, 5, 3}, {2, 17, 5}, {3, 37, 13},
                                              {1, 4, 8}, {2, 8, 4}, {0, 3, 1},  {3, 16, 16}};
          check_gemm_cases(type, k, ns, cases, 6, in, rep, nullptr);
        }
      }
    }
    // Interleaved (x16) kernels on their repacked weights: whole groups of 16 rows.
    for (TensorType type : weight_types()) {
      const int id = static_cast<int>(type);
      const cpu::MatmulKernel& k = table.matmul_x16[id];
      const cpu::RepackFn repack = table.repack_x16[id];
      if (k.gemv == nullptr || repack == nullptr || !want_type(opt, type_name(type))) continue;
      const std::vector<int64_t> ns = matmul_ns(traits(type).block_size);
      const int threads = opt.threads > 0 ? opt.threads : 1;
      if (opt.perf) {
        if (do_gemv) perf_matmul(type, k, false, in, threads, opt.cols, rep, repack);
        if (do_gemm) perf_matmul(type, k, true, in, threads, opt.cols, rep, repack);
        continue;
      }
      if (do_gemv) {
        for (size_t i = 0; i < ns.size(); ++i) {
          const MmCase mc{ns[i],
                          16 * static_cast<int64_t>(1 + i % 3),
                          1,
                          i % 4,
                          (i + 1) % 4,
                          i % 2,
                          (i % 2) * 3u,
                          0,
                          0};
          check_matmul(type, k, false, mc, false, in, rep, repack);
        }
        check_matmul(type, k, false, {ns.back(), 16, 1, 1, 1, 1, 0, 0, 0}, true, in, rep, repack);
      }
      if (do_gemm) {
        // (n index, nr, nc): 1..13 columns (the 4-column tile and its remainders).
        static const int64_t cases[8][3] = {{0, 16, 1}, {1, 16, 5}, {2, 32, 4}, {3, 48, 13},
                                            {1, 32, 7}, {2, 16, 2}, {0, 16, 3}, {3, 16, 16}};
        check_gemm_cases(type, k, ns, cases, 16, in, rep, repack);
      }
    }
    // Kernels for types the harness cannot build or decode (no reference dequantizer).
    for (int id = 0; id < cpu::kMaxTypeId; ++id) {
      const cpu::MatmulKernel& k = table.matmul[id];
      const auto tr = type_traits(static_cast<uint32_t>(id));
      if (k.gemv == nullptr && k.gemm == nullptr) continue;
      if (tr && std::find(weight_types().begin(), weight_types().end(), tr->type) !=
                    weight_types().end()) {
        continue;
      }
      const std::string name = tr ? type_name(tr->type) : "id" + std::to_string(id);
      if (want_type(opt, name)) rep.unchecked("matmul", name, in, "no reference for this type");
    }
  }
}

}  // namespace longctx::harness
