// Renders plans: an 80-column human table (sizes in GiB/MiB, speeds in tokens/s, notes wrapped)
// and JSON with integer byte counts for tools.
#include <cstdio>
#include <string>

#include "plan/plan_format.h"

namespace longctx {
namespace {

constexpr size_t kWidth = 80;

std::string printf_str(const char* fmt, auto... args) {
  char buf[256];
  std::snprintf(buf, sizeof buf, fmt, args...);
  return buf;
}

// "131,072"
std::string grouped(int64_t v) {
  const std::string digits = std::to_string(v < 0 ? -v : v);
  std::string s = v < 0 ? "-" : "";
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) s.push_back(',');
    s.push_back(digits[i]);
  }
  return s;
}

std::string tps(double v) {
  if (v <= 0) return "-";
  if (v < 10) return printf_str("%.1f", v);
  return printf_str("%.0f", v);
}

// Words of `text` in lines of at most kWidth columns, the first prefixed by `first`, the rest
// indented like it.
std::string wrap(const std::string& first, const std::string& text) {
  std::string out = first, line_indent(first.size(), ' ');
  size_t col = first.size();
  size_t i = 0;
  bool line_empty = true;
  while (i < text.size()) {
    size_t j = text.find(' ', i);
    if (j == std::string::npos) j = text.size();
    const std::string word = text.substr(i, j - i);
    if (!line_empty && col + 1 + word.size() > kWidth) {
      out += "\n" + line_indent;
      col = line_indent.size();
      line_empty = true;
    }
    if (!line_empty) out += ' ', ++col;
    out += word;
    col += word.size();
    line_empty = false;
    i = j + 1;
  }
  return out + "\n";
}

// A command line broken before options with shell continuations when it is wider than kWidth.
std::string wrap_command(const std::string& label, const std::string& cmd) {
  std::string out = label, line = label;
  size_t i = 0;
  while (i < cmd.size()) {
    size_t j = cmd.find(" --", i + 1);
    if (j == std::string::npos) j = cmd.size();
    const std::string piece = cmd.substr(i, j - i);
    if (line.size() + piece.size() + 2 > kWidth && line.size() > label.size()) {
      out += " \\\n   ";
      line = "   ";
    }
    out += piece;
    line += piece;
    i = j;
  }
  return out + "\n";
}

std::string fits_cell(const CtxPlan& p) {
  if (p.fits) return "yes";
  if (p.fits_with_offload) return "moe-cpu " + std::to_string(p.moe_cpu_layers);
  return "no";
}

std::string rope_cell(const RopePlan& r) {
  return r.needed ? "yarn x" + std::to_string(r.factor) : "-";
}

std::string device_line(const DeviceSetup& d, const PlanOptions& o) {
  std::string s = d.label;
  if (d.count > 1) s = std::to_string(d.count) + " x " + s + " (tensor-parallel capacity)";
  s += " [" + d.source + "]: " + format_bytes(d.total_memory());
  s += d.bandwidth > 0 ? printf_str(", %.0f GB/s", d.total_bandwidth() / 1e9)
                       : std::string(", bandwidth unknown (give --bw)");
  if (d.flops > 0) s += printf_str(", %.0f TFLOPS", d.total_flops() / 1e12);
  s += "; headroom " + format_bytes(o.headroom) + ", budget " +
       format_bytes(device_budget(d, o.headroom));
  if (d.count > 0 && d.host_memory > 0) s += "; RAM " + format_bytes(d.host_memory) + " free";
  return s;
}

}  // namespace

std::string format_bytes(uint64_t b) {
  const double v = static_cast<double>(b);
  if (b >= (1ull << 30)) return printf_str("%.2f GiB", v / 0x1p30);
  if (b >= (1ull << 20)) return printf_str("%.1f MiB", v / 0x1p20);
  if (b >= (1ull << 10)) return printf_str("%.1f KiB", v / 0x1p10);
  return std::to_string(b) + " B";
}

std::string format_tokens(int64_t t) {
  if (t < 1024) return std::to_string(t);
  if (t % 1024 == 0) return std::to_string(t / 1024) + "k";
  return printf_str("%.1fk", static_cast<double>(t) / 1024.0);
}

