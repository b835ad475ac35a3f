// The CPU speed probes behind the planner's measured speed model (speed_probe.h).
#include "runtime/speed_probe.h"

#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "core/bandwidth.h"
#include "core/file_io.h"
#include "core/large_buffer.h"
#include "core/system_memory.h"
#include "quant/quantize.h"

namespace longctx {
namespace {

using Clock = std::chrono::steady_clock;

std::string default_cache_path() {
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) {
    return std::string(x) + "/longctx/speed.json";
  }
  if (const char* h = std::getenv("HOME"); h && *h)
    return std::string(h) + "/.cache/longctx/speed.json";
  return "";
}

void make_dirs_for(const std::string& path) {
  for (size_t at = 1; (at = path.find('/', at)) != std::string::npos; ++at) {
    ::mkdir(path.substr(0, at).c_str(), 0755);  // an existing directory is fine
  }
}

// Best of `reps` timed calls of fn (after one untimed warm-up), in seconds.
template <class F>
double best_seconds(int reps, F&& fn) {
  fn();
  double best = 1e30;
  for (int i = 0; i < reps; ++i) {
    const auto t0 = Clock::now();
    fn();
    best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
  }
  return std::max(best, 1e-9);
}

// `bytes` of type t holding quantized random values: a pattern of up to 1 MiB of floats
// converted by the backend (as the cache or the weights would be), repeated.
Result<LargeBuffer> pattern_buffer(KernelBackend& be, TensorType t, uint64_t n_elements,
                                   std::mt19937& rng) {
  const uint64_t bytes = row_bytes(t, n_elements);
  auto buf = LargeBuffer::allocate(static_cast<size_t>(bytes));
  if (!buf) return buf.status();
  const uint64_t chunk = std::min<uint64_t>(n_elements, uint64_t{1} << 18);  // 256k elements
  std::vector<float> x(static_cast<size_t>(chunk));
  std::normal_distribution<float> dist(0.0f, 1.0f);
  for (float& v : x) v = dist(rng);
  const uint64_t chunk_bytes = row_bytes(t, chunk);
  be.convert_row(t, x.data(), static_cast<int64_t>(chunk), buf->data());
  for (uint64_t at = chunk_bytes; at < bytes; at += chunk_bytes) {
    std::memcpy(buf->data() + at, buf->data(),
                static_cast<size_t>(std::min(chunk_bytes, bytes - at)));
  }
  return buf;
}

}  // namespace

