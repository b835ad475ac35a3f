// Session files: a fixed header (configuration + two superblocks), then checksummed records
// (APPEND: a truncation point and the K/V of the positions after it; COMMIT: the logits and the
// application blob). The superblock names the last commit; everything after it is ignored.
#include "runtime/session_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "kernels/ref/rope.h"

namespace longctx {
namespace {

constexpr char kMagic[8] = {'L', 'C', 'T', 'X', 'S', 'E', 'S', 'S'};
constexpr uint32_t kVersion = 1;
constexpr uint64_t kHeaderBytes = 4096;  // records start here
constexpr uint64_t kConfigBytes = 248;   // hashed part of the configuration
constexpr uint64_t kSlot[2] = {1024, 2048};
constexpr uint32_t kRecordMagic = 0x4345524C;  // "LREC"
constexpr uint32_t kAppend = 1, kCommit = 2;
constexpr uint64_t kRecordHeader = 40;
constexpr uint64_t kNoSnapshot = ~uint64_t{0};
// Room kept free on the disk beyond what a save writes.
constexpr uint64_t kDiskMargin = uint64_t{16} << 20;
constexpr uint64_t kIoChunk = uint64_t{64} << 20;

std::string errno_text() { return std::strerror(errno); }

template <class T>
void put(std::vector<uint8_t>& b, T v) {
  const size_t at = b.size();
  b.resize(at + sizeof(T));
  std::memcpy(b.data() + at, &v, sizeof(T));
}

template <class T>
T get(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

// What a session file must agree with: model, cache shape and types, rotation, RoPE.
std::vector<uint8_t> config_bytes(const Session& s) {
  const Engine& e = s.engine();
  const ModelIdentity& id = e.model_identity();
  const KvCache& kv = s.kv();
  // An adaptive session's factor changes with its length: the header holds the base setting
  // and the mode (type 100), each commit the factor its keys were stored at.
  const ref::RopeParams& rope = s.rope_params();
  const bool adaptive = s.adaptive_rope();
  std::vector<uint8_t> b(kMagic, kMagic + 8);
  put<uint32_t>(b, kVersion);
  put<uint32_t>(b, 0);
  put<uint64_t>(b, id.hash_hi);
  put<uint64_t>(b, id.hash_lo);
  put<uint64_t>(b, id.file_size);
  put<uint32_t>(b, static_cast<uint32_t>(kv.shape().n_layer));
  put<uint32_t>(b, static_cast<uint32_t>(kv.shape().n_head_kv));
  put<uint32_t>(b, static_cast<uint32_t>(kv.shape().head_dim_k));
  put<uint32_t>(b, static_cast<uint32_t>(kv.shape().head_dim_v));
  put<uint32_t>(b, static_cast<uint32_t>(e.hparams().n_vocab));
  put<uint32_t>(b, static_cast<uint32_t>(kv.options().type_k));
  put<uint32_t>(b, static_cast<uint32_t>(kv.options().type_v));
  put<uint32_t>(b, (kv.options().rotates_k() ? 1u : 0u) | (kv.options().rotates_v() ? 2u : 0u));
  put<uint32_t>(b, adaptive ? 100u : static_cast<uint32_t>(rope.scaling.type));
  put<uint32_t>(b, 0);
  put<double>(b, adaptive ? 0.0 : rope.scaling.factor);
  put<double>(b, rope.theta);
  put<uint64_t>(b, adaptive ? 0 : static_cast<uint64_t>(rope.scaling.original_context));
  put<double>(b, adaptive ? 0.0 : rope.scaling.attention_factor);
  put<double>(b, adaptive ? 0.0 : rope.scaling.beta_fast);
  put<double>(b, adaptive ? 0.0 : rope.scaling.beta_slow);
  b.resize(kConfigBytes, 0);
  put<uint64_t>(b, XXH3_64bits(b.data(), kConfigBytes));
  return b;
}

// Why a file's configuration is not this session's, or "" when it is.
std::string config_mismatch(const uint8_t* f, const std::vector<uint8_t>& want) {
  const uint8_t* w = want.data();
  auto u32 = [](const uint8_t* p, size_t at) { return get<uint32_t>(p + at); };
  if (std::memcmp(f + 16, w + 16, 24) != 0) {
    char buf[200];
    std::snprintf(
        buf, sizeof buf,
        "it was saved with another model file (identity %016llx%016llx, %llu bytes; "
        "this model: %016llx%016llx, %llu bytes)",
        (unsigned long long)get<uint64_t>(f + 16), (unsigned long long)get<uint64_t>(f + 24),
        (unsigned long long)get<uint64_t>(f + 32), (unsigned long long)get<uint64_t>(w + 16),
        (unsigned long long)get<uint64_t>(w + 24), (unsigned long long)get<uint64_t>(w + 32));
    return buf;
  }
  if (std::memcmp(f + 40, w + 40, 20) != 0) return "its cache shape differs from this model's";
  if (u32(f, 60) != u32(w, 60) || u32(f, 64) != u32(w, 64)) {
    auto name = [](uint32_t t) {
      const auto tr = type_traits(t);
      return std::string(tr ? tr->name : "?");
    };
    return "it holds a " + name(u32(f, 60)) + "/" + name(u32(f, 64)) +
           " KV cache and this run uses " + name(u32(w, 60)) + "/" + name(u32(w, 64)) +
           " (give --kv-type-k " + name(u32(f, 60)) + " --kv-type-v " + name(u32(f, 64)) + ")";
  }
  if (u32(f, 68) != u32(w, 68)) {
    return std::string("its keys/values were stored with the KV rotation ") +
           (u32(f, 68) ? "on" : "off") + " (give --kv-rotation " + (u32(f, 68) ? "on" : "off") +
           ")";
  }
  if (std::memcmp(f + 72, w + 72, kConfigBytes - 72) != 0) {
    return "its keys were rotated with other RoPE settings (--rope-scaling, --rope-factor, "
           "--rope-orig-ctx, --rope-freq-base)";
  }
  return "";
}

}  // namespace

// Positioned reads and writes on the file, with the path in every error.
namespace {

struct Io {
  static Status write(int fd, const std::string& path, const void* p, uint64_t n, uint64_t at) {
    const auto* b = static_cast<const uint8_t*>(p);
    while (n > 0) {
      const ssize_t w =
          ::pwrite(fd, b, static_cast<size_t>(std::min(n, kIoChunk)), static_cast<off_t>(at));
      if (w < 0) {
        if (errno == EINTR) continue;
        return io_error("cannot write '" + path + "': " + errno_text());
      }
      b += w;
      at += static_cast<uint64_t>(w);
      n -= static_cast<uint64_t>(w);
    }
    return Status::ok();
  }
  static Status read(int fd, const std::string& path, void* p, uint64_t n, uint64_t at) {
    auto* b = static_cast<uint8_t*>(p);
    while (n > 0) {
      const ssize_t r =
          ::pread(fd, b, static_cast<size_t>(std::min(n, kIoChunk)), static_cast<off_t>(at));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
        return r == 0 ? invalid_format("'" + path + "' is truncated (ends inside a record)")
                      : io_error("cannot read '" + path + "': " + errno_text());
      }
      b += r;
      at += static_cast<uint64_t>(r);
      n -= static_cast<uint64_t>(r);
    }
    return Status::ok();
  }
  static Status sync(int fd, const std::string& path) {
    if (::fdatasync(fd) != 0) return io_error("cannot sync '" + path + "': " + errno_text());
    return Status::ok();
  }
};

// Bytes of the records that hold positions [pos0, pos0 + n) and a commit.
uint64_t append_bytes(const KvCache& kv, int64_t n) {
  return kRecordHeader + 16 + static_cast<uint64_t>(n) * 4 +
         static_cast<uint64_t>(n) * static_cast<uint64_t>(kv.shape().n_layer) *
             (kv.k_token_bytes() + kv.v_token_bytes());
}
uint64_t commit_bytes(int64_t n_vocab, bool snapshot, size_t app) {
  return kRecordHeader + 32 + static_cast<uint64_t>(n_vocab) * 4 * (snapshot ? 2 : 1) + app;
}

Result<uint64_t> statvfs_free(const std::string& dir) {
  struct statvfs st {};
  if (::statvfs(dir.c_str(), &st) != 0) {
    return io_error("cannot read the free space of '" + dir + "': " + errno_text());
  }
  return static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
}

std::string dir_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}

std::string mib(uint64_t b) { return std::to_string((b + (1 << 20) - 1) >> 20) + " MiB"; }

// A record: its payload written at `at + kRecordHeader` piece by piece (hashed on the way),
// then its header.
class RecordWriter {
 public:
  RecordWriter(int fd, const std::string& path, uint64_t at, uint32_t kind, uint64_t seq)
      : fd_(fd), path_(path), at_(at), kind_(kind), seq_(seq), st_(XXH3_createState()) {
    LONGCTX_CHECK(st_ != nullptr);
    XXH3_64bits_reset(st_);
  }
  ~RecordWriter() { XXH3_freeState(st_); }
  Status add(const void* p, uint64_t n) {
    XXH3_64bits_update(st_, p, static_cast<size_t>(n));
    LONGCTX_RETURN_IF_ERROR(Io::write(fd_, path_, p, n, at_ + kRecordHeader + len_));
    len_ += n;
    return Status::ok();
  }
  // Writes the header; returns the record's end.
  Result<uint64_t> finish() {
    std::vector<uint8_t> h;
    put<uint32_t>(h, kRecordMagic);
    put<uint32_t>(h, kind_);
    put<uint64_t>(h, len_);
    put<uint64_t>(h, XXH3_64bits_digest(st_));
    put<uint64_t>(h, seq_);
    put<uint64_t>(h, XXH3_64bits(h.data(), h.size()));
    LONGCTX_RETURN_IF_ERROR(Io::write(fd_, path_, h.data(), h.size(), at_));
    return at_ + kRecordHeader + len_;
  }

