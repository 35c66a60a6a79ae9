// Tile shapes of kernels::matmul_mma_streams (the prefill GEMM on mma.sync
// over field streams), as plain values, and the one place that picks among them.
//
// A block computes a tokens_tile x rows_tile tile of Y = X W^T; its warps
// (warps_tokens x warps_rows) each own a (tokens_tile / warps_tokens) x
// (rows_tile / warps_rows) piece: m16 fragments of X along tokens, n8
// fragments of W along rows. Each warp decodes the W fragments of its rows
// once per stage and uses each for all of its tokens, so the decode cost per
// multiply falls as the warp's token count grows.
#pragma once

#include <cstddef>
#include <ostream>

namespace pagoda::kernels {

struct MmaPolicy {
  int tokens_tile;  // BT
  int rows_tile;    // BR
  int warps_tokens;
  int warps_rows;
  int min_blocks_per_sm;  // __launch_bounds__: at 2, 256 threads get <= 128 registers

  [[nodiscard]] constexpr int threads() const { return 32 * warps_tokens * warps_rows; }
  [[nodiscard]] constexpr int warp_tokens() const { return tokens_tile / warps_tokens; }
  [[nodiscard]] constexpr int warp_rows() const { return rows_tile / warps_rows; }
  [[nodiscard]] constexpr int fragments_tokens() const { return warp_tokens() / 16; }  // m16 tiles
  [[nodiscard]] constexpr int fragments_rows() const { return warp_rows() / 8; }       // n8 tiles
  [[nodiscard]] constexpr bool valid() const {
    return warp_tokens() % 16 == 0 && warp_rows() % 8 == 0 && warp_tokens() > 0 && warp_rows() > 0 &&
           tokens_tile * 8 % threads() == 0;  // X stage: 8 16-byte copies per token, whole per thread
  }

  friend constexpr bool operator==(const MmaPolicy&, const MmaPolicy&) = default;
  friend std::ostream& operator<<(std::ostream& out, const MmaPolicy& p) {
    return out << "MmaPolicy{tokens_tile " << p.tokens_tile << ", rows_tile " << p.rows_tile << ", warps "
               << p.warps_tokens << "x" << p.warps_rows << ", blocks/SM " << p.min_blocks_per_sm << "}";
  }
};

// 128 x 128 of 8 warps, each 64 tokens x 32 rows (16 fragments, 64 f32
// accumulators a lane): every weight row is decoded by two warps.
inline constexpr MmaPolicy mma_policy_wide{128, 128, 2, 4, 2};
// 64 x 128 of 8 warps, each 64 tokens x 16 rows: each row decoded once, for
// shorter prompts and matrices with few row tiles.
inline constexpr MmaPolicy mma_policy_narrow{64, 128, 1, 8, 2};
// 32 x 64 of 4 warps, each 32 tokens x 16 rows: a handful of tokens.
inline constexpr MmaPolicy mma_policy_short{32, 64, 1, 4, 4};
// 16 x 128 of 4 warps, each 16 tokens x 32 rows: the batched decode step
// (matmul_mma_few: a token per sequence, at most 16), whose weights are read
// once for all of them. Too few tiles to fill the GPU alone (32 for a 4096-row
// matrix), so its launches split K across blocks as well (mma_few_splits).
inline constexpr MmaPolicy mma_policy_few{16, 128, 1, 4, 4};
inline constexpr MmaPolicy mma_policies[] = {mma_policy_wide, mma_policy_narrow, mma_policy_short, mma_policy_few};
static_assert(mma_policy_wide.valid() && mma_policy_narrow.valid() && mma_policy_short.valid() &&
              mma_policy_few.valid());

// The split of K for matmul_mma_few: blocks per tile so that tiles x splits
// reaches `blocks_per_sm` blocks on every SM (mma_policy_few's residency),
// each split keeping at least `min_stages` 64-element stages (the pipeline's
// depth, so a split is not all prologue): 4096 x 4096 (32 tiles) on 132 SMs
// takes 16 splits of 4 stages; 14336 x 2 rows of gate and up (224 tiles) 3;
// the 128256-row output matrix 1.
// H100, pagoda-batch-bench, 8B Q4_0, 16 streams: 2,546 t/s with these; 2
// blocks an SM of 8-stage splits (the whole split in flight at once) 2,245.
// Neither is what bounds the kernel: ncu times the output matrix (1002 tiles,
// no split) at 370 us for 431 MB, 1.2 TB/s, and a layer's products at ~1 TB/s.
// Decoding the weights into f16 fragments for 16 tokens costs what it costs
// the prefill GEMM for 64 (docs/notes/performance.md, "the batched step").
struct MmaSplitPolicy {
  int blocks_per_sm = 4;
  int min_stages = 4;
};
inline constexpr MmaSplitPolicy mma_few_split_policy{};

[[nodiscard]] constexpr int mma_few_splits(int tiles, int k_stages, int multiprocessors,
                                           MmaSplitPolicy policy = mma_few_split_policy) {
  if (tiles <= 0 || k_stages <= 0) return 1;
  const int target = policy.blocks_per_sm * (multiprocessors > 0 ? multiprocessors : 1);
  int splits = (target + tiles - 1) / tiles;
  const int most = k_stages / policy.min_stages;
  if (splits > most) splits = most;
  if (splits < 1) splits = 1;
  const int stages_each = (k_stages + splits - 1) / splits;
  return (k_stages + stages_each - 1) / stages_each;  // none left empty
}

// Every heuristic of matmul_mma_streams: the widest tile whose blocks still
// cover three quarters of the SMs (one block of the 128 x 128 tile per SM
// already keeps the tensor cores busy; more, smaller blocks only help while
// SMs would idle), else the next. H100 (132 SMs), pagoda-kernel-bench, every
// policy forced, 8B projections in Q4_0 (TFLOP/s: wide / narrow / short):
//   4096 x 4096, M = 128 (32 wide blocks) ....... 62 /  89 / 125  -> short
//   4096 x 4096, M = 512 (128) ................. 245 / 227 / 176  -> wide
//   4096 x 4096, M = 2048 (512) ................ 294 / 237 / 179  -> wide
//   1024 x 4096, M = 512 (32 wide, 64 narrow) ... 63 /  90 / 128  -> short
//   1024 x 4096, M = 2048 (128) ................ 248 / 229 / 175  -> wide
//   14336 x 4096, M = 128 (112) ................ 212 / 196 / 166  -> wide
//   4096 x 14336, M = 128 (32) .................. 65 /  93 / 141  -> short
//   4096 x 14336, M = 512 (128) ................ 258 / 236 / 178  -> wide
// (Q4_K and Q6_K rank the tiles the same way.)
[[nodiscard]] constexpr MmaPolicy select_mma_policy(std::size_t tokens, std::size_t rows, int multiprocessors) {
  const auto blocks = [&](const MmaPolicy& p) {
    return ((tokens + static_cast<std::size_t>(p.tokens_tile) - 1) / static_cast<std::size_t>(p.tokens_tile)) *
           ((rows + static_cast<std::size_t>(p.rows_tile) - 1) / static_cast<std::size_t>(p.rows_tile));
  };
  const auto enough = static_cast<std::size_t>(3 * (multiprocessors > 0 ? multiprocessors : 1) / 4);
  if (blocks(mma_policy_wide) >= enough) return mma_policy_wide;
  if (blocks(mma_policy_narrow) >= enough) return mma_policy_narrow;
  return mma_policy_short;
}

}  // namespace pagoda::kernels
