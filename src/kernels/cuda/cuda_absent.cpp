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

}  // namespace longctx::cuda
