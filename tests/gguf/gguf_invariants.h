// Independent re-check of what a successfully parsed GgufFile promises (used by the mutation
// test and the fuzzer): every tensor lies inside the file, aligned, sized by its type, without
// overlap; names and keys are unique. Also touches every metadata value and tensor byte.
#pragma once

#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "gguf/gguf.h"

namespace longctx::testing_util {

// Returns "" when every invariant holds, else a description of the first violation.
inline std::string check_invariants(const GgufFile& f, size_t file_size) {
  if (f.version() != 2 && f.version() != 3) return "version " + std::to_string(f.version());
  const uint64_t a = f.alignment();
  if (a == 0 || (a & (a - 1)) != 0) return "alignment " + std::to_string(a);
  if (f.data_offset() % a != 0) return "data offset not aligned";
  std::set<std::string> keys;
  size_t rendered = 0;
  for (const GgufKV& kv : f.metadata()) {
    if (!keys.insert(kv.key).second) return "duplicate key " + kv.key;
    rendered += kv.value.to_string().size();  // touches strings and nested arrays
  }
  if (rendered == 0 && !f.metadata().empty()) return "empty rendering";
  std::set<std::string> names;
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (const GgufTensorInfo& t : f.tensors()) {
    if (!names.insert(t.name).second) return "duplicate tensor " + t.name;
    if (t.dims.empty() || t.dims.size() > 4) return t.name + ": dims";
    uint64_t n = 1;
    for (uint64_t d : t.dims) {
      if (d == 0) return t.name + ": zero dim";
      if (__builtin_mul_overflow(n, d, &n)) return t.name + ": element overflow";
    }
    if (n != t.n_elements) return t.name + ": n_elements";
    const TypeTraits& tr = traits(t.type);
    if (t.dims[0] % tr.block_size != 0) return t.name + ": row not whole blocks";
    if (t.n_bytes != n / tr.block_size * tr.block_bytes) return t.name + ": n_bytes";
    if (t.offset % a != 0) return t.name + ": offset not aligned";
    uint64_t end = 0;
    if (__builtin_add_overflow(f.data_offset(), t.offset, &end) ||
        __builtin_add_overflow(end, t.n_bytes, &end) || end > file_size) {
      return t.name + ": outside the file";
    }
    if (f.find_tensor(t.name) != &t) return t.name + ": find_tensor";
    ranges.push_back({t.offset, t.offset + t.n_bytes});
    // Touch the first and last byte through the public view.
    if (t.n_bytes > 0) {
      volatile uint8_t sink = f.tensor_data(t)[0] ^ f.tensor_data(t)[t.n_bytes - 1];
      (void)sink;
    }
  }
  std::sort(ranges.begin(), ranges.end());
  for (size_t k = 1; k < ranges.size(); ++k) {
    if (ranges[k].first < ranges[k - 1].second) return "overlapping tensors";
  }
  return "";
}

}  // namespace longctx::testing_util
