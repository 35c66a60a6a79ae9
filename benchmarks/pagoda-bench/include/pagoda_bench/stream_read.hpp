// The two ceilings pagoda-bench judges decode against, measured on the
// machine at hand rather than taken from a data sheet: how fast a kernel
// streams memory it reads once, from VRAM and zero-copy from pinned host
// memory (where HostRegistered and HugepageImport keep the weights). One
// kernel for both: 16-byte loads marked evict-first, four in flight per
// thread, a grid that fills every SM; each pass timed with CUDA events after
// a warm-up pass, the median pass reported. Buffers hold a non-zero pattern.
// pagoda_bench_cuda (cuda/stream_read.cu).
#pragma once

#include <cstddef>
#include <cstdint>

#include <cuda_runtime_api.h>

#include "pagoda_bench/link_measurement.hpp"

namespace pagoda::bench {

// A cudaMalloc'd buffer of `bytes`, read `passes` times.
[[nodiscard]] LinkMeasurement measure_device_read(std::size_t bytes, int passes);

// A cudaHostAlloc(Mapped) buffer of `bytes`, read by the GPU through its device pointer.
[[nodiscard]] LinkMeasurement measure_pinned_host_read(std::size_t bytes, int passes);

// The median time in milliseconds of `passes` streaming reads of
// [data, data + bytes), after one warm-up; `data` 16-byte aligned and device-readable.
[[nodiscard]] double stream_read_milliseconds(const std::byte* data, std::size_t bytes, int passes,
                                              cudaStream_t stream);

}  // namespace pagoda::bench
