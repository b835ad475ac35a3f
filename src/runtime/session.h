// A session: one token sequence with its KV cache, evaluated in chunks of n_batch tokens.
// eval() appends tokens (prefill or one decode step), logits() is the next-token distribution.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "kv/kv_cache.h"
#include "model/forward.h"
#include "runtime/engine.h"

namespace longctx {

struct EvalOptions {
  // Called for every evaluated token with its index in `tokens` and logits[n_vocab] (for
  // --dump-logits); when unset only the last token's logits are computed.
  std::function<void(int64_t index, const float* logits)> on_logits;
  // Called after each chunk with (tokens evaluated, total).
  std::function<void(int64_t done, int64_t total)> progress;
  // Checked between chunks; when it becomes true eval stops with kCancelled state: the tokens
  // evaluated so far stay in the cache.
  const std::atomic<bool>* cancel = nullptr;
};

class CudaSequence;

class Session {
 public:
  Session(Engine& engine, KvCache kv, ForwardScratch scratch, ref::RopeTable rope,
          int64_t n_expert_used, std::string warning);
  ~Session();

  // CUDA engines (Engine::cuda_weights): the session's forward passes run on the device, whose
  // KV cache kv_cache() mirrors. Host-side sequence operations (save, restore, shift, copy, a
  // RoPE factor step) move the positions they need between the two (CudaSequence::pull/push).
  void attach_device(std::unique_ptr<CudaSequence> dev);
  bool on_device() const { return dev_ != nullptr; }
  const CudaSequence* device() const { return dev_.get(); }
  // Device bytes of this session (its KV cache and activations on the GPU); 0 on the CPU.
  uint64_t device_bytes() const;
  // Brings kv() up to date with the device cache (a no-op on the CPU): readers of kv()'s bytes
  // (session files) call it first.
  Status sync_host_kv() const;

  int64_t n_ctx() const { return kv_.n_ctx(); }
  int64_t n_past() const { return static_cast<int64_t>(tokens_.size()); }
  int64_t n_batch() const { return scratch_.n_batch; }
  const std::vector<int32_t>& tokens() const { return tokens_; }
  const KvCache& kv() const { return kv_; }
  // The cache itself, writable: for loading a saved state and for sequence operations that
  // rewrite positions in place. Callers keep kv().n_past() and tokens() consistent through
  // restore().
  KvCache& kv_cache() { return kv_; }
  Engine& engine() { return engine_; }
  const Engine& engine() const { return engine_; }
  // A note for the user from creation (e.g. context beyond the native one), or "".
  const std::string& warning() const { return warning_; }
  // Bytes of this session's compute buffers: activations, logit rows, RoPE window (the KV cache
  // is kv().bytes()).
  uint64_t compute_bytes() const;
  // The same figure for a model and batch size, without creating a session (for the planner).
  static uint64_t compute_bytes_for(const ModelHparams& hp, int64_t n_batch);

  // Appends tokens at positions n_past() ...: ids outside the vocabulary or more tokens than
  // the context has room for are kInvalidArgument (nothing is evaluated then). Returns true
  // when all were evaluated, false when cancelled in between.
  Result<bool> eval(std::span<const int32_t> tokens, const EvalOptions& options = {});
  // eval's argument checks alone: ids inside the vocabulary, room in the context.
  Status check_append(std::span<const int32_t> tokens) const;
  // Logits of the last evaluated token: [n_vocab]. Valid after a successful eval.
  const float* logits() const { return last_logits_.data(); }

  // A batched step (runtime/batch.h) appends `tokens` here from rows [row0, row0 + n) of a pass
  // it runs for several sessions: begin_batch makes the same checks as eval (ids, room), takes
  // an adaptive RoPE step if one is due and positions the RoPE window, and returns this
  // session's slice; after the pass, finish_batch records the tokens and the logits after the
  // last of them. n must fit in n_batch() (the RoPE window's size).
  Result<SeqSlice> begin_batch(std::span<const int32_t> tokens, int64_t row0);
  void finish_batch(std::span<const int32_t> tokens, const float* logits);

  // A state written into kv_cache() elsewhere (a session file): the cache's positions
  // [0, tokens.size()) hold these tokens' K/V and `logits` [n_vocab] follow the last of them.
  // More tokens than the context holds, or ids outside the vocabulary, are kInvalidArgument.
  Status restore(std::span<const int32_t> tokens, const float* logits);