 private:
  int fd_;
  const std::string& path_;
  uint64_t at_, len_ = 0;
  uint32_t kind_;
  uint64_t seq_;
  XXH3_state_t* st_;
};

}  // namespace

SessionFile::~SessionFile() {
  if (fd_ >= 0) ::close(fd_);
}

Result<std::unique_ptr<SessionFile>> SessionFile::open(const std::string& path, Session& session,
                                                       std::string* app,
                                                       const SessionFileOptions& options) {
  return open_impl(path, session, app, options, false);
}

Result<int64_t> SessionFile::verify(const std::string& path, const Session& session,
                                    const SessionFileOptions& options) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return io_error("cannot open '" + path + "': " + errno_text());
  // A dry run never writes into the session.
  auto f = open_impl(path, const_cast<Session&>(session), nullptr, options, true);
  if (!f) return f.status();
  return (*f)->loaded_tokens();
}

Result<std::unique_ptr<SessionFile>> SessionFile::save_as(const std::string& path,
                                                          const Session& session,
                                                          std::string_view app,
                                                          const SessionFileOptions& options) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    // Only another session file may be replaced: anything else a user keeps there stays.
    char magic[8] = {};
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    const bool ours =
        fd >= 0 && ::pread(fd, magic, 8, 0) == 8 && std::memcmp(magic, kMagic, 8) == 0;
    if (fd >= 0) ::close(fd);
    if (!ours) {
      return invalid_argument("'" + path +
                              "' exists and is not a longctx session file; "
                              "choose another name or remove it");
    }
  }
  std::unique_ptr<SessionFile> f(new SessionFile());
  f->path_ = path;
  f->options_ = options;
  if (!f->options_.free_bytes) f->options_.free_bytes = statvfs_free;
  f->end_ = kHeaderBytes;
  LONGCTX_RETURN_IF_ERROR(f->compact(session, app));
  return f;
}

