// ops_harness: every op of the cpu kernels x every ISA path this CPU runs x a list of shapes (odd
// sizes, misaligned data) against the scalar reference, one line per case; --perf times the same
// ops and prints GB/s and GFLOP/s. Exit status 1 when any case fails. See docs/OPS_HARNESS.md.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "ops_harness.h"
#include "quant/float16.h"
#include "quant/quantize.h"

namespace longctx::harness {
namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

void usage(const char* argv0) {
  std::printf(
      "usage: %s [--perf] [--isa scalar|avx2|avx512|all] [--op NAME] [--type T] [--threads N]\n"
      "          [--cols N]\n"
      "  default      correctness sweep: one line per (op, type, ISA, shape), exit 1 on failure\n"
      "  --perf       time each op instead (median of repetitions): GB/s and GFLOP/s\n"
      "  --isa P      only path P (default all supported paths)\n"
      "  --op NAME    quantize | gemv | gemm | attention | backend (or a backend op: matmul,\n"
      "               mm_multi, rms_norm, rope, swiglu, get_rows)\n"
      "  --type T     weight / activation / KV type name (f32, f16, bf16, q8_0, q4_K, q8_K ...)\n"
      "  --threads N  threads of the timed kernels (perf default 1) and of the attention and\n"
      "               backend checks (default: 1 and 3)\n"
      "  --cols N     gemm --perf: N activation columns over 256 MiB of weights streamed from\n"
      "               memory (a batch of N decode rows) instead of 512 columns over 1 MiB\n",
      argv0);
}

}  // namespace

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::vector<cpu::Isa> selected_isas(const Options& opt) {
  std::vector<cpu::Isa> out;
  for (cpu::Isa isa : {cpu::Isa::kScalar, cpu::Isa::kAvx2, cpu::Isa::kAvx512}) {
    if (opt.isa != "all" && opt.isa != cpu::isa_name(isa)) continue;
    if (cpu::isa_supported(isa)) out.push_back(isa);
  }
  return out;
}

bool want_op(const Options& opt, const char* op) {
  return opt.op.empty() || lower(opt.op) == lower(op);
}

bool want_type(const Options& opt, const std::string& type) {
  return opt.type.empty() || lower(opt.type) == lower(type);
}

void Worst::add(double e, double b) {
  double r;
  if (std::isnan(e) || std::isnan(b)) {
    r = INFINITY;
  } else if (b > 0.0) {
    r = e / b;
  } else {
    r = e > 0.0 ? INFINITY : 0.0;
  }
  if (r > ratio || (r == ratio && b > bound)) {
    err = e;
    bound = b;
    ratio = r;
  }
}

void Report::check(const std::string& op, const std::string& type, const char* isa,
                   const std::string& shape, const Worst& w, bool ok, const std::string& note) {
  const bool pass = ok && w.ratio <= 1.0;
  (pass ? pass_ : fail_)++;
  std::printf("%-9s %-5s %-6s %-40s err %9.3g bound %9.3g (%5.3f) %s%s%s\n", op.c_str(),
              type.c_str(), isa, shape.c_str(), w.err, w.bound, w.ratio, pass ? "PASS" : "FAIL",
              note.empty() ? "" : "  ", note.c_str());
}

void Report::missing(const std::string& op, const std::string& type, const char* isa) {
  missing_++;
  std::printf("%-9s %-5s %-6s no kernel (fallback)\n", op.c_str(), type.c_str(), isa);
}

void Report::unchecked(const std::string& op, const std::string& type, const char* isa,
                       const std::string& why) {
  unchecked_++;
  std::printf("%-9s %-5s %-6s kernel present, NOT CHECKED: %s\n", op.c_str(), type.c_str(), isa,
              why.c_str());
}

void Report::perf(const std::string& op, const std::string& type, const char* isa,
                  const std::string& shape, double seconds, double bytes, double flops) {
  timed_++;
  std::printf("%-9s %-5s %-6s %-40s %10.1f us %8.2f GB/s %9.2f GFLOP/s\n", op.c_str(), type.c_str(),
              isa, shape.c_str(), seconds * 1e6, bytes / seconds * 1e-9, flops / seconds * 1e-9);
}

