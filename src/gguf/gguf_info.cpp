// Formats the `longctx info` report of a GGUF file (see gguf_info.h).
#include "gguf/gguf_info.h"

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <map>

namespace longctx {
namespace {

std::string format(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), fmt, v);
  return buf;
}

// "uint32", "array[string]", "array[array]".
std::string type_label(const GgufValue& v) {
  if (v.type != GgufType::ARRAY) return gguf_type_name(v.type);
  return std::string("array[") + gguf_type_name(v.elem_type) + "]";
}

std::string dims_label(const GgufTensorInfo& t) {
  std::string out = "[";
  for (size_t d = 0; d < t.dims.size(); ++d) {
    if (d) out += ", ";
    out += std::to_string(t.dims[d]);
  }
  return out + "]";
}

void append_line(std::string& out, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
void append_line(std::string& out, const char* fmt, ...) {
  char buf[1024];
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(buf, sizeof(buf), fmt, args);
  va_end(args);
  out += buf;
  out += '\n';
}

}  // namespace

std::string human_count(uint64_t n) {
  const double v = static_cast<double>(n);
  // Three significant digits below 10 of a unit read better as one decimal: 7.6B, 596M.
  if (v >= 1e12) return format(v >= 1e13 ? "%.0fT" : "%.1fT", v / 1e12);
  if (v >= 1e9) return format(v >= 1e11 ? "%.0fB" : "%.1fB", v / 1e9);
  if (v >= 1e6) return format(v >= 1e7 ? "%.0fM" : "%.1fM", v / 1e6);
  if (v >= 1e3) return format(v >= 1e4 ? "%.0fK" : "%.1fK", v / 1e3);
  return std::to_string(n);
}

std::string human_bytes(uint64_t n) {
  const double v = static_cast<double>(n);
  if (n >= (uint64_t{1} << 30)) return format("%.2f GiB", v / (1 << 30));
  if (n >= (uint64_t{1} << 20)) return format("%.2f MiB", v / (1 << 20));
  if (n >= (uint64_t{1} << 10)) return format("%.2f KiB", v / (1 << 10));
  return std::to_string(n) + " B";
}

std::string format_gguf_info(const GgufFile& f, uint64_t file_size, const GgufInfoOptions& opts) {
  std::string out;
  const std::string arch = f.architecture();
  append_line(out, "GGUF version:  %u", f.version());
  append_line(out, "architecture:  %s", arch.empty() ? "(none)" : arch.c_str());
  append_line(out, "alignment:     %llu", static_cast<unsigned long long>(f.alignment()));
  append_line(out, "data offset:   %llu%s", static_cast<unsigned long long>(f.data_offset()),
              f.tensors().empty() ? " (no tensor data)" : "");
  append_line(out, "file size:     %llu (%s)", static_cast<unsigned long long>(file_size),
              human_bytes(file_size).c_str());

  append_line(out, "\nmetadata: %zu keys", f.metadata().size());
  size_t key_width = 0, type_width = 0;
  for (const GgufKV& kv : f.metadata()) {
    key_width = std::max(key_width, kv.key.size());
    type_width = std::max(type_width, type_label(kv.value).size());
  }
  for (const GgufKV& kv : f.metadata()) {
    // Values can be long (abbreviated arrays), so they are appended rather than formatted.
    char head[512];
    std::snprintf(head, sizeof(head), "  %-*s  %-*s  ",
                  static_cast<int>(std::min<size_t>(key_width, 200)), kv.key.c_str(),
                  static_cast<int>(type_width), type_label(kv.value).c_str());
    out += head;
    out += kv.value.to_string(opts.max_array_elems);
    out += '\n';
  }

  // Totals per tensor type, in type-id order.
  struct Totals {
    uint64_t count = 0, params = 0, bytes = 0;
  };
  std::map<uint32_t, Totals> by_type;
  Totals all;
  for (const GgufTensorInfo& t : f.tensors()) {
    Totals& tt = by_type[static_cast<uint32_t>(t.type)];
    tt.count += 1, tt.params += t.n_elements, tt.bytes += t.n_bytes;
    all.count += 1, all.params += t.n_elements, all.bytes += t.n_bytes;
  }
  append_line(out, "\ntensors:       %llu", static_cast<unsigned long long>(all.count));
  append_line(out, "parameters:    %llu (%s)", static_cast<unsigned long long>(all.params),
              human_count(all.params).c_str());
  append_line(out, "tensor bytes:  %llu (%s)", static_cast<unsigned long long>(all.bytes),
              human_bytes(all.bytes).c_str());
  if (!by_type.empty()) {
    append_line(out, "  %-8s %7s %14s %16s %7s", "type", "tensors", "parameters", "bytes", "share");
    for (const auto& [id, tt] : by_type) {
      const double share = all.bytes ? 100.0 * static_cast<double>(tt.bytes) / all.bytes : 0;
      append_line(out, "  %-8s %7llu %14llu %16llu %6.1f%%", type_name(static_cast<TensorType>(id)),
                  static_cast<unsigned long long>(tt.count),
                  static_cast<unsigned long long>(tt.params),
                  static_cast<unsigned long long>(tt.bytes), share);
    }
  }

  if (opts.list_tensors && !f.tensors().empty()) {
    append_line(out, "\n  %-40s %-8s %-28s %14s %14s", "name", "type", "dims", "bytes", "offset");
    for (const GgufTensorInfo& t : f.tensors()) {
      append_line(out, "  %-40s %-8s %-28s %14llu %14llu", t.name.c_str(), type_name(t.type),
                  dims_label(t).c_str(), static_cast<unsigned long long>(t.n_bytes),
                  static_cast<unsigned long long>(t.offset));
    }
  }
  return out;
}

}  // namespace longctx