Result<std::unique_ptr<SessionFile>> SessionFile::open_impl(const std::string& path,
                                                            Session& session, std::string* app,
                                                            const SessionFileOptions& options,
                                                            bool dry_run) {
  std::unique_ptr<SessionFile> f(new SessionFile());
  f->path_ = path;
  f->options_ = options;
  if (!f->options_.free_bytes) f->options_.free_bytes = statvfs_free;
  if (app) app->clear();
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno != ENOENT) return io_error("cannot stat '" + path + "': " + errno_text());
    LONGCTX_RETURN_IF_ERROR(f->create(session));
    return f;
  }
  if (!S_ISREG(st.st_mode)) return invalid_argument("'" + path + "' is not a regular file");
  f->fd_ = ::open(path.c_str(), (dry_run ? O_RDONLY : O_RDWR) | O_CLOEXEC);
  if (f->fd_ < 0)
    return io_error("cannot open '" + path + "' for reading and writing: " + errno_text());
  if (::flock(f->fd_, (dry_run ? LOCK_SH : LOCK_EX) | LOCK_NB) != 0) {
    return io_error("'" + path + "' is in use by another longctx process");
  }
  Status s = f->load(session, app, dry_run);
  if (!s.is_ok()) {
    if (!dry_run) session.reset();
    if (app) app->clear();
    return s.with_context("session file '" + path + "'");
  }
  return f;
}

