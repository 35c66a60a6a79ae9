// kernels::gemv_q<F>: y[r] = dot(W row r, x) (+ residual[r]) for r < rows, the
// matrix-vector product of one decode step, W quantized in format F.
//   W: (rows, cols / F::block_elements blocks), row-major, no padding; in
//      device memory or zero-copy host memory (a registered file mapping).
//   x: (cols) f32, y and residual: (rows) f32; y may be residual, not x.
// Bytes moved: the tensor once (rows * row_bytes; nothing past its last
// byte, whatever the row alignment), x from L1/L2 once per block of rows,
// 4 * rows written. Bound: the link the weights come through (HBM ~3 TB/s,
// zero-copy PCIe ~50 GB/s).
//
// Shape: warps walk a row in units (a few bytes of one block per lane; see
// warp_dot_q.cuh), dequantize and multiply in registers, sum with CUB's
// WarpReduce; a block covers policy.rows_per_block rows (tuning/gemv_q.hpp).
// Every format also has the generic path (F::dequantize_element per element),
// the reference the fast paths are tested against.
//
// The integer formats (Q4_0 .. Q5_1, Q8_0, Q4_K, Q5_K, Q6_K) also have a
// staged path (gemv_q_staged.cuh) for rows of whole 8-byte words: weight
// tiles copied through shared memory with 16-byte loads (8-byte ones where a
// row is not whole 16-byte words), x quantized to int16
// per 32 values, products as dp2a. gemv_q takes it where it applies; its
// result is W x' up to f32 summation order, x' being x after that
// quantization (relative error <= 1/65534 of each block's largest value).
//
// Host code compiled by g++ may include this header: it sees the declarations
// and the extern templates; the instantiations are generated per format from
// cuda/templates/gemv_q_format.cu.in into pagoda_cuda.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>

#include <cuda_runtime_api.h>

#include <pagoda/core/type_list.hpp>
#include <pagoda/kernels/cuda_check.hpp>
#include <pagoda/kernels/device_info.hpp>
#include <pagoda/kernels/gemv_staged_path.hpp>
#include <pagoda/kernels/tuning/gemv_q.hpp>
#include <pagoda/quant/float_formats.hpp>
#include <pagoda/quant/format.hpp>
#include <pagoda/quant/k_formats.hpp>
#include <pagoda/quant/legacy_formats.hpp>

#if defined(__CUDACC__)
#include <cub/warp/warp_reduce.cuh>

#include <pagoda/kernels/gemv_q_staged_launch.cuh>
#include <pagoda/kernels/warp_dot_q.cuh>
#endif

