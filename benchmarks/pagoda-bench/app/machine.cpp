#include "machine.hpp"

#include <cstdio>
#include <exception>

#include <cuda_runtime_api.h>

#include "pagoda/core/cuda_raii.hpp"
#include "pagoda_bench/stream_read.hpp"

namespace pagoda::bench {

namespace {

// VRAM passes are short (~0.4 ms per GiB), host ones ~20 ms per GiB: enough
// of each for a stable median, well under a second in all.
constexpr int device_passes = 21;
constexpr int host_passes = 9;

}  // namespace

MachineInfo describe_machine(const mapping::DeviceCapabilities& device, std::uint64_t probe_bytes) {
  MachineInfo m;
  m.device_name = device.name;
  m.compute_major = device.compute_major;
  m.compute_minor = device.compute_minor;
  m.vram_total_bytes = device.total_vram_bytes;
  pagoda::check_cuda(cudaDriverGetVersion(&m.driver_version), "cudaDriverGetVersion");
  pagoda::check_cuda(cudaRuntimeGetVersion(&m.runtime_version), "cudaRuntimeGetVersion");

  m.device_read = measure_device_read(probe_bytes, device_passes);
  std::fprintf(stderr, "pagoda-bench: streaming read of device memory: %.1f GB/s\n", m.device_read->gb_s);
  try {
    m.host_read = measure_pinned_host_read(probe_bytes, host_passes);
    std::fprintf(stderr, "pagoda-bench: streaming read of pinned host memory (zero-copy): %.1f GB/s\n",
                 m.host_read->gb_s);
  } catch (const std::exception& e) {
    m.host_read_problem = e.what();
    std::fprintf(stderr, "pagoda-bench: pinned host memory not measured: %s\n", e.what());
  }
  return m;
}

}  // namespace pagoda::bench