Status SessionFile::create(const Session& session) {
  // A fresh header written beside the target and renamed over it: the file appears whole or not
  // at all.
  std::vector<uint8_t> header = config_bytes(session);
  header.resize(kHeaderBytes, 0);
  LONGCTX_RETURN_IF_ERROR(write_file_atomic(path_, std::string(header.begin(), header.end())));
  fd_ = ::open(path_.c_str(), O_RDWR | O_CLOEXEC);
  if (fd_ < 0) return io_error("cannot open '" + path_ + "': " + errno_text());
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    return io_error("'" + path_ + "' is in use by another longctx process");
  }
  seq_ = 0;
  end_ = kHeaderBytes;
  live_ = 0;
  synced_.clear();
  return Status::ok();
}

Status SessionFile::load(Session& session, std::string* app, bool dry_run) {
  struct stat st {};
  if (::fstat(fd_, &st) != 0) return io_error(errno_text());
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  std::vector<uint8_t> header(kHeaderBytes);
  if (size < kHeaderBytes || !Io::read(fd_, path_, header.data(), kHeaderBytes, 0).is_ok() ||
      std::memcmp(header.data(), kMagic, 8) != 0) {
    return invalid_format("not a longctx session file");
  }
  if (get<uint32_t>(header.data() + 8) != kVersion) {
    return invalid_format("session format version " +
                          std::to_string(get<uint32_t>(header.data() + 8)) + " is not the " +
                          std::to_string(kVersion) + " this build reads");
  }
  if (get<uint64_t>(header.data() + kConfigBytes) != XXH3_64bits(header.data(), kConfigBytes)) {
    return invalid_format("its header is corrupt (checksum mismatch)");
  }
  const std::string why = config_mismatch(header.data(), config_bytes(session));
  if (!why.empty()) return invalid_argument("refused: " + why);

  // The newest valid superblock names the last commit; none valid with records present is a
  // corrupt file, none at all an empty session.
  uint64_t best_seq = 0, commit_at = 0, commit_end = 0;
  bool any = false;
  int bad_slots = 0;  // written but failing their checksum
  for (uint64_t slot : kSlot) {
    const uint8_t* p = header.data() + slot;
    const bool blank = std::all_of(p, p + 32, [](uint8_t b) { return b == 0; });
    if (get<uint64_t>(p + 24) != XXH3_64bits(p, 24) || get<uint64_t>(p) == 0) {
      bad_slots += !blank;
      continue;
    }
    if (!any || get<uint64_t>(p) > best_seq) {
      any = true;
      best_seq = get<uint64_t>(p);
      commit_at = get<uint64_t>(p + 8);
      commit_end = get<uint64_t>(p + 16);
    }
  }
  if (!dry_run) session.reset();
  seq_ = best_seq;
  end_ = kHeaderBytes;
  synced_.clear();
  if (!any) {
    // One torn superblock is a crash during the first save (the old state: empty); two are not.
    if (bad_slots > 1) return invalid_format("it is corrupt: both superblocks fail their checksum");
    return Status::ok();
  }
  if (commit_end > size || commit_at < kHeaderBytes || commit_at >= commit_end) {
    return invalid_format("it is truncated: the last commit ends at byte " +
                          std::to_string(commit_end) + " but the file has " + std::to_string(size));
  }

  // Replay every record up to the commit; each payload is checked against its hash.
  KvCache& kv = session.kv_cache();
  const int64_t n_layer = kv.shape().n_layer;
  const int64_t n_vocab = session.engine().hparams().n_vocab;
  std::vector<int32_t> tokens;
  std::vector<float> logits(static_cast<size_t>(n_vocab)), snap(static_cast<size_t>(n_vocab));
  uint64_t snap_at = kNoSnapshot;
  double rope_factor = 1.0;
  uint64_t at = kHeaderBytes;
  bool committed = false;
  while (at < commit_end) {
    uint8_t h[kRecordHeader];
    LONGCTX_RETURN_IF_ERROR(Io::read(fd_, path_, h, kRecordHeader, at));
    const uint64_t len = get<uint64_t>(h + 8);
    if (get<uint32_t>(h) != kRecordMagic || get<uint64_t>(h + 32) != XXH3_64bits(h, 32) ||
        len > commit_end - at - kRecordHeader) {
      return invalid_format("it is corrupt: bad record header at byte " + std::to_string(at));
    }
    const uint32_t kind = get<uint32_t>(h + 4);
    const uint64_t body = at + kRecordHeader;
    XXH3_state_t* hs = XXH3_createState();
    XXH3_64bits_reset(hs);
    auto read_hashed = [&](void* dst, uint64_t n, uint64_t off) {
      Status s = Io::read(fd_, path_, dst, n, off);
      if (s.is_ok()) XXH3_64bits_update(hs, dst, static_cast<size_t>(n));
      return s;
    };
    // K/V bytes: into the cache, or (a dry run) through a bounded buffer, checked only.
    std::vector<uint8_t> scratch;
    auto read_kv = [&](uint8_t* dst, uint64_t n, uint64_t off) {
      if (!dry_run) return read_hashed(dst, n, off);
      scratch.resize(static_cast<size_t>(std::min(n, kIoChunk)));
      for (uint64_t done = 0; done < n;) {
        const uint64_t m = std::min<uint64_t>(n - done, scratch.size());
        LONGCTX_RETURN_IF_ERROR(read_hashed(scratch.data(), m, off + done));
        done += m;
      }
      return Status::ok();
    };
    Status s;
    if (kind == kAppend && len >= 16) {
      uint8_t head[16];
      s = read_hashed(head, 16, body);
      const uint64_t pos0 = get<uint64_t>(head), n = get<uint64_t>(head + 8);
      if (s.is_ok() && (pos0 > tokens.size() || n > static_cast<uint64_t>(kv.n_ctx()) ||
                        pos0 + n > static_cast<uint64_t>(kv.n_ctx()))) {
        s = invalid_argument("it holds " + std::to_string(pos0 + n) +
                             " positions, more than this " + std::to_string(kv.n_ctx()) +
                             "-token context (raise --ctx)");
      }
      if (s.is_ok() && len != 16 + n * 4 +
                                  n * static_cast<uint64_t>(n_layer) *
                                      (kv.k_token_bytes() + kv.v_token_bytes())) {
        s = invalid_format("it is corrupt: a record of the wrong size at byte " +
                           std::to_string(at));
      }
      uint64_t off = body + 16;
      if (s.is_ok()) {
        tokens.resize(pos0 + n);
        s = read_hashed(tokens.data() + pos0, n * 4, off);
        off += n * 4;
      }
      for (int64_t il = 0; il < n_layer && s.is_ok(); ++il) {
        const uint64_t kb = n * kv.k_token_bytes(), vb = n * kv.v_token_bytes();
        s = read_kv(static_cast<uint8_t*>(kv.k_data(il)) + pos0 * kv.k_token_bytes(), kb, off);
        if (s.is_ok())
          s = read_kv(static_cast<uint8_t*>(kv.v_data(il)) + pos0 * kv.v_token_bytes(), vb,
                      off + kb);
        off += kb + vb;
        if (options_.progress) options_.progress(off - kHeaderBytes, commit_end - kHeaderBytes);
      }
    } else if (kind == kCommit && len >= 32 + static_cast<uint64_t>(n_vocab) * 4) {
      // [n_tokens][snapshot at][RoPE factor][logits][snapshot logits][app length][app]
      std::vector<uint8_t> c(static_cast<size_t>(len));
      s = read_hashed(c.data(), len, body);
      const uint64_t n_tok = get<uint64_t>(c.data()), sn = get<uint64_t>(c.data() + 8);
      const double factor = get<double>(c.data() + 16);
      const uint64_t floats = static_cast<uint64_t>(n_vocab) * 4 * (sn == kNoSnapshot ? 1 : 2);
      if (s.is_ok() &&
          (n_tok != tokens.size() || 24 + floats + 8 > len || (sn != kNoSnapshot && sn > n_tok) ||
           !(factor >= 1.0 && factor <= 1024.0))) {
        s = invalid_format("it is corrupt: a commit that does not match its records at byte " +
                           std::to_string(at));
      }
      if (s.is_ok() && at + kRecordHeader + len == commit_end) {
        std::memcpy(logits.data(), c.data() + 24, static_cast<size_t>(n_vocab) * 4);
        if (sn != kNoSnapshot) std::memcpy(snap.data(), c.data() + 24 + n_vocab * 4, n_vocab * 4);
        snap_at = sn;
        rope_factor = factor;
        const uint64_t app_len = get<uint64_t>(c.data() + 24 + floats);
        if (app_len != len - 32 - floats) {
          s = invalid_format("it is corrupt: a commit of the wrong size at byte " +
                             std::to_string(at));
        } else if (app) {
          app->assign(reinterpret_cast<const char*>(c.data()) + 32 + floats, app_len);
        }
        committed = true;
      }
    } else {
      s = invalid_format("it is corrupt: unknown record kind " + std::to_string(kind) +
                         " at byte " + std::to_string(at));
    }
    const uint64_t digest = XXH3_64bits_digest(hs);
    XXH3_freeState(hs);
    LONGCTX_RETURN_IF_ERROR(s);
    if (digest != get<uint64_t>(h + 16)) {
      return invalid_format("it is corrupt: the record at byte " + std::to_string(at) +
                            " fails its checksum");
    }
    at = body + len;
  }
  if (!committed || at != commit_end) {
    return invalid_format("it is corrupt: the superblock's commit (byte " +
                          std::to_string(commit_at) + ") is not a record boundary");
  }
  if (tokens.size() > static_cast<size_t>(session.n_ctx())) {
    return invalid_argument("it holds " + std::to_string(tokens.size()) +
                            " tokens, more than this " + std::to_string(session.n_ctx()) +
                            "-token context (raise --ctx)");
  }
  loaded_tokens_ = static_cast<int64_t>(tokens.size());
  if (dry_run) return Status::ok();
  LONGCTX_RETURN_IF_ERROR(session.restore(tokens, logits.data()));
  if (session.adaptive_rope()) LONGCTX_RETURN_IF_ERROR(session.set_rope_factor(rope_factor));
  if (snap_at != kNoSnapshot) {
    LONGCTX_RETURN_IF_ERROR(session.set_snapshot(static_cast<int64_t>(snap_at), snap.data()));
  }
  end_ = commit_end;
  synced_ = tokens;
  live_ = append_bytes(kv, loaded_tokens_) +
          commit_bytes(n_vocab, snap_at != kNoSnapshot, app ? app->size() : 0);
  return Status::ok();
}

