// Launching gemv_q_staged_kernel (device-side helper of gemv_q.cuh and
// gemv_q_fused.cuh): the preconditions every matrix of a launch must meet,
// the shared-memory opt-in (once per kernel and device: DeviceInfo), and a
// grid of at most the blocks that fit the GPU at once (they stride over the
// rest).
#pragma once

#if !defined(__CUDACC__)
#error "gemv_q_staged_launch.cuh is device code; host code includes pagoda/kernels/gemv_q.cuh"
#endif

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include <cuda_runtime_api.h>

#include <pagoda/core/type_list.hpp>
#include <pagoda/kernels/cuda_check.hpp>
#include <pagoda/kernels/device_info.hpp>
#include <pagoda/kernels/gemv_q_staged.cuh>
#include <pagoda/kernels/gemv_staged_path.hpp>
#include <pagoda/kernels/programmatic_launch.hpp>
#include <pagoda/kernels/tuning/gemv_q.hpp>

namespace pagoda::kernels::detail {

// Throws naming `operation` unless F has the staged path and `cols` columns
// suit it; when weights or x are given, also their alignment.
template <quant::QuantFormat F>
void staged_requirements(const std::string& operation, const std::byte* weights, std::size_t cols, const float* x) {
  const auto need = [&](bool holds, const std::string& requirement) {
    if (!holds) fail_precondition(operation, requirement);
  };
  need(gemv_has_staged_path<F>, "the format has a staged path");
  need(cols % F::block_elements == 0, "cols (" + std::to_string(cols) + ") is a multiple of the block size (" +
                                          std::to_string(F::block_elements) + ")");
  need(cols <= gemv_staged_max_cols,
       "cols (" + std::to_string(cols) + ") is at most " + std::to_string(gemv_staged_max_cols));
  const std::size_t row_bytes = cols / F::block_elements * F::block_bytes;
  need(row_bytes % 8 == 0, "a row (" + std::to_string(row_bytes) + " bytes) is whole 8-byte words");
  if (weights != nullptr)
    need(reinterpret_cast<std::uintptr_t>(weights) % 16 == 0, "the weights are aligned to 16 bytes");
  if (x != nullptr) need(reinterpret_cast<std::uintptr_t>(x) % 16 == 0, "x is aligned to 16 bytes");
}

template <quant::QuantFormat F, class Rows, int Threads, int RowsPerBlock, int WordBytes>
void launch_staged_kernel(const StagedTargets& targets, std::size_t rows, std::size_t cols, const float* x,
                          const DeviceInfo& device, cudaStream_t stream) {
  static_assert(x16_dot_matches_staged_list<F>,
                "kernels::X16Dot is specialised for exactly the formats of kernels::gemv_staged_formats");
  if constexpr (gemv_has_staged_path<F>) {  // a format without one never names X16Dot<F>
    constexpr GemvPolicy p{Threads, RowsPerBlock};
    constexpr std::size_t tile_bytes = staged_tile_bytes<X16Dot<F>, F>;
    const auto kernel = gemv_q_staged_kernel<F, Rows, Threads, RowsPerBlock, WordBytes>;
    const auto shared_at = [&](std::size_t c) {
      return StagedSharedLayout::of(c, tile_bytes, p.warps(), p.rows_per_warp()).total;
    };
    const std::size_t shared = shared_at(cols);
    // Above 48 KB a kernel must opt in: once per instantiation and device, to
    // the most any call may need. The grid: what fits at the typical size
    // (4096 columns). DeviceInfo does both on the first call only.
    const auto* key = reinterpret_cast<const void*>(kernel);
    device.opt_in_shared_memory(key, shared_at(gemv_staged_max_cols), "kernels::gemv_q_staged_kernel");
    const int resident = device.resident_blocks(key, Threads, shared_at(4096));
    const std::size_t groups = (rows + RowsPerBlock - 1) / static_cast<std::size_t>(RowsPerBlock);
    const auto grid = static_cast<unsigned>(std::min<std::size_t>(groups, static_cast<std::size_t>(resident)));
    const std::size_t row_bytes = cols / F::block_elements * F::block_bytes;
    launch_dependent(kernel, grid, Threads, shared, stream, device.programmatic_launch(),
                     "cudaLaunchKernelEx(gemv_q_staged_kernel)", targets, row_bytes, cols, x);
  }
}

// One staged launch over `targets` (rows: what Rows::total gives), checked.
template <quant::QuantFormat F, class Rows>
void launch_staged(const std::string& operation, const StagedTargets& targets, std::size_t rows, std::size_t cols,
                   const float* x, GemvPolicy policy, const DeviceInfo& device, cudaStream_t stream) {
  const auto need = [&](bool holds, const std::string& requirement) {
    if (!holds) fail_precondition(operation, requirement);
  };
  staged_requirements<F>(operation, nullptr, cols, x);
  if (rows == 0) return;
  need(x != nullptr && cols != 0, "x is not null and cols is not 0");
  for (int m = 0; m < 3; ++m) {
    if (targets.rows[m] == 0) continue;
    need(targets.weights[m] != nullptr && targets.y[m] != nullptr, "weights and y are not null");
    staged_requirements<F>(operation, targets.weights[m], cols, nullptr);
    need(static_cast<const void*>(x) != static_cast<const void*>(targets.y[m]), "y is not x");
  }
  if (targets.norm_weight != nullptr)
    need(reinterpret_cast<std::uintptr_t>(targets.norm_weight) % 16 == 0, "the norm weight is aligned to 16 bytes");
  if constexpr (Rows::paired) need(policy == gemv_staged_policy_tall, "a gated launch runs two rows per warp");
  // 16-byte staging loads where the rows allow them, else 8-byte ones.
  const bool wide = cols / F::block_elements * F::block_bytes % 16 == 0;
  visit_listed<gemv_staged_policies>(
      policy,
      [&](auto index) {
        constexpr GemvPolicy p = gemv_staged_policies[decltype(index)::value];
        if constexpr (!Rows::paired || p == gemv_staged_policy_tall) {  // a gated launch is paired (checked above)
          if (wide)
            launch_staged_kernel<F, Rows, p.threads, p.rows_per_block, 16>(targets, rows, cols, x, device, stream);
          else
            launch_staged_kernel<F, Rows, p.threads, p.rows_per_block, 8>(targets, rows, cols, x, device, stream);
        }
      },
      [&] { need(false, "the policy is one of kernels::gemv_staged_policies"); });
  if (const cudaError_t status = cudaGetLastError(); status != cudaSuccess)
    fail_cuda(operation, cudaGetErrorName(status), cudaGetErrorString(status));
}

}  // namespace pagoda::kernels::detail