void Report::summary() const {
  std::printf("\nsummary: %d passed, %d FAILED, %d without a kernel, %d not checkable, %d timed\n",
              pass_, fail_, missing_, unchecked_, timed_);
}

Buffer::Buffer(size_t bytes, size_t offset) : raw_(bytes + offset + 64) {
  const uintptr_t base = reinterpret_cast<uintptr_t>(raw_.data());
  data_ = raw_.data() + ((64 - base % 64) % 64) + offset;
}

std::vector<float> random_normal(size_t n, uint32_t seed, float sigma) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, sigma);
  std::vector<float> v(n);
  for (float& x : v) x = nd(rng);
  return v;
}

// Types with a reference quantizer, plus Q2_K / Q3_K (dequantizer only) built from random bytes.
const std::vector<TensorType>& weight_types() {
  static const std::vector<TensorType> types = [] {
    std::vector<TensorType> t;
    for (uint32_t id = 0; id < static_cast<uint32_t>(cpu::kMaxTypeId); ++id) {
      const auto tr = type_traits(id);
      if (!tr || !has_dequantizer(tr->type)) continue;
      if (has_quantizer(tr->type) || tr->type == TensorType::Q2_K || tr->type == TensorType::Q3_K) {
        t.push_back(tr->type);
      }
    }
    return t;
  }();
  return types;
}

// A kernel's result is a sum of fp32-rounded terms added in some order; for any order the
// rounding error of a sum of k terms is at most (k - 1) u * sum |term| (plus one u per rounding
// inside a term). With f32 / bf16 activations the terms are the n products w_i a_i: c = (n + 16) u.
// With Q8_0 / Q8_K activations each (sub-)block's dot product is an exact integer sum, scaled by
// a product of at most three fp32 factors (d_w, d_a, the 6/8-bit sub-block scale); the finest
// sub-block is 16 elements (Q6_K), so at most n / 16 terms: c = (n / 16 + 16) u. The 16 covers the
// roundings inside a term and the min / offset terms of the K-quants. M bounds sum |term| because
// |s q| <= |w| + |m| for a block x = s q - m and the kernels add s q a and m a separately.
double matmul_c_rel(cpu::ActType act, int64_t n) {
  const bool integer = act == cpu::ActType::kQ8_0 || act == cpu::ActType::kQ8_K;
  return static_cast<double>((integer ? n / 16 : n) + 16) * kU;
}

void make_weights(TensorType type, int64_t n, int64_t nr, size_t stride, uint32_t seed,
                  uint8_t* dst) {
  const size_t rb = row_bytes(type, n);
  if (!has_quantizer(type)) {
    // Random quants and sub-block scales; the fp16 super-block scales (d, and dmin of Q2_K: the
    // last 4 / 2 bytes of a block) are set to 0.01 so every value is finite and of unit order.
    std::mt19937 rng(seed);
    const uint16_t scale = fp32_to_fp16(0.01f);
    const size_t bb = traits(type).block_bytes;
    const size_t tail = type == TensorType::Q2_K ? 4 : 2;
    for (int64_t r = 0; r < nr; ++r) {
      uint8_t* row = dst + r * stride;
      for (size_t i = 0; i < rb; ++i) row[i] = static_cast<uint8_t>(rng());
      for (size_t b = bb; b <= rb; b += bb) {
        for (size_t f = b - tail; f < b; f += 2) std::memcpy(row + f, &scale, 2);
      }
    }
    return;
  }
  for (int64_t r = 0; r < nr; ++r) {
    const std::vector<float> row = random_normal(static_cast<size_t>(n), seed + r * 7919u);
    const Status st = quantize_row(type, row.data(), dst + r * stride, n);
    if (!st.is_ok()) {
      std::fprintf(stderr, "quantize_row(%s) failed\n", type_name(type));
      std::exit(2);
    }
  }
}

