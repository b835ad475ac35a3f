// Perplexity, KL divergence against a baseline, passkey retrieval (eval.h).
#include "runtime/eval.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>

#include "quant/float16.h"
#include "runtime/generate.h"

namespace longctx {
namespace {

constexpr char kBaseMagic[8] = {'L', 'C', 'T', 'X', 'K', 'L', 'B', '1'};

// log-softmax of a row, in double: logp[i] = x[i] - max - log(sum exp(x - max)).
void log_softmax(const float* x, int64_t n, std::vector<double>* out) {
  out->resize(static_cast<size_t>(n));
  double m = -INFINITY;
  for (int64_t i = 0; i < n; ++i) m = std::max(m, double(x[i]));
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += std::exp(double(x[i]) - m);
  const double lse = m + std::log(s);
  for (int64_t i = 0; i < n; ++i) (*out)[i] = double(x[i]) - lse;
}

int64_t argmax(const std::vector<double>& v) {
  return std::max_element(v.begin(), v.end()) - v.begin();
}

}  // namespace

Result<BaselineFile> BaselineFile::create(const std::string& path, int64_t n_vocab) {
  BaselineFile b;
  b.f_ = std::fopen(path.c_str(), "wb");
  if (!b.f_) return io_error("cannot create '" + path + "'");
  b.path_ = path;
  b.n_vocab_ = n_vocab;
  b.writing_ = true;
  const int64_t head[2] = {n_vocab, 0};
  if (std::fwrite(kBaseMagic, 1, 8, b.f_) != 8 || std::fwrite(head, 8, 2, b.f_) != 2) {
    return io_error("cannot write '" + path + "'");
  }
  return b;
}

Result<BaselineFile> BaselineFile::open(const std::string& path, int64_t n_vocab) {
  BaselineFile b;
  b.f_ = std::fopen(path.c_str(), "rb");
  if (!b.f_) return io_error("cannot open '" + path + "'");
  b.path_ = path;
  char magic[8];
  int64_t head[2];
  if (std::fread(magic, 1, 8, b.f_) != 8 || std::memcmp(magic, kBaseMagic, 8) != 0 ||
      std::fread(head, 8, 2, b.f_) != 2) {
    return invalid_format("'" + path + "' is not a longctx baseline file (--kl-base-file)");
  }
  if (head[0] != n_vocab) {
    return invalid_argument("'" + path + "' holds rows of " + std::to_string(head[0]) +
                            " log-probabilities, this model has " + std::to_string(n_vocab) +
                            " tokens");
  }
  b.n_vocab_ = n_vocab;
  b.rows_ = head[1];
  return b;
}

BaselineFile::BaselineFile(BaselineFile&& o) noexcept { *this = std::move(o); }

BaselineFile& BaselineFile::operator=(BaselineFile&& o) noexcept {
  std::swap(f_, o.f_);
  std::swap(path_, o.path_);
  std::swap(n_vocab_, o.n_vocab_);
  std::swap(rows_, o.rows_);
  std::swap(read_, o.read_);
  std::swap(writing_, o.writing_);
  std::swap(buf_, o.buf_);
  return *this;
}

BaselineFile::~BaselineFile() {
  if (f_) std::fclose(f_);
}

Status BaselineFile::append(const float* logits) {
  std::vector<double> lp;
  log_softmax(logits, n_vocab_, &lp);
  buf_.resize(static_cast<size_t>(n_vocab_));
  // Below -60 nats a probability is 0 for every sum here; clamping keeps fp16 finite.
  for (int64_t i = 0; i < n_vocab_; ++i) buf_[i] = fp32_to_fp16(float(std::max(lp[i], -60.0)));
  if (std::fwrite(buf_.data(), 2, buf_.size(), f_) != buf_.size()) {
    return io_error("cannot write '" + path_ + "' (disk full?)");
  }
  ++rows_;
  return Status::ok();
}

Status BaselineFile::next(std::vector<double>* logp) {
  if (read_ >= rows_) {
    return invalid_argument("'" + path_ + "' holds " + std::to_string(rows_) +
                            " rows: fewer than this evaluation needs (another text, --ctx or "
                            "--chunks than the run that wrote it?)");
  }
  buf_.resize(static_cast<size_t>(n_vocab_));
  if (std::fread(buf_.data(), 2, buf_.size(), f_) != buf_.size()) {
    return invalid_format("'" + path_ + "' is truncated");
  }
  ++read_;
  logp->resize(static_cast<size_t>(n_vocab_));
  for (int64_t i = 0; i < n_vocab_; ++i) (*logp)[i] = fp16_to_fp32(buf_[i]);
  return Status::ok();
}

Status BaselineFile::finish() {
  if (!writing_) return Status::ok();
  if (std::fseek(f_, 8 + 8, SEEK_SET) != 0 || std::fwrite(&rows_, 8, 1, f_) != 1 ||
      std::fflush(f_) != 0) {
    return io_error("cannot write '" + path_ + "'");
  }
  return Status::ok();
}

Result<PerplexityResult> perplexity(Session& test, const Baseline& base,
                                    std::span<const int32_t> tokens, const PerplexityOptions& o) {
  const int64_t n_ctx = o.n_ctx;
  if (n_ctx < 4) return invalid_argument("perplexity needs a context of at least 4 tokens");
  if (n_ctx > test.n_ctx() || (base.session && n_ctx > base.session->n_ctx())) {
    return invalid_argument("chunks of " + std::to_string(n_ctx) +
                            " tokens do not fit the session's context");
  }
  int64_t n_chunks = static_cast<int64_t>(tokens.size()) / n_ctx;
  if (o.max_chunks >= 0) n_chunks = std::min(n_chunks, o.max_chunks);
  if (n_chunks < 1) {
    return invalid_argument("the text has " + std::to_string(tokens.size()) +
                            " tokens, fewer than one chunk of " + std::to_string(n_ctx) +
                            " (lower --ctx)");
  }
  const int64_t n_vocab = test.engine().hparams().n_vocab;
  const bool has_base = base.session || base.read;
  const int64_t first = n_ctx / 2;  // llama.cpp scores [n_ctx / 2, n_ctx - 1) of each chunk
  PerplexityResult res;
  res.has_base = has_base;
  const int n_bins = std::max(1, o.n_bins);
  const int64_t width = (n_ctx - 1 + n_bins - 1) / n_bins;
  for (int b = 0; b < n_bins; ++b) {
    PositionBin bin;
    bin.begin = 1 + b * width;
    bin.end = std::min(n_ctx, 1 + (b + 1) * width);
    if (bin.begin < bin.end) res.bins.push_back(bin);
  }
  double nll_sum = 0, nll_all = 0, base_nll = 0, kl_sum = 0, top1 = 0;
  int64_t n_all = 0;
  std::vector<float> kls;
  const int64_t step = has_base && base.session ? std::max<int64_t>(1, o.lockstep) : n_ctx;
  std::vector<float> base_rows;  // [step][n_vocab] logits of the baseline session
  std::vector<double> lp, lb;
  const int64_t total = n_chunks * n_ctx;
  Status err;
  for (int64_t c = 0; c < n_chunks; ++c) {
    const std::span<const int32_t> chunk = tokens.subspan(static_cast<size_t>(c * n_ctx), n_ctx);
    test.reset();
    if (base.session) base.session->reset();
    for (int64_t s0 = 0; s0 < n_ctx; s0 += step) {
      if (o.cancel && o.cancel->load()) return invalid_argument("cancelled");
      const int64_t m = std::min(step, n_ctx - s0);
      const std::span<const int32_t> sub = chunk.subspan(static_cast<size_t>(s0), m);
      if (base.session) {
        base_rows.resize(static_cast<size_t>(m * n_vocab));
        EvalOptions be;
        be.on_logits = [&](int64_t i, const float* row) {
          if (s0 + i >= n_ctx - 1) return;
          if (base.save && err.is_ok()) err = base.save->append(row);
          std::copy(row, row + n_vocab, base_rows.begin() + i * n_vocab);
        };
        auto ok = base.session->eval(sub, be);
        if (!ok) return ok.status();
        LONGCTX_RETURN_IF_ERROR(err);
      }
      EvalOptions te;
      te.on_logits = [&](int64_t i, const float* row) {
        const int64_t pos = s0 + i;
        if (pos >= n_ctx - 1 || !err.is_ok()) return;  // the last position predicts nothing here
        log_softmax(row, n_vocab, &lp);
        const int32_t target = chunk[pos + 1];
        const double nll = -lp[target];
        double kl = 0;
        if (has_base) {
          if (base.session) {
            log_softmax(base_rows.data() + i * n_vocab, n_vocab, &lb);
          } else {
            err = base.read->next(&lb);
            if (!err.is_ok()) return;
          }
          for (int64_t v = 0; v < n_vocab; ++v) kl += std::exp(lb[v]) * (lb[v] - lp[v]);
          kl = std::max(kl, 0.0);
        }
        nll_all += nll;
        ++n_all;
        for (PositionBin& b : res.bins) {
          if (pos + 1 >= b.begin && pos + 1 < b.end) {
            b.nll += nll;
            b.kl += kl;
            ++b.n;
          }
        }
        if (pos >= first) {
          nll_sum += nll;
          ++res.n_scored;
          if (has_base) {
            base_nll += -lb[target];
            kl_sum += kl;
            kls.push_back(static_cast<float>(kl));
            top1 += argmax(lb) == argmax(lp);
          }
        }
      };
      auto ok = test.eval(sub, te);
      if (!ok) return ok.status();
      LONGCTX_RETURN_IF_ERROR(err);
      if (o.progress) o.progress(c * n_ctx + s0 + m, total);
    }
    ++res.n_chunks;
  }
  for (PositionBin& b : res.bins) {
    if (b.n > 0) {
      b.nll /= double(b.n);
      b.kl /= double(b.n);
    }
  }
  res.ppl = std::exp(nll_sum / double(std::max<int64_t>(1, res.n_scored)));
  res.ppl_all = std::exp(nll_all / double(std::max<int64_t>(1, n_all)));
  if (has_base && !kls.empty()) {
    res.base_ppl = std::exp(base_nll / double(res.n_scored));
    res.kl_mean = kl_sum / double(kls.size());
    std::sort(kls.begin(), kls.end());
    res.kl_p99 = kls[std::min(kls.size() - 1, static_cast<size_t>(0.99 * double(kls.size())))];
    res.kl_max = kls.back();
    res.top1 = top1 / double(kls.size());
  }
  return res;
}

Result<std::vector<PasskeyDepth>> passkey(Session& session, const PasskeyOptions& o) {
  const Tokenizer* tok = session.engine().tokenizer();
  if (!tok) return invalid_argument("passkey needs a tokenizer (none in the model file)");
  if (o.depths.empty() || o.trials < 1) {
    return invalid_argument("passkey needs at least one depth and one trial");
  }
  const std::string intro =
      "There is an important info hidden inside a lot of irrelevant text. Find it and memorize "
      "it. I will quiz you about the important information there.\n\n";
  const std::string filler =
      " The grass is green. The sky is blue. The sun is yellow. Here we go. There and back "
      "again.";
  const std::string question = "\n\nWhat is the pass key? The pass key is";
  const int64_t n_filler = static_cast<int64_t>(tok->encode(filler, false).size());
  const int64_t n_fixed = static_cast<int64_t>(
      tok->encode(intro + question + " The pass key is 12345. Remember it. 12345 is the pass key.",
                  false)
          .size());
  std::mt19937_64 rng(o.seed);
  std::vector<PasskeyDepth> out;
  int64_t done = 0;
  const int64_t total = static_cast<int64_t>(o.depths.size()) * o.trials;
  for (int64_t depth : o.depths) {
    if (depth < n_fixed + n_filler) {
      return invalid_argument("passkey depth " + std::to_string(depth) + " is below the " +
                              std::to_string(n_fixed + n_filler) + " tokens of the prompt itself");
    }
    PasskeyDepth d;
    d.depth = depth;
    const int64_t reps = (depth - n_fixed) / n_filler;
    for (int t = 0; t < o.trials; ++t) {
      const int key = 10000 + static_cast<int>(rng() % 90000);
      const std::string k = std::to_string(key);
      const int64_t at = static_cast<int64_t>(std::llround(double(reps) * (t + 0.5) / o.trials));
      std::string text = intro;
      for (int64_t r = 0; r < reps; ++r) {
        if (r == at) text += " The pass key is " + k + ". Remember it. " + k + " is the pass key.";
        text += filler;
      }
      text += question;
      const std::vector<int32_t> ids = tok->encode(text, false);
      if (static_cast<int64_t>(ids.size()) + 8 > session.n_ctx()) {
        return invalid_argument("passkey depth " + std::to_string(depth) + " needs " +
                                std::to_string(ids.size() + 8) + " positions; raise --ctx");
      }
      GenerateOptions go;
      go.max_tokens = 8;
      go.sampling.temperature = 0.0f;
      auto r = generate(session, ids, go, nullptr);
      if (!r) return r.status();
      // The first run of digits in the answer.
      std::string num;
      for (char ch : r->text) {
        if (std::isdigit(static_cast<unsigned char>(ch))) {
          num += ch;
        } else if (!num.empty()) {
          break;
        }
      }
      ++d.trials;
      d.found += num == k;
      d.answers.push_back(r->text);
      if (o.progress) o.progress(++done, total);
    }
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace longctx
