// kernels::gemv_streams_fused_rope_kv_pair<F, V>: a decode step's q, k and v
// with the RoPE and KV append in the epilogue (gemv_streams_fused_rope_kv),
// in one launch where q and k are in format F and v in another, V. llama.cpp's
// Q4_K_M and Q5_K_M files give half their layers' attn_v Q6_K: there the
// step launched q and k, then v alone, 1,024 rows of the 8B in 32 blocks
// (ncu, H100: 11.1 us for 3.5 MB, a latency-bound launch on the step's
// critical path, each of those layers).
//
// The grid's blocks are split between the two parts in proportion to their
// bytes: blocks below `first_blocks` run F's rows (streams_rows<F>), the rest
// V's (streams_rows<V>); every block normalises and quantizes x as the
// one-format kernel does. Each row's sums, and so q and the caches, are the
// bits the two one-format launches give (the same loads, order and epilogue).
//
// Host code compiled by g++ includes this header for the declaration; the
// pairs of gemv_streams_pairs (below) are instantiated in
// cuda/kernels/gemv_streams_pair.cu.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <span>
#include <tuple>
#include <utility>

#include <cuda_runtime_api.h>

#include <pagoda/kernels/device_info.hpp>
#include <pagoda/kernels/gemv_streams.cuh>
#include <pagoda/quant/k_formats.hpp>

