// kernels::matmul_q<F>: the prefill projection, many tokens at once, on
// tensor cores.
//   Y[t][r] = dot(W row r, X[t]) (+ residual[t][r])    t < tokens, r < rows
// W: (rows, cols) elements of format F, row-major blocks, anywhere the device
// can read (VRAM, or a registered read-only file mapping: zero-copy host
// memory); X: (tokens, cols) f32; Y and residual: (tokens, rows) f32.
//
// Shape (tuning/matmul_q.hpp): a block owns a tokens_tile x rows_tile tile of
// Y; per K step it stages X (f32 -> f16) and W (decoded by tile_dequant.cuh ->
// f16) in shared memory (tile_stage.cuh, two stages, one barrier per step) and
// its warps multiply them with 16x16x16 WMMA fragments into f32 accumulators.
// The global loads of step s+1 are issued into registers before the MMAs of
// step s and decoded into the other stage after them, so memory latency hides
// behind the tensor cores instead of adding to every step.
// Operands are therefore rounded to f16 once (relative error 2^-11 each);
// products are exact and sums are f32.
//
// FLOPs: 2 * tokens * rows * cols. Bytes: W once per token tile
// (ceil(tokens / tokens_tile) * rows * cols * bits/8), X once per row tile
// (ceil(rows / rows_tile) * tokens * cols * 4), Y (and residual) once. At
// 512 tokens x 4096 x 4096 that is ~17 GFLOP against ~40 MB: tensor-core bound
// in principle (arithmetic intensity ~400 FLOP/B); in practice the decode of W
// tiles into shared memory (CUDA cores, ~3 instructions per element for Q4_0)
// competes with the MMAs, since each element is decoded once per 128 tokens.
// Ragged edges and the K tail are zero-filled in shared memory; no byte past
// the tensor's last byte is read (rows are only 2-byte aligned in general).
//
// Host code compiled by g++ may include this header: it sees the launcher's
// declaration and the extern templates, and links the instantiations in
// pagoda_cuda (cuda/templates/matmul_q_format.cu.in, one unit per format).
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>

#include <cuda_runtime_api.h>

#include <pagoda/core/type_list.hpp>
#include <pagoda/kernels/cuda_check.hpp>
#include <pagoda/kernels/device_info.hpp>
#include <pagoda/kernels/tuning/matmul_q.hpp>
#include <pagoda/quant/float_formats.hpp>
#include <pagoda/quant/format.hpp>
#include <pagoda/quant/k_formats.hpp>
#include <pagoda/quant/layout.hpp>
#include <pagoda/quant/legacy_formats.hpp>

namespace pagoda::kernels {

// Asynchronous on `stream`, on `device` (its SM count picks the tile shape;
// it opts each kernel in to its shared memory once). weights: rows * (cols /
// F::block_elements) blocks, aligned to alignof(F::block); cols a non-zero
// multiple of F::block_elements. residual may be null, or equal to y
// (in-place y += W x); x must not overlap y.
// Throws pagoda::Error on a violated precondition or a failed launch.
template <quant::QuantFormat F>
void matmul_q(const std::byte* weights, std::size_t rows, std::size_t cols, const float* x,
              std::size_t tokens, float* y, const float* residual, const DeviceInfo& device, cudaStream_t stream);

}  // namespace pagoda::kernels

#if defined(__CUDACC__)

#include <mma.h>

#include <pagoda/kernels/tile_stage.cuh>

