// Tile shapes of kernels::matmul_wgmma_streams (the prefill GEMM on Hopper's
// wgmma over field streams), as plain values, and the one place that picks
// among them.
//
// A block of `warpgroups` warpgroups computes a (64 x warpgroups) rows x
// tokens_tile tile of Y^T = W X^T: each warpgroup owns 64 weight rows (A, its
// warps decode 16 rows each into registers) across all tokens_tile tokens (B,
// the X stage in shared memory). A decoded weight fragment then serves
// tokens_tile tokens, against 64 (the 128 x 128 tile) on mma.sync.
#pragma once

#include <cstddef>
#include <ostream>

#include <pagoda/kernels/tuning/matmul_mma.hpp>

namespace pagoda::kernels {

struct WgmmaPolicy {
  int warpgroups;
  int tokens_tile;        // wgmma's N: 64 or 128 (N / 2 f32 accumulators a thread)
  int min_blocks_per_sm;  // __launch_bounds__, and what the stage count leaves room for

  [[nodiscard]] constexpr int rows_tile() const { return 64 * warpgroups; }
  [[nodiscard]] constexpr int threads() const { return 128 * warpgroups; }
  // The same tile as the mma.sync kernel's stage loader sees it (mma_stage.cuh).
  [[nodiscard]] constexpr MmaPolicy stage_tile() const {
    return {tokens_tile, rows_tile(), 1, 4 * warpgroups, min_blocks_per_sm};
  }
  [[nodiscard]] constexpr bool valid() const {
    return (tokens_tile == 64 || tokens_tile == 128) && warpgroups >= 1 && warpgroups <= 2 && stage_tile().valid();
  }

  friend constexpr bool operator==(const WgmmaPolicy&, const WgmmaPolicy&) = default;
  friend std::ostream& operator<<(std::ostream& out, const WgmmaPolicy& p) {
    return out << "WgmmaPolicy{rows_tile " << p.rows_tile() << ", tokens_tile " << p.tokens_tile << ", warpgroups "
               << p.warpgroups << ", blocks/SM " << p.min_blocks_per_sm << "}";
  }
};

// 128 rows x 128 tokens, two warpgroups (64 accumulators a thread).
inline constexpr WgmmaPolicy wgmma_policy_wide{2, 128, 2};
// 64 rows x 128 tokens: twice the blocks, for matrices with few row tiles.
inline constexpr WgmmaPolicy wgmma_policy_narrow{1, 128, 2};
// 64 rows x 64 tokens: short prompts.
inline constexpr WgmmaPolicy wgmma_policy_short{1, 64, 3};
// 128 rows x 128 tokens with one block per SM: a deeper pipeline (5-6
// stages) instead of a second block. Timed by pagoda-kernel-bench; not
// selected (yet).
inline constexpr WgmmaPolicy wgmma_policy_wide_deep{2, 128, 1};
inline constexpr WgmmaPolicy wgmma_policies[] = {wgmma_policy_wide, wgmma_policy_narrow, wgmma_policy_short,
                                                 wgmma_policy_wide_deep};
static_assert(wgmma_policy_wide.valid() && wgmma_policy_narrow.valid() && wgmma_policy_short.valid() &&
              wgmma_policy_wide_deep.valid());

// Every heuristic of matmul_wgmma_streams: as select_mma_policy, the widest
// tile whose blocks still cover three quarters of the SMs, else the next.
// H100 (132 SMs), pagoda-kernel-bench, every policy forced, 8B projections in
// Q4_0 (TFLOP/s: wide / narrow / short / wide with one block per SM):
//   4096 x 4096, M = 128 (32 wide blocks) ....... 70 /  92 / 131 /  79  -> short
//   4096 x 4096, M = 512 (128) ................. 300 / 302 / 216 / 298  -> wide
//   4096 x 4096, M = 2048 (512) ................ 431 (the run before)   -> wide
//   1024 x 4096, M = 512 (32 wide, 64 narrow) ... 72 /  93 / 135 /  81  -> short
//   14336 x 4096, M = 512 (448) ................ 396 / 267 / 284 / 265  -> wide
//   4096 x 14336, M = 512 (128) ................ 306 / 312 / 224 / 310  -> wide
// (Q4_K and Q6_K rank them the same way, Q6_K with narrow ~5% ahead of wide
// at M = 512; commit 336caae's run, benchmarks/README.md.) The one-block,
// six-stage tile never wins by more than noise: it stays listed for the bench.
[[nodiscard]] constexpr WgmmaPolicy select_wgmma_policy(std::size_t tokens, std::size_t rows, int multiprocessors) {
  const auto blocks = [&](const WgmmaPolicy& p) {
    return ((tokens + static_cast<std::size_t>(p.tokens_tile) - 1) / static_cast<std::size_t>(p.tokens_tile)) *
           ((rows + static_cast<std::size_t>(p.rows_tile()) - 1) / static_cast<std::size_t>(p.rows_tile()));
  };
  const auto enough = static_cast<std::size_t>(3 * (multiprocessors > 0 ? multiprocessors : 1) / 4);
  if (blocks(wgmma_policy_wide) >= enough) return wgmma_policy_wide;
  if (blocks(wgmma_policy_narrow) >= enough) return wgmma_policy_narrow;
  return wgmma_policy_short;
}

}  // namespace pagoda::kernels
