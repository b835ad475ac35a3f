// `longctx plan [MODEL] [--device NAME | --mem SIZE [--bw RATE]] [--ctx N,...] [--kv-type T]
// [--parallel N] [--batch N] [--experts K] [--json]`: memory and speed plan of a model (catalog
// name, GGUF path or config.json) on a device; without MODEL, the whole catalog on this machine.
#include <sys/stat.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "cli/commands.h"
#include "core/system_memory.h"
#include "core/thread_pool.h"
#include "kernels/cuda/cuda_api.h"
#include "model/hf_config.h"
#include "plan/catalog.h"
#include "plan/plan_format.h"
#include "runtime/engine.h"
#include "runtime/session.h"
#include "runtime/speed_probe.h"

namespace longctx::cli {
namespace {

struct PlanArgs {
  std::string model;
  std::string quant = "Q4_K_M";
  std::string device, mem, bw, ram, headroom, ctx;
  std::optional<double> tflops;
  int gpus = 1;
  std::string kv_type = "f16", kv_type_k, kv_type_v;
  int64_t parallel = 1, batch = 512, experts = 0;
  bool json = false, no_probe = false;
};

bool is_file(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const std::string& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

Result<DeviceSetup> resolve_device(const PlanArgs& a) {
  const MemInfo ram = detect_ram();
  DeviceSetup d;
  if (a.gpus < 1 || a.gpus > 64) {
    return invalid_argument("--gpus must be in 1..64, got " + std::to_string(a.gpus));
  }
  if (!a.device.empty()) {
    const DeviceSpec* spec = find_device(a.device);
    if (spec == nullptr) {
      return not_found("unknown device '" + a.device + "'; nearest: " +
                       join(nearest_device_names(a.device)) + " (or give --mem SIZE --bw RATE)");
    }
    d = setup_from_catalog(*spec, a.gpus, ram);
  } else if (!a.mem.empty()) {
    d.label = "explicit device";
    d.source = "explicit";
    d.count = a.gpus;
    d.host_memory = ram.available;
    d.host_bandwidth = kDefaultCpuBandwidth;
  } else {
    d = detect_device();
  }
  if (!a.mem.empty()) {
    auto m = parse_size(a.mem, "--mem");
    if (!m) return m.status();
    d.memory = *m;
    if (d.source != "explicit") d.source += " + --mem";
  }
  if (!a.bw.empty()) {
    auto b = parse_rate(a.bw, "--bw");
    if (!b) return b.status();
    d.bandwidth = *b;
    if (d.count == 0) d.host_bandwidth = *b;
  }
  if (a.tflops) {
    if (!(*a.tflops > 0 && *a.tflops < 1e6)) {
      return invalid_argument("--tflops must be in (0, 1e6), got " + std::to_string(*a.tflops));
    }
    d.flops = *a.tflops * 1e12;
  }
  if (!a.ram.empty()) {
    auto m = parse_size(a.ram, "--ram");
    if (!m) return m.status();
    d.host_memory = *m;
    if (d.count == 0) d.memory = *m;
  }
  if (d.memory == 0) {
    return invalid_argument(
        "no device memory known (no GPU found and /proc/meminfo unreadable): "
        "give --device NAME or --mem SIZE");
  }
  return d;
}

Result<uint64_t> resolve_headroom(const std::string& text, const DeviceSetup& d) {
  if (text.empty()) return default_headroom(d);
  if (text.back() == '%') {
    char* end = nullptr;
    const std::string num = text.substr(0, text.size() - 1);
    const double pct = std::strtod(num.c_str(), &end);
    if (num.empty() || end != num.c_str() + num.size() || !(pct >= 0 && pct < 100)) {
      return invalid_argument("--headroom: '" + text + "' is not a percentage in [0, 100)");
    }
    return static_cast<uint64_t>(static_cast<double>(d.total_memory()) * pct / 100.0);
  }
  return parse_size(text, "--headroom");
}

Result<TensorType> kv_type(const std::string& name, const char* option) {
  auto t = parse_type_name(name);
  if (!t || !is_plannable_kv_type(*t)) {
    return invalid_argument(std::string(option) + ": '" + name +
                            "' is not one of f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1");
  }
  return *t;
}

// The model: a catalog name, a config.json (+ --quant) or a GGUF (its own tensor types).
Result<PlanModel> resolve_model(const PlanArgs& a, std::string* model_arg) {
  auto preset = parse_preset(a.quant);
  if (const ModelShape* s = find_model_shape(a.model)) {
    if (!preset) return preset.status();
    *model_arg = std::string(s->hf_name) + "-" + preset_name(*preset) + ".gguf";
    return plan_model_from_preset(hparams_from_shape(*s), *preset, s->name, "catalog");
  }
  if (!is_file(a.model)) {
    return not_found("'" + a.model + "' is neither a catalog model nor a file; nearest: " +
                     join(nearest_model_names(a.model)));
  }
  if (ends_with(a.model, ".json") || ends_with(a.model, ".json.zst")) {
    if (!preset) return preset.status();
    auto hp = hparams_from_hf_config_file(a.model);
    if (!hp) return Status(hp.status().code(), a.model + ": " + hp.status().message());
    *model_arg = "MODEL-" + std::string(preset_name(*preset)) + ".gguf";
    std::string name = hp->name.empty() ? a.model : hp->name;
    return plan_model_from_preset(*hp, *preset, name, "config");
  }
  auto f = GgufFile::open(a.model);
  if (!f) return Status(f.status().code(), a.model + ": " + f.status().message());
  *model_arg = a.model;
  auto m = plan_model_from_gguf(*f, a.model);
  if (!m) return Status(m.status().code(), a.model + ": " + m.status().message());
  return m;
}

int fail(const Status& s) {
  std::fprintf(stderr, "longctx plan: %s\n", s.message().c_str());
  return 1;
}

// Memory a run needs besides the weights, KV cache and session buffers (Engine::RuntimeMemory).
// A GGUF is loaded as `run` would load it, without reading the weights, so the figure is the
// engine's own: this program, the tokenizer and tables, the cpu kernels' scratch bound. A
// catalog model or config.json has no tokenizer to build: the program and the scratch bound.
uint64_t runtime_bytes(const PlanArgs& a, const PlanModel& m, int64_t n_batch) {
  if (m.source == "gguf") {
    EngineOptions eo;
    eo.model_path = a.model;
    eo.backend = "cpu";
    eo.repack = false;
    if (auto e = Engine::load(eo); e.is_ok()) {
      return (*e)->runtime_memory(n_batch, a.experts).total();
    }
  }
  uint64_t bytes = program_bytes().value_or(0);
  if (auto be = make_cpu_backend(0, "auto"); be.is_ok()) {
    bytes += (*be)->scratch_bytes_for(scratch_needs_for(m.hp, m.tensors, n_batch, a.experts));
  }
  return bytes;
}

int run_plan(const PlanArgs& a) {
  auto dev = resolve_device(a);
  if (!dev) return fail(dev.status());
  auto headroom = resolve_headroom(a.headroom, *dev);
  if (!headroom) return fail(headroom.status());

  PlanOptions o;
  auto tk = kv_type(a.kv_type_k.empty() ? a.kv_type : a.kv_type_k, "--kv-type-k");
  if (!tk) return fail(tk.status());
  auto tv = kv_type(a.kv_type_v.empty() ? a.kv_type : a.kv_type_v, "--kv-type-v");
  if (!tv) return fail(tv.status());
  o.kv = {*tk, *tv};
  o.n_parallel = a.parallel;
  o.n_batch = a.batch;
  o.n_experts = a.experts;
  o.headroom = *headroom;
  // Exactly the compute buffers a session allocates (activations, logit rows, RoPE window).
  o.compute_bytes = [](const ModelHparams& hp, int64_t n_batch) {
    return Session::compute_bytes_for(hp, n_batch);
  };

  std::vector<int64_t> contexts;
  if (!a.ctx.empty()) {
    auto c = parse_contexts(a.ctx);
    if (!c) return fail(c.status());
    contexts = std::move(c.value());
  }

  if (a.model.empty()) {
    if (o.n_parallel < 1 || o.n_parallel > 4096 || o.n_batch < 1 || o.n_batch > 65536) {
      return fail(invalid_argument("--parallel must be in 1..4096 and --batch in 1..65536"));
    }
    o.kv = {TensorType::F16, TensorType::F16};
    const auto rows = build_overview(*dev, o);
    if (a.json) {
      std::printf("%s\n", overview_json(rows, *dev, o).dump(2).c_str());
    } else {
      std::printf("%s", format_overview_text(rows, *dev, o).c_str());
    }
    return 0;
  }

  std::string model_arg;
  auto model = resolve_model(a, &model_arg);
  if (!model) return fail(model.status());
  Status st = check_plan_options(*model, o);
  if (!st.is_ok()) return fail(st);
  o.runtime_bytes = runtime_bytes(a, *model, o.n_batch);
  if (contexts.empty()) contexts = default_contexts(model->hp);
  const int64_t chosen = contexts.size() == 1 && !a.ctx.empty() ? contexts[0] : 0;
  // A CPU plan measures this machine (cached): the speeds come from its rates, not a roofline.
  SpeedModel speed;
  if (dev->count == 0 && !a.no_probe) {
    if (auto be = make_cpu_backend(0, "auto"); be.is_ok()) {
      std::vector<TensorType> types;
      for (const TensorCost& t : model->tensors) {
        if (t.matrix && std::find(types.begin(), types.end(), t.type) == types.end()) {
          types.push_back(t.type);
        }
      }
      SpeedProbeOptions po;
      po.n_batch = o.n_batch;
      po.n_threads = ThreadPool::default_threads();
      auto m = probe_cpu_speed(**be, model->hp, types, o.kv.k, o.kv.v,
                               a.bw.empty() ? 0.0 : dev->bandwidth, po);
      if (m) {
        speed.cpu = std::move(m.value());
        dev->bandwidth = speed.cpu.read_bw;
        dev->flops = 0;  // prefill comes from the measured rates, not an assumed peak
        dev->source += a.bw.empty() ? ", bandwidth measured" : "";
      } else {
        std::fprintf(stderr,
                     "longctx plan: warning: the speed probe failed (%s); speeds are a "
                     "roofline\n",
                     m.status().message().c_str());
      }
    }
  }
  // A GPU the CUDA runtime found: its read bandwidth measured (a sum over 1 GiB, or a quarter of
  // the free memory), instead of the catalog's or the driver's peak.
  if (dev->count > 0 && dev->source == "detected (CUDA runtime)" && a.bw.empty() && !a.no_probe) {
    if (auto cd = cuda::devices(); cd.is_ok()) {
      const uint64_t bytes = std::min<uint64_t>(1ull << 30, (*cd)[0].free_memory / 4);
      if (auto bw = cuda::measure_read_bandwidth(0, bytes); bw.is_ok()) {
        dev->bandwidth = *bw;
        dev->source += ", bandwidth measured";
      } else {
        std::fprintf(stderr, "longctx plan: warning: the GPU bandwidth probe failed (%s)\n",
                     bw.status().message().c_str());
      }
    }
  }
  const PlanReport r = build_plan_report(*model, *dev, o, contexts, chosen, model_arg, speed);
  if (a.json) {
    std::printf("%s\n", plan_json(r).dump(2).c_str());
  } else {
    std::printf("%s", format_plan_text(r).c_str());
  }
  return 0;
}

}  // namespace

CommandFn add_plan_command(CLI::App& app) {
  auto a = std::make_shared<PlanArgs>();
  app.add_option("model", a->model,
                 "Catalog name (qwen3-8b, ...), GGUF file or config.json; none: the whole "
                 "catalog on this machine");
  app.add_option("--quant", a->quant,
                 "Preset for a catalog model or config.json (BF16, Q8_0, Q6_K, Q5_K_M, Q4_K_M, "
                 "Q4_0, ...)")
      ->capture_default_str();
  app.add_option("--device", a->device,
                 "Device from the catalog (rtx-4090, h100-sxm, m3-max, ...)");
  app.add_option("--gpus", a->gpus, "Number of such GPUs (memory adds up)")->capture_default_str();
  app.add_option("--mem", a->mem, "Device memory, e.g. 96GiB, 24GB");
  app.add_option("--bw", a->bw,
                 "Device memory bandwidth, e.g. 1792GB/s (CPU: instead of the "
                 "measured read rate)");
  app.add_flag("--no-probe", a->no_probe,
               "CPU plans: no speed probe (a roofline of assumed efficiencies instead)");
  app.add_option("--tflops", a->tflops, "Device dense FP16 TFLOPS");
  app.add_option("--ram", a->ram, "System RAM for MoE expert offload (default: MemAvailable)");
  app.add_option("--headroom", a->headroom,
                 "Memory kept free: a size or a percentage (default 5%, at least 512MiB)");
  app.add_option("-c,--ctx", a->ctx, "Context lengths, e.g. 32768,128k (one: the profile's)");
  app.add_option("--kv-type", a->kv_type,
                 "KV type for K and V: f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1")
      ->capture_default_str();
  app.add_option("--kv-type-k,--cache-type-k", a->kv_type_k,
                 "KV type for K (overrides --kv-type; llama.cpp: -ctk)");
  app.add_option("--kv-type-v,--cache-type-v", a->kv_type_v,
                 "KV type for V (overrides --kv-type; llama.cpp: -ctv)");
  app.add_option("--parallel", a->parallel, "Parallel sequences")->capture_default_str();
  app.add_option("-b,--batch", a->batch, "Micro-batch (prompt tokens per forward pass)")
      ->capture_default_str();
  app.add_option("--experts", a->experts, "MoE experts per token (default: the model's)");
  app.add_flag("--json", a->json, "JSON output (bytes as integers, speeds in tokens/s)");
  return [a] { return run_plan(*a); };
}

}  // namespace longctx::cli