namespace pagoda::kernels {

// fast: f32 x through the format's WarpDot (the generic one where it has no
// fast path); generic: always F::dequantize_element; staged: X16Dot on tiles
// in shared memory (the integer formats, rows of whole 8-byte words, 16-byte
// aligned weights, cols <= gemv_staged_max_cols).
enum class GemvPath { fast, generic, staged };


// y = W x (+ residual), asynchronously on `stream`, on `device` (its compute
// capability picks the launch shape). Preconditions (throwing pagoda::Error
// naming the format): cols is whole blocks; weights aligned as a GGUF tensor
// start guarantees for F (2, 4 or 16 bytes; see warp_dot_q.cuh); x 16-byte
// aligned for block formats (4 for F32/F16/BF16).
template <quant::QuantFormat F>
void gemv_q(const std::byte* weights, std::size_t rows, std::size_t cols, const float* x, float* y,
            const float* residual, const DeviceInfo& device, cudaStream_t stream);

// The same with the launch shape (one of gemv_policies) and the path named:
// for tests and benchmarks.
template <quant::QuantFormat F>
void gemv_q_with(const std::byte* weights, std::size_t rows, std::size_t cols, const float* x, float* y,
                 const float* residual, GemvPolicy policy, GemvPath path, const DeviceInfo& device,
                 cudaStream_t stream);

#if defined(__CUDACC__)

template <class Dot, int Threads, int RowsPerBlock>
__global__ void __launch_bounds__(Threads)
    gemv_q_kernel(const std::byte* __restrict__ weights,  // (rows, row_bytes)
                  std::size_t rows, std::size_t row_bytes,
                  std::size_t units,                      // per row
                  const float* __restrict__ x,            // (cols)
                  float* y, const float* residual) {      // (rows); y may be residual
  constexpr GemvPolicy policy{Threads, RowsPerBlock};
  static_assert(policy.valid(), "gemv_q: not a valid GemvPolicy");
  constexpr int R = policy.rows_per_warp();
  constexpr int split = policy.warps_per_row();
  const int warp = static_cast<int>(threadIdx.x) / 32;
  const int lane = static_cast<int>(threadIdx.x) % 32;
  const std::size_t first = std::size_t{blockIdx.x} * RowsPerBlock + static_cast<std::size_t>(warp / split) * R;

  // Rows past the end (a ragged last block) re-read the last row and are not stored.
  const std::byte* row[R];
#pragma unroll
  for (int r = 0; r < R; ++r) row[r] = weights + (first + r < rows ? first + r : rows - 1) * row_bytes;

  float acc[R];
#pragma unroll
  for (int r = 0; r < R; ++r) acc[r] = 0.0f;
  constexpr std::size_t stride = 32 * split;
  std::size_t u = static_cast<std::size_t>(lane + 32 * (warp % split));
  for (; u + 3 * stride < units; u += 4 * stride) {  // four units in flight per lane
    Dot::accumulate(row, u, x, acc);
    Dot::accumulate(row, u + stride, x, acc);
    Dot::accumulate(row, u + 2 * stride, x, acc);
    Dot::accumulate(row, u + 3 * stride, x, acc);
  }
  for (; u < units; u += stride) Dot::accumulate(row, u, x, acc);

  using WarpReduce = cub::WarpReduce<float>;
  __shared__ typename WarpReduce::TempStorage reduce_storage[policy.warps()];
#pragma unroll
  for (int r = 0; r < R; ++r) {
    acc[r] = WarpReduce(reduce_storage[warp]).Sum(acc[r]);  // valid in lane 0
    __syncwarp();
  }
  if constexpr (split > 1) {  // R == 1: the row's warps add up in shared memory
    __shared__ float partial[policy.warps()];
    if (lane == 0) partial[warp] = acc[0];
    __syncthreads();
    if (warp % split != 0) return;
    for (int p = 1; p < split; ++p) acc[0] += partial[warp + p];
  }
  if (lane != 0) return;
#pragma unroll
  for (int r = 0; r < R; ++r)
    if (first + r < rows) y[first + r] = residual != nullptr ? acc[r] + residual[first + r] : acc[r];
}

namespace detail {

template <quant::QuantFormat F>
std::string gemv_name() {
  return std::string("kernels::gemv_q<").append(F::name).append(">");
}

template <quant::QuantFormat F, class Dot>
void launch_gemv_q(const std::byte* weights, std::size_t rows, std::size_t cols, const float* x, float* y,
                   const float* residual, GemvPolicy policy, cudaStream_t stream) {
  const auto need = [](bool holds, const std::string& requirement) {
    if (!holds) fail_precondition(gemv_name<F>(), requirement);
  };
  need(cols % F::block_elements == 0, "cols (" + std::to_string(cols) + ") is a multiple of the block size (" +
                                          std::to_string(F::block_elements) + ")");
  if (rows == 0) return;
  need(y != nullptr && (cols == 0 || (weights != nullptr && x != nullptr)), "weights, x and y are not null");
  need(reinterpret_cast<std::uintptr_t>(weights) % Dot::weight_alignment == 0,
       "the weights are aligned to " + std::to_string(Dot::weight_alignment) + " bytes");
  need(reinterpret_cast<std::uintptr_t>(x) % Dot::x_alignment == 0,
       "x is aligned to " + std::to_string(Dot::x_alignment) + " bytes");
  need(static_cast<const void*>(x) != static_cast<const void*>(y), "y is not x");
  const std::size_t blocks = (rows + policy.rows_per_block - 1) / static_cast<std::size_t>(policy.rows_per_block);
  need(blocks <= 0x7fffffffu, "rows fit one grid");

  const std::size_t row_bytes = cols / F::block_elements * F::block_bytes;
  const std::size_t units = cols / F::block_elements * Dot::units_per_block;
  const auto grid = static_cast<unsigned>(blocks);
  visit_listed<gemv_policies>(
      policy,
      [&](auto index) {
        constexpr GemvPolicy p = gemv_policies[decltype(index)::value];
        gemv_q_kernel<Dot, p.threads, p.rows_per_block>
            <<<grid, p.threads, 0, stream>>>(weights, rows, row_bytes, units, x, y, residual);
      },
      [&] { need(false, "the policy is one of kernels::gemv_policies"); });
  if (const cudaError_t status = cudaGetLastError(); status != cudaSuccess)
    fail_cuda(gemv_name<F>(), cudaGetErrorName(status), cudaGetErrorString(status));
}

template <quant::QuantFormat F>
void launch_gemv_q_staged(const std::byte* weights, std::size_t rows, std::size_t cols, const float* x, float* y,
                          const float* residual, GemvPolicy policy, const DeviceInfo& device, cudaStream_t stream) {
  const std::string operation = gemv_name<F>() + " (staged path)";
  if (rows != 0 && cols == 0) {  // an empty dot product: y = residual or 0
    staged_requirements<F>(operation, nullptr, cols, nullptr);
    launch_gemv_q<F, GenericDot<F>>(weights, rows, cols, x, y, residual, gemv_policy_short, stream);
    return;
  }
  StagedTargets targets;
  targets.weights[0] = weights;
  targets.y[0] = y;
  targets.residual[0] = residual;
  targets.rows[0] = rows;
  launch_staged<F, StoreRows>(operation, targets, rows, cols, x, policy, device, stream);
}

}  // namespace detail

template <quant::QuantFormat F>
void gemv_q_with(const std::byte* weights, std::size_t rows, std::size_t cols, const float* x, float* y,
                 const float* residual, GemvPolicy policy, GemvPath path, const DeviceInfo& device,
                 cudaStream_t stream) {
  if (path == GemvPath::fast)
    detail::launch_gemv_q<F, WarpDot<F>>(weights, rows, cols, x, y, residual, policy, stream);
  else if (path == GemvPath::staged)
    detail::launch_gemv_q_staged<F>(weights, rows, cols, x, y, residual, policy, device, stream);
  else
    detail::launch_gemv_q<F, GenericDot<F>>(weights, rows, cols, x, y, residual, policy, stream);
}

template <quant::QuantFormat F>
void gemv_q(const std::byte* weights, std::size_t rows, std::size_t cols, const float* x, float* y,
            const float* residual, const DeviceInfo& device, cudaStream_t stream) {
  if (gemv_takes_staged_path<F>(weights, cols)) {
    const GemvPolicy policy = tuning::select_staged(device.compute_capability(), GemvShape{rows, cols});
    detail::launch_gemv_q_staged<F>(weights, rows, cols, x, y, residual, policy, device, stream);
  } else {
    const GemvPolicy policy = tuning::select(device.compute_capability(), GemvShape{rows, cols});
    detail::launch_gemv_q<F, WarpDot<F>>(weights, rows, cols, x, y, residual, policy, stream);
  }
}

#endif  // __CUDACC__

}  // namespace pagoda::kernels

// Instantiated once each in pagoda_cuda, one unit per format of
// quant::formats: cuda/GenerateFormatUnits.cmake generates the units and
// these extern template declarations from cuda/templates/gemv_q_format.cu.in.
#include <pagoda/kernels/generated/gemv_q_externs.hpp>