Status SessionFile::save(const Session& session, std::string_view app) {
  last_save_bytes_ = 0;
  const std::vector<int32_t>& tokens = session.tokens();
  size_t common = 0;
  while (common < synced_.size() && common < tokens.size() && synced_[common] == tokens[common]) {
    ++common;
  }
  const int64_t n_new = static_cast<int64_t>(tokens.size() - common);
  const KvCache& kv = session.kv();
  const int64_t n_vocab = session.engine().hparams().n_vocab;
  const bool snap = session.snapshot().n_tokens >= 0;
  const uint64_t need = append_bytes(kv, n_new) + commit_bytes(n_vocab, snap, app.size());
  const uint64_t live =
      append_bytes(kv, session.n_past()) + commit_bytes(n_vocab, snap, app.size());
  if (end_ - kHeaderBytes + need > 2 * live + options_.compact_slack_bytes) {
    return compact(session, app);
  }
  auto free = options_.free_bytes(dir_of(path_));
  if (!free) return free.status();
  if (*free < need + kDiskMargin) {
    return io_error("not enough disk space to save the session to '" + path_ + "': it needs " +
                    mib(need + kDiskMargin) + " and " + mib(*free) +
                    " are free (the file keeps its previous state)");
  }
  LONGCTX_RETURN_IF_ERROR(append_state(session, app, static_cast<int64_t>(common)));
  live_ = live;
  return Status::ok();
}