std::string format_plan_text(const PlanReport& r) {
  const PlanModel& m = r.model;
  const ModelHparams& hp = m.hp;
  std::string out =
      wrap("plan:     ", m.name + " (" + m.source + ", " +
                             (m.quant == "file" ? "types from the file" : m.quant) + ")");
  std::string shape = hp.arch + ", " + std::to_string(hp.n_layer) + " layers, heads " +
                      std::to_string(hp.n_head) + "/" + std::to_string(hp.n_head_kv) + " kv x " +
                      std::to_string(hp.head_dim);
  if (hp.is_moe()) {
    shape += ", " + std::to_string(r.n_experts) + " of " + std::to_string(hp.n_expert) + " experts";
  }
  shape += "; native ctx " + grouped(native_context(hp)) + ", max " + grouped(max_context(hp));
  out += wrap("model:    ", shape);
  out += wrap("weights:  ", format_bytes(m.weight_bytes()) + "; read per decoded token " +
                                format_bytes(m.active_weight_bytes(r.n_experts)));
  if (!r.preset_weights.empty()) {
    std::string s;
    for (const auto& [name, bytes] : r.preset_weights) {
      s += (s.empty() ? "" : ", ") + name + " " + format_bytes(bytes);
    }
    out += wrap("presets:  ", s);
  }
  out += wrap("KV cache: ", format_bytes(r.kv_bytes_per_token) + " per token (K " +
                                type_name(r.options.kv.k) + ", V " + type_name(r.options.kv.v) +
                                "); " + std::to_string(r.options.n_parallel) +
                                " sequence(s), micro-batch " + std::to_string(r.options.n_batch));
  out += wrap("device:   ", device_line(r.device, r.options));
  if (r.options.runtime_bytes > 0) {
    out += wrap("runtime:  ", format_bytes(r.options.runtime_bytes) +
                                  " in every total: the program, the tokenizer and tables, the "
                                  "kernels' scratch");
  }
  out += "\n";
  out += printf_str("%9s %10s %10s %10s %10s %8s %8s %7s\n", "context", "KV cache", "compute",
                    "total", "fits", "decode", "prefill", "RoPE");
  for (const CtxPlan& p : r.rows) {
    out += printf_str(
        "%9s %10s %10s %10s %10s %8s %8s %7s\n", grouped(p.ctx).c_str(), format_bytes(p.kv).c_str(),
        format_bytes(p.compute).c_str(), format_bytes(p.total).c_str(), fits_cell(p).c_str(),
        tps(p.decode_tps).c_str(), tps(p.prefill_tps).c_str(), rope_cell(p.rope).c_str());
  }
  if (r.speed.cpu.valid() && r.device.count == 0) {
    const MeasuredCpuSpeed& c = r.speed.cpu;
    std::string mm;
    for (const auto& [t, f] : c.matmul_flops) {
      mm += (mm.empty() ? "" : ", ") + std::string(type_name(t)) + printf_str(" %.0f", f / 1e9);
    }
    std::string gemv;
    for (const auto& [t, b] : c.gemv_bw) {
      gemv += (gemv.empty() ? "" : ", ") + std::string(type_name(t)) + printf_str(" %.1f", b / 1e9);
      const double e = c.expert_gemv_rate(t);
      if (!c.expert_gemv_bw.empty()) gemv += printf_str(" (experts %.1f)", e / 1e9);
    }
    out += wrap("", "decode and prefill in tokens/s at that depth, one sequence, from rates " +
                        c.source + " on this CPU: weights read at " +
                        printf_str("%.1f GB/s", c.read_bw / 1e9) +
                        (gemv.empty() ? "" : ", streamed by decode's matmul at GB/s " + gemv) +
                        ", decode attention " + printf_str("%.1f GB/s", c.attn_decode_bw / 1e9) +
                        " of K/V, prefill attention " +
                        printf_str("%.0f GFLOP/s", c.attn_prefill_flops / 1e9) +
                        ", matmul GFLOP/s " + mm + ". See docs/PLAN.md.");
  } else {
    out += wrap("", "decode and prefill in tokens/s at that depth, one sequence (roofline: " +
                        printf_str("%.0f%%", r.speed.bandwidth_efficiency * 100) +
                        " of peak bandwidth over active weights + KV read; " +
                        printf_str("%.0f%%", r.speed.compute_efficiency * 100) +
                        " of peak FLOPs over 2 x active params + attention). moe-cpu N: experts "
                        "of the first N layers in system RAM, read at RAM bandwidth. See "
                        "docs/PLAN.md.");
  }

  out += "\nlargest context that fits (capped at the model's maximum " + grouped(max_context(hp)) +
         "):\n";
  for (const LargestContext& l : r.largest) {
    std::string what;
    if (l.ctx == 0) {
      what = "nothing fits";
    } else {
      what = grouped(l.usable_ctx) + (l.ctx > l.usable_ctx ? "+" : "") +
             (l.rope.needed ? " with yarn x" + std::to_string(l.rope.factor) : "");
    }
    std::string line = printf_str("  %-10s %-28s %s", kv_types_name(l.kv).c_str(), what.c_str(),
                                  l.engine_runs ? "" : "(KV type planned)");
    while (line.back() == ' ') line.pop_back();
    out += line + "\n";
  }

  std::string quality;
  for (const CtxPlan& p : r.rows) {
    const std::string note = ruler_note(hp, p.ctx);
    if (!note.empty()) quality += printf_str("  %9s: ", grouped(p.ctx).c_str()) + note + "\n";
  }
  if (!quality.empty()) out += std::string("\nquality (") + kRulerSource + "):\n" + quality;

  if (!r.notes.empty()) {
    out += "\nnotes:\n";
    for (const std::string& n : r.notes) out += wrap("  - ", n);
  }
  out += "\n";
  if (r.profile_ctx > 0) {
    out += "ready to run at " + grouped(r.profile_ctx) + " tokens:\n";
    out += wrap_command("  ", r.run_command);
    out += wrap_command("  ", r.serve_command);
  } else {
    out += "nothing fits this device: try a smaller preset, a quantized KV type or --mem.\n";
  }
  return out;
}