namespace pagoda::kernels {

// (q and k's format, v's format): the mixes that llama.cpp's K-quant files carry.
using gemv_streams_pairs = std::tuple<std::pair<quant::Q4_K, quant::Q6_K>, std::pair<quant::Q5_K, quant::Q6_K>>;

// first: q and k (or q alone) in F; second: v in V (the roles in `append`
// follow first's targets, then second's). What gemv_streams_fused_rope_kv<F>
// on first and gemv_streams_fused_rope_kv<V> on second leave in q and the
// caches, bit for bit. Throws pagoda::Error as those do.
template <quant::QuantFormat F, quant::QuantFormat V>
void gemv_streams_fused_rope_kv_pair(std::span<const GemvTarget> first, std::span<const GemvTarget> second,
                                     std::size_t cols, const float* x, RmsNormFirst norm, const RopeKvAppend& append,
                                     const DeviceInfo& device, cudaStream_t stream);

#if defined(__CUDACC__)

template <class F, class V, class Rows, int Threads, int R>
__global__ void __launch_bounds__(Threads)
    gemv_streams_pair_kernel(typename Rows::Targets targets,  // F's rows first, then V's
                             std::size_t cols, const float* __restrict__ x, std::size_t first_rows,
                             unsigned first_blocks) {
  constexpr int warps = Threads / 32;
  extern __shared__ int4 shared[];
  const std::size_t x_blocks = cols / 32;
  const streams::XShared xs{shared, reinterpret_cast<const float*>(shared + 4 * x_blocks), x_blocks};
  const std::size_t first_tasks = first_rows / R;  // first_rows is a multiple of R (whole heads)
  const std::size_t tasks = (Rows::total(targets) + R - 1) / R;
  const std::size_t warp = threadIdx.x / 32;
  const auto stamp_rows = static_cast<std::uint32_t>(Rows::total(targets));
  const auto stamp_cols = static_cast<std::uint32_t>(cols);
  step_stamp(StampTag::gemv_pair, StampEvent::start, stamp_rows, stamp_cols);
  pdl_trigger();  // the next kernel may be scheduled now; it waits for this one's results itself
  const auto x_ready = [&] {
    pdl_wait();  // x (and the residual) come from the kernel before: only now may they be read
    step_stamp(StampTag::gemv_pair, StampEvent::waited, stamp_rows, stamp_cols);
    streams_x_to_shared<Threads>(targets, cols, x, shared);
    step_stamp(StampTag::gemv_pair, StampEvent::ready, stamp_rows, stamp_cols);
  };
  if (blockIdx.x < first_blocks)  // block-uniform
    streams_rows<F, Rows, Threads, R>(targets, cols, xs, std::size_t{blockIdx.x} * warps + warp, first_tasks,
                                      std::size_t{first_blocks} * warps, x_ready);
  else
    streams_rows<V, Rows, Threads, R>(targets, cols, xs,
                                      first_tasks + std::size_t{blockIdx.x - first_blocks} * warps + warp, tasks,
                                      std::size_t{gridDim.x - first_blocks} * warps, x_ready);
  step_stamp_done(StampTag::gemv_pair, stamp_rows, stamp_cols);
}

template <quant::QuantFormat F, quant::QuantFormat V>
void gemv_streams_fused_rope_kv_pair(std::span<const GemvTarget> first, std::span<const GemvTarget> second,
                                     std::size_t cols, const float* x, RmsNormFirst norm, const RopeKvAppend& append,
                                     const DeviceInfo& device, cudaStream_t stream) {
  const std::string operation =
      std::string("kernels::gemv_streams_fused_rope_kv_pair<").append(F::name).append(", ").append(V::name).append(">");
  const auto need = [&](bool holds, const std::string& requirement) {
    if (!holds) fail_precondition(operation, requirement);
  };
  need(!first.empty() && !second.empty() && first.size() + second.size() <= 3,
       "one or two targets in the first format and one or two in the second, three at most");
  // Each part checked as its one-format launch checks it, then all three as one launch's.
  const StagedTargets first_part = detail::stored_targets(operation, first, norm);
  const StagedTargets second_part = detail::stored_targets(operation, second, norm);
  const std::size_t first_rows = detail::total_rows(first_part), second_rows = detail::total_rows(second_part);
  detail::require_streams_launch<F>(operation, first_part, first_rows, cols, x);
  detail::require_streams_launch<V>(operation, second_part, second_rows, cols, x);
  std::array<GemvTarget, 3> all{};
  std::copy(second.begin(), second.end(), std::copy(first.begin(), first.end(), all.begin()));
  const RopeKvTargets staged =
      detail::rope_kv_targets(operation, std::span(all).first(first.size() + second.size()), norm, append);
  need(first_rows % 2 == 0, "the first format's rows are whole pairs");

  // Two rows a warp (a RoPE pair), sixteen warps a block: the decode GEMV's wide shape.
  constexpr GemvPolicy p = gemv_streams_policy_wide;
  constexpr int R = p.rows_per_warp();
  static_assert(R == 2, "RopeKvRows: a warp computes the two rows of one pair");
  const auto kernel = gemv_streams_pair_kernel<F, V, RopeKvRows, p.threads, R>;
  const auto* key = reinterpret_cast<const void*>(kernel);
  device.opt_in_shared_memory(key, detail::streams_shared_bytes(gemv_streams_max_cols),
                              "kernels::gemv_streams_pair_kernel");
  const int resident = device.resident_blocks(key, p.threads, detail::streams_shared_bytes(4096));
  const std::size_t tasks = (first_rows + second_rows) / R;
  const std::size_t wanted = (tasks + p.warps() - 1) / p.warps();
  const auto grid = static_cast<unsigned>(std::min<std::size_t>(wanted, static_cast<std::size_t>(resident)));
  need(grid >= 2, "the device holds two blocks of the kernel at once");
  // Blocks in proportion to each part's bytes, at least one each.
  const double first_bytes = static_cast<double>(first_rows) * (cols / F::block_elements) * F::block_bytes;
  const double second_bytes = static_cast<double>(second_rows) * (cols / V::block_elements) * V::block_bytes;
  auto first_blocks = static_cast<unsigned>(grid * first_bytes / (first_bytes + second_bytes) + 0.5);
  first_blocks = std::clamp(first_blocks, 1u, grid - 1);
  launch_dependent(kernel, grid, p.threads, detail::streams_shared_bytes(cols), stream, device.programmatic_launch(),
                   "cudaLaunchKernelEx(gemv_streams_pair_kernel)", staged, cols, x, first_rows, first_blocks);
  if (const cudaError_t status = cudaGetLastError(); status != cudaSuccess)
    fail_cuda(operation, cudaGetErrorName(status), cudaGetErrorString(status));
}

#endif  // __CUDACC__

// Instantiated once each in cuda/kernels/gemv_streams_pair.cu.
#define PAGODA_GEMV_STREAMS_PAIR(F, V)                                                                         \
  extern template void gemv_streams_fused_rope_kv_pair<F, V>(std::span<const GemvTarget>,                       \
                                                             std::span<const GemvTarget>, std::size_t,          \
                                                             const float*, RmsNormFirst, const RopeKvAppend&,   \
                                                             const DeviceInfo&, cudaStream_t);
PAGODA_GEMV_STREAMS_PAIR(quant::Q4_K, quant::Q6_K)
PAGODA_GEMV_STREAMS_PAIR(quant::Q5_K, quant::Q6_K)
#undef PAGODA_GEMV_STREAMS_PAIR

}  // namespace pagoda::kernels
