// kernels::DeviceInfo's driver queries and its per-kernel record (what and
// why: include/pagoda/kernels/device_info.hpp).
#include <pagoda/kernels/device_info.hpp>

#include <algorithm>
#include <string>

#include <cuda_runtime_api.h>

#include <pagoda/core/cuda_raii.hpp>
#include <pagoda/kernels/cuda_check.hpp>
#include <pagoda/kernels/matmul_wgmma_streams.cuh>

namespace pagoda::kernels {

DeviceInfo DeviceInfo::of(int device, bool programmatic_launch) {
  const std::string operation = "kernels::DeviceInfo::of(device " + std::to_string(device) + ")";
  // Checked here rather than left to the driver: an ordinal it rejects is a
  // CUDA API error (which compute-sanitizer counts), and ours names the count.
  int count = 0;
  check_cuda(cudaGetDeviceCount(&count), operation);
  require(device >= 0 && device < count, operation,
          "the device exists: this machine has " + std::to_string(count) + " CUDA device(s)");
  const auto attribute = [&](cudaDeviceAttr which) {
    int value = 0;
    check_cuda(cudaDeviceGetAttribute(&value, which, device), operation);
    return value;
  };
  DeviceProperties properties;
  properties.ordinal = device;
  properties.compute_capability =
      10 * attribute(cudaDevAttrComputeCapabilityMajor) + attribute(cudaDevAttrComputeCapabilityMinor);
  properties.multiprocessors = attribute(cudaDevAttrMultiProcessorCount);
  properties.max_shared_optin = static_cast<std::size_t>(attribute(cudaDevAttrMaxSharedMemoryPerBlockOptin));
  properties.wgmma_code = wgmma_built();
  return DeviceInfo(properties, programmatic_launch);
}

DeviceInfo DeviceInfo::current(bool programmatic_launch) {
  int device = 0;
  check_cuda(cudaGetDevice(&device), "kernels::DeviceInfo::current: cudaGetDevice");
  return of(device, programmatic_launch);
}

void DeviceInfo::opt_in_shared_memory(const void* kernel, std::size_t bytes, std::string_view operation) const {
  const std::lock_guard lock(kernels_->mutex);
  std::size_t& given = kernels_->shared_opted_in[kernel];  // 0 the first time
  if (bytes <= given) return;
  require(bytes <= properties_.max_shared_optin, operation,
          "the kernel's " + std::to_string(bytes) + " bytes of shared memory fit the device's " +
              std::to_string(properties_.max_shared_optin));
  // The attribute belongs to the kernel on the current device: set it on this one.
  const ScopedDevice on(properties_.ordinal);
  check_cuda(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes)),
             operation, "cudaFuncSetAttribute(MaxDynamicSharedMemorySize)");
  given = bytes;
}

int DeviceInfo::resident_blocks(const void* kernel, int threads, std::size_t shared_bytes) const {
  const std::lock_guard lock(kernels_->mutex);
  const auto [at, fresh] = kernels_->resident.try_emplace({kernel, threads, shared_bytes}, 0);
  if (!fresh) return at->second;
  int per_sm = 0;
  const ScopedDevice on(properties_.ordinal);
  const cudaError_t status = cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, threads, shared_bytes);
  if (status != cudaSuccess) {
    kernels_->resident.erase(at);
    check_cuda(status, "cudaOccupancyMaxActiveBlocksPerMultiprocessor");
  }
  at->second = std::max(1, per_sm) * properties_.multiprocessors;
  return at->second;
}

}  // namespace pagoda::kernels