  // The logits after the first n tokens, kept aside (one snapshot): generate() keeps those at
  // the end of each prompt, so the same prompt again needs no evaluation even after the reply
  // was appended (a prompt cache). Truncating below n, or reset, drops it.
  struct LogitsSnapshot {
    int64_t n_tokens = -1;  // -1: none
    std::vector<float> logits;
  };
  void snapshot_logits();  // the current last logits, at n_past()
  const LogitsSnapshot& snapshot() const { return snapshot_; }
  // This session becomes the first n tokens of `src` (a session of the same engine and cache
  // configuration): K/V copied as stored, the tokens, the logits after token n (src's last
  // logits when n == src.n_past(), else its snapshot, which must be at n) and src's RoPE
  // factor. The server's n > 1 choices evaluate their prompt once and copy it this way.
  Status copy_prefix_from(const Session& src, int64_t n);
  // Installs a snapshot (from a session file); n_tokens <= n_past(), logits [n_vocab].
  Status set_snapshot(int64_t n_tokens, const float* logits);
  // When the snapshot is at n <= n_past(): truncates to n and makes its logits the last ones.
  bool rewind_to_snapshot(int64_t n);

  // Benchmark support only: appends n positions [n_past(), n_past() + n) whose K/V are synthetic
  // values (a fixed pseudo-random pattern in [-1, 1), the same in every layer) and whose token
  // ids are 0, without running the model. Attention cost depends on how many positions the
  // cache holds, not on their values, so `bench` can time a test at depth d without first
  // spending minutes on a real prefill of d tokens. The cache then holds no state any prompt
  // would produce and logits() is left unchanged: never use it for generation. n < 0 or more
  // positions than the context has room for is kInvalidArgument (nothing is stored then).
  Status fill_synthetic(int64_t n);

  // RoPE as this session applies it now. With length-adaptive YaRN (SessionOptions: the
  // default past the native context) there is no scaling while the sequence is within the
  // original context L, then YaRN of the smallest factor of the ladder 2, 3, 4, ... that covers
  // it, ceil(n / L): eval() steps the factor up before positions beyond the current one's reach
  // are evaluated, turning the cached keys to the new factor in place (kv_rerotate). Keys and
  // values of later layers were computed under the old factor, so a step approximates a fresh
  // prefill at the new factor (eval measures the difference).
  const ref::RopeParams& rope_params() const { return rope_params_; }
  bool adaptive_rope() const { return adaptive_; }
  int rope_steps() const { return rope_steps_; }                // factor changes so far
  int64_t rope_original_context() const { return yarn_orig_; }  // adaptive YaRN's L
  // Makes the session adaptive over the original context `orig_ctx` (from a base setting with no
  // scaling), or static with `params`; done by Engine::new_session.
  Status init_rope(const ref::RopeParams& params, bool adaptive, int64_t orig_ctx);
  // The factor adaptive YaRN uses for a sequence of n tokens over original context L: 1 up to L,
  // else ceil(n / L).
  static double adaptive_factor(int64_t n, int64_t orig_ctx);
  // Sets the current factor of an adaptive session without touching the cache (a saved state
  // whose keys were stored at that factor).
  Status set_rope_factor(double factor);

  // MoE: experts per token from now on (1..n_expert); dense models accept only 0.
  Status set_expert_count(int64_t k);
  int64_t expert_count() const { return n_expert_used_; }

  // Sequence operations: forget everything / keep the first n tokens.
  void reset();
  // reset(), and the cache's and buffers' pages given back to the system (a sleeping server,
  // docs/SERVER.md); the session stays usable and takes them again on its next evaluation.
  // Host sessions only: a session on the GPU keeps its device memory (kUnsupported).
  Status release_memory();
  void truncate(int64_t n);
  // Drops tokens [p0, p1) without evaluating anything: the later tokens' cached keys are moved
  // down and turned to their new positions in place (kv/kv_ops.h), so decoding goes on at once.
  // The last logits stay those computed before (they saw the dropped tokens), as a context
  // shift in mid-reply does.
  Status remove(int64_t p0, int64_t p1);

 private:
  Engine& engine_;
  // On a CUDA engine the host cache is a mirror of the device's (dev_), refreshed on demand:
  // mutable so that sync_host_kv, logically a read, can refresh it.
  mutable KvCache kv_;
  std::unique_ptr<CudaSequence> dev_;
  // Host mirror positions [0, host_valid_) equal the device's; the rest are stale.
  mutable int64_t host_valid_ = 0;
  // Host positions [p0, n_past) changed by a host-side operation: copy them to the device.
  Status push_kv(int64_t p0);
  Result<bool> eval_on_device(std::span<const int32_t> tokens, const EvalOptions& options);
  ForwardScratch scratch_;
  ref::RopeTable rope_;
  ref::RopeParams rope_params_;  // what rope_ was built from
  bool adaptive_ = false;
  int64_t yarn_orig_ = 0;
  int rope_steps_ = 0;
  // Adaptive: the RoPE setting for factor f (1: none), and the step before evaluating up to n.
  ref::RopeParams adaptive_params(double f) const;
  Status prepare_rope(int64_t n_end);
  int64_t n_expert_used_ = 0;
  std::string warning_;
  std::vector<int32_t> tokens_;
  std::vector<float> logit_rows_;   // [kLogitRows][n_vocab] logits computed per pass
  std::vector<float> last_logits_;  // [n_vocab]
  LogitsSnapshot snapshot_;
};

}  // namespace longctx
