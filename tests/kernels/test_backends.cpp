// The cpu backend on every instruction-set path against the scalar reference, op by op: matmul
// for every weight type with a quantizer (the reference fed the activations rounded the way the
// path's kernel reads them), odd shapes (rows not a multiple of the thread count, 1 and several
// tokens, a bias), misaligned weight data; matmul_multi; get_rows; KV row conversion; attention
// over f32/f16/bf16 KV split across threads. The reference is the oracle (itself checked against
// PyTorch in the other kernel tests).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "kernels/backend.h"
#include "kernels/cpu/isa.h"
#include "quant/float16.h"
#include "quant/quantize.h"

namespace longctx {
namespace {

struct Packed {
  std::vector<uint8_t> bytes;  // one spare byte in front: data starts misaligned
  WeightMatrix w;
};

Packed random_weights(TensorType type, int64_t n_in, int64_t n_out, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> row(static_cast<size_t>(n_in));
  const size_t rb = row_bytes(type, n_in);
  Packed p;
  p.bytes.resize(1 + rb * static_cast<size_t>(n_out));
  for (int64_t r = 0; r < n_out; ++r) {
    for (float& x : row) x = nd(rng);
    LONGCTX_CHECK(quantize_row(type, row.data(), p.bytes.data() + 1 + r * rb, n_in).is_ok());
  }
  p.w = {type, p.bytes.data() + 1, n_in, n_out};
  return p;
}

std::vector<float> random_vec(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = nd(rng);
  return v;
}

// Parameter: (instruction-set path, threads).
using IsaThreads = std::tuple<cpu::Isa, int>;

class Backends : public ::testing::TestWithParam<IsaThreads> {
 protected:
  void SetUp() override {
    const cpu::Isa isa = std::get<0>(GetParam());
    if (!cpu::isa_supported(isa)) GTEST_SKIP() << "CPU cannot run " << cpu::isa_name(isa);
    cpu_ = make_cpu_backend(std::get<1>(GetParam()), cpu::isa_name(isa)).value();
  }

  // x as the path's matmul kernel for `type` reads it: converted to the kernel's activation
  // format by the scalar path's converter (the reference rounding; other paths are checked
  // against it in the kernel tests) and widened back to f32. Types without a kernel read f32.
  std::vector<float> as_kernel_reads(TensorType type, const std::vector<float>& x,
                                     int64_t n_in) const {
    const cpu::KernelTable& t = cpu::kernel_table(std::get<0>(GetParam()));
    const cpu::MatmulKernel& k = t.matmul[static_cast<int>(type)];
    if (k.gemv == nullptr || k.act == cpu::ActType::kF32) return x;
    const cpu::QuantizeActFn q = cpu::kernel_table(cpu::Isa::kScalar).quantize[int(k.act)];
    std::vector<float> out(x.size());
    std::vector<uint8_t> buf(cpu::act_row_bytes(k.act, n_in));
    for (size_t r = 0; r * n_in < x.size(); ++r) {
      q(x.data() + r * n_in, buf.data(), n_in);
      float* o = out.data() + r * n_in;
      if (k.act == cpu::ActType::kBF16) {
        for (int64_t i = 0; i < n_in; ++i) {
          uint16_t b;
          std::memcpy(&b, buf.data() + 2 * i, 2);
          o[i] = bf16_to_fp32(b);
        }
      } else if (k.act == cpu::ActType::kQ8_0) {
        LONGCTX_CHECK(dequantize_row(TensorType::Q8_0, buf.data(), o, n_in).is_ok());
      } else {  // Q8_K: x = d * q per 256-block
        for (int64_t b = 0; b < n_in / 256; ++b) {
          cpu::BlockQ8K blk;
          std::memcpy(&blk, buf.data() + b * sizeof(blk), sizeof(blk));
          for (int j = 0; j < 256; ++j) o[b * 256 + j] = blk.d * blk.qs[j];
        }
      }
    }
    return out;
  }