Status SessionFile::append_state(const Session& session, std::string_view app, int64_t pos0) {
  LONGCTX_RETURN_IF_ERROR(session.sync_host_kv());  // a CUDA session's cache, to the host
  const KvCache& kv = session.kv();
  const std::vector<int32_t>& tokens = session.tokens();
  const int64_t n = session.n_past() - pos0;
  const uint64_t start = end_;
  // 1. Drop a torn tail a crash may have left past the last commit.
  if (::ftruncate(fd_, static_cast<off_t>(end_)) != 0) {
    return io_error("cannot write '" + path_ + "': " + errno_text());
  }
  // 2. The positions from pos0 on (pos0 below what the file held is a truncation).
  RecordWriter a(fd_, path_, end_, kAppend, seq_ + 1);
  const uint64_t layer_bytes = static_cast<uint64_t>(n) * (kv.k_token_bytes() + kv.v_token_bytes());
  const uint64_t total = layer_bytes * static_cast<uint64_t>(kv.shape().n_layer);
  const uint64_t head[2] = {static_cast<uint64_t>(pos0), static_cast<uint64_t>(n)};
  LONGCTX_RETURN_IF_ERROR(a.add(head, sizeof head));
  LONGCTX_RETURN_IF_ERROR(a.add(tokens.data() + pos0, static_cast<uint64_t>(n) * 4));
  for (int64_t il = 0; il < kv.shape().n_layer; ++il) {
    LONGCTX_RETURN_IF_ERROR(
        a.add(static_cast<const uint8_t*>(kv.k_data(il)) + pos0 * kv.k_token_bytes(),
              static_cast<uint64_t>(n) * kv.k_token_bytes()));
    LONGCTX_RETURN_IF_ERROR(
        a.add(static_cast<const uint8_t*>(kv.v_data(il)) + pos0 * kv.v_token_bytes(),
              static_cast<uint64_t>(n) * kv.v_token_bytes()));
    if (options_.progress) options_.progress(layer_bytes * static_cast<uint64_t>(il + 1), total);
  }
  auto a_end = a.finish();
  if (!a_end) return a_end.status();
  LONGCTX_RETURN_IF_ERROR(Io::sync(fd_, path_));
  // 3. The commit: logits after the last token, the prompt-end snapshot, the application blob.
  const int64_t n_vocab = session.engine().hparams().n_vocab;
  const Session::LogitsSnapshot& snap = session.snapshot();
  RecordWriter c(fd_, path_, *a_end, kCommit, seq_ + 1);
  const uint64_t ch[2] = {static_cast<uint64_t>(session.n_past()),
                          snap.n_tokens >= 0 ? static_cast<uint64_t>(snap.n_tokens) : kNoSnapshot};
  LONGCTX_RETURN_IF_ERROR(c.add(ch, sizeof ch));
  const ref::RopeScaling& sc = session.rope_params().scaling;
  const double factor = sc.type == ref::RopeScalingType::kNone ? 1.0 : sc.factor;
  LONGCTX_RETURN_IF_ERROR(c.add(&factor, 8));
  LONGCTX_RETURN_IF_ERROR(c.add(session.logits(), static_cast<uint64_t>(n_vocab) * 4));
  if (snap.n_tokens >= 0) {
    LONGCTX_RETURN_IF_ERROR(c.add(snap.logits.data(), static_cast<uint64_t>(n_vocab) * 4));
  }
  const uint64_t app_len = app.size();
  LONGCTX_RETURN_IF_ERROR(c.add(&app_len, 8));
  LONGCTX_RETURN_IF_ERROR(c.add(app.data(), app_len));
  auto c_end = c.finish();
  if (!c_end) return c_end.status();
  LONGCTX_RETURN_IF_ERROR(Io::sync(fd_, path_));
  // 4. The superblock: from here on a reader sees the new state.
  std::vector<uint8_t> sb;
  put<uint64_t>(sb, seq_ + 1);
  put<uint64_t>(sb, *a_end);
  put<uint64_t>(sb, *c_end);
  put<uint64_t>(sb, XXH3_64bits(sb.data(), 24));
  LONGCTX_RETURN_IF_ERROR(Io::write(fd_, path_, sb.data(), sb.size(), kSlot[(seq_ + 1) % 2]));
  LONGCTX_RETURN_IF_ERROR(Io::sync(fd_, path_));
  ++seq_;
  end_ = *c_end;
  synced_ = tokens;
  last_save_bytes_ = end_ - start;
  return Status::ok();
}

