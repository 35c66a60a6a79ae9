// Tile shapes of kernels::matmul_q (the prefill GEMM on tensor cores), as
// plain values, and the one place that picks among them.
//
// A block computes a tokens_tile x rows_tile tile of Y = X W^T, walking K in
// steps of k_tile elements: each step stages a (tokens_tile, k_tile) tile of X
// and a (rows_tile, k_tile) tile of W, both as f16, in shared memory, and the
// warps (warps_tokens x warps_rows of them) multiply them with 16x16x16 WMMA
// fragments. Shared memory per block: 2 stages x (tokens_tile + rows_tile) x
// (k_tile + 8) halves (the 8-half pad keeps the fragment loads off shared
// bank conflicts).
#pragma once

#include <cstddef>
#include <ostream>

namespace pagoda::kernels {

struct MatmulPolicy {
  int tokens_tile;   // BT: tokens (rows of X and Y) per block
  int rows_tile;     // BR: weight rows (columns of Y) per block
  int k_tile;        // BK: elements of K staged per step
  int warps_tokens;  // warp grid over the block tile
  int warps_rows;
  int min_blocks_per_sm;  // __launch_bounds__: caps registers at 64K / (threads * this)

  [[nodiscard]] constexpr int threads() const { return 32 * warps_tokens * warps_rows; }
  // Halves per staged row: k_tile plus a 16-byte pad.
  [[nodiscard]] constexpr int k_stride() const { return k_tile + 8; }
  [[nodiscard]] constexpr std::size_t shared_bytes() const {
    return std::size_t{2} * static_cast<std::size_t>(tokens_tile + rows_tile) *
           static_cast<std::size_t>(k_stride()) * 2;
  }
  // 16x16 accumulator fragments per warp, along tokens and along rows.
  [[nodiscard]] constexpr int fragments_tokens() const { return tokens_tile / warps_tokens / 16; }
  [[nodiscard]] constexpr int fragments_rows() const { return rows_tile / warps_rows / 16; }
  // Every staged row of the tile is cut into 8-element pieces (one 16-byte store).
  [[nodiscard]] constexpr bool valid() const {
    return tokens_tile % (16 * warps_tokens) == 0 && rows_tile % (16 * warps_rows) == 0 &&
           k_tile % 16 == 0 && (tokens_tile * k_tile / 8) % threads() == 0 &&
           (rows_tile * k_tile / 8) % threads() == 0 &&
           // The epilogue's per-warp 16x16 f32 scratch reuses the stage buffers.
           static_cast<std::size_t>(threads() / 32) * 16 * 16 * 4 <= shared_bytes();
  }

  friend constexpr bool operator==(const MatmulPolicy&, const MatmulPolicy&) = default;
  friend std::ostream& operator<<(std::ostream& out, const MatmulPolicy& p) {
    return out << "MatmulPolicy{tokens_tile " << p.tokens_tile << ", rows_tile " << p.rows_tile
               << ", k_tile " << p.k_tile << ", warps " << p.warps_tokens << "x" << p.warps_rows
               << ", blocks/SM " << p.min_blocks_per_sm << "}";
  }
};

// The shapes that are instantiated (one kernel per format for each). Warp
// tiles stay at most 32 x 32 (32 accumulator registers), leaving registers for
// the next step's loads in flight (tile_stage.cuh).
// Few tokens: a 32 x 32 tile of 4 warps (16 x 16 each), so that even a
// 4096-row projection spreads over 128 blocks. (The first shape, 32 x 128 of
// 8 warps, ran 4096 x 4096 x 16 tokens in 131 us on an H100: 32 blocks.)
inline constexpr MatmulPolicy matmul_policy_short{32, 32, 64, 2, 2, 4};
// Many tokens, few row tiles: 64 x 128 keeps enough blocks to fill the GPU; 8 warps of 32 x 32,
// two blocks per SM. (128 x 64 spilled registers at that occupancy.)
inline constexpr MatmulPolicy matmul_policy_narrow{64, 128, 64, 2, 4, 2};
// Many tokens and rows: 128 x 128 of 16 warps (32 x 32); each W tile is decoded once per 128 tokens
// and each X tile converted once per 128 rows.
inline constexpr MatmulPolicy matmul_policy_wide{128, 128, 64, 4, 4, 1};
inline constexpr MatmulPolicy matmul_policies[] = {matmul_policy_short, matmul_policy_narrow,
                                                   matmul_policy_wide};
static_assert(matmul_policy_short.valid() && matmul_policy_narrow.valid() && matmul_policy_wide.valid());

// Every heuristic of matmul_q in one place. Not yet tuned by measurement: the
// rule is "the 128 x 128 tile only when it gives at least two waves of blocks"
// (one 512-thread block per SM), so a 4096-row projection at 512 tokens (128
// wide tiles on 132 SMs) takes the narrow one (256 blocks, two per SM)
// instead of leaving SMs idle. H100 figures (the timing now in pagoda-kernel-bench's prefill section,
// median of 20), Q4_0 x 512 tokens: 4096 x 4096 101 TFLOP/s (narrow),
// 14336 x 4096 112 (wide), 4096 x 14336 104 (narrow); Q4_K 4096 x 4096 71
// (narrow; 89 with the earlier 128 x 64 narrow tile, which decodes each W tile
// half as often); Q4_0 4096 x 4096 x 16 tokens 50 us (short; 131 us with the
// earlier 32 x 128 short tile).
[[nodiscard]] constexpr MatmulPolicy select_matmul_policy(std::size_t tokens, std::size_t rows,
                                                          int multiprocessors) {
  if (tokens <= 32) return matmul_policy_short;
  const auto tiles = [&](const MatmulPolicy& p) {
    const auto bt = static_cast<std::size_t>(p.tokens_tile);
    const auto br = static_cast<std::size_t>(p.rows_tile);
    return ((tokens + bt - 1) / bt) * ((rows + br - 1) / br);
  };
  const auto enough = static_cast<std::size_t>(multiprocessors > 0 ? multiprocessors : 1) * 2;
  return tiles(matmul_policy_wide) >= enough ? matmul_policy_wide : matmul_policy_narrow;
}

}  // namespace pagoda::kernels