  std::unique_ptr<KernelBackend> ref_ = make_ref_backend();
  std::unique_ptr<KernelBackend> cpu_;
};

TEST_P(Backends, MatmulMatchesTheReferenceForEveryWeightType) {
  const TensorType types[] = {TensorType::F32,  TensorType::F16,  TensorType::BF16,
                              TensorType::Q8_0, TensorType::Q4_0, TensorType::Q4_1,
                              TensorType::Q5_0, TensorType::Q5_1, TensorType::Q4_K,
                              TensorType::Q5_K, TensorType::Q6_K};
  for (TensorType type : types) {
    ASSERT_TRUE(cpu_->supports(KernelOp::kMatmul, type)) << type_name(type);
    const int64_t n_in = traits(type).block_size == 256 ? 512 : 96;
    for (int64_t n_out : {1, 37}) {
      for (int64_t n_tok : {1, 3}) {
        Packed p = random_weights(type, n_in, n_out, 7);
        const auto x = random_vec(static_cast<size_t>(n_tok * n_in), 11);
        const auto bias = random_vec(static_cast<size_t>(n_out), 13);
        std::vector<float> want(static_cast<size_t>(n_tok * n_out)), got(want.size());
        const auto xr = as_kernel_reads(type, x, n_in);
        ref_->matmul(p.w, xr.data(), n_tok, bias.data(), want.data());
        cpu_->matmul(p.w, x.data(), n_tok, bias.data(), got.data());
        // Bound: with the activations rounded alike, only the summation differs: single-precision
        // accumulation of n_in products (in blocks and partial sums) errs by at most
        // ~(n_in / 8 + 3) * 2^-24 * sum |w_i x_i|; sum |w x| is about 0.8 * n_in here (entries
        // ~N(0,1)), so 1e-4 * n_in bounds it with a wide margin.
        for (size_t i = 0; i < want.size(); ++i) {
          ASSERT_NEAR(got[i], want[i], 1e-4 * n_in)
              << type_name(type) << " n_out " << n_out << " n_tok " << n_tok << " i " << i;
        }
      }
    }
  }
}

TEST_P(Backends, GetRowsIsExactDequantization) {
  Packed p = random_weights(TensorType::Q6_K, 256, 9, 3);
  const int32_t ids[] = {8, 0, 4, 4};
  std::vector<float> want(4 * 256), got(4 * 256);
  ref_->get_rows(p.w, ids, 4, want.data());
  cpu_->get_rows(p.w, ids, 4, got.data());
  EXPECT_EQ(want, got);
}

TEST_P(Backends, AttentionSplitAcrossThreadsEqualsTheReference) {
  const int64_t n_head = 4, n_kv_head = 2, hd = 16, n_kv = 29, n_q = 7;
  AttentionParams ap;
  ap.shape = {n_head, n_kv_head, hd};
  ap.q_pos0 = n_kv - n_q;
  const auto q = random_vec(static_cast<size_t>(n_q * n_head * hd), 1);
  const auto kf = random_vec(static_cast<size_t>(n_kv * n_kv_head * hd), 2);
  const auto vf = random_vec(kf.size(), 3);
  for (TensorType t : {TensorType::F32, TensorType::F16, TensorType::BF16}) {
    std::vector<uint16_t> k16(kf.size()), v16(vf.size());
    for (size_t i = 0; i < kf.size(); ++i) {
      k16[i] = t == TensorType::F16 ? fp32_to_fp16(kf[i]) : fp32_to_bf16(kf[i]);
      v16[i] = t == TensorType::F16 ? fp32_to_fp16(vf[i]) : fp32_to_bf16(vf[i]);
    }
    const void* kd = t == TensorType::F32 ? static_cast<const void*>(kf.data()) : k16.data();
    const void* vd = t == TensorType::F32 ? static_cast<const void*>(vf.data()) : v16.data();
    const KvView k{t, kd, n_kv}, v{t, vd, n_kv};
    std::vector<float> want(q.size()), got(q.size());
    ref_->attention(ap, q.data(), n_q, k, v, want.data());
    cpu_->attention(ap, q.data(), n_q, k, v, got.data());
    // The tiled kernel sums in a different order (online softmax over key tiles, float
    // accumulators, a polynomial exp): the outputs are convex combinations of V rows (entries
    // ~N(0,1), |v| < 5), float rounding over 29 keys stays below 1e-5 of that.
    for (size_t i = 0; i < want.size(); ++i) {
      ASSERT_NEAR(got[i], want[i], 5e-5) << type_name(t) << " i " << i;
    }
  }
}

TEST_P(Backends, MatmulMultiEqualsSeparateProducts) {
  // Mixed weight types sharing one input (as q/k/v of a Q4_K_M model): one conversion per
  // activation format, one dispatch; each product must be bit-identical to its own matmul.
  const int64_t n_in = 512;
  Packed a = random_weights(TensorType::Q4_K, n_in, 37, 1);
  Packed b = random_weights(TensorType::Q6_K, n_in, 8, 2);
  Packed c = random_weights(TensorType::Q8_0, n_in, 19, 3);
  Packed d = random_weights(TensorType::F32, n_in, 5, 4);
  const WeightMatrix ws[4] = {a.w, b.w, c.w, d.w};
  const auto bias = random_vec(37, 5);
  for (int64_t n_tok : {1, 3, 40}) {
    const auto x = random_vec(static_cast<size_t>(n_tok * n_in), 6);
    std::vector<std::vector<float>> want(4), got(4);
    float* ys[4];
    const float* biases[4] = {bias.data(), nullptr, nullptr, nullptr};
    for (int i = 0; i < 4; ++i) {
      want[i].resize(static_cast<size_t>(n_tok * ws[i].n_out));
      got[i].resize(want[i].size());
      cpu_->matmul(ws[i], x.data(), n_tok, biases[i], want[i].data());
      ys[i] = got[i].data();
    }
    cpu_->matmul_multi(ws, 4, x.data(), n_tok, biases, ys);
    for (int i = 0; i < 4; ++i) EXPECT_EQ(got[i], want[i]) << "product " << i << " n " << n_tok;
  }
}

TEST_P(Backends, MatmulTasksWithSharedAndDistinctInputsEqualSeparateProducts) {
  // As the experts of a decoded token: gate/up pairs share one input, down projections each read
  // their own (of another width); every product must equal its own matmul bit for bit.
  const int64_t n_in = 256, n_mid = 512;
  Packed g = random_weights(TensorType::Q4_K, n_in, 24, 1);
  Packed u = random_weights(TensorType::Q8_0, n_in, 24, 2);
  Packed d0 = random_weights(TensorType::Q6_K, n_mid, 9, 3);
  Packed d1 = random_weights(TensorType::Q5_0, n_mid, 9, 4);  // no kernel: the f32 fallback
  const auto x = random_vec(n_in, 5), m0 = random_vec(n_mid, 6), m1 = random_vec(n_mid, 7);
  std::vector<float> yg(24), yu(24), y0(9), y1(9);
  const KernelBackend::MatmulTask tasks[4] = {{g.w, x.data(), nullptr, yg.data()},
                                              {u.w, x.data(), nullptr, yu.data()},
                                              {d0.w, m0.data(), nullptr, y0.data()},
                                              {d1.w, m1.data(), nullptr, y1.data()}};
  cpu_->matmul_tasks(tasks, 4, 1);
  for (const auto& t : tasks) {
    std::vector<float> want(static_cast<size_t>(t.w.n_out));
    cpu_->matmul(t.w, t.x, 1, nullptr, want.data());
    EXPECT_EQ(std::vector<float>(t.y, t.y + t.w.n_out), want) << type_name(t.w.type);
  }
}

TEST_P(Backends, SessionsOnTwoThreadsTakeTurns) {
  // Two callers share one backend (two sessions of one engine): every product must still be the
  // one a lone caller gets (the activation buffers and attention scratch are shared).
  const int64_t n_in = 512;
  Packed w = random_weights(TensorType::Q4_K, n_in, 64, 1);
  const auto x0 = random_vec(3 * n_in, 2), x1 = random_vec(n_in, 3);
  std::vector<float> want0(3 * 64), want1(64);
  cpu_->matmul(w.w, x0.data(), 3, nullptr, want0.data());
  cpu_->matmul(w.w, x1.data(), 1, nullptr, want1.data());
  std::atomic<int> bad{0}, ready{0};
  auto worker = [&](const std::vector<float>& x, int64_t n_tok, const std::vector<float>& want) {
    std::vector<float> got(want.size());
    ++ready;
    while (ready.load() < 2) {
    }  // start together, so the calls overlap
    for (int i = 0; i < 1000; ++i) {
      cpu_->matmul(w.w, x.data(), n_tok, nullptr, got.data());
      if (got != want) ++bad;
    }
  };
  std::thread a(worker, std::cref(x0), 3, std::cref(want0));
  std::thread b(worker, std::cref(x1), 1, std::cref(want1));
  a.join();
  b.join();
  EXPECT_EQ(bad.load(), 0);
}

TEST_P(Backends, RepackedMatricesAndExpertStacksGiveTheSameProducts) {
  // Only the AVX-512 path repacks (Q4_K and Q8_0, rows a multiple of 16); elsewhere repack
  // declines and leaves the bytes alone. A repacked matrix must give the reference's products
  // (activations rounded alike) for one and several tokens, and an expert stack every expert's.
  // Batches of 2-9 tokens take every column tile of the x16 gemm (2, 3, 4, 4 + 1, 4 + 4 + 1).
  const bool x16 = std::get<0>(GetParam()) == cpu::Isa::kAvx512;
  const int64_t n_in = 512, n_out = 48, n_exp = 3, n_tok = 9;
  for (TensorType type : {TensorType::Q4_K, TensorType::Q8_0}) {
    SCOPED_TRACE(type_name(type));
    const auto x = random_vec(static_cast<size_t>(n_tok * n_in), 21);
    const auto xr = as_kernel_reads(type, x, n_in);
    Packed p = random_weights(type, n_in, n_out, 17);
    Packed orig = p;
    orig.w.data = orig.bytes.data() + 1;  // its own copy of the bytes
    for (int64_t nt : {int64_t{1}, int64_t{2}, int64_t{3}, int64_t{4}, int64_t{5}, n_tok}) {
      std::vector<float> want(static_cast<size_t>(nt * n_out));
      ref_->matmul(orig.w, xr.data(), nt, nullptr, want.data());
      WeightMatrix w = p.w;
      if (nt == 1) {
        EXPECT_EQ(cpu_->repackable(w), x16);
        EXPECT_FALSE(ref_->repackable(w));
        EXPECT_EQ(cpu_->repack(&w), x16);
        EXPECT_EQ(w.layout, x16 ? WeightLayout::kX16 : WeightLayout::kGguf);
        EXPECT_EQ(p.bytes != orig.bytes, x16);
        p.w = w;
      }
      std::vector<float> got(want.size());
      cpu_->matmul(p.w, x.data(), nt, nullptr, got.data());
      for (size_t i = 0; i < want.size(); ++i) ASSERT_NEAR(got[i], want[i], 1e-4 * n_in) << i;
    }
    // A tied embedding is repacked for the output head: get_rows of the repacked matrix still
    // gives exactly the rows of the original.
    const int32_t ids[] = {47, 0, 16, 21, 21, 15};
    std::vector<float> rows_want(6 * n_in), rows_got(6 * n_in);
    ref_->get_rows(orig.w, ids, 6, rows_want.data());
    cpu_->get_rows(p.w, ids, 6, rows_got.data());
    EXPECT_EQ(rows_got, rows_want);
    // Declined: already repacked, rows not a multiple of 16, a type without x16 kernels.
    WeightMatrix again = p.w;
    EXPECT_FALSE(cpu_->repack(&again));
    EXPECT_FALSE(cpu_->repackable(again));
    Packed odd = random_weights(type, n_in, 40, 3);
    Packed q6 = random_weights(TensorType::Q6_K, n_in, 32, 3);
    const std::vector<uint8_t> odd_bytes = odd.bytes, q6_bytes = q6.bytes;
    EXPECT_FALSE(cpu_->repackable(odd.w));
    EXPECT_FALSE(cpu_->repack(&odd.w));
    EXPECT_FALSE(cpu_->repack(&q6.w));
    EXPECT_EQ(odd.bytes, odd_bytes);
    EXPECT_EQ(q6.bytes, q6_bytes);

    Packed st = random_weights(type, n_in, n_out * n_exp, 19);
    Packed st_orig = st;
    st_orig.w.data = st_orig.bytes.data() + 1;
    ExpertStack stack{type, st.w.data, n_in, n_out, n_exp};
    EXPECT_EQ(cpu_->repack(&stack), x16);
    ExpertStack orig_stack{type, st_orig.w.data, n_in, n_out, n_exp};
    for (int64_t e = 0; e < n_exp; ++e) {
      std::vector<float> want(static_cast<size_t>(n_tok * n_out)), got(want.size());
      ref_->matmul(ref::expert_matrix(orig_stack, e), xr.data(), n_tok, nullptr, want.data());
      cpu_->matmul(ref::expert_matrix(stack, e), x.data(), n_tok, nullptr, got.data());
      for (size_t i = 0; i < want.size(); ++i) {
        ASSERT_NEAR(got[i], want[i], 1e-4 * n_in) << "expert " << e << " i " << i;
      }
    }
  }
}

TEST_P(Backends, KvRowConversionIsTheReferenceRounding) {
  auto x = random_vec(1001, 9);
  x[0] = 1e-7f;    // f16 subnormal
  x[1] = 70000.f;  // f16 overflow -> inf
  for (TensorType t : {TensorType::F16, TensorType::BF16, TensorType::F32}) {
    std::vector<uint8_t> want(x.size() * 4), got(x.size() * 4);
    ref_->convert_row(t, x.data(), static_cast<int64_t>(x.size()), want.data());
    cpu_->convert_row(t, x.data(), static_cast<int64_t>(x.size()), got.data());
    EXPECT_EQ(want, got) << type_name(t);
  }
}

TEST_P(Backends, CopyBytesCopiesExactlyTheRange) {
  // Sizes around the 2 MiB units the threads split on, from destinations at and off a unit's
  // start; the bytes on either side of the range must stay untouched.
  constexpr size_t kMiB = size_t{1} << 20;
  std::vector<uint8_t> src(6 * kMiB);
  for (size_t i = 0; i < src.size(); ++i) src[i] = static_cast<uint8_t>(i * 2654435761u >> 13);
  std::vector<uint8_t> dst(src.size() + 4 * kMiB);
  // The first byte of dst at a 2 MiB boundary, to place destinations relative to units.
  const auto base = reinterpret_cast<uintptr_t>(dst.data());
  const size_t aligned = ((base + 2 * kMiB - 1) / (2 * kMiB)) * (2 * kMiB) - base;
  for (size_t off : {size_t{0}, size_t{1}, 2 * kMiB - 3}) {
    for (size_t n : {size_t{0}, size_t{63}, 2 * kMiB - 1, 2 * kMiB, 2 * kMiB + 1, 4 * kMiB + 12345,
                     6 * kMiB - 5}) {
      std::fill(dst.begin(), dst.end(), uint8_t{0xA5});
      uint8_t* d = dst.data() + aligned + off;
      ASSERT_LE(aligned + off + n, dst.size());
      const size_t m = std::min(n, src.size() - 3);
      cpu_->copy_bytes(d, src.data() + 3, m);
      EXPECT_EQ(std::memcmp(d, src.data() + 3, m), 0) << "off " << off << " n " << n;
      const size_t before = static_cast<size_t>(d - dst.data());
      EXPECT_EQ(std::count(dst.begin(), dst.begin() + static_cast<std::ptrdiff_t>(before), 0xA5),
                static_cast<std::ptrdiff_t>(before));
      EXPECT_EQ(std::count(dst.begin() + static_cast<std::ptrdiff_t>(before + m), dst.end(), 0xA5),
                static_cast<std::ptrdiff_t>(dst.size() - before - m));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(PathsAndThreads, Backends,
                         ::testing::Combine(::testing::Values(cpu::Isa::kScalar, cpu::Isa::kAvx2,
                                                              cpu::Isa::kAvx512),
                                            ::testing::Values(1, 2, 3)),
                         [](const auto& info) {
                           return std::string(cpu::isa_name(std::get<0>(info.param))) + "_" +
                                  std::to_string(std::get<1>(info.param)) + "_threads";
                         });

TEST(BackendFactory, NamesAreResolvedOrNamedInTheError) {
  EXPECT_STREQ((*make_backend("ref", 0))->name(), "ref");
  EXPECT_STREQ((*make_backend("cpu", 2))->name(), "cpu");
  EXPECT_STREQ((*make_backend("auto", 0))->name(), "cpu");
  EXPECT_EQ((*make_backend("cpu-scalar", 1))->describe(), "cpu scalar");
  EXPECT_EQ((*make_backend("cpu", 1, "scalar"))->describe(), "cpu scalar");
  auto bad_isa = make_backend("cpu", 1, "sse9");
  ASSERT_FALSE(bad_isa.is_ok());
  EXPECT_NE(bad_isa.status().message().find("sse9"), std::string::npos);
  auto bad = make_backend("cuda9", 0);
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("cuda9"), std::string::npos);
}

}  // namespace
}  // namespace longctx
