// Shared pieces of the .cu files: turning a cudaError_t into a Status, launch-size helpers.
#pragma once

#include <cuda_runtime.h>

#include <string>

#include "core/status.h"
#include "kernels/cuda/cuda_api.h"

namespace longctx::cuda {

inline Status cuda_status(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return Status::ok();
  const ErrorCode code = e == cudaErrorMemoryAllocation ? ErrorCode::kOutOfMemory
                         : (e == cudaErrorNoDevice || e == cudaErrorInsufficientDriver ||
                            e == cudaErrorNoKernelImageForDevice)
                             ? ErrorCode::kUnsupported
                             : ErrorCode::kIo;
  return Status(code, std::string("CUDA: ") + what + ": " + cudaGetErrorString(e) + " (" +
                          cudaGetErrorName(e) + ")");
}

// After a launch: a bad configuration shows here; faults inside the kernel at synchronize().
inline Status launch_status(const char* kernel) { return cuda_status(cudaGetLastError(), kernel); }

inline unsigned ceil_div(int64_t a, int64_t b) { return unsigned((a + b - 1) / b); }

// The stream kernels launch on: the calling thread's current one (StreamScope), else the legacy
// default stream.
inline cudaStream_t stream() { return static_cast<cudaStream_t>(current_stream()); }

}  // namespace longctx::cuda