Result<MeasuredCpuSpeed> probe_cpu_speed(KernelBackend& be, const ModelHparams& hp,
                                         const std::vector<TensorType>& weight_types,
                                         TensorType type_k, TensorType type_v,
                                         double read_bw_override, const SpeedProbeOptions& o) {
  const std::string path = o.cache_path.empty() ? default_cache_path() : o.cache_path;
  // One entry per machine and build: figures a build measured are dropped when another build
  // (a changed kernel) probes the same machine.
  const std::string machine_base = cpu_model_name() + " " + cpu_signature() + " | " +
                                   be.describe() + " | threads " + std::to_string(o.n_threads);
  const std::string machine = machine_base + " | build " + program_identity();
  nlohmann::json cache = nlohmann::json::object();
  if (o.use_cache && !path.empty()) {
    if (auto text = read_file(path); text.is_ok()) {
      cache = nlohmann::json::parse(*text, nullptr, false);
      if (!cache.is_object()) cache = nlohmann::json::object();
    }
  }
  nlohmann::json& mine = cache[machine];
  if (!mine.is_object()) mine = nlohmann::json::object();
  bool probed = false;
  // A cached figure, or the probe's (then cached).
  auto figure = [&](const std::string& key, auto&& probe) -> Result<double> {
    if (!o.refresh && mine.contains(key) && mine[key].is_number() && mine[key].get<double>() > 0) {
      return mine[key].get<double>();
    }
    auto v = probe();
    if (!v) return v.status();
    mine[key] = *v;
    probed = true;
    return *v;
  };
  std::mt19937 rng(7);
  MeasuredCpuSpeed s;

  // 1. The read probe (the engine's weights stream at about this rate).
  if (read_bw_override > 0) {
    s.read_bw = read_bw_override;
  } else {
    auto r = figure("read", [&]() -> Result<double> {
      BandwidthOptions bo;
      bo.bytes = uint64_t{256} << 20;
      bo.n_threads = o.n_threads;
      bo.repetitions = 3;
      auto m = measure_read_bandwidth(bo);
      if (!m) return m.status();
      return m->gbps * 1e9;
    });
    if (!r) return r.status();
    s.read_bw = *r;
  }

  // 2. Batched matmul per weight type: 1024 x 2048 (laid out as the engine places it), at the
  //    micro-batch, and for MoE also at the tokens one expert gets of it (batch x k / n).
  auto matmul = [&](TensorType t, int64_t batch) -> Result<double> {
    const std::string key = std::string("matmul ") + type_name(t) + " x" + std::to_string(batch);
    return figure(key, [&]() -> Result<double> {
      constexpr int64_t kIn = 2048, kOut = 1024;
      auto w = pattern_buffer(be, t, kIn * kOut, rng);
      if (!w) return w.status();
      WeightMatrix m{t, w->data(), kIn, kOut, WeightLayout::kGguf};
      be.repack(&m);
      std::vector<float> x(static_cast<size_t>(batch * kIn)), y(static_cast<size_t>(batch * kOut));
      for (size_t i = 0; i < x.size(); ++i) x[i] = float(int(i % 17) - 8) / 8.0f;
      const double sec = best_seconds(3, [&] { be.matmul(m, x.data(), batch, nullptr, y.data()); });
      return 2.0 * kIn * kOut * double(batch) / sec;
    });
  };
  const int64_t expert_batch =
      hp.is_moe() ? std::max<int64_t>(1, o.n_batch * hp.n_expert_used / hp.n_expert) : 0;
  for (TensorType t : weight_types) {
    if (s.matmul_rate(t) > 0 || !has_quantizer(t) || !be.supports(KernelOp::kMatmul, t)) continue;
    auto r = matmul(t, o.n_batch);
    if (!r) return r.status();
    s.matmul_flops.emplace_back(t, *r);
    if (expert_batch > 0) {
      auto e = matmul(t, expert_batch);
      if (!e) return e.status();
      s.expert_matmul_flops.emplace_back(t, *e);
    }
  }

  // 3. Decode's one-token matmul per weight type, streaming matrices larger than the caches:
  //    one matrix of the model's width for dense tensors, and for MoE the batch of 2k expert
  //    matrices (gate and up of k experts) decode hands the backend at once.
  uint64_t stream_bytes = uint64_t{256} << 20;
  if (auto avail = available_memory_bytes()) stream_bytes = std::min(stream_bytes, *avail / 4);
  auto gemv = [&](TensorType t, bool experts) -> Result<double> {
    const int64_t bs = traits(t).block_size;
    const int64_t n_in = hp.n_embd % bs == 0 ? hp.n_embd : 2048;
    const int64_t k =
        std::clamp<int64_t>(2 * int64_t{hp.n_expert_used}, 1, KernelBackend::kMaxMatmulTasks);
    const int64_t rows = experts ? int64_t{hp.n_ff_expert} : 1024;  // one matrix / one expert
    const std::string key = std::string(experts ? "expert gemv " : "gemv ") + type_name(t) + " " +
                            std::to_string(n_in) + "x" + std::to_string(rows) +
                            (experts ? " x" + std::to_string(k) : "");
    return figure(key, [&]() -> Result<double> {
      const uint64_t unit = row_bytes(t, uint64_t(n_in)) * uint64_t(rows);
      const int64_t n_units = std::max<int64_t>(int64_t(stream_bytes / unit) / k * k, k);
      auto w = pattern_buffer(be, t, uint64_t(n_in) * rows * n_units, rng);
      if (!w) return w.status();
      std::vector<float> x(static_cast<size_t>(n_in));
      for (size_t i = 0; i < x.size(); ++i) x[i] = float(int(i % 17) - 8) / 8.0f;
      std::vector<float> y(static_cast<size_t>(rows * n_units));
      const double bytes = double(unit) * double(n_units);
      if (!experts) {
        WeightMatrix m{t, w->data(), n_in, rows * n_units, WeightLayout::kGguf};
        be.repack(&m);
        return bytes / best_seconds(3, [&] { be.matmul(m, x.data(), 1, nullptr, y.data()); });
      }
      ExpertStack st{t, w->data(), n_in, rows, n_units, WeightLayout::kGguf};
      be.repack(&st);
      std::vector<KernelBackend::MatmulTask> tasks(static_cast<size_t>(n_units));
      for (int64_t e = 0; e < n_units; ++e) {
        tasks[size_t(e)] = {ref::expert_matrix(st, e), x.data(), nullptr, y.data() + e * rows};
      }
      return bytes / best_seconds(3, [&] {
               for (int64_t e = 0; e < n_units; e += k) {
                 be.matmul_tasks(tasks.data() + e, static_cast<int>(k), 1);
               }
             });
    });
  };
  if (read_bw_override <= 0) {  // a given bandwidth stands for every stream
    for (TensorType t : weight_types) {
      if (!has_quantizer(t) || !be.supports(KernelOp::kMatmul, t)) continue;
      auto r = gemv(t, false);
      if (!r) return r.status();
      s.gemv_bw.emplace_back(t, *r);
      if (hp.is_moe() && hp.n_ff_expert > 0) {
        auto e = gemv(t, true);
        if (!e) return e.status();
        s.expert_gemv_bw.emplace_back(t, *e);
      }
    }
  }

  // 4. Attention at the model's shape and KV types, over a cache larger than the caches.
  const std::string shape = std::to_string(hp.n_head) + "/" + std::to_string(hp.n_head_kv) + "/" +
                            std::to_string(hp.head_dim) + " " + type_name(type_k) + "/" +
                            type_name(type_v);
  const uint64_t per_pos =
      uint64_t{hp.n_head_kv} * (row_bytes(type_k, hp.head_dim) + row_bytes(type_v, hp.head_dim_v));
  const int64_t n_kv = std::clamp<int64_t>(int64_t((uint64_t{64} << 20) / per_pos), 4096, 65536);
  LargeBuffer kbuf, vbuf;
  auto kv_ready = [&]() -> Status {
    if (kbuf.size() > 0) return Status::ok();
    auto k = pattern_buffer(be, type_k, uint64_t(n_kv) * hp.n_head_kv * hp.head_dim, rng);
    if (!k) return k.status();
    auto v = pattern_buffer(be, type_v, uint64_t(n_kv) * hp.n_head_kv * hp.head_dim_v, rng);
    if (!v) return v.status();
    kbuf = std::move(k.value());
    vbuf = std::move(v.value());
    return Status::ok();
  };
  AttentionParams ap;
  ap.shape = {hp.n_head, hp.n_head_kv, hp.head_dim};
  std::vector<float> q(static_cast<size_t>(o.n_batch * hp.n_head * hp.head_dim), 0.1f);
  std::vector<float> out(q.size());
  for (size_t i = 0; i < q.size(); ++i) q[i] = float(int(i % 13) - 6) / 6.0f;
  auto dec = figure("attn decode " + shape, [&]() -> Result<double> {
    LONGCTX_RETURN_IF_ERROR(kv_ready());
    ap.q_pos0 = n_kv - 1;
    const KvView k{type_k, kbuf.data(), n_kv}, v{type_v, vbuf.data(), n_kv};
    const double sec = best_seconds(5, [&] { be.attention(ap, q.data(), 1, k, v, out.data()); });
    return double(n_kv) * double(per_pos) / sec;
  });
  if (!dec) return dec.status();
  s.attn_decode_bw = *dec;
  auto pre =
      figure("attn prefill " + shape + " x" + std::to_string(o.n_batch), [&]() -> Result<double> {
        LONGCTX_RETURN_IF_ERROR(kv_ready());
        const int64_t q0 = std::min<int64_t>(2048, n_kv - o.n_batch);
        ap.q_pos0 = q0;
        const int64_t n = q0 + o.n_batch;
        const KvView k{type_k, kbuf.data(), n}, v{type_v, vbuf.data(), n};
        const double sec =
            best_seconds(2, [&] { be.attention(ap, q.data(), o.n_batch, k, v, out.data()); });
        double keys = 0;
        for (int64_t t = 0; t < o.n_batch; ++t) keys += double(q0 + t + 1);
        return 2.0 * hp.n_head * (double(hp.head_dim) + hp.head_dim_v) * keys / sec;
      });
  if (!pre) return pre.status();
  s.attn_prefill_flops = *pre;

  if (probed && o.use_cache && !path.empty()) {
    for (auto it = cache.begin(); it != cache.end();) {
      // This machine's other builds, and entries of versions whose keys had no build at all.
      const bool stale =
          it.key() != machine && (it.key().rfind(machine_base + " | build ", 0) == 0 ||
                                  it.key().find(" | build ") == std::string::npos);
      it = stale ? cache.erase(it) : std::next(it);
    }
    make_dirs_for(path);
    (void)write_file_atomic(path, cache.dump(1) + "\n");  // a cache: failing to keep it is fine
  }
  s.source = std::string(probed ? "measured now" : "measured earlier") +
             (path.empty() || !o.use_cache ? "" : " (cached in " + path + ")");
  return s;
}

}  // namespace longctx
