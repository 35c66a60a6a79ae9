// kernels::rms_norm: out[t] = x[t] / sqrt(mean(x[t]^2) + eps) * weight for each
// of `rows` rows of `dim` f32 values (RMSNorm before attention, FFN and logits).
// Bytes moved: 8 * rows * dim (x read, out written) + 4 * dim of weight (L2
// resident after the first row). Bound: launch latency at decode sizes (one
// row of a few thousand values), DRAM bandwidth for prefill batches.
//
// One block per row: each thread sums its strided squares in double, as the
// CPU oracle does (so the f32 scale is the oracle's in almost every row), CUB's
// BlockReduce adds them, then the row is scaled as the oracle does:
// (x * scale) * weight, each product rounded once.
//
// Host code (g++) includes this header for the launcher's declaration; the
// kernel is compiled in cuda/kernels/norm.cu.
#pragma once

#include <cstddef>

#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

#include <pagoda/kernels/programmatic_launch.hpp>

#if defined(__CUDACC__)
#include <pagoda/kernels/block_rms_scale.cuh>
#include <pagoda/kernels/stored.cuh>
#endif

namespace pagoda::kernels {

struct NormPolicy {
  int threads;
  friend constexpr bool operator==(const NormPolicy&, const NormPolicy&) = default;
};
// 256 threads: a 4096-wide row is 16 values per thread; short rows leave
// threads idle, which costs nothing measurable at this size.
inline constexpr NormPolicy norm_policy{256};

// x, out: (rows, dim) f32, row-major (out may be x); weight: (dim) f32 on the
// device. Asynchronous on `stream`; throws pagoda::Error on a violated
// precondition or a failed launch.
void rms_norm(const float* x, const float* weight, float* out, std::size_t rows, std::size_t dim, float eps,
              cudaStream_t stream);
// The same, each result rounded to f16 (nearest, ties to even): the prefill
// GEMM's input straight from the norm, with no f32 copy to convert.
void rms_norm(const float* x, const float* weight, __half* out, std::size_t rows, std::size_t dim, float eps,
              cudaStream_t stream);

#if defined(__CUDACC__)

// One row, by a whole block (rms_norm_kernel's block, and the persistent
// decode step's per-head norms). out_row may be row; a caller that reuses
// the row right away synchronises the block first. Coherent: the row was
// written by other blocks of the same kernel (read through L2).
template <int Threads, bool Coherent = false, class Out>
__device__ __forceinline__ void rms_norm_row(const float* row, const float* weight, Out* out_row, std::size_t dim,
                                             float eps) {
  static_assert(Threads % 32 == 0 && Threads <= 1024);
  constexpr int kept_count = 16;  // a 4096-wide row over 256 threads, all loads in flight at once
  float kept[kept_count];
  const float s = block_rms_scale_kept<Threads, Coherent>(row, dim, eps, kept);
  const auto store = [&](std::size_t i, float x) {
    const float v = __fmul_rn(__fmul_rn(x, s), weight[i]);
    out_row[i] = stored<Out>(v);
  };
#pragma unroll
  for (int k = 0; k < kept_count; ++k)
    if (const std::size_t i = threadIdx.x + static_cast<std::size_t>(k) * Threads; i < dim) store(i, kept[k]);
  for (std::size_t i = threadIdx.x + static_cast<std::size_t>(kept_count) * Threads; i < dim; i += Threads)
    store(i, Coherent ? __ldcg(row + i) : row[i]);
}

template <int Threads, class Out>
__global__ void __launch_bounds__(Threads)
    rms_norm_kernel(const float* x,       // (rows, dim)
                    const float* weight,  // (dim)
                    Out* out,             // (rows, dim) f32 (may be x) or f16
                    std::size_t dim, float eps) {
  pdl_trigger();  // see programmatic_launch.hpp
  rms_norm_row<Threads>(x + std::size_t{blockIdx.x} * dim, weight, out + std::size_t{blockIdx.x} * dim, dim, eps);
}

#endif  // __CUDACC__

}  // namespace pagoda::kernels