Status SessionFile::compact(const Session& session, std::string_view app) {
  LONGCTX_RETURN_IF_ERROR(session.sync_host_kv());  // a CUDA session's cache, to the host
  // The whole state into a fresh file beside this one, renamed over it when complete.
  const KvCache& kv = session.kv();
  const uint64_t need = append_bytes(kv, session.n_past()) +
                        commit_bytes(session.engine().hparams().n_vocab, true, app.size());
  auto free = options_.free_bytes(dir_of(path_));
  if (!free) return free.status();
  if (*free < need + kHeaderBytes + kDiskMargin) {
    return io_error("not enough disk space to rewrite the session file '" + path_ + "': it needs " +
                    mib(need + kHeaderBytes + kDiskMargin) + " and " + mib(*free) +
                    " are free (the file keeps its previous state)");
  }
  SessionFile fresh;
  fresh.path_ = path_ + ".tmp";
  fresh.options_ = options_;
  std::vector<uint8_t> header = config_bytes(session);
  header.resize(kHeaderBytes, 0);
  fresh.fd_ = ::open(fresh.path_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fresh.fd_ < 0) return io_error("cannot create '" + fresh.path_ + "': " + errno_text());
  fresh.seq_ = seq_;
  fresh.end_ = kHeaderBytes;
  Status s = Io::write(fresh.fd_, fresh.path_, header.data(), header.size(), 0);
  if (s.is_ok()) s = fresh.append_state(session, app, 0);
  if (s.is_ok() && ::rename(fresh.path_.c_str(), path_.c_str()) != 0) {
    s = io_error("cannot replace '" + path_ + "': " + errno_text());
  }
  if (!s.is_ok()) {
    ::unlink(fresh.path_.c_str());
    return s;
  }
  const int dir = ::open(dir_of(path_).c_str(), O_RDONLY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  if (::flock(fresh.fd_, LOCK_EX | LOCK_NB) != 0) {
    return io_error("cannot lock '" + path_ + "': " + errno_text());
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = fresh.fd_;
  fresh.fd_ = -1;
  seq_ = fresh.seq_;
  end_ = fresh.end_;
  synced_ = session.tokens();
  last_save_bytes_ = end_;
  live_ = end_ - kHeaderBytes;
  return Status::ok();
}

}  // namespace longctx
