#include "pagoda_bench/random_fill.hpp"

#include <algorithm>

#include "pagoda/core/cuda_raii.hpp"

namespace pagoda::bench {

namespace {

constexpr int threads = 256;

__device__ __forceinline__ std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

__device__ __forceinline__ std::uint64_t hash(std::uint64_t seed, std::uint64_t index) {
  return splitmix64(seed * 0x100000001b3ull + index);
}

__global__ void __launch_bounds__(threads) fill_bytes_kernel(std::byte* __restrict__ out, std::size_t bytes,
                                                             std::uint64_t seed) {
  const std::size_t stride = std::size_t{gridDim.x} * threads;
  const bool aligned = reinterpret_cast<std::uintptr_t>(out) % 8 == 0;
  for (std::size_t word = std::size_t{blockIdx.x} * threads + threadIdx.x; word * 8 < bytes; word += stride) {
    const std::uint64_t value = hash(seed, word) | 1;  // never a zero word
    if (aligned && word * 8 + 8 <= bytes) {
      *reinterpret_cast<std::uint64_t*>(out + word * 8) = value;
    } else {
      for (std::size_t b = 0; b < 8 && word * 8 + b < bytes; ++b)
        out[word * 8 + b] = static_cast<std::byte>(value >> (8 * b));
    }
  }
}

// Uniform in [-1, 1) from 24 random bits, stored as T (__half or float).
template <class T>
__global__ void __launch_bounds__(threads) fill_uniform_kernel(T* __restrict__ out, std::size_t count,
                                                               std::uint64_t seed) {
  const std::size_t stride = std::size_t{gridDim.x} * threads;
  for (std::size_t i = std::size_t{blockIdx.x} * threads + threadIdx.x; i < count; i += stride) {
    const auto bits = static_cast<std::uint32_t>(hash(seed, i) >> 40);  // 24 random bits
    out[i] = static_cast<T>(static_cast<float>(bits) * (2.0f / 16777216.0f) - 1.0f);
  }
}

unsigned grid_for(std::size_t items) {
  return static_cast<unsigned>(std::clamp<std::size_t>((items + threads - 1) / threads, 1, 65536));
}

}  // namespace

void fill_pseudo_random(std::byte* device_memory, std::size_t bytes, std::uint64_t seed, cudaStream_t stream) {
  if (bytes == 0) return;
  fill_bytes_kernel<<<grid_for((bytes + 7) / 8), threads, 0, stream>>>(device_memory, bytes, seed);
  pagoda::check_cuda(cudaGetLastError(), "fill_bytes_kernel");
}

void fill_uniform_half(__half* device_memory, std::size_t count, std::uint64_t seed, cudaStream_t stream) {
  if (count == 0) return;
  fill_uniform_kernel<<<grid_for(count), threads, 0, stream>>>(device_memory, count, seed);
  pagoda::check_cuda(cudaGetLastError(), "fill_uniform_kernel<__half>");
}

void fill_uniform_float(float* device_memory, std::size_t count, std::uint64_t seed, cudaStream_t stream) {
  if (count == 0) return;
  fill_uniform_kernel<<<grid_for(count), threads, 0, stream>>>(device_memory, count, seed);
  pagoda::check_cuda(cudaGetLastError(), "fill_uniform_kernel<float>");
}

}  // namespace pagoda::bench
