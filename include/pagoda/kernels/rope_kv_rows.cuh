// A decode step's RoPE and KV append in the epilogue of its q, k and v GEMV
// (kernels::gemv_streams_fused_rope_kv, gemv_streams.cuh), instead of a
// rope_kv_store launch between the GEMV and attention: one launch a layer
// fewer on the step's critical path.
//
// Interleaved RoPE only (llama's layout: pair i is dimensions 2i and 2i + 1):
// the GEMV's warps own two consecutive rows, so a warp holds a whole pair and
// turns it where it adds its lanes' sums; NeoX's pairs lie head_dim / 2 rows
// apart, in other warps. The arithmetic is rope_kv_store's (rope_turn_at,
// rope_turned, __float2half_rn), so q and the cache rows are the same bits.
#pragma once

#include <pagoda/kernels/rope_kv_append.cuh>

#if defined(__CUDACC__)

#include <cstddef>
#include <cstdint>

#include <cuda_fp16.h>

#include <pagoda/kernels/gemv_q_staged.cuh>

namespace pagoda::kernels {

struct RopeKvTargets : StagedTargets {
  RopeKvAppend append;
};

// Rows of the targets one after another, as StoreRows; a warp's two rows are
// one pair (the row counts and head_dim are even: the launcher checks).
struct RopeKvRows {
  using Targets = RopeKvTargets;
  static constexpr bool paired = true;  // two rows a warp
  __device__ static std::size_t total(const RopeKvTargets& t) { return StoreRows::total(t); }
  __device__ static RowRef locate(const RopeKvTargets& t, std::size_t row) { return StoreRows::locate(t, row); }
  template <int R>
  __device__ static void finish(const RopeKvTargets& t, std::size_t first, const float (&acc)[R]) {
    static_assert(R == 2, "RopeKvRows: a warp computes the two rows of one pair");
    std::size_t row = first;
    const int m = StoreRows::matrix_of(t, row);  // row: within matrix m
    const float* const residual = select3(t.residual, m);
    float x0 = residual != nullptr ? acc[0] + residual[row] : acc[0];
    float x1 = residual != nullptr ? acc[1] + residual[row + 1] : acc[1];
    const QkvRole role = m == 0 ? t.append.roles[0] : (m == 1 ? t.append.roles[1] : t.append.roles[2]);
    const RopeParams& rope = t.append.rope;
    const std::int32_t position = t.append.positions[0];
    const auto pair = static_cast<std::uint32_t>(row % rope.head_dim) / 2;
    if (role != QkvRole::value && pair < rope.rotated_dims / 2) {
      const float2 turned = rope_turned(x0, x1, rope_turn_at(pair, rope.rotated_dims / 2, position, rope.freq_base,
                                                             rope.linear_scale, rope.freq_factors));
      x0 = turned.x;
      x1 = turned.y;
    }
    if (role == QkvRole::query) {
      float* const y = select3(t.y, m);
      y[row] = x0;
      y[row + 1] = x1;
      return;
    }
    __half* const cache = role == QkvRole::key ? t.append.k_cache : t.append.v_cache;
    const std::int32_t cache_row = t.append.cache_rows != nullptr ? t.append.cache_rows[0] : position;
    const std::size_t at = static_cast<std::size_t>(cache_row) * select3(t.rows, m) + row;
    *reinterpret_cast<__half2*>(cache + at) = __halves2half2(__float2half_rn(x0), __float2half_rn(x1));
  }
};

}  // namespace pagoda::kernels

#endif  // __CUDACC__
