// kernels::to_half (notes: to_half.cuh): eight values a thread-step, one
// 16-byte store, where both buffers are 16-byte aligned; one at a time otherwise.
#include <pagoda/kernels/to_half.cuh>

#include <cstdint>
#include <string_view>

#include <pagoda/kernels/activation.cuh>
#include <pagoda/kernels/cuda_check.hpp>

namespace pagoda::kernels {

namespace {

template <int Threads>
__global__ void __launch_bounds__(Threads) to_half_kernel(const float* x, __half* out, std::size_t n) {
  const std::size_t stride = std::size_t{gridDim.x} * Threads;
  for (std::size_t i = std::size_t{blockIdx.x} * Threads + threadIdx.x; i < n; i += stride) out[i] = __float2half_rn(x[i]);
}

template <int Threads>
__global__ void __launch_bounds__(Threads) to_half8_kernel(const float4* x, uint4* out, std::size_t eights) {
  const std::size_t stride = std::size_t{gridDim.x} * Threads;
  for (std::size_t i = std::size_t{blockIdx.x} * Threads + threadIdx.x; i < eights; i += stride) {
    const float4 a = x[2 * i];
    const float4 b = x[2 * i + 1];
    const __half2 h[4] = {__floats2half2_rn(a.x, a.y), __floats2half2_rn(a.z, a.w), __floats2half2_rn(b.x, b.y),
                          __floats2half2_rn(b.z, b.w)};
    out[i] = *reinterpret_cast<const uint4*>(h);
  }
}

unsigned grid_for(std::size_t n) {
  constexpr ElementwisePolicy policy = elementwise_policy;
  const std::size_t needed = (n + policy.threads - 1) / policy.threads;
  return static_cast<unsigned>(needed < policy.max_blocks ? needed : policy.max_blocks);
}

}  // namespace

void to_half(const float* x, __half* out, std::size_t n, cudaStream_t stream) {
  constexpr std::string_view operation = "kernels::to_half";
  if (n == 0) return;
  require(x != nullptr && out != nullptr, operation, "x and out are not null");
  constexpr int threads = elementwise_policy.threads;
  if (n % 8 == 0 && reinterpret_cast<std::uintptr_t>(x) % 16 == 0 && reinterpret_cast<std::uintptr_t>(out) % 16 == 0)
    to_half8_kernel<threads><<<grid_for(n / 8), threads, 0, stream>>>(reinterpret_cast<const float4*>(x),
                                                                       reinterpret_cast<uint4*>(out), n / 8);
  else
    to_half_kernel<threads><<<grid_for(n), threads, 0, stream>>>(x, out, n);
  check_launch(operation);
}

}  // namespace pagoda::kernels
