// HmmDirect's constructor (see mapping/hmm_direct.hpp): check that the GPU
// can read pageable memory, then hint. The device pointers are the mapping's
// own addresses, so there is nothing to allocate, copy or register.
#include <string>

#include <unistd.h>

#include "pagoda/core/error.hpp"
#include "pagoda/core/stopwatch.hpp"
#include "pagoda/mapping/capabilities.hpp"
#include "pagoda/mapping/hmm_direct.hpp"
#include "pagoda/mapping/page_cache.hpp"
#include "pagoda/core/cuda_raii.hpp"

namespace pagoda::mapping {

namespace {

cudaMemLocation device_location(int device) {
  cudaMemLocation location{};
  location.type = cudaMemLocationTypeDevice;
  location.id = device;
  return location;
}

cudaError_t advise(const void* address, std::size_t bytes, cudaMemoryAdvise advice, int device) {
#if CUDART_VERSION >= 13000
  return cudaMemAdvise(address, bytes, advice, device_location(device));
#else
  return cudaMemAdvise_v2(address, bytes, advice, device_location(device));
#endif
}

cudaError_t prefetch(const void* address, std::size_t bytes, int device, cudaStream_t stream) {
#if CUDART_VERSION >= 13000
  return cudaMemPrefetchAsync(address, bytes, device_location(device), 0, stream);
#else
  return cudaMemPrefetchAsync_v2(address, bytes, device_location(device), 0, stream);
#endif
}

// A hint is advice: where the platform declines it (these three errors), the
// report says so and the load goes on; any other error is a real failure.
void apply_hint(cudaError_t status, std::string_view hint, PlacementReport& report) {
  if (status == cudaSuccess) {
    report.notes.push_back(std::string(hint) + " applied");
    return;
  }
  if (status == cudaErrorInvalidValue || status == cudaErrorNotSupported || status == cudaErrorInvalidDevice) {
    cudaGetLastError();
    report.fallbacks.push_back(std::string(hint) + " declined by the platform (" + pagoda::cuda_error_text(status) +
                               "); ignored");
    return;
  }
  check_cuda(status, hint, "HmmDirect");
}

}  // namespace

HmmDirect::HmmDirect(const gguf::MappedFile& file, const Options& options) : section_(file.gguf()) {
  const Stopwatch total;
  const DeviceCapabilities device = probe_device(options.device);
  const std::string which = "device " + std::to_string(options.device);
  if (!device.present) throw Error("HmmDirect: no CUDA " + which + ": " + device.absent_reason);
  if (!device.pageable_memory_access)
    throw Error("HmmDirect: " + which + " (" + device.name +
                ") reports pageableMemoryAccess=0: the GPU cannot read pageable host memory or a file mapping "
                "directly (no HMM/ATS). Use host-registered (zero-copy from the registered mapping) or device-copy");
  const pagoda::ScopedDevice current(options.device);
  const pagoda::DeviceMemoryInfo before = pagoda::device_memory_info("HmmDirect");

  report_.policy = id;
  report_.residence = residence;
  report_.where = device.pageable_memory_access_uses_host_page_tables
                      ? "file mapping (page cache), read in place through ATS"
                      : "file mapping (page cache), read in place through HMM";
  report_.fill_path = "in place (zero-copy)";
  report_.tensor_bytes = section_.tensor_bytes();
  report_.page_bytes = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  if (section_.size() != 0) {
    const std::byte* const host = section_.bytes().data();
    const ByteRange cover = page_cover({reinterpret_cast<std::uintptr_t>(host), section_.size()}, report_.page_bytes);
    const auto* const begin = reinterpret_cast<const void*>(cover.offset);
    if (!device.concurrent_managed_access) {
      report_.fallbacks.push_back("memory hints skipped: the device reports concurrentManagedAccess=0");
    } else {
      if (options.read_mostly)
        apply_hint(advise(begin, cover.size, cudaMemAdviseSetReadMostly, options.device),
                   "cudaMemAdviseSetReadMostly", report_);
      if (options.accessed_by)
        apply_hint(advise(begin, cover.size, cudaMemAdviseSetAccessedBy, options.device),
                   "cudaMemAdviseSetAccessedBy(device)", report_);
      if (options.prefetch.value_or(device.integrated)) {
        const pagoda::CudaStream stream("HmmDirect: prefetch");
        const Stopwatch prefetching;
        apply_hint(prefetch(begin, cover.size, options.device, stream.get()), "cudaMemPrefetchAsync(device)",
                   report_);
        stream.synchronize("HmmDirect: prefetch");
        report_.read_seconds = prefetching.seconds();
      }
    }
    report_.page_cache_bytes = resident_bytes(section_.bytes());
  }
  const pagoda::DeviceMemoryInfo after = pagoda::device_memory_info("HmmDirect");
  report_.vram_delta_bytes =
      static_cast<std::int64_t>(before.free_bytes) - static_cast<std::int64_t>(after.free_bytes);
  report_.total_seconds = total.seconds();
}

}  // namespace pagoda::mapping
