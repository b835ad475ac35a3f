// Measures the rates the planner's CPU speed model needs (plan/planner.h MeasuredCpuSpeed) on
// this machine's cpu backend: a STREAM-style read, the batched matmul of each weight type the
// model multiplies with, decode's one-token matmul of each such type streaming from memory,
// and decode / prefill attention at the model's shape and KV types, each
// on synthetic data larger than the caches. Every figure is cached per machine (CPU model,
// threads, instruction-set path) and probe, in $XDG_CACHE_HOME/longctx/speed.json (else
// ~/.cache/longctx/), so a later plan or bench reads it instead of probing again (~1 s).
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "kernels/backend.h"
#include "model/hparams.h"
#include "plan/planner.h"

namespace longctx {

struct SpeedProbeOptions {
  int64_t n_batch = 512;   // prefill micro-batch (the matmul and attention probes' width)
  int n_threads = 0;       // the backend's threads (part of the cache key; 0 = all cores)
  bool use_cache = true;   // read and write the cache file
  bool refresh = false;    // measure every figure now, ignoring cached ones (then cache them)
  std::string cache_path;  // "" = the default location
};

// `backend` is the cpu backend the engine would use (its threads and path); `weight_types`
// the types of the model's matrices; read_bw_override > 0 replaces the read probe (--bw).
Result<MeasuredCpuSpeed> probe_cpu_speed(KernelBackend& backend, const ModelHparams& hp,
                                         const std::vector<TensorType>& weight_types,
                                         TensorType type_k, TensorType type_v,
                                         double read_bw_override,
                                         const SpeedProbeOptions& options = {});

}  // namespace longctx
