// libFuzzer target for session files (runtime/session_file.h): the input mutates a valid file of
// a tiny model written at start-up (a truncation length, then (offset, xor) byte edits). When the
// input's first byte is odd, every checksum is recomputed after the edits, so the parser meets
// structurally broken files that pass their hashes: lengths, positions, record kinds, commits.
// Loading must either succeed with a state that fits the session or fail with a reason; it must
// never crash, hang or write the file. See docs/GGUF.md for how to build and run fuzz targets.
#include <unistd.h>
#include <xxhash.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/file_io.h"
#include "model/synth.h"
#include "plan/catalog.h"
#include "runtime/engine.h"
#include "runtime/session.h"
#include "runtime/session_file.h"

namespace {

std::unique_ptr<longctx::Engine> g_engine;
std::unique_ptr<longctx::Session> g_session;
std::string g_base;  // a valid session file
std::string g_path;

std::string temp(const char* name) {
  return std::string("/tmp/longctx-fuzz-") + std::to_string(::getpid()) + "-" + name;
}

uint64_t get64(const std::string& b, size_t at) {
  uint64_t v = 0;
  if (at + 8 <= b.size()) std::memcpy(&v, b.data() + at, 8);
  return v;
}
void put64(std::string& b, size_t at, uint64_t v) {
  if (at + 8 <= b.size()) std::memcpy(&b[at], &v, 8);
}

// Recomputes the configuration hash, each superblock's and each record's (walking the records by
// their length fields as the reader does, stopping where they run out).
void fix_checksums(std::string& b) {
  if (b.size() < 4096) return;
  put64(b, 248, XXH3_64bits(b.data(), 248));
  for (size_t slot : {size_t{1024}, size_t{2048}}) put64(b, slot + 24, XXH3_64bits(&b[slot], 24));
  size_t at = 4096;
  while (at + 40 <= b.size()) {
    const uint64_t len = get64(b, at + 8);
    if (len > b.size() - at - 40) break;
    put64(b, at + 16, XXH3_64bits(&b[at + 40], static_cast<size_t>(len)));
    put64(b, at + 32, XXH3_64bits(&b[at], 32));
    at += 40 + static_cast<size_t>(len);
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  using namespace longctx;
  SynthOptions opt;
  opt.hparams = hparams_from_shape(*find_model_shape("qwen3-tiny"));
  opt.hparams.n_vocab = 256;
  opt.type = TensorType::F32;
  const std::string model = temp("model.gguf");
  if (!write_synth_model(opt, model).is_ok()) std::abort();
  EngineOptions eo;
  eo.model_path = model;
  eo.backend = "ref";
  auto e = Engine::load(eo);
  if (!e) std::abort();
  g_engine = std::move(e.value());
  auto s = g_engine->new_session({.n_ctx = 48, .n_batch = 8, .type_k = TensorType::Q8_0});
  if (!s) std::abort();
  g_session = std::move(s.value());
  // Two commits, the second a truncation: every record kind and a superseded commit.
  const std::string base = temp("base.lcs");
  std::remove(base.c_str());
  {
    auto f = SessionFile::open(base, *g_session, nullptr);
    if (!f) std::abort();
    const std::vector<int32_t> a = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    if (!g_session->eval(a).is_ok() || !(*f)->save(*g_session, "first").is_ok()) std::abort();
    g_session->truncate(4);
    const std::vector<int32_t> b = {11, 12, 13};
    if (!g_session->eval(b).is_ok() || !(*f)->save(*g_session, "second").is_ok()) std::abort();
  }
  auto bytes = read_file(base);
  if (!bytes) std::abort();
  g_base = *bytes;
  std::remove(base.c_str());
  std::remove(model.c_str());
  g_path = temp("input.lcs");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace longctx;
  if (size < 5) return 0;
  std::string b = g_base;
  uint32_t cut;
  std::memcpy(&cut, data + 1, 4);
  b.resize(std::min<size_t>(b.size(), cut % (b.size() + 1)));
  for (size_t i = 5; i + 5 <= size && !b.empty(); i += 5) {
    uint32_t at;
    std::memcpy(&at, data + i, 4);
    b[at % b.size()] = static_cast<char>(b[at % b.size()] ^ data[i + 4]);
  }
  if (data[0] & 1) fix_checksums(b);
  if (!write_file_atomic(g_path, b).is_ok()) return 0;
  std::string app;
  auto f = SessionFile::open(g_path, *g_session, &app);
  if (f.is_ok()) {
    if (g_session->n_past() > g_session->n_ctx()) __builtin_trap();
    // A loaded state evaluates: its K/V and tokens are usable.
    const int32_t one[1] = {1};
    if (g_session->n_past() < g_session->n_ctx() && !g_session->eval(one).is_ok()) {
      __builtin_trap();
    }
  } else if (f.status().message().empty()) {
    __builtin_trap();  // every refusal says why
  }
  auto after = read_file(g_path);
  if (!after || *after != b) __builtin_trap();  // opening never writes the file
  g_session->reset();
  return 0;
}
