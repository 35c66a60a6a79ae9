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

namespace rms_detail {

// `sum_squares` plus x[i]^2 for i = from, from + Threads, ... below cols, in
// that order, in double.
template <int Threads, bool Coherent>
__device__ __forceinline__ double add_strided_squares(const float* __restrict__ x, std::size_t cols,
                                                      std::size_t from, double sum_squares) {
  for (std::size_t i = from; i < cols; i += Threads) {
    const double v = Coherent ? __ldcg(x + i) : x[i];
    sum_squares = fma(v, v, sum_squares);
  }
  return sum_squares;
}

// The block's sum of its threads' sums (CUB's BlockReduce) and the f32 scale
// rounded once from it; called by every thread of the block (it synchronises).
template <int Threads>
__device__ float scale_of_sums(double sum_squares, std::size_t cols, float eps) {
  using BlockReduce = cub::BlockReduce<double, Threads>;
  __shared__ typename BlockReduce::TempStorage storage;
  __shared__ float scale;
  sum_squares = BlockReduce(storage).Sum(sum_squares);  // valid in thread 0
  if (threadIdx.x == 0)
    scale = static_cast<float>(1.0 / sqrt(sum_squares / static_cast<double>(cols) + static_cast<double>(eps)));
  __syncthreads();
  return scale;
}

}  // namespace rms_detail

// Called by every thread of the block (it synchronises); returns the scale
// to every thread. Coherent: x is read through L2 (__ldcg), for a row that
// other blocks of the same kernel wrote (the persistent decode step).
template <int Threads, bool Coherent = false>
__device__ float block_rms_scale(const float* __restrict__ x, std::size_t cols, float eps) {
  static_assert(Threads % 32 == 0 && Threads <= 1024, "a block of whole warps");
  const double sum_squares = rms_detail::add_strided_squares<Threads, Coherent>(x, cols, threadIdx.x, 0.0);
  return rms_detail::scale_of_sums<Threads>(sum_squares, cols, eps);
}

// The same scale, bit for bit (the same sums in the same order), with the
// thread's first `Kept` values loaded before any is summed and left in
// `kept` (zeros past the row) for the caller's scaling pass. The loop above
// has a few loads in flight at a time, so a lone row costs several round
// trips: rms_norm_kernel, whose rows are the batched step's few tokens,
// took ~11 us a launch that way (ncu, H100, 8 rows of 4096).
template <int Threads, bool Coherent, int Kept>
__device__ float block_rms_scale_kept(const float* __restrict__ x, std::size_t cols, float eps, float (&kept)[Kept]) {
  static_assert(Threads % 32 == 0 && Threads <= 1024, "a block of whole warps");
#pragma unroll
  for (int k = 0; k < Kept; ++k) {
    const std::size_t i = threadIdx.x + static_cast<std::size_t>(k) * Threads;
    kept[k] = i < cols ? (Coherent ? __ldcg(x + i) : x[i]) : 0.0f;
  }
  double sum_squares = 0.0;
#pragma unroll
  for (int k = 0; k < Kept; ++k) {  // a zero past the row adds nothing: fma(0, 0, s) is s
    const double v = kept[k];
    sum_squares = fma(v, v, sum_squares);
  }
  sum_squares = rms_detail::add_strided_squares<Threads, Coherent>(
      x, cols, threadIdx.x + static_cast<std::size_t>(Kept) * Threads, sum_squares);
  return rms_detail::scale_of_sums<Threads>(sum_squares, cols, eps);
}

// The same scale, bit for bit, with a row of up to `Width` values loaded in
// one go (the GEMV prologues: block_rms_scale's loop took two to three L2
// round trips for a 4096-wide x; step stamps, H100); a longer row finishes in
// block_rms_scale_kept's loop. The kept values are dropped: the quantize pass
// after it reads x again in float4s per lane, another layout.
template <int Threads, bool Coherent, std::size_t Width = 4096>
__device__ float block_rms_scale_at_once(const float* __restrict__ x, std::size_t cols, float eps) {
  float kept[(Width + Threads - 1) / Threads];
  return block_rms_scale_kept<Threads, Coherent>(x, cols, eps, kept);
}

}  // namespace pagoda::kernels
