// kernels::dequantize<F>: a run of F blocks in device memory -> f32, one thread
// per element: dst[e] = F::dequantize_element(src[e / block_elements], e % block_elements).
// Bytes moved: n_blocks * F::block_bytes read (a block's scale bytes are
// re-read by each of its threads, from L1) and 4 * n_elements written.
// Bound: DRAM bandwidth, dominated by the f32 writes (4 B per element against
// 0.56 B read for Q4_K). Deliberately untuned: it is a building block and the
// device-side test of the format code; fused kernels never materialise f32
// weights.
//
// Host code compiled by g++ may include this header: it then sees only the
// launcher's declaration and the extern templates, and links against the
// instantiations in pagoda_cuda (generated per format by
// cuda/GenerateFormatUnits.cmake from cuda/templates/dequantize_format.cu.in).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <cuda_runtime_api.h>

#include <pagoda/kernels/cuda_check.hpp>

#include <pagoda/quant/float_formats.hpp>
#include <pagoda/quant/format.hpp>
#include <pagoda/quant/k_formats.hpp>
#include <pagoda/quant/legacy_formats.hpp>

namespace pagoda::kernels {

// Launch shape: plain values (grid-stride loop beyond max_grid blocks).
struct DequantizePolicy {
  int threads;
  unsigned max_grid;
  friend constexpr bool operator==(const DequantizePolicy&, const DequantizePolicy&) = default;
};
inline constexpr DequantizePolicy dequantize_policy{256, 1u << 16};

// Dequantizes n_elements (a multiple of F::block_elements) from device_src,
// which holds n_elements / F::block_elements blocks of F aligned to
// alignof(F::block), into device_dst, asynchronously on `stream`. Throws
// pagoda::Error on a violated precondition or a failed launch.
template <quant::QuantFormat F>
void dequantize(const std::byte* device_src, float* device_dst, std::size_t n_elements,
                cudaStream_t stream);

#if defined(__CUDACC__)

template <quant::QuantFormat F>
__global__ void __launch_bounds__(dequantize_policy.threads)
    dequantize_kernel(const typename F::block* __restrict__ src,  // (n_elements / block_elements)
                      float* __restrict__ dst,                   // (n_elements)
                      std::size_t n_elements) {
  const std::size_t stride = std::size_t{gridDim.x} * blockDim.x;
  for (std::size_t e = std::size_t{blockIdx.x} * blockDim.x + threadIdx.x; e < n_elements;
       e += stride) {
    dst[e] = F::dequantize_element(src[e / F::block_elements],
                                   static_cast<int>(e % F::block_elements));
  }
}

template <quant::QuantFormat F>
void dequantize(const std::byte* device_src, float* device_dst, std::size_t n_elements,
                cudaStream_t stream) {
  using block = typename F::block;
  const std::string operation = std::string("kernels::dequantize<").append(F::name).append(">");
  if (n_elements % F::block_elements != 0)
    fail_precondition(operation, "n_elements (" + std::to_string(n_elements) +
                                     ") is a multiple of the block size (" +
                                     std::to_string(F::block_elements) + ")");
  if (reinterpret_cast<std::uintptr_t>(device_src) % alignof(block) != 0)
    fail_precondition(operation, "the source is aligned to " + std::to_string(alignof(block)) +
                                     " bytes");
  if (n_elements == 0) return;

  constexpr DequantizePolicy policy = dequantize_policy;
  const std::size_t blocks_needed = (n_elements + policy.threads - 1) / policy.threads;
  const auto grid = static_cast<unsigned>(
      blocks_needed < policy.max_grid ? blocks_needed : std::size_t{policy.max_grid});
  dequantize_kernel<F><<<grid, policy.threads, 0, stream>>>(
      reinterpret_cast<const block*>(device_src), device_dst, n_elements);
  if (const cudaError_t status = cudaGetLastError(); status != cudaSuccess)
    fail_cuda(operation, cudaGetErrorName(status), cudaGetErrorString(status));
}

#endif  // __CUDACC__

}  // namespace pagoda::kernels

// Instantiated once each in pagoda_cuda, one unit per format of
// quant::formats: cuda/GenerateFormatUnits.cmake generates the units and
// these extern template declarations from cuda/templates/dequantize_format.cu.in.
#include <pagoda/kernels/generated/dequantize_externs.hpp>
