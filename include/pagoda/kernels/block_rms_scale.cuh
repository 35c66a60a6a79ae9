// kernels::block_rms_scale: 1 / sqrt(mean(x^2) + eps) of one row, computed by
// a whole block, as the CPU oracle computes it: each thread sums its strided
// squares (x[t], x[t + Threads], ...) in double, CUB's BlockReduce adds the
// threads, and the f32 scale is rounded once from the double result.
//
// One definition for every kernel that normalises a row (rms_norm_kernel,
// and the staged GEMV that runs the norm in its prologue), so their scales
// are the same bit for bit. Device code only: include from .cu units or from
// headers' __CUDACC__ sections.
#pragma once

#include <cstddef>

#include <cub/block/block_reduce.cuh>

namespace pagoda::kernels {

// Called by every thread of the block (it synchronises); returns the scale
// to every thread. Coherent: x is read through L2 (__ldcg), for a row that
// other blocks of the same kernel wrote (the persistent decode step).
template <int Threads, bool Coherent = false>
__device__ float block_rms_scale(const float* __restrict__ x, std::size_t cols, float eps) {
  static_assert(Threads % 32 == 0 && Threads <= 1024, "a block of whole warps");
  double sum_squares = 0.0;
  for (std::size_t i = threadIdx.x; i < cols; i += Threads) {
    const double v = Coherent ? __ldcg(x + i) : x[i];
    sum_squares = fma(v, v, sum_squares);
  }
  using BlockReduce = cub::BlockReduce<double, Threads>;
  __shared__ typename BlockReduce::TempStorage storage;
  __shared__ float scale;
  sum_squares = BlockReduce(storage).Sum(sum_squares);  // valid in thread 0
  if (threadIdx.x == 0)
    scale = static_cast<float>(1.0 / sqrt(sum_squares / static_cast<double>(cols) + static_cast<double>(eps)));
  __syncthreads();
  return scale;
}

}  // namespace pagoda::kernels
