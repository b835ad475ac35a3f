// Shared pieces of the ops harness (tests/kernels/ops_harness*.cpp): command-line options, the
// per-case report (one line per op x type x ISA x shape), offset buffers for misaligned data,
// random inputs and the timing loop of --perf. See docs/OPS_HARNESS.md.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernels/cpu/isa.h"
#include "quant/types.h"

namespace longctx::harness {

// fp32 unit roundoff, 2^-24: one correctly rounded fp32 operation errs by at most u * |result|.
constexpr double kU = 1.0 / 16777216.0;

struct Options {
  bool perf = false;
  std::string isa = "all";  // scalar | avx2 | avx512 | all
  std::string op;           // "" = every op
  std::string type;         // "" = every type (type names as type_name prints them)
  int threads = 0;          // 0 = the op's default (see docs/OPS_HARNESS.md)
  int cols = 0;             // gemm --perf: 0 = a prefill block (512 columns, from cache); N =
                            // a batch of N decode rows over weights streamed from memory
};

// The ISA paths to run: those the filter names and this CPU supports.
std::vector<cpu::Isa> selected_isas(const Options& opt);
// Filters: true when the op / type name passes --op / --type (case-insensitive).
bool want_op(const Options& opt, const char* op);
bool want_type(const Options& opt, const std::string& type);

// Worst case of one correctness check: the element where err / bound is largest.
struct Worst {
  double err = 0.0;
  double bound = 0.0;
  double ratio = 0.0;  // err / bound; 0 / 0 counts as 0, NaN or x / 0 (x > 0) as infinite
  void add(double e, double b);
};

class Report {
 public:
  // A correctness case: PASS when w.ratio <= 1 and `ok` (an extra exact check, explained in
  // `note` when it fails).
  void check(const std::string& op, const std::string& type, const char* isa,
             const std::string& shape, const Worst& w, bool ok = true,
             const std::string& note = "");
  // A path without a kernel for the case: the backend falls back to another path; not a failure.
  void missing(const std::string& op, const std::string& type, const char* isa);
  // A kernel the harness cannot check (no reference for its type): reported, not a failure.
  void unchecked(const std::string& op, const std::string& type, const char* isa,
                 const std::string& why);
  // A timed case: median seconds per call, bytes read per call, floating-point ops per call.
  void perf(const std::string& op, const std::string& type, const char* isa,
            const std::string& shape, double seconds, double bytes, double flops);
  int failures() const { return fail_; }
  void summary() const;

 private:
  int pass_ = 0, fail_ = 0, missing_ = 0, unchecked_ = 0, timed_ = 0;
};

// Storage whose data() starts `offset` bytes past a 64-byte boundary (offset 1..3 makes every
// pointer misaligned for any vector load that assumes alignment).
class Buffer {
 public:
  Buffer(size_t bytes, size_t offset);
  uint8_t* data() { return data_; }
  const uint8_t* data() const { return data_; }
  float* floats() { return reinterpret_cast<float*>(data_); }

 private:
  std::vector<uint8_t> raw_;
  uint8_t* data_ = nullptr;
};

// n values ~ N(0, sigma^2) from a fixed seed.
std::vector<float> random_normal(size_t n, uint32_t seed, float sigma = 1.0f);

// Median seconds per call of fn(), after one warm-up call: at least 3 timed calls and as many as
// fit in about `budget_s` seconds (at most 101).
template <class F>
double time_median(F&& fn, double budget_s = 0.3);
double now_seconds();

template <class F>
double time_median(F&& fn, double budget_s) {
  fn();
  std::vector<double> t;
  const double start = now_seconds();
  while (t.size() < 3 || (now_seconds() - start < budget_s && t.size() < 101)) {
    const double t0 = now_seconds();
    fn();
    t.push_back(now_seconds() - t0);
  }
  std::vector<double> sorted = t;
  std::nth_element(sorted.begin(), sorted.begin() + sorted.size() / 2, sorted.end());
  return sorted[sorted.size() / 2];
}

// The ops; each prints its cases into `rep`.
void run_quantize(const Options& opt, Report& rep);
void run_matmul(const Options& opt, Report& rep);
void run_attention(const Options& opt, Report& rep);
void run_backend(const Options& opt, Report& rep);

// Element-wise bound helpers shared by the matmul and backend checks.
// The weight types the harness knows how to build (quantize_row of random rows).
const std::vector<TensorType>& weight_types();
// Dequantized rows of `packed` (nr rows of n, stride `stride` bytes) into w[nr][n], and the
// magnitude of each element's block offset into off[nr][n] (0 for types without one): for
// x = s * q - m the kernels add s * q and m separately, so their error scales with
// |s * q| + |m| <= |x| + 2|m|, not with |x| alone.
void dequantize_with_offsets(TensorType type, const uint8_t* packed, size_t stride, int64_t nr,
                             int64_t n, std::vector<float>* w, std::vector<float>* off);
// Relative bound c of a gemv / gemm result (|err| <= c * M, M = sum_i (|w_i| + 2 |m_i|) |a_i|)
// for a row of n elements read in activation format `act` (derivation in ops_harness.cpp).
double matmul_c_rel(cpu::ActType act, int64_t n);
// Random weights: nr rows of n (quantize_row of N(0,1) data) at stride `stride` (>= row bytes).
void make_weights(TensorType type, int64_t n, int64_t nr, size_t stride, uint32_t seed,
                  uint8_t* dst);

}  // namespace longctx::harness
