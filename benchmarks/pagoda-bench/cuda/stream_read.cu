#include "pagoda_bench/stream_read.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

#include "pagoda/core/error.hpp"
#include "pagoda/core/cuda_raii.hpp"
#include "pagoda_bench/random_fill.hpp"
#include "pagoda_bench/timing_event.hpp"

namespace pagoda::bench {

namespace {

using pagoda::check_cuda;

constexpr int threads = 256;

// XOR of everything read; the store behind an (almost) never-true test keeps
// the compiler from dropping the loads.
__global__ void __launch_bounds__(threads)
    stream_read_kernel(const uint4* __restrict__ data, std::size_t words, unsigned* __restrict__ sink) {
  const std::size_t stride = std::size_t{gridDim.x} * threads;
  std::size_t i = std::size_t{blockIdx.x} * threads + threadIdx.x;
  unsigned acc = 0;
  for (; i + 3 * stride < words; i += 4 * stride) {
    const uint4 a = __ldcs(data + i), b = __ldcs(data + i + stride);
    const uint4 c = __ldcs(data + i + 2 * stride), d = __ldcs(data + i + 3 * stride);
    acc ^= a.x ^ a.y ^ a.z ^ a.w ^ b.x ^ b.y ^ b.z ^ b.w ^ c.x ^ c.y ^ c.z ^ c.w ^ d.x ^ d.y ^ d.z ^ d.w;
  }
  for (; i < words; i += stride) {
    const uint4 a = __ldcs(data + i);
    acc ^= a.x ^ a.y ^ a.z ^ a.w;
  }
  if (acc == 0x9e3779b9u) atomicAdd(sink, 1u);
}

// Enough resident blocks to fill every SM.
unsigned full_grid(const void* kernel) {
  int device = 0, sms = 0, per_sm = 0;
  check_cuda(cudaGetDevice(&device), "cudaGetDevice");
  check_cuda(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device), "cudaDeviceGetAttribute");
  check_cuda(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, threads, 0),
             "cudaOccupancyMaxActiveBlocksPerMultiprocessor");
  return static_cast<unsigned>(std::max(1, sms * std::max(1, per_sm)));
}

LinkMeasurement measurement(std::size_t bytes, int passes, double milliseconds) {
  return {milliseconds > 0 ? static_cast<double>(bytes) / (milliseconds * 1e6) : 0.0, bytes, passes};
}

}  // namespace

double stream_read_milliseconds(const std::byte* data, std::size_t bytes, int passes, cudaStream_t stream) {
  if (reinterpret_cast<std::uintptr_t>(data) % 16 != 0 || bytes < 16 || passes < 1)
    throw Error("stream_read_milliseconds: needs a 16-byte aligned buffer of 16 bytes or more and passes >= 1");
  pagoda::DeviceBuffer sink(sizeof(unsigned), "stream read sink");
  const unsigned grid = full_grid(reinterpret_cast<const void*>(&stream_read_kernel));
  const auto* words = reinterpret_cast<const uint4*>(data);
  const auto launch = [&] {
    stream_read_kernel<<<grid, threads, 0, stream>>>(words, bytes / 16, reinterpret_cast<unsigned*>(sink.data()));
    check_cuda(cudaGetLastError(), "stream_read_kernel");
  };
  launch();  // warm-up: module load, TLB and page-table fills
  TimingEvent start, stop;
  std::vector<double> times;
  for (int p = 0; p < passes; ++p) {
    start.record(stream);
    launch();
    stop.record(stream);
    times.push_back(stop.milliseconds_since(start));
  }
  std::ranges::sort(times);
  return times[times.size() / 2];
}

LinkMeasurement measure_device_read(std::size_t bytes, int passes) {
  pagoda::CudaStream stream("device read probe");
  pagoda::DeviceBuffer buffer(bytes, "device read probe");
  fill_pseudo_random(buffer.data(), bytes, 1, stream.get());
  const double ms = stream_read_milliseconds(buffer.data(), bytes, passes, stream.get());
  return measurement(bytes, passes, ms);
}

LinkMeasurement measure_pinned_host_read(std::size_t bytes, int passes) {
  void* host = nullptr;
  check_cuda(cudaHostAlloc(&host, bytes, cudaHostAllocMapped), "cudaHostAlloc",
             "pinned host read probe, " + std::to_string(bytes) + " bytes");
  pagoda::UniqueCudaHandle<void*, pagoda::detail::FreeHost> owner(host);
  std::memset(host, 0xa5, bytes);  // touched and non-zero before the GPU reads it
  void* device = nullptr;
  check_cuda(cudaHostGetDevicePointer(&device, host, 0), "cudaHostGetDevicePointer");
  pagoda::CudaStream stream("pinned host read probe");
  const double ms = stream_read_milliseconds(static_cast<const std::byte*>(device), bytes, passes, stream.get());
  return measurement(bytes, passes, ms);
}

}  // namespace pagoda::bench
