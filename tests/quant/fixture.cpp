// Reads the zstd-compressed oracle fixtures of tests/quant/data/ and validates their headers.
#include "fixture.h"

#include <cstring>

#include "core/file_io.h"

namespace longctx::testing {
namespace {

Result<Fixture> parse(const std::string& name, const std::string& data) {
  constexpr size_t kHeader = 20;
  if (data.size() < kHeader || data.compare(0, 4, "LQF1") != 0) {
    return invalid_format(name + ": not an LQF1 fixture");
  }
  uint32_t h[4];
  std::memcpy(h, data.data() + 4, sizeof(h));
  auto type = type_traits(h[0]);
  if (!type) return invalid_format(name + ": unknown type id " + std::to_string(h[0]));
  if (h[1] > 2) return invalid_format(name + ": unknown kind " + std::to_string(h[1]));
  Fixture f{type->type, static_cast<FixtureKind>(h[1]), {}, {}};
  const uint64_t n_floats = h[2], n_bytes = h[3];
  const uint64_t stored_floats = f.kind == FixtureKind::kQuantSharedInput ? 0 : n_floats;
  if (data.size() != kHeader + 4 * stored_floats + n_bytes) {
    return invalid_format(name + ": size " + std::to_string(data.size()) +
                          " does not match header");
  }
  const char* p = data.data() + kHeader;
  f.bytes.resize(n_bytes);
  f.floats.resize(stored_floats);
  // Empty vectors may have null data(), which memcpy must not see even for size 0.
  const char* bytes_at = f.kind == FixtureKind::kDequant ? p : p + 4 * stored_floats;
  const char* floats_at = f.kind == FixtureKind::kDequant ? p + n_bytes : p;
  if (n_bytes > 0) std::memcpy(f.bytes.data(), bytes_at, n_bytes);
  if (stored_floats > 0) std::memcpy(f.floats.data(), floats_at, 4 * stored_floats);
  if (f.kind == FixtureKind::kQuantSharedInput) f.floats.resize(n_floats);  // filled by caller
  return f;
}

Result<Fixture> load_raw(const std::string& name) {
  auto data = read_file(std::string(LONGCTX_TEST_DATA_DIR) + "/" + name + ".bin.zst");
  if (!data.is_ok()) return data.status();
  return parse(name, *data);
}

}  // namespace

Result<Fixture> load_fixture(const std::string& name) {
  auto f = load_raw(name);
  if (!f.is_ok() || f->kind != FixtureKind::kQuantSharedInput) return f;
  auto input = load_raw("q_input");
  if (!input.is_ok()) return input.status();
  if (input->floats.size() != f->floats.size()) {
    return invalid_format(name + ": element count differs from q_input");
  }
  f->floats = input->floats;
  return f;
}

}  // namespace longctx::testing
