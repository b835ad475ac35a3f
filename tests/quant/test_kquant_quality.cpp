// Reconstruction quality of the K-quant quantizers on the 112 fixture super-blocks (14 input
// distributions). Decoding uses dequantize_row, which test_dequantize.cpp proves bit-exact
// with the gguf package's dequantizer, so these are errors as any GGUF reader would see them.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <ostream>
#include <string>
#include <vector>

#include "fixture.h"
#include "quant/float16.h"
#include "quant/quantize.h"

namespace longctx {
namespace {

struct KCase {
  TensorType type;
  int nmax;  // highest level: 15 (Q4_K), 31 (Q5_K); Q6_K uses -32..31 around zero
};
const KCase kCases[] = {{TensorType::Q4_K, 15}, {TensorType::Q5_K, 31}, {TensorType::Q6_K, 63}};

void PrintTo(const KCase& c, std::ostream* os) { *os << type_name(c.type); }

std::vector<float> roundtrip(TensorType t, const std::vector<float>& x) {
  const auto n = static_cast<int64_t>(x.size());
  std::vector<uint8_t> q(row_bytes(t, n));
  std::vector<float> y(x.size());
  EXPECT_TRUE(quantize_row(t, x.data(), q.data(), n).is_ok());
  EXPECT_TRUE(dequantize_row(t, q.data(), y.data(), n).is_ok());
  return y;
}

// The quantization step an ideal quantizer of the same format would have on a super-block:
//   Q4_K / Q5_K (affine, range always includes 0): (max(x, 0) - min(x, 0)) / nmax;
//   Q6_K (symmetric, 64 levels -32..31):             max|x| / 32.
// Rounding to the nearest level then errs by at most step/2 (RMSE step/sqrt(12) ~ 0.29 step
// for spread-out data).
double ideal_step(const KCase& c, const float* x) {
  float lo = 0, hi = 0, amax = 0;
  for (int i = 0; i < 256; ++i) {
    lo = std::min(lo, x[i]);
    hi = std::max(hi, x[i]);
    amax = std::max(amax, std::fabs(x[i]));
  }
  return c.type == TensorType::Q6_K ? amax / 32.0 : (hi - lo) / double(c.nmax);
}

// Absolute error floor from storing the super-block scales in fp16: below 2^-14 fp16 is
// subnormal with absolute spacing 2^-24, so d (and dmin) can be off by 2^-25, which a level
// multiplies by at most |sc * q| (63 * nmax for Q4_K / Q5_K, plus 63 * 63 through dmin * m;
// 128 * 32 for Q6_K). When d underflows to 0 the data is itself below that floor.
double fp16_floor(const KCase& c) {
  const double half_ulp = std::ldexp(1.0, -25);
  return c.type == TensorType::Q6_K ? 128.0 * 32.0 * half_ulp : 63.0 * (c.nmax + 63) * half_ulp;
}

class KQuantQuality : public ::testing::TestWithParam<KCase> {};

// Per super-block: RMSE <= 0.5 step (plus the fp16 floor). Ideal rounding gives ~0.29 step; the
// search may shrink the covered range by up to one level (rmin = -1 / -0.5) and the 6-bit scales
// move each sub-block's step, so a few elements get clamped, but an RMSE of half a step would
// mean systematic clamping or a packing error. The maximum error has no such guarantee (the fit
// minimises a weighted squared error and may sacrifice an extreme element): 1.5 step is an
// envelope, still far below what a wrong scale or nibble would cause (several steps).
// Measured worst cases (Q4_K / Q5_K / Q6_K) over the 72-80 blocks whose step is over 100x the
// fp16 floor: RMSE 0.26 / 0.27 / 0.26 step, max 0.86 / 1.08 / 0.52 step.
TEST_P(KQuantQuality, ErrorWithinDerivedBoundPerSuperBlock) {
  const KCase c = GetParam();
  auto f = testing::load_fixture("q_input");
  ASSERT_TRUE(f.is_ok()) << f.status().message();
  const std::vector<float> y = roundtrip(c.type, f->floats);
  const double floor = fp16_floor(c);
  for (size_t b = 0; b < f->floats.size() / 256; ++b) {
    const float* x = f->floats.data() + 256 * b;
    const double step = ideal_step(c, x);
    double se = 0, max_err = 0;
    for (int i = 0; i < 256; ++i) {
      const double e = double(x[i]) - y[256 * b + i];
      se += e * e;
      max_err = std::max(max_err, std::fabs(e));
    }
    EXPECT_LE(std::sqrt(se / 256), 0.5 * step + floor) << "super-block " << b;
    EXPECT_LE(max_err, 1.5 * step + floor) << "super-block " << b;
  }
}

// A plain quantizer of the same format, without the weighted search: per-sub-block min/max
// scales, 6-bit (or 8-bit for Q6_K) scale quantization and nearest-level rounding, decoded with
// the same formula as the format. The real quantizer must not lose to it overall.
std::vector<float> baseline_roundtrip(const KCase& c, const float* x) {
  std::vector<float> y(256);
  if (c.type == TensorType::Q6_K) {
    float scales[16], max_scale = 0;
    for (int s = 0; s < 16; ++s) {
      float mx = 0;
      for (int i = 0; i < 16; ++i)
        mx = std::fabs(x[16 * s + i]) > std::fabs(mx) ? x[16 * s + i] : mx;
      scales[s] = mx / -32;
      if (std::fabs(scales[s]) > std::fabs(max_scale)) max_scale = scales[s];
    }
    const float d = max_scale != 0 ? fp16_to_fp32(fp32_to_fp16(max_scale / -128)) : 0;
    for (int s = 0; s < 16; ++s) {
      const float sc = d != 0 ? std::min(127.f, std::round(scales[s] / d)) : 0;
      for (int i = 0; i < 16; ++i) {
        const float ds = d * sc;
        const float q = ds != 0 ? std::clamp(std::round(x[16 * s + i] / ds), -32.f, 31.f) : 0;
        y[16 * s + i] = ds * q;
      }
    }
    return y;
  }
  float scales[8], mins[8], max_scale = 0, max_min = 0;
  for (int s = 0; s < 8; ++s) {
    float lo = 0, hi = 0;
    for (int i = 0; i < 32; ++i) {
      lo = std::min(lo, x[32 * s + i]);
      hi = std::max(hi, x[32 * s + i]);
    }
    scales[s] = (hi - lo) / c.nmax;
    mins[s] = -lo;
    max_scale = std::max(max_scale, scales[s]);
    max_min = std::max(max_min, mins[s]);
  }
  const float d = fp16_to_fp32(fp32_to_fp16(max_scale / 63));
  const float dmin = fp16_to_fp32(fp32_to_fp16(max_min / 63));
  for (int s = 0; s < 8; ++s) {
    const float ds = d * (d != 0 ? std::min(63.f, std::round(scales[s] / d)) : 0.f);
    const float dm = dmin * (dmin != 0 ? std::min(63.f, std::round(mins[s] / dmin)) : 0.f);
    for (int i = 0; i < 32; ++i) {
      const float q =
          ds != 0 ? std::clamp(std::round((x[32 * s + i] + dm) / ds), 0.f, float(c.nmax)) : 0;
      y[32 * s + i] = ds * q - dm;
    }
  }
  return y;
}

// The search must win in aggregate (it minimises a weighted error, so single blocks may lose).
TEST_P(KQuantQuality, NotWorseThanPlainMinMaxBaseline) {
  const KCase c = GetParam();
  auto f = testing::load_fixture("q_input");
  ASSERT_TRUE(f.is_ok()) << f.status().message();
  const std::vector<float> y = roundtrip(c.type, f->floats);
  double se_ours = 0, se_base = 0;
  for (size_t b = 0; b < f->floats.size() / 256; ++b) {
    const float* x = f->floats.data() + 256 * b;
    const std::vector<float> yb = baseline_roundtrip(c, x);
    for (int i = 0; i < 256; ++i) {
      se_ours += std::pow(double(x[i]) - y[256 * b + i], 2);
      se_base += std::pow(double(x[i]) - yb[i], 2);
    }
  }
  EXPECT_LT(se_ours, se_base) << "ours " << se_ours << " baseline " << se_base;
}

// Re-quantizing already-quantized data: y = D(Q(x)) lies on the format's grid, so Q(y) should
// reproduce it at least as well as Q(x) reproduced x. This holds in aggregate, not for every
// block (measured: one Q5_K block of 112, a sparse one, loses 1.29x), because the search
// minimises a weighted error whose weights change with the data.
TEST_P(KQuantQuality, RequantizingDecodedDataDoesNotLoseMore) {
  const KCase c = GetParam();
  auto f = testing::load_fixture("q_input");
  ASSERT_TRUE(f.is_ok()) << f.status().message();
  const std::vector<float> y = roundtrip(c.type, f->floats);
  const std::vector<float> y2 = roundtrip(c.type, y);
  double se1 = 0, se2 = 0;
  int exact_blocks = 0;
  for (size_t b = 0; b < f->floats.size() / 256; ++b) {
    double block_se2 = 0;
    for (int i = 0; i < 256; ++i) {
      se1 += std::pow(double(f->floats[256 * b + i]) - y[256 * b + i], 2);
      block_se2 += std::pow(double(y[256 * b + i]) - y2[256 * b + i], 2);
    }
    se2 += block_se2;
    exact_blocks += block_se2 == 0;
  }
  EXPECT_LE(se2, se1);
  EXPECT_GT(exact_blocks, 0);  // the all-zero and constant blocks at least are fixed points
}

INSTANTIATE_TEST_SUITE_P(KQuants, KQuantQuality, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return std::string(type_name(info.param.type)); });

}  // namespace
}  // namespace longctx
