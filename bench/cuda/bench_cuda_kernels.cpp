// GB/s of the CUDA kernels at the shapes of the models, against the GPU's measured read
// bandwidth: decode matvec for each weight format (one token; Qwen3-8B's FFN matrix 4096 ->
// 12288 and its output head 4096 -> 151936), the expert products of Qwen3-30B-A3B (8 of 128
// experts, 2048 -> 768), and decode attention at several depths (32 query heads, 8 KV heads of
// 128, f16 / Q8_0 cache). Prints one line per case; without a GPU it says so and exits 0.
//
//   build/bench/cuda/bench_cuda_kernels [--reps N]
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/cuda/cuda_api.h"
#include "quant/random_blocks.h"
#include "quant/types.h"

namespace longctx {
namespace {

cuda::DeviceBuffer device_random(TensorType t, int64_t n, uint64_t seed) {
  std::vector<uint8_t> host(row_bytes(t, uint64_t(n)));
  random_blocks(t, seed, 0.02f, host.data(), n);
  auto b = cuda::DeviceBuffer::allocate(host.size());
  LONGCTX_CHECK(b.is_ok());
  LONGCTX_CHECK(cuda::copy_to_device(b->data(), host.data(), host.size()).is_ok());
  return std::move(b).value();
}

cuda::DeviceBuffer device_floats(int64_t n, float v) {
  std::vector<float> host(size_t(n), v);
  auto b = cuda::DeviceBuffer::allocate(host.size() * sizeof(float));
  LONGCTX_CHECK(b.is_ok());
  LONGCTX_CHECK(cuda::copy_to_device(b->data(), host.data(), host.size() * 4).is_ok());
  return std::move(b).value();
}

void report(const char* what, double bytes, double ms, double peak) {
  const double gbs = bytes / (ms * 1e-3) / 1e9;
  std::printf("%-44s %9.3f ms %8.1f GB/s %5.1f%% of the probe\n", what, ms, gbs,
              100 * gbs * 1e9 / peak);
}

int run(int reps) {
  auto devs = cuda::devices();
  if (!devs) {
    std::printf("bench_cuda_kernels: no GPU (%s)\n", devs.status().message().c_str());
    return 0;
  }
  auto probe = cuda::measure_read_bandwidth(0, 1ull << 30);
  if (!probe) {
    std::fprintf(stderr, "bandwidth probe: %s\n", probe.status().message().c_str());
    return 1;
  }
  std::printf("%s: read probe %.1f GB/s (driver peak %.1f GB/s)\n", (*devs)[0].name.c_str(),
              *probe / 1e9, (*devs)[0].peak_bandwidth / 1e9);
  char label[96];
  // Decode matvec, one token.
  struct Shape {
    const char* name;
    int64_t n_out, n_in;
  };
  const Shape shapes[] = {{"ffn_up 4096->12288", 12288, 4096},
                          {"output 4096->151936", 151936, 4096}};
  const TensorType types[] = {TensorType::Q4_K, TensorType::Q5_K, TensorType::Q6_K,
                              TensorType::Q8_0, TensorType::Q4_0, TensorType::F16,
                              TensorType::BF16};
  for (const Shape& s : shapes) {
    auto x = device_floats(s.n_in * 8, 0.01f);
    auto y = device_floats(s.n_out * 8, 0.0f);
    for (TensorType t : types) {
      auto w = device_random(t, s.n_out * s.n_in, 1);
      for (int nt : {1, 4}) {
        auto ms = cuda::time_ms(
            [&] {
              return cuda::matvec(t, w.data(), s.n_out, s.n_in, x.as<float>(), nt, nullptr,
                                  y.as<float>());
            },
            reps);
        if (!ms) {
          std::fprintf(stderr, "%s\n", ms.status().message().c_str());
          return 1;
        }
        std::snprintf(label, sizeof label, "matvec %s %s x%d", type_name(t), s.name, nt);
        report(label, double(w.size()), *ms, *probe);
      }
    }
  }
  // MoE decode: 8 of 128 experts, gate (2048 -> 768) for one token.
  {
    const int64_t E = 128, k = 8, f = 768, d = 2048;
    auto stack = device_random(TensorType::Q4_K, E * f * d, 2);
    std::vector<int32_t> ids_h = {3, 17, 40, 41, 77, 90, 101, 127};
    auto ids = cuda::DeviceBuffer::allocate(ids_h.size() * 4);
    LONGCTX_CHECK(ids.is_ok());
    LONGCTX_CHECK(cuda::copy_to_device(ids->data(), ids_h.data(), ids_h.size() * 4).is_ok());
    auto x = device_floats(d, 0.01f);
    auto y = device_floats(k * f, 0.0f);
    auto ms = cuda::time_ms(
        [&] {
          return cuda::matvec_experts(TensorType::Q4_K, stack.data(), f, d, ids->as<int32_t>(), k,
                                      k, x.as<float>(), y.as<float>());
        },
        reps);
    if (!ms) return 1;
    report("experts q4_K 8 of 128, 2048->768", double(row_bytes(TensorType::Q4_K, d)) * f * k, *ms,
           *probe);
  }
  // Decode attention over a filled cache.
  for (TensorType kv : {TensorType::F16, TensorType::Q8_0}) {
    for (int64_t depth : {4096, 32768, 131072}) {
      const int64_t nh = 32, nkv = 8, hd = 128;
      const uint64_t row = row_bytes(kv, hd);
      std::vector<float> vals(size_t(depth * nkv * hd));
      for (size_t i = 0; i < vals.size(); ++i) vals[i] = float(int(i % 17) - 8) / 8;
      auto kc = device_floats(depth * nkv * hd, 0.0f);  // room for f32; converted in place below
      auto kd = cuda::DeviceBuffer::allocate(row * nkv * depth);
      auto vd = cuda::DeviceBuffer::allocate(row * nkv * depth);
      LONGCTX_CHECK(kd.is_ok() && vd.is_ok());
      LONGCTX_CHECK(cuda::copy_to_device(kc.data(), vals.data(), vals.size() * 4).is_ok());
      LONGCTX_CHECK(cuda::convert_rows(kv, kc.as<float>(), depth * nkv * hd, kd->data()).is_ok());
      LONGCTX_CHECK(cuda::convert_rows(kv, kc.as<float>(), depth * nkv * hd, vd->data()).is_ok());
      auto q = device_floats(nh * hd, 0.05f);
      auto out = device_floats(nh * hd, 0.0f);
      auto scratch = cuda::DeviceBuffer::allocate(cuda::attention_scratch_bytes(1, nh, hd));
      LONGCTX_CHECK(scratch.is_ok());
      cuda::AttentionArgs a;
      a.n_head = nh;
      a.n_head_kv = nkv;
      a.head_dim = a.head_dim_v = hd;
      a.q_pos0 = depth - 1;
      a.type_k = a.type_v = kv;
      a.d_k = kd->data();
      a.d_v = vd->data();
      a.n_kv = depth;
      a.d_scratch = scratch->as<float>();
      auto ms = cuda::time_ms([&] { return cuda::attention(a, q.as<float>(), 1, out.as<float>()); },
                              reps);
      if (!ms) {
        std::fprintf(stderr, "%s\n", ms.status().message().c_str());
        return 1;
      }
      std::snprintf(label, sizeof label, "attention %s decode at depth %lld", type_name(kv),
                    static_cast<long long>(depth));
      report(label, 2.0 * double(row) * double(nkv * depth), *ms, *probe);
    }
  }
  return 0;
}

}  // namespace
}  // namespace longctx

int main(int argc, char** argv) {
  int reps = 20;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
      reps = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: bench_cuda_kernels [--reps N]\n");
      return 2;
    }
  }
  if (reps < 1) reps = 1;
  return longctx::run(reps);
}
