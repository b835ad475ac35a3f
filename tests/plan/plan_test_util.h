// Shared helpers of the planner tests: plan options with the engine's compute-buffer figure and
// explicit devices.
#pragma once

#include <string>

#include "plan/catalog.h"
#include "plan/planner.h"
#include "runtime/session.h"

namespace longctx::testing_util {

inline PlanOptions engine_plan_options(KvTypes kv = {}) {
  PlanOptions o;
  o.kv = kv;
  o.compute_bytes = [](const ModelHparams& hp, int64_t n_batch) {
    return Session::compute_bytes_for(hp, n_batch);
  };
  return o;
}

// One accelerator of `memory` bytes (bandwidth/FLOPs in bytes/s and FLOP/s) and a host.
inline DeviceSetup gpu(uint64_t memory, double bandwidth = 1e12, double flops = 1e14,
                       uint64_t host_memory = 64ull << 30, double host_bandwidth = 80e9) {
  DeviceSetup d;
  d.label = "test gpu";
  d.count = 1;
  d.memory = memory;
  d.bandwidth = bandwidth;
  d.flops = flops;
  d.host_memory = host_memory;
  d.host_bandwidth = host_bandwidth;
  d.source = "explicit";
  return d;
}

inline PlanModel catalog_model(const std::string& name, QuantPreset p = QuantPreset::Q4_K_M) {
  const ModelShape* s = find_model_shape(name);
  return plan_model_from_preset(hparams_from_shape(*s), p, name, "catalog");
}

}  // namespace longctx::testing_util
