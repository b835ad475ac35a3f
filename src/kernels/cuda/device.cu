// Device queries, the read-bandwidth probe and device buffers.
#include <algorithm>
#include <cstdio>
#include <utility>

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/cuda_api.h"

namespace longctx::cuda {

bool built_with_cuda() { return true; }

Result<std::vector<DeviceInfo>> devices() {
  int n = 0;
  cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    cudaGetLastError();  // clear the sticky error so a later query starts clean
    return cuda_status(e, "no usable GPU");
  }
  if (n == 0) return Status(ErrorCode::kUnsupported, "CUDA: no GPU found");
  std::vector<DeviceInfo> out;
  for (int i = 0; i < n; ++i) {
    cudaDeviceProp p{};
    LONGCTX_RETURN_IF_ERROR(cuda_status(cudaGetDeviceProperties(&p, i), "device properties"));
    DeviceInfo d;
    d.index = i;
    d.name = p.name;
    d.cc_major = p.major;
    d.cc_minor = p.minor;
    d.sm_count = p.multiProcessorCount;
    d.total_memory = p.totalGlobalMem;
    int clock_khz = 0, bus_bits = 0;
    if (cudaDeviceGetAttribute(&clock_khz, cudaDevAttrMemoryClockRate, i) == cudaSuccess &&
        cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, i) == cudaSuccess) {
      d.peak_bandwidth = 2.0 * clock_khz * 1e3 * bus_bits / 8.0;
    }
    cudaGetLastError();
    int prev = 0;
    if (cudaGetDevice(&prev) == cudaSuccess && cudaSetDevice(i) == cudaSuccess) {
      size_t free_b = 0, total_b = 0;
      if (cudaMemGetInfo(&free_b, &total_b) == cudaSuccess) d.free_memory = free_b;
      cudaSetDevice(prev);
    }
    cudaGetLastError();
    out.push_back(std::move(d));
  }
  return out;
}

Result<uint64_t> device_memory_in_use(int index) {
  int prev = 0;
  LONGCTX_RETURN_IF_ERROR(cuda_status(cudaGetDevice(&prev), "current device"));
  LONGCTX_RETURN_IF_ERROR(cuda_status(cudaSetDevice(index), "select device"));
  size_t free_b = 0, total_b = 0;
  const cudaError_t e = cudaMemGetInfo(&free_b, &total_b);
  cudaSetDevice(prev);
  LONGCTX_RETURN_IF_ERROR(cuda_status(e, "memory info"));
  return uint64_t(total_b - free_b);
}

namespace {

// Each thread sums 16-byte words with a grid stride; one atomic per block keeps the compiler
// from dropping the loads.
__global__ void read_kernel(const uint4* p, size_t n, unsigned* sink) {
  unsigned acc = 0;
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n;
       i += size_t(gridDim.x) * blockDim.x) {
    const uint4 v = p[i];
    acc ^= v.x ^ v.y ^ v.z ^ v.w;
  }
  if (acc == 0x9e3779b9u) atomicAdd(sink, 1u);  // practically never; the loads stay
}

__global__ void fill_kernel(uint4* p, size_t n) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n;
       i += size_t(gridDim.x) * blockDim.x) {
    p[i] = make_uint4(unsigned(i), unsigned(i >> 32), 1u, 2u);
  }
}

}  // namespace

Result<double> measure_read_bandwidth(int index, uint64_t bytes) {
  int prev = 0;
  LONGCTX_RETURN_IF_ERROR(cuda_status(cudaGetDevice(&prev), "current device"));
  LONGCTX_RETURN_IF_ERROR(cuda_status(cudaSetDevice(index), "select device"));
  struct Restore {
    int dev;
    ~Restore() { cudaSetDevice(dev); }
  } restore{prev};
  bytes = std::max<uint64_t>(bytes / 16 * 16, 1 << 20);
  auto buf = DeviceBuffer::allocate(bytes + 16);
  if (!buf) return buf.status();
  const size_t n = bytes / 16;
  auto* p = buf->as<uint4>();
  auto* sink = reinterpret_cast<unsigned*>(p + n);
  cudaDeviceProp prop{};
  LONGCTX_RETURN_IF_ERROR(cuda_status(cudaGetDeviceProperties(&prop, index), "properties"));
  const unsigned grid = unsigned(prop.multiProcessorCount) * 8, block = 512;
  fill_kernel<<<grid, block>>>(p, n);
  LONGCTX_RETURN_IF_ERROR(launch_status("fill"));
  cudaEvent_t a, b;
  LONGCTX_RETURN_IF_ERROR(cuda_status(cudaEventCreate(&a), "event"));
  LONGCTX_RETURN_IF_ERROR(cuda_status(cudaEventCreate(&b), "event"));
  float best_ms = 1e30f;
  for (int rep = 0; rep < 6; ++rep) {  // the first is a warm-up
    cudaEventRecord(a);
    read_kernel<<<grid, block>>>(p, n, sink);
    cudaEventRecord(b);
    Status st = cuda_status(cudaEventSynchronize(b), "read probe");
    if (!st) {
      cudaEventDestroy(a);
      cudaEventDestroy(b);
      return st;
    }
    float ms = 0;
    cudaEventElapsedTime(&ms, a, b);
    if (rep > 0) best_ms = std::min(best_ms, ms);
  }
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  return double(bytes) / (double(best_ms) * 1e-3);
}

