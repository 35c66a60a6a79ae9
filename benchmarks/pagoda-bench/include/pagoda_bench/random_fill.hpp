// Non-zero benchmark inputs, generated on the device (a 1 GiB host-side fill
// and copy would cost more than the measurement): bytes from a counter-based
// hash of (seed, offset) for quantized weights, whose timing does not depend
// on the values, and f16 or f32 values in [-1, 1) for KV caches and
// activations, whose softmax should see ordinary numbers. The same for a
// seed whatever the launch shape.
// pagoda_bench_cuda (cuda/random_fill.cu).
#pragma once

#include <cstddef>
#include <cstdint>

#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

namespace pagoda::bench {

void fill_pseudo_random(std::byte* device_memory, std::size_t bytes, std::uint64_t seed, cudaStream_t stream);

void fill_uniform_half(__half* device_memory, std::size_t count, std::uint64_t seed, cudaStream_t stream);
void fill_uniform_float(float* device_memory, std::size_t count, std::uint64_t seed, cudaStream_t stream);

}  // namespace pagoda::bench