nlohmann::json plan_json(const PlanReport& r) {
  using nlohmann::json;
  const PlanModel& m = r.model;
  const ModelHparams& hp = m.hp;
  json j;
  j["model"] = {{"name", m.name},
                {"source", m.source},
                {"quant", m.quant},
                {"arch", hp.arch},
                {"n_layer", hp.n_layer},
                {"n_head", hp.n_head},
                {"n_head_kv", hp.n_head_kv},
                {"head_dim", hp.head_dim},
                {"n_expert", hp.n_expert},
                {"n_expert_used", r.n_experts},
                {"native_ctx", native_context(hp)},
                {"max_ctx", max_context(hp)},
                {"yarn_orig_ctx", yarn_original_context(hp)},
                {"weight_bytes", m.weight_bytes()},
                {"active_weight_bytes", m.active_weight_bytes(r.n_experts)},
                {"active_params", m.active_params(r.n_experts)}};
  json presets = json::object();
  for (const auto& [name, bytes] : r.preset_weights) presets[name] = bytes;
  j["model"]["weight_bytes_by_preset"] = presets;
  const DeviceSetup& d = r.device;
  j["device"] = {{"label", d.label},
                 {"source", d.source},
                 {"count", d.count},
                 {"memory_bytes", d.memory},
                 {"total_memory_bytes", d.total_memory()},
                 {"bandwidth_bytes_per_s", d.total_bandwidth()},
                 {"flops", d.total_flops()},
                 {"host_memory_bytes", d.host_memory},
                 {"host_bandwidth_bytes_per_s", d.host_bandwidth}};
  j["options"] = {
      {"kv_type_k", type_name(r.options.kv.k)}, {"kv_type_v", type_name(r.options.kv.v)},
      {"parallel", r.options.n_parallel},       {"batch", r.options.n_batch},
      {"headroom_bytes", r.options.headroom},   {"budget_bytes", r.budget}};
  j["assumptions"] = {{"bandwidth_efficiency", r.speed.bandwidth_efficiency},
                      {"compute_efficiency", r.speed.compute_efficiency},
                      {"decode",
                       "tokens/s of one sequence at depth ctx: efficiency x bandwidth / "
                       "(active weight bytes + KV bytes of ctx tokens)"},
                      {"prefill",
                       "tokens/s averaged over a ctx-token prompt: efficiency x FLOPs / "
                       "(2 x active params + attention FLOPs at depth ctx/2)"}};
  if (r.speed.cpu.valid() && r.device.count == 0) {
    json mm = json::object();
    for (const auto& [t, f] : r.speed.cpu.matmul_flops) mm[type_name(t)] = f;
    json gemv = json::object(), expert_gemv = json::object();
    for (const auto& [t, b] : r.speed.cpu.gemv_bw) gemv[type_name(t)] = b;
    for (const auto& [t, b] : r.speed.cpu.expert_gemv_bw) expert_gemv[type_name(t)] = b;
    j["measured"] = {{"source", r.speed.cpu.source},
                     {"read_bytes_per_s", r.speed.cpu.read_bw},
                     {"attn_decode_bytes_per_s", r.speed.cpu.attn_decode_bw},
                     {"attn_prefill_flops", r.speed.cpu.attn_prefill_flops},
                     {"matmul_flops", mm},
                     {"gemv_bytes_per_s", gemv},
                     {"expert_gemv_bytes_per_s", expert_gemv}};
  }
  j["kv_bytes_per_token"] = r.kv_bytes_per_token;
  j["contexts"] = json::array();
  for (const CtxPlan& p : r.rows) {
    json row = {{"ctx", p.ctx},
                {"weights_bytes", p.weights},
                {"kv_bytes", p.kv},
                {"compute_bytes", p.compute},
                {"runtime_bytes", p.runtime},
                {"total_bytes", p.total},
                {"fits", p.fits},
                {"moe_cpu_layers", p.fits_with_offload ? json(p.moe_cpu_layers) : json(nullptr)},
                {"decode_tps", p.decode_tps},
                {"prefill_tps", p.prefill_tps},
                {"rope",
                 {{"scaling", p.rope.needed ? "yarn" : "none"},
                  {"factor", p.rope.factor},
                  {"orig_ctx", p.rope.orig_ctx}}}};
    const std::string note = ruler_note(hp, p.ctx);
    row["ruler"] = note.empty() ? json(nullptr) : json(note + " [" + kRulerSource + "]");
    j["contexts"].push_back(std::move(row));
  }
  j["largest_context"] = json::array();
  for (const LargestContext& l : r.largest) {
    j["largest_context"].push_back({{"kv_type_k", type_name(l.kv.k)},
                                    {"kv_type_v", type_name(l.kv.v)},
                                    {"ctx", l.ctx},
                                    {"usable_ctx", l.usable_ctx},
                                    {"rope_factor", l.rope.factor},
                                    {"engine_supported", l.engine_runs}});
  }
  j["profile"] = {{"ctx", r.profile_ctx},
                  {"run_command", r.run_command},
                  {"serve_command", r.serve_command},
                  {"serve_available", false}};
  j["notes"] = r.notes;
  return j;
}