Result<DeviceBuffer> DeviceBuffer::allocate(size_t bytes) {
  DeviceBuffer b;
  if (bytes == 0) return std::move(b);
  void* p = nullptr;
  LONGCTX_RETURN_IF_ERROR(
      cuda_status(cudaMalloc(&p, bytes), ("allocate " + std::to_string(bytes) + " bytes").c_str()));
  b.p_ = p;
  b.n_ = bytes;
  return std::move(b);
}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& o) noexcept {
  if (this != &o) {
    if (p_) cudaFree(p_);
    p_ = o.p_;
    n_ = o.n_;
    o.p_ = nullptr;
    o.n_ = 0;
  }
  return *this;
}

DeviceBuffer::~DeviceBuffer() {
  if (p_) cudaFree(p_);
}

namespace {
thread_local void* t_stream = nullptr;
}  // namespace

void* current_stream() { return t_stream; }

StreamScope::StreamScope(void* stream) : prev_(t_stream) { t_stream = stream; }
StreamScope::~StreamScope() { t_stream = prev_; }

Stream::~Stream() {
  if (s_) cudaStreamDestroy(static_cast<cudaStream_t>(s_));
}

Result<void*> Stream::get() {
  if (!s_) {
    cudaStream_t st = nullptr;
    LONGCTX_RETURN_IF_ERROR(cuda_status(cudaStreamCreate(&st), "create stream"));
    s_ = st;
  }
  return s_;
}

Graph::~Graph() {
  if (exec_) cudaGraphExecDestroy(static_cast<cudaGraphExec_t>(exec_));
}

Status Graph::run(void* stream_p, const std::function<Status()>& body, bool* graph_failed) {
  auto st = static_cast<cudaStream_t>(stream_p);
  *graph_failed = false;
  // A failure of the graph machinery itself: the runtime's last error is read (cleared) so the
  // caller's fallback, plain launches, does not find it at its first launch check.
  const auto graph_error = [graph_failed](cudaError_t e, const char* what) {
    cudaGetLastError();
    *graph_failed = true;
    return cuda_status(e, what);
  };
  if (cudaError_t e = cudaStreamBeginCapture(st, cudaStreamCaptureModeThreadLocal);
      e != cudaSuccess) {
    return graph_error(e, "begin capture");
  }
  Status body_status;
  {
    StreamScope scope(stream_p);
    body_status = body();
  }
  cudaGraph_t graph = nullptr;
  const cudaError_t end = cudaStreamEndCapture(st, &graph);
  if (!body_status) {  // the body's own error (nothing ran): no fault of the graph
    if (graph) cudaGraphDestroy(graph);
    cudaGetLastError();
    return body_status;
  }
  if (end != cudaSuccess) {
    if (graph) cudaGraphDestroy(graph);
    return graph_error(end, "end capture");
  }
  struct Destroy {
    cudaGraph_t g;
    ~Destroy() { cudaGraphDestroy(g); }
  } destroy{graph};
  if (exec_) {
    cudaGraphExecUpdateResultInfo info{};
    if (cudaGraphExecUpdate(static_cast<cudaGraphExec_t>(exec_), graph, &info) != cudaSuccess) {
      cudaGetLastError();  // another topology: instantiate afresh
      cudaGraphExecDestroy(static_cast<cudaGraphExec_t>(exec_));
      exec_ = nullptr;
    }
  }
  if (!exec_) {
    cudaGraphExec_t exec = nullptr;
    if (cudaError_t e = cudaGraphInstantiate(&exec, graph, 0); e != cudaSuccess) {
      return graph_error(e, "instantiate");
    }
    exec_ = exec;
  }
  if (cudaError_t e = cudaGraphLaunch(static_cast<cudaGraphExec_t>(exec_), st); e != cudaSuccess) {
    return graph_error(e, "graph launch");
  }
  ++launches_;
  return Status::ok();
}

Status copy_to_device_async(void* d_dst, const void* src, size_t bytes) {
  return cuda_status(cudaMemcpyAsync(d_dst, src, bytes, cudaMemcpyHostToDevice,
                                     static_cast<cudaStream_t>(t_stream)),
                     "copy to device");
}

Status copy_to_device(void* d_dst, const void* src, size_t bytes) {
  return cuda_status(cudaMemcpy(d_dst, src, bytes, cudaMemcpyHostToDevice), "copy to device");
}

Status copy_to_host(void* dst, const void* d_src, size_t bytes) {
  return cuda_status(cudaMemcpy(dst, d_src, bytes, cudaMemcpyDeviceToHost), "copy to host");
}

Result<double> time_ms(const std::function<Status()>& launch, int reps) {
  cudaEvent_t a, b;
  LONGCTX_RETURN_IF_ERROR(cuda_status(cudaEventCreate(&a), "event"));
  if (Status st = cuda_status(cudaEventCreate(&b), "event"); !st) {
    cudaEventDestroy(a);
    return st;
  }
  float best = 1e30f;
  Status st;
  for (int r = 0; r <= reps && st.is_ok(); ++r) {
    cudaEventRecord(a);
    st = launch();
    cudaEventRecord(b);
    if (st.is_ok()) st = cuda_status(cudaEventSynchronize(b), "timed launch");
    float ms = 0;
    if (st.is_ok() && r > 0 && cudaEventElapsedTime(&ms, a, b) == cudaSuccess) {
      best = std::min(best, ms);
    }
  }
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  if (!st) return st;
  return double(best);
}

Status synchronize() {
  LONGCTX_RETURN_IF_ERROR(cuda_status(cudaGetLastError(), "kernel launch"));
  return cuda_status(cudaDeviceSynchronize(), "kernel");
}

}  // namespace longctx::cuda
