// A session kept on disk: token ids, the KV cache of every position, the logits that follow
// (and the prompt-end snapshot), plus an application blob (chat keeps its transcript there), in
// a backend-independent, append-only file (docs/SESSIONS.md has the byte layout):
//  - each save appends only what changed since the last one (the new positions' K/V, or a
//    truncation point and what follows it) and a commit record, then flips one of two
//    superblocks to that commit, with a data sync between each step: a crash at any point
//    leaves the old or the new state;
//  - the file names the model (ModelIdentity), the cache shape, types and rotation, and the RoPE
//    settings; a file of another model or configuration, or one truncated or corrupted (every
//    record is checksummed), is refused with the reason and left as it is;
//  - garbage (superseded records) is compacted away by rewriting the file once it outgrows
//    twice the live state, so the cost of a save stays proportional to the new tokens.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "runtime/session.h"

namespace longctx {

struct SessionFileOptions {
  // Bytes read or written so far of the total (large loads and compactions).
  std::function<void(uint64_t done, uint64_t total)> progress;
  // Free bytes where the file lives (default: statvfs of its directory); tests substitute it.
  std::function<Result<uint64_t>(const std::string& dir)> free_bytes;
  // A save rewrites the file when its records would exceed twice the live state plus this.
  uint64_t compact_slack_bytes = uint64_t{64} << 20;
};

class SessionFile {
 public:
  ~SessionFile();
  SessionFile(const SessionFile&) = delete;
  SessionFile& operator=(const SessionFile&) = delete;

  // Binds `path` to `session`. An existing file must belong to this model and cache
  // configuration; its state then replaces the session's (K/V, tokens, logits, snapshot) and
  // `app` receives its blob. A missing file is created (header only; the session keeps what it
  // holds, which the first save writes). On error the session is reset and the file is not
  // modified.
  static Result<std::unique_ptr<SessionFile>> open(const std::string& path, Session& session,
                                                   std::string* app,
                                                   const SessionFileOptions& options = {});

  // Checks that `path` is a session this one could load (configuration, every checksum, the
  // context room) without changing the session; returns the tokens it holds. A file that is
  // being written by another process is refused.
  static Result<int64_t> verify(const std::string& path, const Session& session,
                                const SessionFileOptions& options = {});

  // Writes the session's whole state and `app` to a new file at `path` (atomically replacing
  // an earlier session file there; any other existing file is refused) and binds to it.
  static Result<std::unique_ptr<SessionFile>> save_as(const std::string& path,
                                                      const Session& session, std::string_view app,
                                                      const SessionFileOptions& options = {});

  // Makes the file hold the session's current state and `app`, appending what changed since the
  // last open or save (or rewriting the file when garbage outgrows the live state). Refuses,
  // writing nothing, when the disk lacks the room.
  Status save(const Session& session, std::string_view app);

  // The progress callback of later loads and saves (open's options gave the first one; a
  // caller whose callback does not outlive the open replaces it here).
  void set_progress(std::function<void(uint64_t done, uint64_t total)> fn) {
    options_.progress = std::move(fn);
  }

  const std::string& path() const { return path_; }
  int64_t loaded_tokens() const { return loaded_tokens_; }       // tokens the open found
  uint64_t last_save_bytes() const { return last_save_bytes_; }  // bytes the last save wrote
  uint64_t file_bytes() const { return end_; }                   // the committed length

 private:
  SessionFile() = default;
  static Result<std::unique_ptr<SessionFile>> open_impl(const std::string& path, Session& session,
                                                        std::string* app,
                                                        const SessionFileOptions& options,
                                                        bool dry_run);
  Status create(const Session& session);
  Status load(Session& session, std::string* app, bool dry_run);
  Status append_state(const Session& session, std::string_view app, int64_t pos0);
  Status compact(const Session& session, std::string_view app);

  std::string path_;
  SessionFileOptions options_;
  int fd_ = -1;
  uint64_t seq_ = 0;             // sequence number of the committed superblock
  uint64_t end_ = 0;             // end of the committed records
  uint64_t live_ = 0;            // bytes of the records a fresh file of this state would hold
  std::vector<int32_t> synced_;  // the tokens the file holds
  int64_t loaded_tokens_ = 0;
  uint64_t last_save_bytes_ = 0;
};

}  // namespace longctx