std::string format_overview_text(const std::vector<OverviewRow>& rows, const DeviceSetup& device,
                                 const PlanOptions& options) {
  std::string out = wrap("device: ", device_line(device, options));
  out += wrap("",
              "Largest context per model and preset with an f16 KV cache, 1 sequence, "
              "micro-batch " +
                  std::to_string(options.n_batch) +
                  ". Capped at each model's maximum; past its native context YaRN is needed. "
                  "'-': the weights do not fit, or leave room for fewer than " +
                  std::to_string(kMinUsefulContext) + " tokens.");
  out += "\n";
  if (rows.empty()) return out;
  out += printf_str("%-21s", "model");
  for (const std::string& p : rows[0].presets) out += printf_str(" %8s", p.c_str());
  out += "\n";
  for (const OverviewRow& row : rows) {
    out += printf_str("%-21s", row.model.c_str());
    for (int64_t l : row.largest) {
      out += printf_str(" %8s", l >= kMinUsefulContext ? format_tokens(l).c_str() : "-");
    }
    out += "\n";
  }
  out += "\ndetails: longctx plan MODEL [--quant PRESET] [--ctx N,...] [--kv-type T]\n";
  return out;
}

nlohmann::json overview_json(const std::vector<OverviewRow>& rows, const DeviceSetup& device,
                             const PlanOptions& options) {
  using nlohmann::json;
  json j;
  j["device"] = {{"label", device.label},
                 {"source", device.source},
                 {"count", device.count},
                 {"total_memory_bytes", device.total_memory()},
                 {"budget_bytes", device_budget(device, options.headroom)}};
  j["kv_type"] = "f16";
  j["models"] = json::array();
  for (const OverviewRow& row : rows) {
    json presets = json::array();
    for (size_t i = 0; i < row.presets.size(); ++i) {
      presets.push_back({{"preset", row.presets[i]},
                         {"weight_bytes", row.weight_bytes[i]},
                         {"largest_ctx", row.largest[i]}});
    }
    j["models"].push_back({{"model", row.model},
                           {"native_ctx", row.native_ctx},
                           {"max_ctx", row.max_ctx},
                           {"presets", presets}});
  }
  return j;
}

}  // namespace longctx
