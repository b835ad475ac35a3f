// Planning never reads tensor data: a GGUF whose tensor table declares about 100 GB (a sparse
// file: the header of a real synth model with its embedding and head grown, data never written)
// plans in well under a second, with the bytes of its tensor table.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include "common/temp_path.h"
#include "core/file_io.h"
#include "gguf/gguf.h"
#include "gguf/gguf_layout.h"
#include "model/synth.h"
#include "plan/plan_format.h"
#include "plan_test_util.h"

namespace longctx {
namespace {

// token_embd and output rows: 64 f32 x 200M rows = 51.2 GB each.
constexpr uint64_t kBigVocab = 200'000'000;

std::string write_sparse_model(uint64_t* declared_bytes) {
  SynthOptions opt;
  opt.hparams = hparams_from_shape(*find_model_shape("qwen3moe-tiny"));
  opt.hparams.n_vocab = 512;
  opt.type = TensorType::F32;
  const std::string small = testing_util::remove_at_exit(testing_util::unique_temp_path("s.gguf"));
  LONGCTX_CHECK(write_synth_model(opt, small).is_ok());
  auto f = GgufFile::open(small);
  LONGCTX_CHECK(f.is_ok());
  auto bytes = read_file(small);
  LONGCTX_CHECK(bytes.is_ok());
  std::vector<uint8_t> file(bytes->begin(), bytes->end());

  // New sizes, then offsets laid out again with the file's alignment; the header keeps its
  // length because dims and offsets are fixed-width fields.
  std::vector<uint64_t> n_bytes, offsets;
  uint64_t end = 0;
  for (const GgufTensorInfo& t : f->tensors()) {
    const bool grow = t.name == "token_embd.weight" || t.name == "output.weight";
    const uint64_t n = grow ? t.n_bytes / t.dims[1] * kBigVocab : t.n_bytes;
    const uint64_t at = (end + f->alignment() - 1) / f->alignment() * f->alignment();
    n_bytes.push_back(n);
    offsets.push_back(at);
    end = at + n;
  }
  *declared_bytes = 0;
  for (uint64_t n : n_bytes) *declared_bytes += n;
  size_t tensor = 0;
  for (const testing_util::HeaderField& h : testing_util::map_header(file)) {
    const bool big = h.what.rfind("tensor 'token_embd.weight' dim 1", 0) == 0 ||
                     h.what.rfind("tensor 'output.weight' dim 1", 0) == 0;
    if (h.kind == testing_util::FieldKind::kDim && big) {
      testing_util::poke(file, h.pos, h.width, kBigVocab);
    }
    if (h.kind == testing_util::FieldKind::kTensorOffset) {
      testing_util::poke(file, h.pos, h.width, offsets[tensor++]);
    }
  }
  const std::string path =
      testing_util::remove_at_exit(testing_util::unique_temp_path("sparse_100gb.gguf"));
  const int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0644);
  LONGCTX_CHECK(fd >= 0);
  const size_t header = f->data_offset();
  LONGCTX_CHECK(::write(fd, file.data(), header) == static_cast<ssize_t>(header));
  LONGCTX_CHECK(::ftruncate(fd, static_cast<off_t>(header + end)) == 0);  // a hole, no data
  ::close(fd);
  return path;
}

TEST(PlanBigFile, HundredGigabyteTensorTablePlansInstantly) {
  uint64_t declared = 0;
  const std::string path = write_sparse_model(&declared);
  ASSERT_GT(declared, 100'000'000'000ull);
  const auto t0 = std::chrono::steady_clock::now();
  auto file = GgufFile::open(path);
  ASSERT_TRUE(file.is_ok()) << file.status().message();
  auto m = plan_model_from_gguf(*file, path);
  ASSERT_TRUE(m.is_ok()) << m.status().message();
  PlanOptions o = testing_util::engine_plan_options();
  const DeviceSetup d = testing_util::gpu(256ull << 30);
  o.headroom = default_headroom(d);
  const PlanReport r = build_plan_report(*m, d, o, default_contexts(m->hp), 0, path);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(m->hp.n_vocab, kBigVocab);
  EXPECT_EQ(m->weight_bytes(), declared);
  EXPECT_EQ(r.rows[0].weights, declared);
  // Reading 100 GB would take far more than a second; planning takes milliseconds.
  EXPECT_LT(seconds, 1.0);
}

}  // namespace
}  // namespace longctx