namespace pagoda::kernels {

// The policy arrives as an index into matmul_policies: nvcc's host stubs
// cannot name a kernel with a class-type template argument.
template <quant::QuantFormat F, int policy_index, quant::WeightLayout L = quant::WeightLayout::gguf_blocks>
__global__ void __launch_bounds__(matmul_policies[policy_index].threads(),
                                  matmul_policies[policy_index].min_blocks_per_sm)
    matmul_q_kernel(tile_detail::MatmulOperands op,  // W (rows, cols) of F; X (tokens, cols) f32
                    float* y,                        // (tokens, rows)
                    const float* residual) {         // (tokens, rows) or null; may equal y
  constexpr MatmulPolicy P = matmul_policies[policy_index];
  static_assert(P.valid(), "matmul_q: inconsistent tile policy");
  using namespace nvcuda;
  constexpr int FT = P.fragments_tokens();
  constexpr int FR = P.fragments_rows();
  constexpr int ks = P.k_stride();
  constexpr int stage_halves = (P.tokens_tile + P.rows_tile) * ks;

  extern __shared__ __align__(128) unsigned char shared[];
  __half* const stages = reinterpret_cast<__half*>(shared);  // 2 x [A (BT, ks) | B (BR, ks)]
  const auto a_tile = [&](int s) { return stages + s * stage_halves; };
  const auto b_tile = [&](int s) { return stages + s * stage_halves + P.tokens_tile * ks; };

  const int tok0 = static_cast<int>(blockIdx.y) * P.tokens_tile;
  const int row0 = static_cast<int>(blockIdx.x) * P.rows_tile;
  const int warp = static_cast<int>(threadIdx.x) / 32;
  const int warp_t = warp / P.warps_rows;  // this warp's (FT x FR) fragments of the block tile
  const int warp_r = warp % P.warps_rows;

  wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[FT][FR];
#pragma unroll
  for (int i = 0; i < FT; ++i)
#pragma unroll
    for (int j = 0; j < FR; ++j) wmma::fill_fragment(acc[i][j], 0.0f);

  const int k_steps = (op.cols + P.k_tile - 1) / P.k_tile;
  tile_detail::XRegs<P> x_regs;
  tile_detail::WRegs<F, P> w_regs;
  tile_detail::load_x<P>(op, tok0, 0, x_regs);
  const tile_detail::WRows<F, P, L> w_rows(op, row0);
  tile_detail::load_w<F, P, L>(op, w_rows, row0, 0, w_regs);
  tile_detail::store_x<P>(x_regs, a_tile(0));
  tile_detail::store_w<F, P>(w_regs, 0, b_tile(0));
  __syncthreads();
  for (int step = 0; step < k_steps; ++step) {
    const int s = step & 1;
    const bool more = step + 1 < k_steps;
    const int k_next = (step + 1) * P.k_tile;
    // Issue the next step's global loads now; they land while this step multiplies.
    if (more) {
      tile_detail::load_x<P>(op, tok0, k_next, x_regs);
      tile_detail::load_w<F, P, L>(op, w_rows, row0, k_next, w_regs);
    }
    const __half* a = a_tile(s) + warp_t * FT * 16 * ks;
    const __half* b = b_tile(s) + warp_r * FR * 16 * ks;
#pragma unroll
    for (int kk = 0; kk < P.k_tile; kk += 16) {
      // FR fragments of W stay live; X fragments stream one at a time (registers).
      wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::col_major> fb[FR];  // W rows = B columns
#pragma unroll
      for (int j = 0; j < FR; ++j) wmma::load_matrix_sync(fb[j], b + j * 16 * ks + kk, ks);
#pragma unroll
      for (int i = 0; i < FT; ++i) {
        wmma::fragment<wmma::matrix_a, 16, 16, 16, __half, wmma::row_major> fa;
        wmma::load_matrix_sync(fa, a + i * 16 * ks + kk, ks);
#pragma unroll
        for (int j = 0; j < FR; ++j) wmma::mma_sync(acc[i][j], fa, fb[j], acc[i][j]);
      }
    }
    // The other stage was last read in step - 1, which every thread finished
    // before the barrier that ended it: decode into it, then one barrier.
    if (more) {
      tile_detail::store_x<P>(x_regs, a_tile(s ^ 1));
      tile_detail::store_w<F, P>(w_regs, k_next, b_tile(s ^ 1));
    }
    __syncthreads();
  }

  // Epilogue: each accumulator goes through a per-warp 16x16 f32 scratch (the
  // stages are free after the last barrier) and out with bounds checks.
  float* const scratch = reinterpret_cast<float*>(shared) + warp * 256;
  const int lane = static_cast<int>(threadIdx.x) % 32;
  const auto out_rows = static_cast<std::size_t>(op.rows);
#pragma unroll
  for (int i = 0; i < FT; ++i) {
#pragma unroll
    for (int j = 0; j < FR; ++j) {
      wmma::store_matrix_sync(scratch, acc[i][j], 16, wmma::mem_row_major);
      __syncwarp();
      const int t_base = tok0 + (warp_t * FT + i) * 16;
      const int r_base = row0 + (warp_r * FR + j) * 16;
#pragma unroll
      for (int e = lane; e < 256; e += 32) {
        const int token = t_base + e / 16;
        const int row = r_base + e % 16;
        if (token < op.tokens && row < op.rows) {
          const std::size_t at = static_cast<std::size_t>(token) * out_rows + static_cast<std::size_t>(row);
          float v = scratch[e];
          if (residual != nullptr) v += residual[at];
          y[at] = v;
        }
      }
      __syncwarp();
    }
  }
}

namespace detail {

template <quant::QuantFormat F, int policy_index, quant::WeightLayout L>
void launch_matmul_q(const tile_detail::MatmulOperands& op, float* y, const float* residual,
                     const DeviceInfo& device, cudaStream_t stream, const std::string& operation) {
  constexpr MatmulPolicy P = matmul_policies[policy_index];
  const auto kernel = matmul_q_kernel<F, policy_index, L>;
  constexpr std::size_t smem = P.shared_bytes();
  device.opt_in_shared_memory(reinterpret_cast<const void*>(kernel), smem, operation);
  const dim3 grid(static_cast<unsigned>((op.rows + P.rows_tile - 1) / P.rows_tile),
                  static_cast<unsigned>((op.tokens + P.tokens_tile - 1) / P.tokens_tile));
  kernel<<<grid, P.threads(), smem, stream>>>(op, y, residual);
  check_launch(operation);
}

// matmul_q over weights in layout L (matmul_q_streams.cuh names the other one).
template <quant::QuantFormat F, quant::WeightLayout L>
void matmul_q_in(const std::byte* weights, std::size_t rows, std::size_t cols, const float* x,
                 std::size_t tokens, float* y, const float* residual, const DeviceInfo& device,
                 cudaStream_t stream) {
  using block = typename F::block;
  const std::string operation = std::string(L == quant::WeightLayout::gguf_blocks ? "kernels::matmul_q<"
                                                                                  : "kernels::matmul_q_streams<")
                                    .append(F::name)
                                    .append(">");
  constexpr std::size_t int_max = 0x7fffffff;
  require(cols > 0 && cols % F::block_elements == 0, operation,
          "cols (" + std::to_string(cols) + ") is a non-zero multiple of the block size (" +
              std::to_string(F::block_elements) + ")");
  require(rows <= int_max && cols <= int_max && tokens <= 65535u * 32u, operation,
          "rows and cols below 2^31 and tokens at most 2097120");
  require(reinterpret_cast<std::uintptr_t>(weights) % alignof(block) == 0, operation,
          "the weights are aligned to " + std::to_string(alignof(block)) + " bytes");
  if (rows == 0 || tokens == 0) return;
  require(weights != nullptr && x != nullptr && y != nullptr, operation, "weights, x and y are not null");

  const tile_detail::MatmulOperands op{
      weights,
      cols / F::block_elements * F::block_bytes,
      static_cast<int>(rows),
      static_cast<int>(cols),
      x,
      static_cast<int>(tokens),
      reinterpret_cast<std::uintptr_t>(x) % 16 == 0 && cols % 4 == 0,
  };
  const MatmulPolicy policy = select_matmul_policy(tokens, rows, device.multiprocessors());
  visit_listed<matmul_policies>(
      policy,
      [&](auto index) {
        launch_matmul_q<F, static_cast<int>(decltype(index)::value), L>(op, y, residual, device, stream,
                                                                         operation);
      },
      [&] { require(false, operation, "the selected tile policy is one of matmul_policies"); });
}

}  // namespace detail

template <quant::QuantFormat F>
void matmul_q(const std::byte* weights, std::size_t rows, std::size_t cols, const float* x,
              std::size_t tokens, float* y, const float* residual, const DeviceInfo& device, cudaStream_t stream) {
  detail::matmul_q_in<F, quant::WeightLayout::gguf_blocks>(weights, rows, cols, x, tokens, y, residual, device,
                                                           stream);
}

}  // namespace pagoda::kernels

#endif  // __CUDACC__

// Instantiated once each in pagoda_cuda, one unit per format of
// quant::formats: cuda/GenerateFormatUnits.cmake generates the units and
// these extern template declarations from cuda/templates/matmul_q_format.cu.in.
#include <pagoda/kernels/generated/matmul_q_externs.hpp>
