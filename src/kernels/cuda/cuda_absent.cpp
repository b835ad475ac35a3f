// The CUDA interface in a build without the toolkit: every query says so, nothing crashes.
#include "kernels/cuda/cuda_api.h"

namespace longctx::cuda {
namespace {
Status absent() {
  return Status(ErrorCode::kUnsupported,
                "this longctx was built without CUDA (configure with the CUDA toolkit installed, "
                "see README: Building with CUDA)");
}
}  // namespace

bool built_with_cuda() { return false; }
Result<std::vector<DeviceInfo>> devices() { return absent(); }
Result<double> measure_read_bandwidth(int, uint64_t) { return absent(); }
Result<uint64_t> device_memory_in_use(int) { return absent(); }
Result<DeviceBuffer> DeviceBuffer::allocate(size_t) { return absent(); }
DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& o) noexcept {
  p_ = o.p_;
  n_ = o.n_;
  o.p_ = nullptr;
  o.n_ = 0;
  return *this;
}
DeviceBuffer::~DeviceBuffer() = default;
Status copy_to_device(void*, const void*, size_t) { return absent(); }
Status copy_to_host(void*, const void*, size_t) { return absent(); }
Status synchronize() { return absent(); }
Result<double> time_ms(const std::function<Status()>&, int) { return absent(); }
void* current_stream() { return nullptr; }
Stream::~Stream() = default;
Result<void*> Stream::get() { return absent(); }
StreamScope::StreamScope(void* stream) : prev_(stream) {}
StreamScope::~StreamScope() = default;
Graph::~Graph() = default;
Status Graph::run(void*, const std::function<Status()>&, bool* graph_failed) {
  *graph_failed = true;
  return absent();
}
Status copy_to_device_async(void*, const void*, size_t) { return absent(); }
bool matvec_supported(TensorType) { return false; }
Status matvec(TensorType, const void*, int64_t, int64_t, const float*, int64_t, const float*,
              float*) {
  return absent();
}
Status rms_norm(const float*, const float*, float, int64_t, int64_t, float*) { return absent(); }
Status rope_neox(const double*, double, int64_t, int64_t, int64_t, int64_t, float*) {
  return absent();
}
Status swiglu(const float*, const float*, int64_t, float*) { return absent(); }
Status add_into(float*, const float*, int64_t) { return absent(); }
Status hadamard(float*, int64_t, int64_t) { return absent(); }
Status get_rows(TensorType, const void*, int64_t, const int32_t*, int64_t, float*) {
  return absent();
}
bool kv_type_supported(TensorType) { return false; }
Status convert_rows(TensorType, const float*, int64_t, void*) { return absent(); }
size_t attention_scratch_bytes(int64_t, int64_t, int64_t) { return 0; }
Status attention(const AttentionArgs&, const float*, int64_t, float*) { return absent(); }
Status moe_route(const float*, int64_t, int64_t, int64_t, bool, int32_t*, float*) {
  return absent();
}
Status matvec_experts(TensorType, const void*, int64_t, int64_t, const int32_t*, int64_t, int64_t,
                      const float*, float*) {
  return absent();
}
Status moe_combine(const float*, const float*, int64_t, int64_t, int64_t, float*) {
  return absent();
}

}  // namespace longctx::cuda
