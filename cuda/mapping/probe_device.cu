// The device half of the capability probe (the OS half is
// src/mapping/capabilities.cpp): the attributes that decide which mapping
// policies can work, read once through the CUDA runtime.
#include <string>

#include <cuda_runtime_api.h>

#include "pagoda/mapping/capabilities.hpp"
#include "pagoda/core/cuda_raii.hpp"

namespace pagoda::mapping {

namespace {

bool attribute(cudaDeviceAttr which, const char* name, int ordinal) {
  int value = 0;
  pagoda::check_cuda(cudaDeviceGetAttribute(&value, which, ordinal), "cudaDeviceGetAttribute",
                      std::string(name) + " of device " + std::to_string(ordinal));
  return value != 0;
}

int attribute_value(cudaDeviceAttr which, const char* name, int ordinal) {
  int value = 0;
  pagoda::check_cuda(cudaDeviceGetAttribute(&value, which, ordinal), "cudaDeviceGetAttribute",
                      std::string(name) + " of device " + std::to_string(ordinal));
  return value;
}

}  // namespace

DeviceCapabilities probe_device(int ordinal) {
  DeviceCapabilities d;
  d.ordinal = ordinal;
  int count = 0;
  if (const cudaError_t status = cudaGetDeviceCount(&count); status != cudaSuccess) {
    cudaGetLastError();
    // Without a GPU the runtime answers "driver version is insufficient" (no
    // driver library at all) or "no CUDA-capable device": say what that means.
    const bool nothing_there = status == cudaErrorInsufficientDriver || status == cudaErrorNoDevice;
    d.absent_reason = std::string(nothing_there ? "no NVIDIA GPU/driver found; " : "") + "cudaGetDeviceCount: " +
                      pagoda::cuda_error_text(status);
    return d;
  }
  if (ordinal < 0 || ordinal >= count) {
    d.absent_reason = count == 0 ? std::string("no NVIDIA GPU/driver found (no CUDA devices)")
                                 : "device " + std::to_string(ordinal) + " requested, " +
                                       std::to_string(count) + " present";
    return d;
  }
  cudaDeviceProp properties{};
  pagoda::check_cuda(cudaGetDeviceProperties(&properties, ordinal), "cudaGetDeviceProperties",
                      "device " + std::to_string(ordinal));
  d.name = properties.name;
  d.compute_major = attribute_value(cudaDevAttrComputeCapabilityMajor, "ComputeCapabilityMajor", ordinal);
  d.compute_minor = attribute_value(cudaDevAttrComputeCapabilityMinor, "ComputeCapabilityMinor", ordinal);
  d.integrated = attribute(cudaDevAttrIntegrated, "Integrated", ordinal);
  d.pageable_memory_access = attribute(cudaDevAttrPageableMemoryAccess, "PageableMemoryAccess", ordinal);
  d.pageable_memory_access_uses_host_page_tables = attribute(
      cudaDevAttrPageableMemoryAccessUsesHostPageTables, "PageableMemoryAccessUsesHostPageTables", ordinal);
  d.host_register_supported = attribute(cudaDevAttrHostRegisterSupported, "HostRegisterSupported", ordinal);
  d.host_register_read_only_supported =
      attribute(cudaDevAttrHostRegisterReadOnlySupported, "HostRegisterReadOnlySupported", ordinal);
  d.can_use_host_pointer_for_registered_mem =
      attribute(cudaDevAttrCanUseHostPointerForRegisteredMem, "CanUseHostPointerForRegisteredMem", ordinal);
  d.concurrent_managed_access = attribute(cudaDevAttrConcurrentManagedAccess, "ConcurrentManagedAccess", ordinal);
  {
    const pagoda::ScopedDevice current(ordinal);
    const pagoda::DeviceMemoryInfo memory = pagoda::device_memory_info("probe_device");
    d.free_vram_bytes = memory.free_bytes;
    d.total_vram_bytes = memory.total_bytes;
  }
  d.present = true;
  return d;
}

Capabilities probe(int ordinal) { return Capabilities{probe_device(ordinal), probe_os()}; }

}  // namespace pagoda::mapping
