// Element-wise kernels of the feed-forward block and the residual stream:
//   kernels::swiglu: out[i] = silu(gate[i]) * up[i], silu(g) = g / (1 + exp(-g))
//   kernels::add:    out[i] = a[i] + b[i]
// Bytes moved: 12 * n (two f32 reads, one write). Bound: DRAM bandwidth for
// prefill batches, launch latency at decode (n = d_ffn values).
// out may be one of the inputs (the engine runs swiglu in place on gate).
// Results follow the CPU oracle's operation order, each operation rounded
// once (no FMA contraction), so they differ from it only by expf's last bit.
//
// Host code (g++) includes this header for the launchers; the kernels are
// compiled in cuda/activation.cu.
#pragma once

#include <cstddef>

#include <cuda_runtime_api.h>

namespace pagoda::kernels {

struct ElementwisePolicy {
  int threads;
  unsigned max_blocks;  // grid-stride loop beyond
  friend constexpr bool operator==(const ElementwisePolicy&, const ElementwisePolicy&) = default;
};
inline constexpr ElementwisePolicy elementwise_policy{256, 1u << 16};

// Asynchronous on `stream`; throw pagoda::Error on null pointers or a failed launch.
void swiglu(const float* gate, const float* up, float* out, std::size_t n, cudaStream_t stream);
void add(const float* a, const float* b, float* out, std::size_t n, cudaStream_t stream);

#if defined(__CUDACC__)

__device__ __forceinline__ float silu(float g) { return __fdiv_rn(g, __fadd_rn(1.0f, expf(-g))); }

template <int Threads>
__global__ void __launch_bounds__(Threads) swiglu_kernel(const float* gate, const float* up, float* out,
                                                         std::size_t n) {
  const std::size_t stride = std::size_t{gridDim.x} * Threads;
  for (std::size_t i = std::size_t{blockIdx.x} * Threads + threadIdx.x; i < n; i += stride)
    out[i] = __fmul_rn(silu(gate[i]), up[i]);
}

template <int Threads>
__global__ void __launch_bounds__(Threads) add_kernel(const float* a, const float* b, float* out, std::size_t n) {
  const std::size_t stride = std::size_t{gridDim.x} * Threads;
  for (std::size_t i = std::size_t{blockIdx.x} * Threads + threadIdx.x; i < n; i += stride)
    out[i] = __fadd_rn(a[i], b[i]);
}

#endif  // __CUDACC__

}  // namespace pagoda::kernels
