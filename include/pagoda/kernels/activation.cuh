// Element-wise kernels of the feed-forward block and the residual stream:
//   kernels::swiglu:   out[i] = silu(gate[i]) * up[i], silu(g) = g / (1 + exp(-g))
//   kernels::geglu:    out[i] = gelu_tanh(gate[i]) * up[i] (Gemma's gelu_pytorch_tanh)
//   kernels::gated_activation: one of the two, as the architecture says
//   kernels::add:      out[i] = a[i] + b[i]
//   kernels::add_bias: x[r][i] += bias[i] for each of the rows (Qwen2's QKV bias)
//   kernels::scale:    x[i] *= s (Gemma's sqrt(d_model) embedding scale)
// Bytes moved: 12 * n (two f32 reads, one write) at most. Bound: DRAM bandwidth
// for prefill batches, launch latency at decode (n = d_ffn values).
// out may be one of the inputs (the engine runs swiglu in place on gate).
// Results follow the CPU oracle's operation order, each operation rounded
// once (no FMA contraction), so they differ from it only by expf's last bit.
//
// Host code (g++) includes this header for the launchers; the kernels are
// compiled in cuda/kernels/activation.cu.
#pragma once

#include <cstddef>

#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

#include <pagoda/kernels/stored.cuh>
#include <pagoda/model/architecture.hpp>

namespace pagoda::kernels {

struct ElementwisePolicy {
  int threads;
  unsigned max_blocks;  // grid-stride loop beyond
  friend constexpr bool operator==(const ElementwisePolicy&, const ElementwisePolicy&) = default;
};
inline constexpr ElementwisePolicy elementwise_policy{256, 1u << 16};

// Asynchronous on `stream`; throw pagoda::Error on null pointers or a failed launch.
void swiglu(const float* gate, const float* up, float* out, std::size_t n, cudaStream_t stream);
void geglu(const float* gate, const float* up, float* out, std::size_t n, cudaStream_t stream);
void gated_activation(model::FfnActivation activation, const float* gate, const float* up, float* out, std::size_t n,
                      cudaStream_t stream);
// The same, each result rounded to f16: the down projection's input for the
// prefill GEMM, with no f32 copy to convert.
void gated_activation(model::FfnActivation activation, const float* gate, const float* up, __half* out, std::size_t n,
                      cudaStream_t stream);
void add(const float* a, const float* b, float* out, std::size_t n, cudaStream_t stream);
// x: (rows, width) with width = the bias's length.
void add_bias(float* x, const float* bias, std::size_t rows, std::size_t width, cudaStream_t stream);
void scale(float* x, float factor, std::size_t n, cudaStream_t stream);

#if defined(__CUDACC__)

__device__ __forceinline__ float silu(float g) { return __fdiv_rn(g, __fadd_rn(1.0f, expf(-g))); }

template <int Threads, class Out = float>
__global__ void __launch_bounds__(Threads) swiglu_kernel(const float* gate, const float* up, Out* out,
                                                         std::size_t n) {
  const std::size_t stride = std::size_t{gridDim.x} * Threads;
  for (std::size_t i = std::size_t{blockIdx.x} * Threads + threadIdx.x; i < n; i += stride)
    out[i] = stored<Out>(__fmul_rn(silu(gate[i]), up[i]));
}

// As the CPU oracle: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), each step rounded once.
__device__ __forceinline__ float gelu_tanh(float x) {
  const float cube = __fmul_rn(__fmul_rn(__fmul_rn(0.044715f, x), x), x);
  const float inner = __fmul_rn(0.7978845608028654f, __fadd_rn(x, cube));
  return __fmul_rn(__fmul_rn(0.5f, x), __fadd_rn(1.0f, tanhf(inner)));
}

template <int Threads, class Out = float>
__global__ void __launch_bounds__(Threads) geglu_kernel(const float* gate, const float* up, Out* out,
                                                        std::size_t n) {
  const std::size_t stride = std::size_t{gridDim.x} * Threads;
  for (std::size_t i = std::size_t{blockIdx.x} * Threads + threadIdx.x; i < n; i += stride)
    out[i] = stored<Out>(__fmul_rn(gelu_tanh(gate[i]), up[i]));
}

template <int Threads>
__global__ void __launch_bounds__(Threads) add_bias_kernel(float* x, const float* bias, std::size_t n,
                                                           std::size_t width) {
  const std::size_t stride = std::size_t{gridDim.x} * Threads;
  for (std::size_t i = std::size_t{blockIdx.x} * Threads + threadIdx.x; i < n; i += stride)
    x[i] = __fadd_rn(x[i], bias[i % width]);
}

template <int Threads>
__global__ void __launch_bounds__(Threads) scale_kernel(float* x, float factor, std::size_t n) {
  const std::size_t stride = std::size_t{gridDim.x} * Threads;
  for (std::size_t i = std::size_t{blockIdx.x} * Threads + threadIdx.x; i < n; i += stride)
    x[i] = __fmul_rn(x[i], factor);
}

template <int Threads>
__global__ void __launch_bounds__(Threads) add_kernel(const float* a, const float* b, float* out, std::size_t n) {
  const std::size_t stride = std::size_t{gridDim.x} * Threads;
  for (std::size_t i = std::size_t{blockIdx.x} * Threads + threadIdx.x; i < n; i += stride)
    out[i] = __fadd_rn(a[i], b[i]);
}

#endif  // __CUDACC__

}  // namespace pagoda::kernels
