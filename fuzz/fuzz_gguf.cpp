// libFuzzer target for the GGUF reader: parses arbitrary bytes, then touches every returned value
// (typed getters on every key, every tensor's bytes) and traps if a parsed file breaks an
// invariant (tensor outside the file, overlap, misalignment...). See docs/GGUF.md to run it.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "gguf/gguf.h"
#include "gguf/gguf_info.h"
#include "gguf_invariants.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto r = longctx::GgufFile::parse(data, size);
  if (!r.is_ok()) {
    if (r.status().message().empty()) __builtin_trap();  // every rejection must say why
    return 0;
  }
  const longctx::GgufFile& f = r.value();
  const std::string violation = longctx::testing_util::check_invariants(f, size);
  if (!violation.empty()) {
    std::fprintf(stderr, "invariant violated: %s\n", violation.c_str());
    __builtin_trap();
  }
  size_t touched = 0;
  for (const longctx::GgufKV& kv : f.metadata()) {
    // Each getter either succeeds or explains why; both paths are exercised for every key.
    touched += f.get_string(kv.key).is_ok() + f.get_uint(kv.key).is_ok() +
               f.get_int(kv.key).is_ok() + f.get_float(kv.key).is_ok() +
               f.get_bool(kv.key).is_ok() + f.get_string_array(kv.key).is_ok() +
               f.get_int_array(kv.key).is_ok() + f.get_float_array(kv.key).is_ok();
  }
  uint8_t x = 0;
  for (const longctx::GgufTensorInfo& t : f.tensors()) {
    const uint8_t* p = f.tensor_data(t);
    for (uint64_t k = 0; k < t.n_bytes; ++k) x ^= p[k];
  }
  const std::string report = longctx::format_gguf_info(f, size, {.list_tensors = true});
  volatile size_t sink = touched + x + report.size() + f.architecture().size();
  (void)sink;
  return 0;
}
