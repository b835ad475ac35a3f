// Session files: save -> resume gives bit-identical next-token logits (f16 and quantized caches),
// a save appends only the new positions, a crash at any byte of a save leaves the old or the new
// state, and files of another model (same shape, other weights), another cache type, or ones
// truncated or corrupted are refused with the reason and left byte for byte as they were.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "core/file_io.h"
#include "runtime/engine.h"
#include "runtime/engine_test_util.h"
#include "runtime/generate.h"
#include "runtime/session.h"
#include "runtime/session_file.h"

namespace longctx {
namespace {

using testing_util::unique_temp_path;
using testing_util::write_tiny_model;

const std::string& model_a() {
  static const std::string p = write_tiny_model({.seed = 11}, "sf_a.gguf");
  return p;
}
// Same shape and type as model_a, other weights.
const std::string& model_b() {
  static const std::string p = write_tiny_model({.seed = 12}, "sf_b.gguf");
  return p;
}

std::unique_ptr<Engine> load(const std::string& path, const char* backend = "cpu") {
  return testing_util::load_test_engine(path, backend);
}

std::unique_ptr<Session> new_session(Engine& e, TensorType t = TensorType::F16, int64_t ctx = 256) {
  SessionOptions so;
  so.n_ctx = ctx;
  so.n_batch = 16;
  so.type_k = so.type_v = t;
  auto s = e.new_session(so);
  EXPECT_TRUE(s.is_ok()) << s.status().message();
  return s.is_ok() ? std::move(s.value()) : nullptr;
}

std::vector<int32_t> ids(int n, int seed, int32_t n_vocab) {
  std::vector<int32_t> v;
  for (int i = 0; i < n; ++i)
    v.push_back(static_cast<int32_t>((i * 131 + seed * 17 + 3) % n_vocab));
  return v;
}

std::string temp(const std::string& name) {
  const std::string p = unique_temp_path(name);
  std::remove(p.c_str());
  return p;
}

std::string bytes_of(const std::string& path) {
  auto r = read_file(path);
  return r.is_ok() ? *r : std::string();
}

void write_bytes(const std::string& path, const std::string& data) {
  ASSERT_TRUE(write_file_atomic(path, data).is_ok());
}

bool same_logits(const Session& a, const Session& b, int64_t n_vocab) {
  return std::memcmp(a.logits(), b.logits(), static_cast<size_t>(n_vocab) * sizeof(float)) == 0;
}

TEST(SessionFile, ResumeGivesBitIdenticalLogitsAndContinues) {
  auto e = load(model_a());
  ASSERT_TRUE(e);
  const int32_t nv = static_cast<int32_t>(e->hparams().n_vocab);
  for (TensorType t : {TensorType::F16, TensorType::Q8_0, TensorType::Q4_0}) {
    const std::string path = temp("sf_resume.lcs");
    auto s = new_session(*e, t);
    std::string app;
    auto f = SessionFile::open(path, *s, &app);
    ASSERT_TRUE(f.is_ok()) << f.status().message();
    EXPECT_EQ((*f)->loaded_tokens(), 0);
    ASSERT_TRUE(s->eval(ids(40, 1, nv)).is_ok());
    s->snapshot_logits();
    ASSERT_TRUE((*f)->save(*s, "transcript-1").is_ok());
    f->reset();  // closes the file

    auto r = new_session(*e, t);
    auto g = SessionFile::open(path, *r, &app);
    ASSERT_TRUE(g.is_ok()) << g.status().message();
    EXPECT_EQ((*g)->loaded_tokens(), 40);
    EXPECT_EQ(app, "transcript-1");
    EXPECT_EQ(r->tokens(), s->tokens());
    EXPECT_EQ(r->snapshot().n_tokens, 40);
    EXPECT_TRUE(same_logits(*s, *r, nv)) << type_name(t);
    // The next token evaluates to the same bits on both: the K/V came back exactly.
    const std::vector<int32_t> next = {7, 8, 9};
    ASSERT_TRUE(s->eval(next).is_ok());
    ASSERT_TRUE(r->eval(next).is_ok());
    EXPECT_TRUE(same_logits(*s, *r, nv)) << type_name(t);
    std::remove(path.c_str());
  }
}

TEST(SessionFile, SavesAppendOnlyTheNewPositions) {
  auto e = load(model_a());
  ASSERT_TRUE(e);
  const int32_t nv = static_cast<int32_t>(e->hparams().n_vocab);
  const std::string path = temp("sf_append.lcs");
  auto s = new_session(*e);
  auto f = SessionFile::open(path, *s, nullptr);
  ASSERT_TRUE(f.is_ok());
  ASSERT_TRUE(s->eval(ids(100, 2, nv)).is_ok());
  ASSERT_TRUE((*f)->save(*s, "").is_ok());
  const uint64_t first = (*f)->last_save_bytes();
  ASSERT_TRUE(s->eval(ids(5, 3, nv)).is_ok());
  ASSERT_TRUE((*f)->save(*s, "").is_ok());
  const uint64_t second = (*f)->last_save_bytes();
  // Per position: a token id and every layer's K and V rows; plus fixed record overheads and
  // the logits (n_vocab floats) of the commit.
  const KvCache& kv = s->kv();
  const uint64_t per_pos = 4 + kv.shape().n_layer * (kv.k_token_bytes() + kv.v_token_bytes());
  const uint64_t fixed = 2 * 40 + 16 + 32 + static_cast<uint64_t>(nv) * 4;
  EXPECT_EQ(first, 100 * per_pos + fixed);
  EXPECT_EQ(second, 5 * per_pos + fixed);
  // A prompt that diverges at position 60 writes from 60 on only.
  s->truncate(60);
  ASSERT_TRUE(s->eval(ids(10, 4, nv)).is_ok());
  ASSERT_TRUE((*f)->save(*s, "").is_ok());
  EXPECT_EQ((*f)->last_save_bytes(), 10 * per_pos + fixed);
  f->reset();
  auto r = new_session(*e);
  auto g = SessionFile::open(path, *r, nullptr);
  ASSERT_TRUE(g.is_ok()) << g.status().message();
  EXPECT_EQ(r->tokens(), s->tokens());
  EXPECT_TRUE(same_logits(*s, *r, nv));
  std::remove(path.c_str());
}

// A save interrupted after any number of its bytes reached the disk (the superblock is written
// last, after a data sync) resumes as the state before it; the complete save as the new one.
TEST(SessionFile, ACrashAtAnyByteLeavesTheOldOrTheNewState) {
  auto e = load(model_a());
  ASSERT_TRUE(e);
  const int32_t nv = static_cast<int32_t>(e->hparams().n_vocab);
  const std::string path = temp("sf_crash.lcs");
  auto s = new_session(*e);
  auto f = SessionFile::open(path, *s, nullptr);
  ASSERT_TRUE(f.is_ok());
  ASSERT_TRUE(s->eval(ids(30, 5, nv)).is_ok());
  ASSERT_TRUE((*f)->save(*s, "old").is_ok());
  const std::string old_bytes = bytes_of(path);
  const std::vector<int32_t> old_tokens = s->tokens();
  // The new state rewrites from position 20 (a truncation), so the old positions 20.. are
  // superseded in the same file.
  s->truncate(20);
  ASSERT_TRUE(s->eval(ids(15, 6, nv)).is_ok());
  ASSERT_TRUE((*f)->save(*s, "new").is_ok());
  f->reset();
  const std::string new_bytes = bytes_of(path);
  ASSERT_GT(new_bytes.size(), old_bytes.size());
  // Crash images: the new records cut at a byte, the header (superblocks) still the old one.
  const std::string probe = temp("sf_crash_probe.lcs");
  for (size_t cut = old_bytes.size(); cut < new_bytes.size(); cut += 97) {
    std::string img = new_bytes.substr(0, cut);
    img.replace(0, 4096, old_bytes.substr(0, 4096));
    write_bytes(probe, img);
    auto r = new_session(*e);
    std::string app;
    auto g = SessionFile::open(probe, *r, &app);
    ASSERT_TRUE(g.is_ok()) << "cut " << cut << ": " << g.status().message();
    EXPECT_EQ(r->tokens(), old_tokens) << "cut " << cut;
    EXPECT_EQ(app, "old");
  }
  auto r = new_session(*e);
  std::string app;
  auto g = SessionFile::open(path, *r, &app);
  ASSERT_TRUE(g.is_ok()) << g.status().message();
  EXPECT_EQ(r->tokens(), s->tokens());
  EXPECT_EQ(app, "new");
  std::remove(path.c_str());
  std::remove(probe.c_str());
}

TEST(SessionFile, RefusesOtherModelsTypesAndDamagedFilesLeavingThemUntouched) {
  auto e = load(model_a());
  auto eb = load(model_b());
  ASSERT_TRUE(e && eb);
  const int32_t nv = static_cast<int32_t>(e->hparams().n_vocab);
  const std::string path = temp("sf_refuse.lcs");
  {
    auto s = new_session(*e, TensorType::Q8_0);
    auto f = SessionFile::open(path, *s, nullptr);
    ASSERT_TRUE(f.is_ok());
    ASSERT_TRUE(s->eval(ids(50, 7, nv)).is_ok());
    ASSERT_TRUE((*f)->save(*s, "x").is_ok());
  }
  const std::string good = bytes_of(path);
  auto expect_refused = [&](Engine& eng, TensorType t, const std::string& file, const char* why) {
    const std::string before = bytes_of(file);
    auto s = new_session(eng, t);
    ASSERT_TRUE(s->eval(ids(3, 9, nv)).is_ok());
    auto f = SessionFile::open(file, *s, nullptr);
    ASSERT_FALSE(f.is_ok()) << why;
    EXPECT_NE(f.status().message().find(why), std::string::npos) << f.status().message();
    EXPECT_EQ(s->n_past(), 0);  // the session holds nothing half-loaded
    EXPECT_EQ(bytes_of(file), before) << "the refused file changed";
  };
  expect_refused(*eb, TensorType::Q8_0, path, "another model file");
  expect_refused(*e, TensorType::F16, path, "q8_0/q8_0 KV cache");
  // Truncated inside the committed records.
  const std::string cut = temp("sf_cut.lcs");
  write_bytes(cut, good.substr(0, good.size() - 100));
  expect_refused(*e, TensorType::Q8_0, cut, "truncated");
  write_bytes(cut, good.substr(0, 4096 + 1000));
  expect_refused(*e, TensorType::Q8_0, cut, "truncated");
  // One flipped byte in the K/V data, in a record header, in the configuration.
  for (const auto& [at, why] : {std::pair<size_t, const char*>{good.size() / 2, "checksum"},
                                {4096 + 3, "bad record header"},
                                {44, "header is corrupt"}}) {
    std::string bad = good;
    bad[at] = static_cast<char>(bad[at] ^ 0x40);
    write_bytes(cut, bad);
    expect_refused(*e, TensorType::Q8_0, cut, why);
  }
  // Not a session file at all (the model itself, by mistake).
  expect_refused(*e, TensorType::Q8_0, model_a(), "not a longctx session file");
  // A context too small for the state.
  {
    auto s = new_session(*e, TensorType::Q8_0, 32);
    auto f = SessionFile::open(path, *s, nullptr);
    ASSERT_FALSE(f.is_ok());
    EXPECT_NE(f.status().message().find("raise --ctx"), std::string::npos) << f.status().message();
  }
  EXPECT_EQ(bytes_of(path), good);
  std::remove(path.c_str());
  std::remove(cut.c_str());
}

// The checks a chat's /session load runs first: a dry run leaves the session as it was; save_as
// writes a whole copy, replacing only an earlier session file.
TEST(SessionFile, VerifyAndSaveAsKeepWhatIsThere) {
  auto e = load(model_a());
  ASSERT_TRUE(e);
  const int32_t nv = static_cast<int32_t>(e->hparams().n_vocab);
  auto s = new_session(*e);
  ASSERT_TRUE(s->eval(ids(33, 4, nv)).is_ok());
  const std::string path = temp("sf_saveas.lcs");
  auto f = SessionFile::save_as(path, *s, "copy");
  ASSERT_TRUE(f.is_ok()) << f.status().message();
  f->reset();
  auto other = new_session(*e);
  ASSERT_TRUE(other->eval(ids(5, 9, nv)).is_ok());
  auto n = SessionFile::verify(path, *other);
  ASSERT_TRUE(n.is_ok()) << n.status().message();
  EXPECT_EQ(*n, 33);
  EXPECT_EQ(other->n_past(), 5);  // untouched
  std::string bad = bytes_of(path);
  bad[bad.size() / 2] ^= 1;
  const std::string broken = temp("sf_broken.lcs");
  write_bytes(broken, bad);
  EXPECT_FALSE(SessionFile::verify(broken, *other).is_ok());
  EXPECT_EQ(other->n_past(), 5);
  // Replacing an earlier session file works; anything else is refused and kept.
  auto g = SessionFile::save_as(path, *other, "second");
  ASSERT_TRUE(g.is_ok()) << g.status().message();
  g->reset();
  auto r = new_session(*e);
  std::string app;
  ASSERT_TRUE(SessionFile::open(path, *r, &app).is_ok());
  EXPECT_EQ(app, "second");
  EXPECT_EQ(r->tokens(), other->tokens());
  const std::string notes = temp("sf_notes.txt");
  write_bytes(notes, "my notes");
  auto h = SessionFile::save_as(notes, *other, "");
  ASSERT_FALSE(h.is_ok());
  EXPECT_NE(h.status().message().find("not a longctx session file"), std::string::npos);
  EXPECT_EQ(bytes_of(notes), "my notes");
  for (const std::string& p : {path, broken, notes}) std::remove(p.c_str());
}

TEST(SessionFile, ASaveWithoutDiskSpaceWritesNothing) {
  auto e = load(model_a());
  ASSERT_TRUE(e);
  const int32_t nv = static_cast<int32_t>(e->hparams().n_vocab);
  const std::string path = temp("sf_disk.lcs");
  uint64_t free_bytes = uint64_t{1} << 40;
  SessionFileOptions o;
  o.free_bytes = [&](const std::string&) -> Result<uint64_t> { return free_bytes; };
  auto s = new_session(*e);
  auto f = SessionFile::open(path, *s, nullptr, o);
  ASSERT_TRUE(f.is_ok());
  ASSERT_TRUE(s->eval(ids(20, 1, nv)).is_ok());
  ASSERT_TRUE((*f)->save(*s, "").is_ok());
  const std::string before = bytes_of(path);
  free_bytes = 1 << 20;
  ASSERT_TRUE(s->eval(ids(20, 2, nv)).is_ok());
  const Status st = (*f)->save(*s, "");
  ASSERT_FALSE(st.is_ok());
  EXPECT_NE(st.message().find("not enough disk space"), std::string::npos) << st.message();
  EXPECT_EQ(bytes_of(path), before);
  std::remove(path.c_str());
}

// Many diverging saves: the file is rewritten before its garbage outgrows the live state, and
// the compacted file still resumes exactly.
TEST(SessionFile, GarbageIsCompactedAway) {
  auto e = load(model_a());
  ASSERT_TRUE(e);
  const int32_t nv = static_cast<int32_t>(e->hparams().n_vocab);
  const std::string path = temp("sf_compact.lcs");
  auto s = new_session(*e, TensorType::F16, 512);
  SessionFileOptions o;
  o.compact_slack_bytes = 0;  // no slack: the bound itself is tested
  auto f = SessionFile::open(path, *s, nullptr, o);
  ASSERT_TRUE(f.is_ok());
  bool compacted = false;
  uint64_t last = 0;
  for (int round = 0; round < 40; ++round) {
    s->truncate(8);
    ASSERT_TRUE(s->eval(ids(400, round, nv)).is_ok());
    ASSERT_TRUE((*f)->save(*s, std::to_string(round)).is_ok());
    compacted |= (*f)->file_bytes() < last;
    last = (*f)->file_bytes();
  }
  // The bound: records of at most twice the live state (plus the commit's logits) after a save.
  const KvCache& kv = s->kv();
  const uint64_t live = 408 * (4 + kv.shape().n_layer * (kv.k_token_bytes() + kv.v_token_bytes())) +
                        2 * (100 + static_cast<uint64_t>(nv) * 8);
  EXPECT_TRUE(compacted);
  EXPECT_LE((*f)->file_bytes(), 4096 + 2 * live);
  f->reset();
  auto r = new_session(*e, TensorType::F16, 512);
  std::string app;
  auto g = SessionFile::open(path, *r, &app);
  ASSERT_TRUE(g.is_ok()) << g.status().message();
  EXPECT_EQ(app, "39");
  EXPECT_EQ(r->tokens(), s->tokens());
  EXPECT_TRUE(same_logits(*s, *r, nv));
  std::remove(path.c_str());
}

}  // namespace
}  // namespace longctx