namespace {

// Byte range [begin, end) of a block that holds its quants: zeroing it leaves q = 0 in every
// element, so the block decodes to its offset alone (Q4_1/Q5_1: +m; Q4_0: -8d; Q4_K/Q5_K/Q2_K:
// -dmin * m_s; Q6_K: -32 d sc; Q3_K: -4 d (s - 32)). Types without an offset: empty range.
void quant_bytes(TensorType t, size_t* begin, size_t* end) {
  *begin = *end = 0;
  switch (t) {
    case TensorType::Q4_0:
      *begin = 2, *end = 18;
      break;
    case TensorType::Q4_1:
      *begin = 4, *end = 20;
      break;
    case TensorType::Q5_0:
      *begin = 2, *end = 22;
      break;
    case TensorType::Q5_1:
      *begin = 4, *end = 24;
      break;
    case TensorType::Q2_K:
      *begin = 16, *end = 80;
      break;
    case TensorType::Q3_K:
      *begin = 0, *end = 96;
      break;
    case TensorType::Q4_K:
      *begin = 16, *end = 144;
      break;
    case TensorType::Q5_K:
      *begin = 16, *end = 176;
      break;
    case TensorType::Q6_K:
      *begin = 0, *end = 192;
      break;
    default:
      break;
  }
}

}  // namespace

void dequantize_with_offsets(TensorType type, const uint8_t* packed, size_t stride, int64_t nr,
                             int64_t n, std::vector<float>* w, std::vector<float>* off) {
  const size_t rb = row_bytes(type, n);
  w->assign(static_cast<size_t>(nr * n), 0.0f);
  off->assign(static_cast<size_t>(nr * n), 0.0f);
  size_t qb, qe;
  quant_bytes(type, &qb, &qe);
  const size_t bb = traits(type).block_bytes;
  std::vector<uint8_t> zeroed(rb);
  for (int64_t r = 0; r < nr; ++r) {
    const uint8_t* src = packed + r * stride;
    if (!dequantize_row(type, src, w->data() + r * n, n).is_ok()) std::exit(2);
    if (qe == 0) continue;
    std::memcpy(zeroed.data(), src, rb);
    for (size_t b = 0; b < rb; b += bb) std::memset(zeroed.data() + b + qb, 0, qe - qb);
    float* o = off->data() + r * n;
    if (!dequantize_row(type, zeroed.data(), o, n).is_ok()) std::exit(2);
    for (int64_t i = 0; i < n; ++i) o[i] = std::fabs(o[i]);
  }
}

}  // namespace longctx::harness

int main(int argc, char** argv) {
  using namespace longctx::harness;
  Options opt;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--perf") {
      opt.perf = true;
    } else if (a == "--isa") {
      opt.isa = value();
      if (opt.isa != "all" && !longctx::cpu::parse_isa(opt.isa)) {
        std::fprintf(stderr, "unknown --isa '%s' (scalar, avx2, avx512, all)\n", opt.isa.c_str());
        return 2;
      }
    } else if (a == "--op") {
      opt.op = value();
    } else if (a == "--type") {
      opt.type = value();
    } else if (a == "--cols") {
      opt.cols = std::atoi(value().c_str());
      if (opt.cols < 1) {
        std::fprintf(stderr, "--cols needs a positive count\n");
        return 2;
      }
    } else if (a == "--threads") {
      opt.threads = std::atoi(value().c_str());
      if (opt.threads < 1) {
        std::fprintf(stderr, "--threads needs a positive count\n");
        return 2;
      }
    } else if (a == "--help" || a == "-h") {
      usage(argv[0]);
      return 0;
    } else {
      std::fprintf(stderr, "unknown argument '%s'\n", a.c_str());
      usage(argv[0]);
      return 2;
    }
  }
  std::printf("ops_harness: %s; paths:", opt.perf ? "perf" : "correctness");
  for (longctx::cpu::Isa isa : selected_isas(opt)) std::printf(" %s", longctx::cpu::isa_name(isa));
  std::printf("\n");
  Report rep;
  run_quantize(opt, rep);
  run_matmul(opt, rep);
  run_attention(opt, rep);
  run_backend(opt, rep);
  rep.summary();
  return rep.failures() == 0 ? 0 : 1;
}
