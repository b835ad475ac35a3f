// Quality at length, measured on the user's own model: perplexity over a text in context-sized
// chunks (llama.cpp's windows: each chunk is evaluated fresh and its second half scored), binned
// by position in the context; KL divergence of every position against a baseline configuration
// evaluated in lockstep (or read back from a file of its log-probabilities); and passkey
// retrieval at chosen depths.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "runtime/session.h"

namespace longctx {

struct PerplexityOptions {
  int64_t n_ctx = 512;      // tokens per chunk (each chunk starts from an empty cache)
  int64_t max_chunks = -1;  // -1: every whole chunk of the text
  int n_bins = 8;           // position bins over [1, n_ctx)
  int64_t lockstep = 64;    // tokens per step when a baseline runs beside (its rows are held)
  std::function<void(int64_t done, int64_t total)> progress;  // tokens evaluated
  const std::atomic<bool>* cancel = nullptr;
};

struct PositionBin {
  int64_t begin = 0, end = 0;  // positions [begin, end) within a chunk
  int64_t n = 0;               // scored positions
  double nll = 0;              // mean negative log-likelihood (nats)
  double kl = 0;               // mean KL against the baseline (when there is one)
};

// Log-probabilities of a baseline, one row per position, written by one run and read by a later
// one (--kl-base-file): a header (magic, n_vocab, rows) and rows of n_vocab fp16 log-softmax
// values, so a baseline's logits never sit whole in memory.
class BaselineFile {
 public:
  static Result<BaselineFile> create(const std::string& path, int64_t n_vocab);
  static Result<BaselineFile> open(const std::string& path, int64_t n_vocab);
  BaselineFile(BaselineFile&& o) noexcept;
  BaselineFile& operator=(BaselineFile&& o) noexcept;
  ~BaselineFile();
  Status append(const float* logits);      // one row: the log-softmax of these logits
  Status next(std::vector<double>* logp);  // the next row back, as doubles
  Status finish();                         // writes the row count (create only)
  int64_t rows() const { return rows_; }

 private:
  BaselineFile() = default;
  std::FILE* f_ = nullptr;
  std::string path_;
  int64_t n_vocab_ = 0, rows_ = 0, read_ = 0;
  bool writing_ = false;
  std::vector<uint16_t> buf_;
};

struct PerplexityResult {
  int64_t n_chunks = 0;
  int64_t n_scored = 0;  // positions scored in llama.cpp's windows: [n_ctx / 2, n_ctx - 1)
  double ppl = 0;        // exp(mean nll) over those positions
  double ppl_all = 0;    // over every position 1 .. n_ctx - 1
  std::vector<PositionBin> bins;
  // Against the baseline, over the same scored positions.
  bool has_base = false;
  double base_ppl = 0;
  double kl_mean = 0, kl_p99 = 0, kl_max = 0;
  double top1 = 0;  // share of positions whose most likely token is the baseline's
};

// The baseline of a comparison: a session evaluated in lockstep, or a file of its rows; `save`
// (optional) records the session's rows for a later run.
struct Baseline {
  Session* session = nullptr;
  BaselineFile* read = nullptr;
  BaselineFile* save = nullptr;
};

// tokens must hold at least one whole chunk (n_ctx tokens) and n_ctx must fit both sessions.
Result<PerplexityResult> perplexity(Session& test, const Baseline& base,
                                    std::span<const int32_t> tokens,
                                    const PerplexityOptions& options);

struct PasskeyOptions {
  std::vector<int64_t> depths;  // haystack lengths in tokens
  int trials = 4;               // needle positions per depth: (t + 1/2) / trials of the haystack
  uint64_t seed = 1;            // the 5-digit keys
  std::function<void(int64_t done, int64_t total)> progress;  // trials done
};

struct PasskeyDepth {
  int64_t depth = 0;
  int trials = 0, found = 0;
  std::vector<std::string> answers;  // what the model said after "The pass key is"
};

// llama.cpp's passkey prompt: an instruction, filler sentences up to the depth with "The pass
// key is K. Remember it. K is the pass key." inside, then "What is the pass key? The pass key
// is"; the first number of a greedy continuation must be K. Needs a tokenizer.
Result<std::vector<PasskeyDepth>> passkey(Session& session, const PasskeyOptions& options);

}  // namespace longctx
